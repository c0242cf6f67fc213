// Where the control socket lives, and who could have put it there. Another
// local user must not be able to create the directory first and then answer
// (or read) requests meant for the node: the node makes its directories
// itself and refuses ones another user could have made or can change; the
// CLI talks only through directories owned by itself or root.
// Linux paths; thread-safe (no state).
#pragma once

#include <string>

#include "zswarm/error.hpp"
#include "zswarm/result.hpp"

namespace zswarm::node {

// zswarm::default_control_dir() with its inputs given (null: unset):
// runtime_dir ($ZSWARM_RUNTIME_DIR), else xdg_runtime_dir/zswarm, else
// run_user_dir/zswarm (each only if a directory owned by this user), else fallback.
std::string default_control_dir(const char* runtime_dir, const char* xdg_runtime_dir,
                                const std::string& run_user_dir, const std::string& fallback);

// For the node, before it binds socket_path (<dir>/<cluster>/<name>.sock).
// Makes what is missing of <dir>/<cluster> with mode 0700, or 0750 owned by
// `group` when it is not empty (existing ones are given that group too).
// Refuses a <dir> or <dir>/<cluster> that is not a real directory owned by
// this user without group write and access for others; a directory above
// them that someone other than this user or root could change; and a
// socket_path that exists and is not a socket of this user (a stale one may
// be replaced). Fails with Errc::control_socket_failed, naming the path,
// what was found and what is expected.
Result<void, Error> prepare_control_dir(const std::string& socket_path, const std::string& group);

// After the bind: the socket's mode 0600, or 0660 with `group`.
Result<void, Error> restrict_control_socket(const std::string& socket_path, const std::string& group);

// For a client, before it connects: the socket exists (else Errc::not_found),
// is a socket, and it and every directory above it can be changed by no one
// but this user or root (else Errc::control_socket_failed).
Result<void, Error> check_control_socket(const std::string& socket_path);

}  // namespace zswarm::node
