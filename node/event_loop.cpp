#include "node/event_loop.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>

namespace zswarm::node {

EventLoop::EventLoop(const Clock& clock) : clock_(clock) {
  // libzmq's default of 1023 sockets would cap a cluster near 169 nodes (6 a
  // peer, docs/scaling.md §1); the descriptors are the real limit.
  ctx_.set(zmq::ctxopt::max_sockets, 65535);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  reactor_.add_fd(wake_fd_, [this] {
    uint64_t n;
    while (::read(wake_fd_, &n, sizeof n) > 0) {
    }
  });
}

EventLoop::~EventLoop() {
  stop();
  join();
  reactor_.remove_fd(wake_fd_);
  ::close(wake_fd_);
}

void EventLoop::start(Tick tick) {
  running_ = true;
  thread_ = std::thread([this, tick = std::move(tick)] {
    loop_id_ = std::this_thread::get_id();
    run(tick);
  });
}

void EventLoop::stop() {
  stop_ = true;
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

void EventLoop::join() {
  if (thread_.joinable() && !on_loop_thread()) thread_.join();
}

void EventLoop::post(Task t) {
  {
    port::MutexLock lock(mu_);
    tasks_.push_back(std::move(t));
  }
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

void EventLoop::drain() {
  std::vector<Task> batch;
  {
    port::MutexLock lock(mu_);
    batch.swap(tasks_);
  }
  for (auto& t : batch) t();
}

void EventLoop::run(Tick tick) {
  // The loop sleeps until its next deadline or a socket or post wakes it.
  // The cap is a safety net (and lets a manual clock move on); a running
  // node's heartbeat deadline always comes sooner.
  constexpr auto kMaxWait = std::chrono::milliseconds(1000);
  auto next = tick();
  while (!stop_) {
    auto now = clock_.now();
    auto wait = kMaxWait;
    if (next <= now) wait = std::chrono::milliseconds(0);
    else if (next - now < kMaxWait) wait = std::chrono::ceil<std::chrono::milliseconds>(next - now);
    ++wakeups_;
    // Held from before the sleep (nothing is pending then) to cover the handlers.
    if (turn_begin_) turn_begin_();
    reactor_.run_once(wait);
    drain();
    next = tick();
    if (turn_end_) turn_end_();
  }
  drain();  // run what was posted before stop, so no caller waits forever
  running_ = false;
  drain();
  port::MutexLock lock(done_mu_);
  done_ = true;
  done_cv_.notify_all();
}

void EventLoop::wait_stopped() {
  port::MutexLock lock(done_mu_);
  while (!done_) done_cv_.wait(done_mu_);
}

}  // namespace zswarm::node
