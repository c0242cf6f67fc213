// Node configuration: one table of keys shared by the TOML file and the
// command line, so every config key is also a flag (`heartbeat_interval_ms`
// in the file is `--heartbeat-interval-ms` on the command line). A bad key or
// value is an error that names it. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "zswarm/node.hpp"
#include "zswarm/result.hpp"

namespace zswarm::node {

struct ConfigKey {
  // registration: repeatable; "NAME=PLUGIN[:ARGS]" as a flag, [[register]] tables in TOML.
  enum Kind { text, number, list, registration, flag } kind;  // flag: a bare --flag, a TOML boolean
  std::string name;  // TOML key; the flag is --name with '_' as '-'
  std::string help;
};

// Every key NodeOptions can take from a file or a flag.
ZSWARM_API const std::vector<ConfigKey>& config_keys();
ZSWARM_API std::string flag_name(const ConfigKey& k);

// Sets one key from its textual value (lists: comma-separated).
ZSWARM_API Result<void, Error> apply_config_value(NodeOptions& opts, std::string_view key,
                                                        std::string_view value);
// Reads a TOML file into opts; fails on unknown keys and wrong types.
ZSWARM_API Result<void, Error> load_config_file(NodeOptions& opts, const std::string& path);
// Checks the whole set (name present, timings consistent, ...).
ZSWARM_API Result<void, Error> validate(const NodeOptions& opts);
// The flag that takes a node's discovery beyond this host ("--interface eth0"); empty: loopback only.
ZSWARM_API std::string beyond_loopback(const NodeOptions& opts);

}  // namespace zswarm::node
