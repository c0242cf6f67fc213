// EventLoop: the real node::Loop, the node's one thread. It polls the bus
// sockets, the beacon socket and the control socket through its Reactor,
// runs timers via a caller-supplied tick, and runs tasks posted from other
// threads (the public API, worker callbacks) — woken by an eventfd. It owns
// the ZeroMQ context the node's sockets are made in.
// post() and call() are thread-safe; everything else belongs to the loop.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "bus/reactor.hpp"
#include "node/env_internal.hpp"
#include "port/mutex.hpp"
#include "zswarm/clock.hpp"

namespace zswarm::node {

class EventLoop final : public Loop {
 public:
  explicit EventLoop(const Clock& clock);
  ~EventLoop() override;

  void start(Tick tick) override;
  void stop() override;
  void join() override;
  void wait_stopped() override;
  // Read from any thread: the id is published by the loop thread itself,
  // since thread_ is still being assigned while the loop starts running.
  bool on_loop_thread() const override { return std::this_thread::get_id() == loop_id_.load(); }
  bool running() const override { return running_; }
  uint64_t wakeups() const override { return wakeups_.load(std::memory_order_relaxed); }
  void post(Task t) override;
  bool run_until(const std::function<bool()>& ready, Clock::duration) override { return ready(); }
  // Before start() only.
  void set_turn_hooks(Task begin, Task end) override {
    turn_begin_ = std::move(begin);
    turn_end_ = std::move(end);
  }
  bus::Reactor* reactor() override { return &reactor_; }
  zmq::context_t* zmq_context() override { return &ctx_; }

 private:
  void run(Tick tick);
  void drain();

  const Clock& clock_;
  zmq::context_t ctx_;  // before the reactor and every socket: destroyed last
  bus::Reactor reactor_;
  int wake_fd_ = -1;
  port::Mutex mu_;
  std::vector<Task> tasks_ GUARDED_BY(mu_);
  std::atomic<bool> stop_{false};
  port::Mutex done_mu_;
  port::CondVar done_cv_;
  bool done_ GUARDED_BY(done_mu_) = false;
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> wakeups_{0};  // turns of the loop: what an idle node should keep few
  std::atomic<std::thread::id> loop_id_{};
  std::thread thread_;
  Task turn_begin_, turn_end_;
};

}  // namespace zswarm::node
