// Runtime: the actor scheduler of the workers module. An Actor has a mailbox
// (an intrusive list: an idle actor costs a few pointers, not a deque); its
// messages run on a small shared thread pool, in order and one at a time
// ("the turn"): an actor is in the ready queue at most once, so never two
// pool threads are inside one actor. Timers are deadlines on the injected
// Clock; a timer thread fires them in production, tests with a ManualClock
// turn it off and call fire_due_timers() after advancing the clock.
//
// Thread-safety: every public function may be called from any thread.
#pragma once

#include "port/mutex.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <zswarm/clock.hpp>

namespace zswarm::workers {

// One mailbox entry. Derive for payloads.
struct Message {
  virtual ~Message() = default;
  Message* next = nullptr;
};

// Posted by the runtime when a timer fires. `tag` is what arm_timer was given
// (the supervisor uses the worker's incarnation, to drop stale timers).
struct TimerMessage final : Message {
  TimerMessage(std::uint64_t id, std::uint64_t t) : timer_id(id), tag(t) {}
  std::uint64_t timer_id;
  std::uint64_t tag;
};

class Runtime;

class Actor : public std::enable_shared_from_this<Actor> {
 public:
  virtual ~Actor();  // deletes undelivered messages
  Actor(const Actor&) = delete;
  Actor& operator=(const Actor&) = delete;

  std::uint32_t mailbox_depth() const;

 protected:
  // held: the creator owns the turn (e.g. to run init on its own thread)
  // until Runtime::release(); messages posted meanwhile wait in the mailbox.
  explicit Actor(bool held = false) : scheduled_(held) {}
  // Runs on a pool thread during the actor's turn. Must not throw.
  virtual void receive(std::unique_ptr<Message> m) noexcept = 0;

 private:
  friend class Runtime;
  mutable port::Mutex mu_;
  Message* head_ GUARDED_BY(mu_) = nullptr;
  Message* tail_ GUARDED_BY(mu_) = nullptr;
  std::uint32_t depth_ GUARDED_BY(mu_) = 0;
  bool scheduled_ GUARDED_BY(mu_);  // owns the turn: queued, running, or held
};

class Runtime {
 public:
  struct Options {
    std::size_t threads = 0;  // 0 = hardware threads, at least 2
    const Clock* clock = nullptr;  // nullptr = SystemClock
    bool timer_thread = true;  // false: the owner calls fire_due_timers()
    std::size_t batch = 64;  // messages per turn before yielding the thread
  };

  explicit Runtime(Options opts);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Joins the pool and timer threads; afterwards nothing runs. Idempotent.
  void stop();

  // Appends m (or puts it first if urgent) and schedules the actor.
  void post(const std::shared_ptr<Actor>& a, std::unique_ptr<Message> m, bool urgent = false);
  // Gives up a turn held since construction.
  void release(const std::shared_ptr<Actor>& a);

  // Arms (re-arms) a one-shot timer; it posts a TimerMessage to `a`.
  void arm_timer(const std::shared_ptr<Actor>& a, std::uint64_t timer_id, std::uint64_t tag,
                 Clock::duration delay);
  bool cancel_timer(const Actor* a, std::uint64_t timer_id);
  // Must be called before an actor with timers is dropped.
  void cancel_timers(const Actor* a);
  // Posts every timer whose deadline is <= clock.now(); returns how many.
  std::size_t fire_due_timers();
  std::size_t armed_timers() const;
  std::optional<Clock::time_point> next_deadline() const;

  // Waits until no actor is queued or running (timers not counted).
  bool wait_idle(std::chrono::milliseconds deadline);

  // Wake-up batching for an event loop: between hold_wakeups() and
  // release_wakeups() on one thread, posts from that thread that make an
  // actor ready wake no pool thread; the release wakes as many as there is
  // work for. A loop holds them for one turn, so a frame of a thousand
  // messages costs one futex wake, not one per message. Any wait on the
  // pool from that thread (wait_idle, a synchronous supervisor call) flushes
  // first, so holding can never deadlock.
  void hold_wakeups();
  void release_wakeups();
  static void flush_held_wakeups();

  static bool on_pool_thread();
  std::size_t threads() const { return pool_.size(); }
  const Clock& clock() const { return *clock_; }

 private:
  void schedule(std::shared_ptr<Actor> a);
  void wake(std::size_t ready);
  void pool_loop();
  void timer_loop();

  const Clock* clock_;
  const std::size_t batch_;

  port::Mutex mu_;
  port::CondVar ready_cv_;
  port::CondVar idle_cv_;
  std::deque<std::shared_ptr<Actor>> ready_ GUARDED_BY(mu_);
  std::size_t busy_ GUARDED_BY(mu_) = 0;  // actors queued or running
  bool stopping_ GUARDED_BY(mu_) = false;

  struct Timer {
    std::weak_ptr<Actor> actor;
    std::uint64_t timer_id;
    std::uint64_t tag;
  };
  using TimerKey = std::pair<Clock::time_point, std::uint64_t>;  // deadline, sequence
  mutable port::Mutex timer_mu_;
  port::CondVar timer_cv_;
  std::map<TimerKey, Timer> timers_ GUARDED_BY(timer_mu_);
  std::map<std::pair<const Actor*, std::uint64_t>, TimerKey> timer_index_ GUARDED_BY(timer_mu_);
  std::uint64_t timer_seq_ GUARDED_BY(timer_mu_) = 0;
  bool timer_stopping_ GUARDED_BY(timer_mu_) = false;

  std::vector<std::thread> pool_;
  std::thread timer_thread_;
};

}  // namespace zswarm::workers
