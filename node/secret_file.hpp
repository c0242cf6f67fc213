// Cluster secret files (docs/security.md §2): 64 hex digits (32 random
// bytes) and a newline, mode 0600. `zswarm keygen` writes one; a node reads
// its secret_file and previous_secret_file at start and again on SIGHUP.
// Errors are bad_option, naming the path and what is wrong with it.
#pragma once

#include <string>

#include "discovery/beacon_seal.hpp"
#include "zswarm/error.hpp"
#include "zswarm/result.hpp"

namespace zswarm::node {

// Refuses a file that is not a regular file, is readable or writable by
// group or others, is not owned by this user (or root), or does not hold
// exactly 64 hex digits (whitespace around them allowed).
Result<discovery::ClusterSecret, Error> read_secret_file(const std::string& path);

// Writes a new random secret to `path` (created 0600; an existing file is
// never overwritten).
Result<void, Error> write_new_secret_file(const std::string& path);

}  // namespace zswarm::node
