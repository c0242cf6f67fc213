// Waiting for an event with a deadline: the only way tests wait.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace zswarm::testing {

// Polls `done` until it returns true or `deadline` passes. Returns done()'s
// last value, so callers write ASSERT_TRUE(wait_until(...)).
inline bool wait_until(const std::function<bool()>& done,
                       std::chrono::milliseconds deadline = std::chrono::seconds(10),
                       std::chrono::milliseconds step = std::chrono::milliseconds(5)) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(step);
  }
  return done();
}

}  // namespace zswarm::testing
