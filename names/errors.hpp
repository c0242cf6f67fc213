// Errors crossing into the public error model (zswarm::Error): a worker
// error keeps its stable code name, so the CLI, the control socket and the
// C++ API all print the same word. Pure function; thread-safe.
#pragma once

#include <string>

#include "workers/error.hpp"
#include "zswarm/error.hpp"
#include "zswarm/result.hpp"

namespace zswarm::names {

inline Error to_public(const workers::Error& e) { return Error{std::string(workers::error_name(e.code)), e.detail}; }

}  // namespace zswarm::names
