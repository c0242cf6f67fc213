// EventLoop: the node's one thread. It polls the bus sockets, the beacon
// socket and the control socket through a Reactor, runs timers via a
// caller-supplied tick, and runs tasks posted from other threads (the
// public API, worker callbacks) — woken by an eventfd.
// post() and call() are thread-safe; everything else belongs to the loop.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "bus/reactor.hpp"
#include "port/mutex.hpp"
#include "zswarm/clock.hpp"

namespace zswarm::node {

class EventLoop {
 public:
  using Task = std::function<void()>;
  // tick() runs after every wake-up and returns when it next wants to run.
  using Tick = std::function<Clock::time_point()>;

  EventLoop(const Clock& clock, bus::Reactor& reactor);
  ~EventLoop();

  void start(Tick tick);
  // Asks the loop to finish; safe from any thread, the loop's own included.
  void stop();
  void join();
  // Blocks until the loop has finished (after stop()).
  void wait_stopped();
  bool on_loop_thread() const { return std::this_thread::get_id() == thread_.get_id(); }
  bool running() const { return running_; }

  // Runs `t` on the loop thread soon. Dropped if the loop has stopped.
  void post(Task t);
  // Runs `f` on the loop thread and waits for its result.
  template <class F>
  auto call(F f) -> decltype(f()) {
    if (on_loop_thread() || !running_) return f();
    auto task = std::make_shared<std::packaged_task<decltype(f())()>>(std::move(f));
    auto once = std::make_shared<std::once_flag>();
    auto result = task->get_future();
    post([task, once] { std::call_once(*once, [&] { (*task)(); }); });
    // If the loop stopped before running it, the loop's state is quiet: run it here.
    while (result.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready)
      if (!running_) std::call_once(*once, [&] { (*task)(); });
    return result.get();
  }

 private:
  void run(Tick tick);
  void drain();

  const Clock& clock_;
  bus::Reactor& reactor_;
  int wake_fd_ = -1;
  port::Mutex mu_;
  std::vector<Task> tasks_ GUARDED_BY(mu_);
  std::atomic<bool> stop_{false};
  port::Mutex done_mu_;
  port::CondVar done_cv_;
  bool done_ GUARDED_BY(done_mu_) = false;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace zswarm::node
