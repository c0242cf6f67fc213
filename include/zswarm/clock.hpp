// Time source for everything in zswarm that waits or times out: membership,
// failure detection, supervisor restart intensity, timers and cron.
//
// Production code uses SystemClock; tests use ManualClock and call advance(),
// so timing logic is tested without sleeping. Both are thread-safe.
#pragma once

#include <atomic>
#include <chrono>

namespace zswarm {

class Clock {
 public:
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<std::chrono::steady_clock, duration>;

  virtual ~Clock() = default;
  // Monotonic time; never goes backwards.
  virtual time_point now() const = 0;
};

class SystemClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::steady_clock::now(); }
  // One shared instance; stateless, so sharing is safe.
  static SystemClock& instance() {
    static SystemClock clock;
    return clock;
  }
};

// A clock that only moves when told to. Starts at an arbitrary non-zero time
// so code that treats time_point{} as "never" is exercised honestly.
class ManualClock final : public Clock {
 public:
  ManualClock() : ns_(std::chrono::hours(1) / std::chrono::nanoseconds(1)) {}
  time_point now() const override { return time_point(duration(ns_.load())); }
  void advance(duration d) { ns_.fetch_add(d.count()); }

 private:
  std::atomic<duration::rep> ns_;
};

}  // namespace zswarm
