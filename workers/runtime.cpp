#include "workers/runtime.hpp"

#include <zswarm/error.hpp>
#include <zswarm/worker.h>

// The C ABI's codes are the one error model's numbers.
static_assert(ZSWARM_ERR_FAILED == static_cast<int>(zswarm::Errc::failed));
static_assert(ZSWARM_ERR_BAD_ARGS == static_cast<int>(zswarm::Errc::bad_args));
static_assert(ZSWARM_ERR_NO_MEMORY == static_cast<int>(zswarm::Errc::no_memory));
static_assert(ZSWARM_ERR_EXCEPTION == static_cast<int>(zswarm::Errc::exception));
static_assert(ZSWARM_ERR_NOT_FOUND == static_cast<int>(zswarm::Errc::not_found));
static_assert(ZSWARM_ERR_INVALID == static_cast<int>(zswarm::Errc::invalid));

#include <algorithm>

namespace zswarm::workers {

namespace {
thread_local bool t_pool_thread = false;
}

Actor::~Actor() NO_THREAD_SAFETY_ANALYSIS {  // the last reference: nobody else can lock
  Message* m = head_;
  while (m != nullptr) {
    Message* next = m->next;
    delete m;
    m = next;
  }
}

std::uint32_t Actor::mailbox_depth() const {
  port::MutexLock lock(mu_);
  return depth_;
}

Runtime::Runtime(Options opts)
    : clock_(opts.clock != nullptr ? opts.clock : &SystemClock::instance()),
      batch_(std::max<std::size_t>(1, opts.batch)) {
  std::size_t n = opts.threads;
  if (n == 0) n = std::max(2u, std::thread::hardware_concurrency());
  pool_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) pool_.emplace_back([this] { pool_loop(); });
  if (opts.timer_thread) timer_thread_ = std::thread([this] { timer_loop(); });
}

namespace {
struct HeldWakeups {
  Runtime* runtime = nullptr;
  std::size_t pending = 0;  // actors made ready and not yet woken for
};
thread_local HeldWakeups t_held;
}  // namespace

Runtime::~Runtime() {
  if (t_held.runtime == this) t_held = {};
  stop();
}

void Runtime::hold_wakeups() {
  if (t_held.runtime != this) flush_held_wakeups();
  t_held.runtime = this;
}

void Runtime::release_wakeups() {
  flush_held_wakeups();
  t_held.runtime = nullptr;
}

void Runtime::flush_held_wakeups() {
  if (t_held.runtime == nullptr || t_held.pending == 0) return;
  std::size_t n = t_held.pending;
  t_held.pending = 0;
  t_held.runtime->wake(n);
}

void Runtime::wake(std::size_t ready) {
  if (ready >= pool_.size()) {
    ready_cv_.notify_all();
    return;
  }
  for (std::size_t i = 0; i < ready; ++i) ready_cv_.notify_one();
}

void Runtime::stop() {
  {
    port::MutexLock lock(mu_);
    stopping_ = true;
  }
  ready_cv_.notify_all();
  {
    port::MutexLock lock(timer_mu_);
    timer_stopping_ = true;
  }
  timer_cv_.notify_all();
  for (auto& t : pool_) {
    if (t.joinable()) t.join();
  }
  if (timer_thread_.joinable()) timer_thread_.join();
  // Dropped outside the lock: a last reference may run a destructor that posts.
  std::deque<std::shared_ptr<Actor>> dropped;
  {
    port::MutexLock lock(mu_);
    dropped.swap(ready_);
    busy_ = 0;
  }
  idle_cv_.notify_all();
}

bool Runtime::on_pool_thread() { return t_pool_thread; }

void Runtime::post(const std::shared_ptr<Actor>& a, std::unique_ptr<Message> m, bool urgent) {
  Message* raw = m.release();
  bool wake = false;
  {
    port::MutexLock lock(a->mu_);
    if (urgent) {
      raw->next = a->head_;
      a->head_ = raw;
      if (a->tail_ == nullptr) a->tail_ = raw;
    } else {
      raw->next = nullptr;
      if (a->tail_ != nullptr) {
        a->tail_->next = raw;
      } else {
        a->head_ = raw;
      }
      a->tail_ = raw;
    }
    ++a->depth_;
    if (!a->scheduled_) {
      a->scheduled_ = true;
      wake = true;
    }
  }
  if (wake) schedule(a);
}

void Runtime::release(const std::shared_ptr<Actor>& a) {
  bool wake = false;
  {
    port::MutexLock lock(a->mu_);
    if (a->head_ != nullptr) {
      wake = true;  // keep the turn and hand it to the pool
    } else {
      a->scheduled_ = false;
    }
  }
  if (wake) schedule(a);
}

void Runtime::schedule(std::shared_ptr<Actor> a) {
  {
    port::MutexLock lock(mu_);
    if (stopping_) return;
    ready_.push_back(std::move(a));
    ++busy_;
  }
  if (t_held.runtime == this) {
    ++t_held.pending;
    return;
  }
  ready_cv_.notify_one();
}

void Runtime::pool_loop() {
  t_pool_thread = true;
  for (;;) {
    std::shared_ptr<Actor> a;
    {
      port::MutexLock lock(mu_);
      while (!stopping_ && ready_.empty()) ready_cv_.wait(mu_);
      if (stopping_) return;
      a = std::move(ready_.front());
      ready_.pop_front();
    }
    bool more = false;
    for (std::size_t i = 0;; ++i) {
      std::unique_ptr<Message> m;
      {
        port::MutexLock lock(a->mu_);
        if (a->head_ == nullptr) {
          a->scheduled_ = false;
          break;
        }
        if (i == batch_) {
          more = true;  // fairness: requeue behind the others, keeping the turn
          break;
        }
        m.reset(a->head_);
        a->head_ = m->next;
        if (a->head_ == nullptr) a->tail_ = nullptr;
        --a->depth_;
      }
      m->next = nullptr;
      a->receive(std::move(m));
    }
    port::MutexLock lock(mu_);
    if (more && !stopping_) {
      ready_.push_back(std::move(a));
      ready_cv_.notify_one();
    } else if (--busy_ == 0) {
      idle_cv_.notify_all();
    }
  }
}

bool Runtime::wait_idle(std::chrono::milliseconds deadline) {
  flush_held_wakeups();
  const auto end = std::chrono::steady_clock::now() + deadline;
  port::MutexLock lock(mu_);
  while (busy_ != 0) {
    auto left = end - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return false;
    idle_cv_.wait_for(mu_, left);
  }
  return true;
}

void Runtime::arm_timer(const std::shared_ptr<Actor>& a, std::uint64_t timer_id,
                        std::uint64_t tag, Clock::duration delay) {
  bool earliest = false;
  {
    port::MutexLock lock(timer_mu_);
    auto idx = timer_index_.find({a.get(), timer_id});
    if (idx != timer_index_.end()) {
      timers_.erase(idx->second);
      timer_index_.erase(idx);
    }
    TimerKey key{clock_->now() + std::max(delay, Clock::duration::zero()), ++timer_seq_};
    timers_.emplace(key, Timer{a, timer_id, tag});
    timer_index_.emplace(std::make_pair(a.get(), timer_id), key);
    earliest = timers_.begin()->first == key;
  }
  if (earliest) timer_cv_.notify_all();
}

bool Runtime::cancel_timer(const Actor* a, std::uint64_t timer_id) {
  port::MutexLock lock(timer_mu_);
  auto idx = timer_index_.find({a, timer_id});
  if (idx == timer_index_.end()) return false;
  timers_.erase(idx->second);
  timer_index_.erase(idx);
  return true;
}

void Runtime::cancel_timers(const Actor* a) {
  port::MutexLock lock(timer_mu_);
  auto it = timer_index_.lower_bound({a, 0});
  while (it != timer_index_.end() && it->first.first == a) {
    timers_.erase(it->second);
    it = timer_index_.erase(it);
  }
}

std::size_t Runtime::fire_due_timers() {
  std::vector<std::pair<std::shared_ptr<Actor>, std::unique_ptr<Message>>> due;
  {
    port::MutexLock lock(timer_mu_);
    auto now = clock_->now();
    while (!timers_.empty() && timers_.begin()->first.first <= now) {
      auto node = timers_.extract(timers_.begin());
      Timer& t = node.mapped();
      auto actor = t.actor.lock();
      if (actor) {
        timer_index_.erase({actor.get(), t.timer_id});
        due.emplace_back(std::move(actor), std::make_unique<TimerMessage>(t.timer_id, t.tag));
      } else {
        // The actor is gone without cancelling; drop its index entry too.
        for (auto it = timer_index_.begin(); it != timer_index_.end(); ++it) {
          if (it->second == node.key()) {
            timer_index_.erase(it);
            break;
          }
        }
      }
    }
  }
  for (auto& [actor, msg] : due) post(actor, std::move(msg));
  return due.size();
}

std::size_t Runtime::armed_timers() const {
  port::MutexLock lock(timer_mu_);
  return timers_.size();
}

std::optional<Clock::time_point> Runtime::next_deadline() const {
  port::MutexLock lock(timer_mu_);
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first.first;
}

void Runtime::timer_loop() {
  timer_mu_.lock();
  while (!timer_stopping_) {
    if (timers_.empty()) {
      timer_cv_.wait(timer_mu_);
      continue;
    }
    auto wait = timers_.begin()->first.first - clock_->now();
    if (wait > Clock::duration::zero()) {
      // Real-time wait for a Clock delta: exact for SystemClock; a notify
      // (new earliest timer, stop) cuts it short.
      timer_cv_.wait_for(timer_mu_, wait);
      continue;
    }
    timer_mu_.unlock();
    fire_due_timers();
    timer_mu_.lock();
  }
  timer_mu_.unlock();
}

}  // namespace zswarm::workers
