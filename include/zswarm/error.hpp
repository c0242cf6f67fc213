// The one error model of zswarm: every expected failure, from the API, the
// control socket, the CLI and the worker runtime, is an Errc with a stable
// snake_case name (what the CLI and the control socket print) and a short
// message, plus a detail for the case at hand. The numbers are stable too:
// -1..-6 are the C ABI's ZSWARM_ERR_* codes (include/zswarm/worker.h).
// Never rename or renumber one. Plain values; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zswarm {

#define ZSWARM_ERRORS(X)                                                                             \
  /* the C ABI's codes (worker.h) */                                                                 \
  X(failed, -1, "the operation failed")                                                              \
  X(bad_args, -2, "malformed arguments or message")                                                  \
  X(no_memory, -3, "out of memory")                                                                  \
  X(exception, -4, "a C++ exception was caught at the plugin boundary")                              \
  X(not_found, -5, "no such name")                                                                   \
  X(invalid, -6, "not valid here")                                                                   \
  /* the node and its options */                                                                     \
  X(bad_option, 1, "a bad option or config value")                                                   \
  X(bind_failed, 2, "could not bind a socket")                                                       \
  X(control_socket_failed, 3, "could not open the control socket")                                   \
  /* names across the cluster */                                                                     \
  X(invalid_name, 10, "a name with forbidden characters or of a bad length")                         \
  X(already_registered, 11, "the name is registered already (detail: its REF)")                      \
  X(registered, 12, "the name is registered: use unregister")                                        \
  X(no_node_available, 13, "no node may own the name")                                               \
  X(node_down, 14, "the node that owns the name is down")                                            \
  X(node_leaving, 15, "the node is leaving the cluster")                                             \
  X(timeout, 16, "no answer in time")                                                                \
  X(too_large, 17, "larger than a frame or a limit allows")                                          \
  X(bad_message, 18, "a malformed message from a peer")                                              \
  X(invalid_entry, 19, "a registry entry that breaks a limit")                                       \
  X(would_block, 20, "the node's send queue is full: try again later")                               \
  X(not_owner, 21, "this node is not the name's ring owner (detail: the owner)")                     \
  X(no_quorum, 22, "this side of a split has fewer live members than the quorum: no names run here") \
  /* the control socket */                                                                           \
  X(bad_request, 30, "a malformed control request")                                                  \
  X(unknown_command, 31, "no such control command")                                                  \
  /* workers: loading a plugin */                                                                    \
  X(plugin_not_found, 40, "no plugin of that name along the search path")                            \
  X(dlopen_failed, 41, "the plugin file could not be loaded")                                        \
  X(symbol_missing, 42, "the plugin has no zswarm_worker_plugin_v1 entry")                           \
  X(abi_mismatch, 43, "the plugin speaks another ABI version")                                       \
  X(struct_size_mismatch, 44, "the plugin's table is smaller than the v1 table")                     \
  X(invalid_plugin, 45, "the plugin's table is incomplete or names another plugin")                  \
  /* workers: running one */                                                                         \
  X(init_failed, 50, "the worker's init returned an error")                                          \
  X(init_threw, 51, "the worker's init threw")                                                       \
  X(handoff_failed, 52, "the worker refused the handed-off state")                                   \
  X(already_started, 53, "a worker of that name runs already")                                       \
  X(intensity_exceeded, 54, "too many restarts in the window: given up")                             \
  X(callback_failed, 55, "a worker callback failed while serving the request")                       \
  X(no_reply, 56, "the call was handled without a reply")                                            \
  X(stopped, 57, "the worker stopped before serving the request")

enum class Errc : int32_t {
#define ZSWARM_ERRC_ENUM(name, value, message) name = value,
  ZSWARM_ERRORS(ZSWARM_ERRC_ENUM)
#undef ZSWARM_ERRC_ENUM
};

// The stable name, e.g. "already_registered"; "unknown" for a number that
// names no code.
constexpr std::string_view errc_name(Errc e) {
  switch (e) {
#define ZSWARM_ERRC_NAME(name, value, message) \
  case Errc::name:                             \
    return #name;
    ZSWARM_ERRORS(ZSWARM_ERRC_NAME)
#undef ZSWARM_ERRC_NAME
  }
  return "unknown";
}

constexpr std::string_view errc_message(Errc e) {
  switch (e) {
#define ZSWARM_ERRC_MESSAGE(name, value, message) \
  case Errc::name:                                \
    return message;
    ZSWARM_ERRORS(ZSWARM_ERRC_MESSAGE)
#undef ZSWARM_ERRC_MESSAGE
  }
  return "unknown error";
}

// The code with this name, for clients that read names back (the CLI).
constexpr std::optional<Errc> errc_from_name(std::string_view name) {
#define ZSWARM_ERRC_PARSE(n, value, message) \
  if (name == #n) return Errc::n;
  ZSWARM_ERRORS(ZSWARM_ERRC_PARSE)
#undef ZSWARM_ERRC_PARSE
  return std::nullopt;
}

struct Error {
  Errc code = Errc::failed;
  std::string detail;  // the case at hand; may be empty

  std::string_view name() const { return errc_name(code); }
  // "name: detail", or the code's message when there is no detail.
  std::string to_string() const {
    std::string out(name());
    out += ": ";
    out += detail.empty() ? errc_message(code) : std::string_view(detail);
    return out;
  }
};

}  // namespace zswarm
