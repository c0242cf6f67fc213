// workers::Error: the one error model of the workers module (loader,
// supervisor, runtime). Each code has a stable snake_case name that the CLI
// and logs print, so the names are part of the interface: never rename one.
// Plain values; thread-safe as any value type.
#pragma once

#include <string>
#include <string_view>

#include <zswarm/result.hpp>

namespace zswarm::workers {

enum class ErrorCode {
  plugin_not_found,      // no file for the plugin name along the search path
  invalid_name,          // a plugin or worker name with forbidden characters
  dlopen_failed,         // the file exists but dlopen refused it (dlerror text)
  symbol_missing,        // no zswarm_worker_plugin_v1 entry symbol
  abi_mismatch,          // abi_version is not ours
  struct_size_mismatch,  // struct_size smaller than the v1 table
  invalid_plugin,        // NULL table, missing required callbacks, wrong name
  init_failed,           // init returned an error code
  init_threw,            // init threw (caught by the C++ helper)
  handoff_failed,        // end_handoff refused the state on start
  not_found,             // no worker of that name
  already_started,       // a worker of that name runs already
  intensity_exceeded,    // too many restarts in the window: given up
  callback_failed,       // a callback crashed while serving the request
  no_reply,              // a call was handled without a reply
  stopped,               // the worker stopped before serving the request
  timeout,               // a synchronous request did not complete in time
};

struct Error {
  ErrorCode code;
  std::string detail;
};

// Stable name, e.g. "plugin_not_found".
std::string_view error_name(ErrorCode code);
// "name: detail" (or just the name).
std::string to_string(const Error& e);

template <class T>
using Result = zswarm::Result<T, Error>;

inline Unexpected<Error> make_error(ErrorCode code, std::string detail = {}) {
  return fail(Error{code, std::move(detail)});
}

}  // namespace zswarm::workers
