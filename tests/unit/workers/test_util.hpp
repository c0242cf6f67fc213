// Helpers for the workers tests: a thread-safe log capture usable as the
// supervisor's log sink, exit-event capture, and common options.
#pragma once

#include <algorithm>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "support/wait.hpp"
#include "workers/supervisor.hpp"

namespace zswarm::workers {
// gtest prints error codes by name.
inline void PrintTo(Errc c, std::ostream* os) { *os << errc_name(c); }
}  // namespace zswarm::workers

namespace zswarm::workers::testing {

inline std::vector<std::filesystem::path> test_search_path() {
  return {ZSWARM_TEST_PLUGIN_DIR, ZSWARM_TEST_FIXTURE_DIR};
}

struct LogLine {
  LogLevel level;
  std::string worker;
  std::string msg;
};

class LogCapture {
 public:
  Supervisor::LogSink sink() {
    return [this](LogLevel l, std::string_view w, std::string_view m) {
      std::lock_guard lock(mu_);
      lines_.push_back({l, std::string(w), std::string(m)});
    };
  }
  std::size_t count(std::string_view worker, std::string_view msg) const {
    std::lock_guard lock(mu_);
    return static_cast<std::size_t>(std::count_if(lines_.begin(), lines_.end(), [&](const LogLine& l) {
      return l.worker == worker && l.msg == msg;
    }));
  }
  std::size_t count_containing(std::string_view needle) const {
    std::lock_guard lock(mu_);
    return static_cast<std::size_t>(std::count_if(lines_.begin(), lines_.end(), [&](const LogLine& l) {
      return l.msg.find(needle) != std::string::npos;
    }));
  }
  bool wait_for(std::string_view worker, std::string_view msg, std::size_t n = 1) const {
    return zswarm::testing::wait_until([&] { return count(worker, msg) >= n; });
  }
  std::vector<LogLine> lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<LogLine> lines_;
};

class ExitCapture {
 public:
  Supervisor::ExitObserver observer() {
    return [this](const ExitInfo& e) {
      std::lock_guard lock(mu_);
      exits_.push_back(e);
    };
  }
  std::vector<ExitInfo> exits() const {
    std::lock_guard lock(mu_);
    return exits_;
  }
  std::size_t size() const {
    std::lock_guard lock(mu_);
    return exits_.size();
  }
  bool wait_for(std::size_t n) const {
    return zswarm::testing::wait_until([&] { return size() >= n; });
  }

 private:
  mutable std::mutex mu_;
  std::vector<ExitInfo> exits_;
};

}  // namespace zswarm::workers::testing
