#include "workers/supervisor.hpp"

#include "port/mutex.hpp"

#include <algorithm>
#include <atomic>
#include <unordered_map>

#include <spdlog/spdlog.h>

namespace zswarm::workers {

std::string_view policy_name(RestartPolicy p) {
  switch (p) {
    case RestartPolicy::permanent: return "permanent";
    case RestartPolicy::transient: return "transient";
    case RestartPolicy::temporary: return "temporary";
  }
  return "unknown";
}

std::optional<RestartPolicy> parse_policy(std::string_view s) {
  for (auto p : {RestartPolicy::permanent, RestartPolicy::transient, RestartPolicy::temporary}) {
    if (policy_name(p) == s) return p;
  }
  return std::nullopt;
}

std::string_view state_name(WorkerState s) {
  switch (s) {
    case WorkerState::starting: return "starting";
    case WorkerState::running: return "running";
    case WorkerState::restarting: return "restarting";
    case WorkerState::exited: return "exited";
  }
  return "unknown";
}

std::string_view exit_reason_name(ExitReason r) {
  switch (r) {
    case ExitReason::normal: return "normal";
    case ExitReason::stopped: return "stopped";
    case ExitReason::handoff: return "handoff";
    case ExitReason::conflict: return "conflict";
    case ExitReason::crash: return "crash";
    case ExitReason::intensity_exceeded: return "intensity_exceeded";
  }
  return "unknown";
}

std::string_view handoff_kind_name(HandoffKind k) {
  switch (k) {
    case HandoffKind::state: return "state";
    case HandoffKind::restart: return "restart";
    case HandoffKind::ignore: return "ignore";
  }
  return "unknown";
}

namespace {

std::string status_text(int rc) {
  switch (rc) {
    case ZSWARM_OK: return "ok";
    case ZSWARM_STOP: return "stop";
    case ZSWARM_ERR_FAILED: return "failed";
    case ZSWARM_ERR_BAD_ARGS: return "bad_args";
    case ZSWARM_ERR_NO_MEMORY: return "no_memory";
    case ZSWARM_ERR_EXCEPTION: return "exception";
    case ZSWARM_ERR_NOT_FOUND: return "not_found";
    case ZSWARM_ERR_INVALID: return "invalid";
    default: return "status " + std::to_string(rc);
  }
}

// One synchronous answer crossing threads; the first set() wins.
template <class T>
struct Waiter {
  port::Mutex mu;
  port::CondVar cv;
  std::optional<Result<T>> r GUARDED_BY(mu);

  void set(Result<T> v) {
    {
      port::MutexLock lock(mu);
      if (r) return;
      r.emplace(std::move(v));
    }
    cv.notify_all();
  }
  Result<T> wait(std::chrono::milliseconds timeout, std::string_view what) {
    Runtime::flush_held_wakeups();  // what this thread posted must run
    const auto end = std::chrono::steady_clock::now() + timeout;
    port::MutexLock lock(mu);
    while (!r.has_value()) {
      auto left = end - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero())
        return make_error(Errc::timeout, std::string(what) + " not done after " +
                                             std::to_string(timeout.count()) + " ms");
      cv.wait_for(mu, left);
    }
    return std::move(*r);
  }
};

struct CastMsg final : Message {
  explicit CastMsg(std::string b) : bytes(std::move(b)) {}
  std::string bytes;
};

struct CallMsg final : Message {
  CallMsg(std::string b, Supervisor::CallCallback c) : bytes(std::move(b)), cb(std::move(c)) {}
  // A call dropped unanswered (worker gone, shutdown) still gets its answer.
  ~CallMsg() override { answer(make_error(Errc::stopped, "worker exited")); }
  void answer(Result<std::string> r) noexcept {
    if (!cb) return;
    auto f = std::move(cb);
    cb = nullptr;
    try {
      f(std::move(r));
    } catch (const std::exception& e) {
      spdlog::error("zswarm workers: call callback threw: {}", e.what());
    } catch (...) {
      spdlog::error("zswarm workers: call callback threw");
    }
  }
  std::string bytes;
  Supervisor::CallCallback cb;
};

// The answer to a control message, given once: to a caller waiting on a
// Waiter, or to an asynchronous caller's callback (on the answering thread).
template <class T>
struct Reply {
  std::function<void(Result<T>)> f;
  void set(Result<T> r) {
    if (!f) return;
    auto g = std::move(f);
    f = nullptr;
    g(std::move(r));
  }
  static Reply to(const std::shared_ptr<Waiter<T>>& w) {
    return {[w](Result<T> r) { w->set(std::move(r)); }};
  }
};

struct StopMsg final : Message {
  explicit StopMsg(Reply<void> d) : done(std::move(d)) {}
  ~StopMsg() override { done.set({}); }  // already exited: stopped all the same
  Reply<void> done;
};

struct HandoffMsg final : Message {
  explicit HandoffMsg(Reply<Handoff> d) : done(std::move(d)) {}
  ~HandoffMsg() override { done.set(make_error(Errc::stopped, "worker exited before handoff")); }
  Reply<Handoff> done;
};

struct ConflictMsg final : Message {
  ConflictMsg(std::string o, Reply<ConflictState> d) : other(std::move(o)), done(std::move(d)) {}
  ~ConflictMsg() override { done.set(ConflictState{}); }  // exited already: nothing to offer
  std::string other;
  Reply<ConflictState> done;
};

struct MergeMsg final : Message {
  MergeMsg(std::string s, Reply<void> d) : state(std::move(s)), done(std::move(d)) {}
  ~MergeMsg() override { done.set(make_error(Errc::stopped, "the worker exited before merging")); }
  std::string state;
  Reply<void> done;
};

}  // namespace

class WorkerActor;

struct Supervisor::Impl {
  explicit Impl(Options o);

  Options opts;
  const Clock* clock;
  // Declared before the workers so it is destroyed after them.
  Runtime runtime;

  mutable port::Mutex mu;
  std::unordered_map<std::string, std::shared_ptr<WorkerActor>> workers GUARDED_BY(mu);
  // The same workers by id: a REF addresses one worker, not its name.
  std::unordered_map<WorkerId, std::shared_ptr<WorkerActor>> by_id GUARDED_BY(mu);
  WorkerId next_id GUARDED_BY(mu) = 0;
  std::shared_ptr<const ExitObserver> observer GUARDED_BY(mu);

  std::shared_ptr<WorkerActor> find(std::string_view name) const;
  std::shared_ptr<WorkerActor> find(WorkerId id) const;
  // Erases `w` under its name if still registered; returns it so the caller
  // drops the reference outside the lock.
  std::shared_ptr<WorkerActor> unregister(const WorkerActor* w);
  void notify_exit(const ExitInfo& info);
  void log(LogLevel level, std::string_view worker, std::string_view msg) const;
  int cast_from(const WorkerActor* from, std::string_view to, std::string_view bytes);
};

// One worker: the actor, its plugin state and the context handed to the plugin.
// Fields below `ctx` are touched only during the worker's turn, except the
// atomics and the immutable identity.
class WorkerActor final : public Actor {
 public:
  WorkerActor(Supervisor::Impl* s, WorkerSpec&& spec, PluginPtr p)
      : Actor(/*held=*/true),
        sup(s),
        name(std::move(spec.name)),
        args(std::move(spec.args)),
        plugin(std::move(p)),
        policy(spec.policy) {
    ctx.struct_size = sizeof(zswarm_worker_ctx);
    ctx.host = this;
    ctx.worker_name = &c_worker_name;
    ctx.node_name = &c_node_name;
    ctx.log = &c_log;
    ctx.cast = &c_cast;
    ctx.reply = &c_reply;
    ctx.set_error = &c_set_error;
    ctx.set_timer = &c_set_timer;
    ctx.cancel_timer = &c_cancel_timer;
    ctx.now_unix_ms = &c_now_unix_ms;
    ctx.fencing_token = &c_fencing_token;
  }

  // Safety net: state is always released, even if the worker is dropped
  // without a turn (e.g. a stop posted during shutdown).
  ~WorkerActor() override {
    if (live) {
      sup->runtime.cancel_timers(this);
      if (plugin->table().terminate != nullptr) plugin->table().terminate(state, &ctx, ZSWARM_EXIT_SHUTDOWN);
      live = false;
    }
  }

  const zswarm_worker_plugin& table() const { return plugin->table(); }

  // Runs init; on success the worker holds live state. Returns the status.
  int run_init() {
    error.clear();
    void* s = nullptr;
    int rc = table().init(&ctx, args.data(), args.size(), &s);
    if (rc != ZSWARM_OK) {
      if (rc == ZSWARM_STOP) rc = ZSWARM_ERR_FAILED;
      if (error.empty()) error = "init returned " + status_text(rc);
      sup->runtime.cancel_timers(this);
      return rc;
    }
    state = s;
    live = true;
    return ZSWARM_OK;
  }

  void release_state(int reason) {
    if (!live) return;
    sup->runtime.cancel_timers(this);
    if (table().terminate != nullptr) table().terminate(state, &ctx, reason);
    state = nullptr;
    live = false;
    ++incarnation;  // timers already posted by the old state are dropped
  }

  void receive(std::unique_ptr<Message> m) noexcept override {
    try {
      dispatch(*m);
    } catch (const std::exception& e) {
      sup->log(LogLevel::error, name, std::string("host error: ") + e.what());
    }
  }

  void dispatch(Message& m) {
    if (status.load() == WorkerState::exited || !live) return;  // dropped; dtor answers
    if (auto* cast = dynamic_cast<CastMsg*>(&m)) {
      after(invoke_handle(cast->bytes, nullptr));
    } else if (auto* call = dynamic_cast<CallMsg*>(&m)) {
      std::string reply;
      int rc = invoke_handle(call->bytes, &reply);
      if (rc < 0) {
        call->answer(make_error(Errc::callback_failed, crash_detail(rc)));
      } else if (replied) {
        call->answer(std::move(reply));
      } else {
        call->answer(make_error(Errc::no_reply, name + " handled the call without a reply"));
      }
      after(rc);
    } else if (auto* t = dynamic_cast<TimerMessage*>(&m)) {
      if (t->tag != incarnation || table().timer == nullptr) return;
      error.clear();
      after(table().timer(state, &ctx, t->timer_id));
    } else if (auto* stop = dynamic_cast<StopMsg*>(&m)) {
      release_state(ZSWARM_EXIT_STOPPED);
      finish(ExitReason::stopped, "");
      stop->done.set({});
    } else if (auto* h = dynamic_cast<HandoffMsg*>(&m)) {
      handoff(*h);
    } else if (auto* c = dynamic_cast<ConflictMsg*>(&m)) {
      int rc = ZSWARM_OK;
      ConflictState offer;
      error.clear();
      if (table().resolve_conflict != nullptr) {
        out = &offer.state;
        replied = false;
        rc = table().resolve_conflict(state, &ctx, c->other.data(), c->other.size());
        out = nullptr;
        offer.offered = replied;
      }
      std::string detail = rc < 0 ? crash_detail(rc) : std::string();
      release_state(ZSWARM_EXIT_CONFLICT);
      finish(ExitReason::conflict, detail);
      if (rc < 0) {
        c->done.set(make_error(Errc::callback_failed, detail));
      } else {
        c->done.set(std::move(offer));
      }
    } else if (auto* g = dynamic_cast<MergeMsg*>(&m)) {
      if (table().merge_conflict == nullptr) {
        g->done.set(make_error(Errc::failed, plugin->name() + " has no merge_conflict: the losing copy's state is dropped"));
        return;
      }
      error.clear();
      int rc = table().merge_conflict(state, &ctx, g->state.data(), g->state.size());
      if (rc < 0) {
        g->done.set(make_error(Errc::callback_failed, crash_detail(rc)));
      } else {
        g->done.set({});
      }
      after(rc);
    }
  }

  void handoff(HandoffMsg& h) {
    int kind = ZSWARM_HANDOFF_RESTART;
    std::string bytes;
    int rc = ZSWARM_OK;
    if (table().begin_handoff != nullptr) {
      error.clear();
      out = &bytes;
      replied = false;
      rc = table().begin_handoff(state, &ctx, &kind);
      out = nullptr;
    }
    if (rc >= 0 && (kind < ZSWARM_HANDOFF_STATE || kind > ZSWARM_HANDOFF_IGNORE)) {
      error = "begin_handoff returned unknown kind " + std::to_string(kind);
      rc = ZSWARM_ERR_INVALID;
    }
    if (rc < 0) {
      // Answered after the restart, so the caller sees the worker's new state.
      std::string detail = crash_detail(rc);
      crash(rc);
      h.done.set(make_error(Errc::callback_failed, detail));
      return;
    }
    if (kind == ZSWARM_HANDOFF_IGNORE) {
      h.done.set(Handoff{HandoffKind::ignore, {}});
      return;
    }
    release_state(ZSWARM_EXIT_HANDOFF);
    finish(ExitReason::handoff, "");
    auto k = kind == ZSWARM_HANDOFF_STATE ? HandoffKind::state : HandoffKind::restart;
    if (k == HandoffKind::restart) bytes.clear();
    h.done.set(Handoff{k, std::move(bytes)});
  }

  int invoke_handle(const std::string& bytes, std::string* reply_to) {
    error.clear();
    out = reply_to;
    replied = false;
    int rc = table().handle(state, &ctx, bytes.data(), bytes.size());
    out = nullptr;
    return rc;
  }

  std::string crash_detail(int rc) const {
    std::string d = status_text(rc);
    if (!error.empty()) d += ": " + error;
    return d;
  }

  // Outcome of a callback: nothing, a normal exit, or a crash.
  void after(int rc) {
    if (rc == ZSWARM_OK || rc > ZSWARM_STOP) return;
    if (rc == ZSWARM_STOP) {
      release_state(ZSWARM_EXIT_NORMAL);
      if (policy == RestartPolicy::permanent) {
        restart("normal exit");
      } else {
        finish(ExitReason::normal, "");
      }
      return;
    }
    crash(rc);
  }

  void crash(int rc) {
    std::string detail = crash_detail(rc);
    sup->log(LogLevel::warn, name, "crashed: " + detail);
    release_state(ZSWARM_EXIT_CRASH);
    if (policy == RestartPolicy::temporary) {
      finish(ExitReason::crash, detail);
    } else {
      restart(detail);
    }
  }

  // Re-runs init until it succeeds or the intensity is exceeded; a failing
  // init counts as one more crash.
  void restart(std::string detail) {
    if (detached.load()) return finish(ExitReason::stopped, "stopped: " + detail);
    const auto& intensity = sup->opts.intensity;
    for (;;) {
      auto now = sup->clock->now();
      std::erase_if(restart_times, [&](Clock::time_point t) { return t <= now - intensity.window; });
      if (restart_times.size() >= intensity.max_restarts) {
        std::string why = std::to_string(restart_times.size()) + " restarts within " +
                          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             intensity.window).count()) +
                          " ms; last: " + detail;
        sup->log(LogLevel::error, name, "giving up: " + why);
        finish(ExitReason::intensity_exceeded, why);
        return;
      }
      restart_times.push_back(now);
      restarts.fetch_add(1);
      status.store(WorkerState::restarting);
      int rc = run_init();
      if (rc == ZSWARM_OK) {
        status.store(WorkerState::running);
        sup->log(LogLevel::info, name, "restarted after: " + detail);
        return;
      }
      detail = "init " + crash_detail(rc);
    }
  }

  void finish(ExitReason reason, std::string detail) {
    status.store(WorkerState::exited);
    restart_times.clear();
    restart_times.shrink_to_fit();
    auto keep = sup->unregister(this);
    sup->notify_exit(ExitInfo{name, id, plugin->name(), reason, std::move(detail)});
  }

  // --- the context functions handed to the plugin ---
  static WorkerActor* self(const zswarm_worker_ctx* c) { return static_cast<WorkerActor*>(c->host); }
  static const char* c_worker_name(const zswarm_worker_ctx* c) { return self(c)->name.c_str(); }
  static const char* c_node_name(const zswarm_worker_ctx* c) { return self(c)->sup->opts.node_name.c_str(); }
  static void c_log(const zswarm_worker_ctx* c, int level, const char* msg, size_t len) {
    level = std::clamp(level, static_cast<int>(ZSWARM_LOG_TRACE), static_cast<int>(ZSWARM_LOG_ERROR));
    self(c)->sup->log(static_cast<LogLevel>(level), self(c)->name, std::string_view(msg, len));
  }
  static int c_cast(const zswarm_worker_ctx* c, const char* to, size_t to_len, const void* data, size_t len) {
    try {
      return self(c)->sup->cast_from(self(c), std::string_view(to, to_len),
                                     std::string_view(static_cast<const char*>(data), len));
    } catch (...) {
      return ZSWARM_ERR_NO_MEMORY;
    }
  }
  static int c_reply(const zswarm_worker_ctx* c, const void* data, size_t len) {
    auto* w = self(c);
    if (w->out == nullptr) return ZSWARM_ERR_INVALID;
    try {
      w->out->assign(static_cast<const char*>(data), len);
    } catch (...) {
      return ZSWARM_ERR_NO_MEMORY;
    }
    w->replied = true;
    return ZSWARM_OK;
  }
  static void c_set_error(const zswarm_worker_ctx* c, const char* msg, size_t len) {
    try {
      self(c)->error.assign(msg, len);
    } catch (...) {
    }
  }
  static int c_set_timer(const zswarm_worker_ctx* c, uint64_t timer_id, uint64_t delay_ms) {
    auto* w = self(c);
    // Clamp so the nanosecond deadline cannot overflow (about 100 years).
    delay_ms = std::min<uint64_t>(delay_ms, 100ull * 365 * 24 * 3600 * 1000);
    try {
      w->sup->runtime.arm_timer(w->shared_from_this(), timer_id, w->incarnation,
                                std::chrono::milliseconds(delay_ms));
    } catch (...) {
      return ZSWARM_ERR_NO_MEMORY;
    }
    return ZSWARM_OK;
  }
  static int c_cancel_timer(const zswarm_worker_ctx* c, uint64_t timer_id) {
    return self(c)->sup->runtime.cancel_timer(self(c), timer_id) ? ZSWARM_OK : ZSWARM_ERR_NOT_FOUND;
  }
  static int64_t c_now_unix_ms(const zswarm_worker_ctx* c) { return self(c)->sup->opts.wall_clock(); }
  static uint64_t c_fencing_token(const zswarm_worker_ctx* c) {
    return self(c)->token.load(std::memory_order_acquire);
  }

  std::atomic<uint64_t> token{0};  // set by the name service once the name is recorded

  Supervisor::Impl* const sup;
  WorkerId id = 0;
  const std::string name;
  const std::string args;
  const PluginPtr plugin;
  const RestartPolicy policy;
  std::atomic<WorkerState> status{WorkerState::starting};
  std::atomic<std::uint32_t> restarts{0};
  // Taken out of the table (stopped or lost a conflict): it ends after its
  // current callback, and a crash there does not restart it.
  std::atomic<bool> detached{false};

  zswarm_worker_ctx ctx{};
  void* state = nullptr;
  bool live = false;
  bool replied = false;
  std::uint64_t incarnation = 1;
  std::string* out = nullptr;  // where ctx->reply writes, if allowed now
  std::string error;           // ctx->set_error of the running callback
  std::vector<Clock::time_point> restart_times;  // empty (no allocation) until a restart
};

Supervisor::Impl::Impl(Options o)
    : opts(std::move(o)),
      clock(opts.clock != nullptr ? opts.clock : &SystemClock::instance()),
      runtime(Runtime::Options{opts.threads, clock, opts.timer_thread, 64}) {
  if (!opts.wall_clock) {
    opts.wall_clock = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
}

std::shared_ptr<WorkerActor> Supervisor::Impl::find(std::string_view name) const {
  port::MutexLock lock(mu);
  auto it = workers.find(std::string(name));
  return it == workers.end() ? nullptr : it->second;
}

std::shared_ptr<WorkerActor> Supervisor::Impl::find(WorkerId id) const {
  port::MutexLock lock(mu);
  auto it = by_id.find(id);
  return it == by_id.end() ? nullptr : it->second;
}

std::shared_ptr<WorkerActor> Supervisor::Impl::unregister(const WorkerActor* w) {
  std::shared_ptr<WorkerActor> out;
  port::MutexLock lock(mu);
  auto it = workers.find(w->name);
  if (it != workers.end() && it->second.get() == w) {
    out = std::move(it->second);
    workers.erase(it);
    by_id.erase(w->id);
  }
  return out;
}

void Supervisor::Impl::notify_exit(const ExitInfo& info) {
  std::shared_ptr<const ExitObserver> fn;
  {
    port::MutexLock lock(mu);
    fn = observer;
  }
  if (!fn) return;
  try {
    (*fn)(info);
  } catch (const std::exception& e) {
    spdlog::error("zswarm workers: exit observer threw: {}", e.what());
  }
}

void Supervisor::Impl::log(LogLevel level, std::string_view worker, std::string_view msg) const {
  if (opts.log) {
    try {
      opts.log(level, worker, msg);
    } catch (...) {
    }
    return;
  }
  static constexpr spdlog::level::level_enum levels[] = {
      spdlog::level::trace, spdlog::level::debug, spdlog::level::info, spdlog::level::warn,
      spdlog::level::err};
  spdlog::log(levels[static_cast<int>(level)], "[worker {}] {}", worker, msg);
}

int Supervisor::Impl::cast_from(const WorkerActor* from, std::string_view to, std::string_view bytes) {
  if (auto w = find(to)) {
    runtime.post(w, std::make_unique<CastMsg>(std::string(bytes)));
    return ZSWARM_OK;
  }
  if (opts.router && opts.router(from->name, to, bytes)) return ZSWARM_OK;
  return ZSWARM_ERR_NOT_FOUND;
}

Supervisor::Supervisor(Options opts) : impl_(std::make_unique<Impl>(std::move(opts))) {}

Supervisor::~Supervisor() {
  impl_->runtime.stop();
  std::vector<std::shared_ptr<WorkerActor>> all;
  {
    port::MutexLock lock(impl_->mu);
    all.reserve(impl_->workers.size());
    for (auto& [name, w] : impl_->workers) all.push_back(std::move(w));
    impl_->workers.clear();
  }
  for (auto& w : all) {
    w->release_state(ZSWARM_EXIT_SHUTDOWN);
    w->status.store(WorkerState::exited);
  }
}

Result<WorkerId> Supervisor::start(WorkerSpec spec) {
  if (spec.name.empty() || spec.name.size() > 255 || spec.name.find('\0') != std::string::npos) {
    return make_error(Errc::invalid_name, "worker names are 1-255 bytes without NUL");
  }
  if (impl_->opts.loader == nullptr) return make_error(Errc::plugin_not_found, "no plugin loader");
  auto plugin = impl_->opts.loader->load(spec.plugin);
  if (!plugin) return fail(plugin.error());

  std::optional<std::string> handoff_state = std::move(spec.handoff_state);
  auto w = std::make_shared<WorkerActor>(impl_.get(), std::move(spec), std::move(plugin.value()));
  {
    port::MutexLock lock(impl_->mu);
    auto [it, inserted] = impl_->workers.try_emplace(w->name, w);
    if (!inserted) {
      return make_error(Errc::already_started,
                        w->name + " already runs on " + impl_->opts.node_name + " as worker " +
                            std::to_string(it->second->id));
    }
    w->id = ++impl_->next_id;
    impl_->by_id.emplace(w->id, w);
  }

  // The actor was created holding its turn, so init (and end_handoff) run
  // here without racing messages posted meanwhile.
  int rc = w->run_init();
  std::optional<Error> err;
  if (rc != ZSWARM_OK) {
    err = Error{rc == ZSWARM_ERR_EXCEPTION ? Errc::init_threw : Errc::init_failed,
                w->plugin->name() + ": " + w->error};
  } else if (handoff_state && w->table().end_handoff != nullptr) {
    w->error.clear();
    int hrc = w->table().end_handoff(w->state, &w->ctx, handoff_state->data(), handoff_state->size());
    if (hrc < 0) {
      err = Error{Errc::handoff_failed, w->plugin->name() + ": " + w->crash_detail(hrc)};
      w->release_state(ZSWARM_EXIT_CRASH);
    }
  }
  if (err) {
    w->status.store(WorkerState::exited);
    auto keep = impl_->unregister(w.get());
    return fail(std::move(*err));
  }
  WorkerId id = w->id;
  w->status.store(WorkerState::running);
  impl_->runtime.release(w);
  return id;
}

namespace {
// A one-shot actor that runs a task on the pool (a start_async).
struct TaskMsg final : Message {
  explicit TaskMsg(std::function<void()> f) : fn(std::move(f)) {}
  std::function<void()> fn;
};
class TaskActor final : public Actor {
  void receive(std::unique_ptr<Message> m) noexcept override {
    try {
      static_cast<TaskMsg&>(*m).fn();
    } catch (const std::exception& e) {
      spdlog::error("[supervisor] a pool task threw: {}", e.what());
    }
  }
};
}  // namespace

void Supervisor::start_async(WorkerSpec spec, StartCallback cb) {
  impl_->runtime.post(std::make_shared<TaskActor>(),
                      std::make_unique<TaskMsg>([this, spec = std::move(spec), cb = std::move(cb)]() mutable {
                        cb(start(std::move(spec)));
                      }));
}

namespace {
// Takes the worker out of the table, so its name is free at once.
std::shared_ptr<WorkerActor> take_out(Supervisor::Impl& impl, std::string_view name) {
  port::MutexLock lock(impl.mu);
  auto it = impl.workers.find(std::string(name));
  if (it == impl.workers.end()) return nullptr;
  auto w = std::move(it->second);
  impl.workers.erase(it);
  impl.by_id.erase(w->id);
  w->detached.store(true);
  return w;
}
}  // namespace

Result<void> Supervisor::stop(std::string_view name) {
  auto w = take_out(*impl_, name);
  if (!w) return make_error(Errc::not_found, std::string(name));
  auto done = std::make_shared<Waiter<void>>();
  // Urgent: a stop does not wait behind a backlog.
  impl_->runtime.post(w, std::make_unique<StopMsg>(Reply<void>::to(done)), /*urgent=*/true);
  if (Runtime::on_pool_thread()) return {};
  return done->wait(impl_->opts.sync_timeout, "stop " + std::string(name));
}

bool Supervisor::stop_async(std::string_view name) {
  auto w = take_out(*impl_, name);
  if (!w) return false;
  impl_->runtime.post(w, std::make_unique<StopMsg>(Reply<void>{}), /*urgent=*/true);
  return true;
}

namespace {
std::string worker_label(WorkerId id) { return "worker " + std::to_string(id); }
std::string worker_label(std::string_view name) { return std::string(name); }

template <class Key>
Result<void> cast_to(Supervisor::Impl& impl, Key key, std::string bytes) {
  auto w = impl.find(key);
  if (!w) return make_error(Errc::not_found, worker_label(key));
  impl.runtime.post(w, std::make_unique<CastMsg>(std::move(bytes)));
  return {};
}

template <class Key>
void call_to(Supervisor::Impl& impl, Key key, std::string bytes, Supervisor::CallCallback cb) {
  auto w = impl.find(key);
  auto msg = std::make_unique<CallMsg>(std::move(bytes), std::move(cb));
  if (!w) {
    msg->answer(make_error(Errc::not_found, worker_label(key)));
    return;
  }
  impl.runtime.post(w, std::move(msg));
}
}  // namespace

Result<void> Supervisor::cast(std::string_view name, std::string bytes) { return cast_to(*impl_, name, std::move(bytes)); }
Result<void> Supervisor::cast(WorkerId id, std::string bytes) { return cast_to(*impl_, id, std::move(bytes)); }

void Supervisor::call(std::string_view name, std::string bytes, CallCallback cb) {
  call_to(*impl_, name, std::move(bytes), std::move(cb));
}
void Supervisor::call(WorkerId id, std::string bytes, CallCallback cb) { call_to(*impl_, id, std::move(bytes), std::move(cb)); }

Result<std::string> Supervisor::call_sync(std::string_view name, std::string bytes) {
  auto waiter = std::make_shared<Waiter<std::string>>();
  call(name, std::move(bytes), [waiter](Result<std::string> r) { waiter->set(std::move(r)); });
  return waiter->wait(impl_->opts.sync_timeout, "call " + std::string(name));
}

Result<Handoff> Supervisor::begin_handoff(std::string_view name) {
  auto done = std::make_shared<Waiter<Handoff>>();
  begin_handoff_async(name, Reply<Handoff>::to(done).f);
  return done->wait(impl_->opts.sync_timeout, "begin_handoff " + std::string(name));
}

void Supervisor::begin_handoff_async(std::string_view name, HandoffCallback cb) {
  auto w = impl_->find(name);
  if (!w) return cb(make_error(Errc::not_found, std::string(name)));
  impl_->runtime.post(w, std::make_unique<HandoffMsg>(Reply<Handoff>{std::move(cb)}));
}

Result<ConflictState> Supervisor::resolve_conflict(std::string_view name, std::string other) {
  auto w = impl_->find(name);
  if (!w) return make_error(Errc::not_found, std::string(name));
  auto done = std::make_shared<Waiter<ConflictState>>();
  impl_->runtime.post(w, std::make_unique<ConflictMsg>(std::move(other), Reply<ConflictState>::to(done)));
  return done->wait(impl_->opts.sync_timeout, "resolve_conflict " + std::string(name));
}

void Supervisor::resolve_conflict_async(std::string_view name, std::string other, ConflictCallback cb) {
  auto w = take_out(*impl_, name);  // the name is free now; the loser finishes its mailbox first
  if (!w) return cb(make_error(Errc::not_found, std::string(name)));
  impl_->runtime.post(w, std::make_unique<ConflictMsg>(std::move(other), Reply<ConflictState>{std::move(cb)}));
}

Result<void> Supervisor::merge_conflict(std::string_view name, std::string state) {
  auto done = std::make_shared<Waiter<void>>();
  merge_conflict_async(name, std::move(state), Reply<void>::to(done).f);
  return done->wait(impl_->opts.sync_timeout, "merge_conflict " + std::string(name));
}

void Supervisor::merge_conflict_async(std::string_view name, std::string state, DoneCallback cb) {
  auto w = impl_->find(name);
  if (!w) return cb(make_error(Errc::not_found, std::string(name)));
  impl_->runtime.post(w, std::make_unique<MergeMsg>(std::move(state), Reply<void>{std::move(cb)}));
}

namespace {
WorkerInfo info_of(const WorkerActor& w) {
  return WorkerInfo{w.name, w.id, w.plugin->name(), w.policy, w.restarts.load(), w.status.load(),
                    w.mailbox_depth()};
}
}  // namespace

bool Supervisor::set_fencing_token(std::string_view name, uint64_t id, uint64_t token) {
  auto w = impl_->find(name);
  if (!w || w->id != id) return false;
  w->token.store(token, std::memory_order_release);
  return true;
}

std::vector<WorkerInfo> Supervisor::list() const {
  std::vector<std::shared_ptr<WorkerActor>> ws;
  {
    port::MutexLock lock(impl_->mu);
    ws.reserve(impl_->workers.size());
    for (const auto& [name, w] : impl_->workers) ws.push_back(w);
  }
  std::vector<WorkerInfo> out;
  out.reserve(ws.size());
  for (const auto& w : ws) out.push_back(info_of(*w));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::optional<WorkerInfo> Supervisor::info(std::string_view name) const {
  auto w = impl_->find(name);
  if (!w) return std::nullopt;
  return info_of(*w);
}

std::optional<WorkerInfo> Supervisor::info(WorkerId id) const {
  auto w = impl_->find(id);
  if (!w) return std::nullopt;
  return info_of(*w);
}

std::size_t Supervisor::count() const {
  port::MutexLock lock(impl_->mu);
  return impl_->workers.size();
}

void Supervisor::set_exit_observer(ExitObserver fn) {
  auto p = fn ? std::make_shared<const ExitObserver>(std::move(fn)) : nullptr;
  port::MutexLock lock(impl_->mu);
  impl_->observer = std::move(p);
}

std::size_t Supervisor::fire_due_timers() { return impl_->runtime.fire_due_timers(); }
bool Supervisor::wait_idle(std::chrono::milliseconds deadline) { return impl_->runtime.wait_idle(deadline); }
const std::string& Supervisor::node_name() const { return impl_->opts.node_name; }
Runtime& Supervisor::runtime() { return impl_->runtime; }

}  // namespace zswarm::workers
