#include "workers/error.hpp"

namespace zswarm::workers {

std::string_view error_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::plugin_not_found: return "plugin_not_found";
    case ErrorCode::invalid_name: return "invalid_name";
    case ErrorCode::dlopen_failed: return "dlopen_failed";
    case ErrorCode::symbol_missing: return "symbol_missing";
    case ErrorCode::abi_mismatch: return "abi_mismatch";
    case ErrorCode::struct_size_mismatch: return "struct_size_mismatch";
    case ErrorCode::invalid_plugin: return "invalid_plugin";
    case ErrorCode::init_failed: return "init_failed";
    case ErrorCode::init_threw: return "init_threw";
    case ErrorCode::handoff_failed: return "handoff_failed";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::already_started: return "already_started";
    case ErrorCode::intensity_exceeded: return "intensity_exceeded";
    case ErrorCode::callback_failed: return "callback_failed";
    case ErrorCode::no_reply: return "no_reply";
    case ErrorCode::stopped: return "stopped";
    case ErrorCode::timeout: return "timeout";
  }
  return "unknown";
}

std::string to_string(const Error& e) {
  std::string s(error_name(e.code));
  if (!e.detail.empty()) s += ": " + e.detail;
  return s;
}

}  // namespace zswarm::workers
