// One request to a node's control socket and its answer, with a deadline:
// what the zswarm CLI and the tests use. Each call makes its own socket, so
// it is safe from any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace zswarm::node {

// nullopt when no answer arrived in time or the answer was not JSON.
std::optional<nlohmann::json> ask_control(const std::string& socket_path, const nlohmann::json& request,
                                          std::chrono::milliseconds deadline);

}  // namespace zswarm::node
