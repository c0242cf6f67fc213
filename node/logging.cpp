#include "node/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace zswarm::node {

std::shared_ptr<spdlog::logger> make_node_logger(const std::string& node_name, const std::string& level) {
  // One stderr sink for the process, so lines of several nodes never interleave.
  static auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto log = std::make_shared<spdlog::logger>("zswarm." + node_name, sink);
  log->set_formatter(std::make_unique<spdlog::pattern_formatter>(
      "%H:%M:%S.%e %l [zswarm on " + node_name + "] %v", spdlog::pattern_time_type::local));
  log->set_level(spdlog::level::from_str(level));
  log->flush_on(spdlog::level::trace);  // logs are how tests and operators follow the story
  return log;
}

}  // namespace zswarm::node
