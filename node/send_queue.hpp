// SendQueue: what Node::send hands the loop. Any thread pushes; the loop
// alone takes. Bounded: a push into a full queue waits for room up to its
// deadline, then fails. It tells the pusher when the loop must be woken (the
// first push since the loop last found the queue empty), so a burst of
// sends costs the loop one wake-up, and it takes them in bulk.
// Order is the order of pushes (so each thread's messages keep theirs).
//
// A mutex, not a lock-free queue: the loop takes everything in one short
// critical section, so producers rarely meet, and the thread sanitizer can
// check it (GCC refuses the fences of moodycamel's queue under TSan).
// Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <vector>

#include "port/mutex.hpp"

namespace zswarm::node {

template <class T>
class SendQueue {
 public:
  explicit SendQueue(std::size_t capacity) : capacity_(capacity) {}

  enum class Pushed {
    wake,    // queued; the caller must make the loop take (it was idle)
    queued,  // queued; the loop will take it without being told
    full,    // not queued: no room within max_wait
  };
  Pushed push(T item, std::chrono::milliseconds max_wait) EXCLUDES(mu_) {
    std::chrono::steady_clock::time_point deadline{};  // read the clock only when full
    port::MutexLock lock(mu_);
    while (items_.size() >= capacity_) {
      if (deadline == std::chrono::steady_clock::time_point{}) deadline = std::chrono::steady_clock::now() + max_wait;
      auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) return Pushed::full;
      room_.wait_for(mu_, left);
    }
    items_.push_back(std::move(item));
    if (taking_) return Pushed::queued;
    taking_ = true;
    return Pushed::wake;
  }

  // The loop: moves up to `max` items to `out`. True if some are left (the
  // loop must come back for them); false once it found the queue empty, after
  // which the next push says wake.
  bool take(std::vector<T>& out, std::size_t max) EXCLUDES(mu_) {
    port::MutexLock lock(mu_);
    std::size_t n = std::min(max, items_.size());
    for (std::size_t i = 0; i < n; ++i) {
      out.push_back(std::move(items_.front()));
      items_.pop_front();
    }
    if (n > 0) room_.notify_all();
    if (!items_.empty()) return true;
    taking_ = false;
    return false;
  }

  std::size_t capacity() const { return capacity_; }

 private:
  const std::size_t capacity_;
  port::Mutex mu_;
  port::CondVar room_;
  std::deque<T> items_ GUARDED_BY(mu_);
  bool taking_ GUARDED_BY(mu_) = false;  // a wake-up is on its way, or the loop is taking
};

}  // namespace zswarm::node
