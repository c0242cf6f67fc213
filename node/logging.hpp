// The node's logger: spdlog, in the seed's style —
//   12:00:01.234 info [zswarm on a@host] [membership] nodeup b@host
// One logger per node (several nodes may share a process in tests), never
// registered globally. spdlog loggers are thread-safe.
#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>

namespace zswarm::node {

std::shared_ptr<spdlog::logger> make_node_logger(const std::string& node_name, const std::string& level);

}  // namespace zswarm::node
