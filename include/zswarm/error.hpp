// The one error model of the public API. `code` is a stable snake_case name
// that the CLI and the control socket print too: bad_option, bind_failed,
// control_socket_failed, already_registered (detail: the REF), not_found,
// no_node_available, timeout, node_down, node_leaving, too_large,
// bad_message, and the worker errors (plugin_not_found, symbol_missing,
// abi_mismatch, init_failed, ...). A plain value type.
#pragma once

#include <string>

namespace zswarm {

struct Error {
  std::string code;
  std::string detail;
};

}  // namespace zswarm
