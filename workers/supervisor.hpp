// Supervisor: the per-node dynamic supervisor of plugin workers (OTP's
// DynamicSupervisor for zswarm). It starts workers on demand (start returns
// once init succeeded or failed; start_async runs it on the pool, so an event
// loop never waits on a plugin), restarts them per policy
// with restart intensity measured on the injected Clock, and serves casts,
// calls, handoff and conflict resolution through each worker's mailbox, so a
// worker's callbacks never overlap. Workers run on the Runtime's thread pool.
//
// Policies, as in OTP: permanent is always restarted (also after a normal
// exit), transient only after a crash, temporary never. A callback that fails
// or throws is a crash; the state is released (terminate, reason crash) and
// init re-runs with the original args; messages already queued survive the
// restart. A worker restarting more than max_restarts times within the
// window is given up: removed and reported to the exit observer.
//
// Thread-safety: every public function may be called from any thread.
// Functions that wait (start, stop, call_sync, begin_handoff,
// resolve_conflict) block the caller up to Options::sync_timeout; stop called
// from a pool thread does not wait. Callbacks (call results, the exit
// observer, the log sink) run without the supervisor's locks held, so they
// may call back into it, but call results and exits run on pool threads: keep
// them short.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <zswarm/clock.hpp>
#include <zswarm/worker.hpp>

#include "workers/error.hpp"
#include "workers/plugin_loader.hpp"
#include "workers/runtime.hpp"

namespace zswarm::workers {

using WorkerId = std::uint64_t;

enum class RestartPolicy : std::uint8_t { permanent, transient, temporary };
std::string_view policy_name(RestartPolicy p);
std::optional<RestartPolicy> parse_policy(std::string_view s);

enum class WorkerState : std::uint8_t { starting, running, restarting, exited };
std::string_view state_name(WorkerState s);

// Why a worker left the supervisor.
enum class ExitReason : std::uint8_t {
  normal,              // returned ZSWARM_STOP and its policy does not restart it
  stopped,             // stop(name)
  handoff,             // begin_handoff moved it away
  conflict,            // resolve_conflict
  crash,               // crashed and temporary
  intensity_exceeded,  // too many restarts in the window
};
std::string_view exit_reason_name(ExitReason r);

struct WorkerSpec {
  std::string name;
  std::string plugin;
  std::string args;
  RestartPolicy policy = RestartPolicy::permanent;
  // Set when the worker arrives by handoff: end_handoff gets it after init.
  std::optional<std::string> handoff_state;
};

struct WorkerInfo {
  std::string name;
  WorkerId id = 0;
  std::string plugin;
  RestartPolicy policy = RestartPolicy::permanent;
  std::uint32_t restarts = 0;
  WorkerState state = WorkerState::running;
  std::uint32_t mailbox_depth = 0;
};

enum class HandoffKind : std::uint8_t { state, restart, ignore };
std::string_view handoff_kind_name(HandoffKind k);

struct Handoff {
  HandoffKind kind = HandoffKind::restart;
  std::string bytes;  // the state, for HandoffKind::state
};

// What a conflict's loser offers the winner (its resolve_conflict's reply).
struct ConflictState {
  bool offered = false;
  std::string state;
};

struct ExitInfo {
  std::string name;
  WorkerId id = 0;
  std::string plugin;
  ExitReason reason = ExitReason::normal;
  std::string detail;
};

struct RestartIntensity {
  std::uint32_t max_restarts = 3;
  Clock::duration window = std::chrono::seconds(5);
};

class Supervisor {
 public:
  using LogSink = std::function<void(LogLevel, std::string_view worker, std::string_view msg)>;
  // Delivers a worker's cast to a name that is not local; false = unknown.
  using Router = std::function<bool(std::string_view from, std::string_view to, std::string_view bytes)>;
  using CallCallback = std::function<void(Result<std::string>)>;
  using ExitObserver = std::function<void(const ExitInfo&)>;

  struct Options {
    std::string node_name;
    PluginLoader* loader = nullptr;  // required; must outlive the supervisor
    const Clock* clock = nullptr;    // nullptr = SystemClock
    std::size_t threads = 0;         // pool size; 0 = hardware threads, min 2
    bool timer_thread = true;        // false: call fire_due_timers() (ManualClock tests)
    RestartIntensity intensity;
    std::chrono::milliseconds sync_timeout = std::chrono::seconds(5);
    LogSink log;                           // default: spdlog
    std::function<std::int64_t()> wall_clock;  // Unix ms; default: system_clock
    Router router;                          // default: none
  };

  explicit Supervisor(Options opts);
  // Stops the pool, then terminates every worker (reason shutdown) on this
  // thread. The exit observer is not called; pending calls get `stopped`.
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Loads the plugin, runs init (then end_handoff if a handoff state is
  // given) on the calling thread. Errors: invalid_name, the loader's errors,
  // already_started, init_failed, init_threw, handoff_failed.
  Result<WorkerId> start(WorkerSpec spec);
  // The same on a pool thread: cb runs there once with start's result (or
  // never, if the supervisor is destroyed first). The name is taken only
  // when init begins, so a stop_async before then finds nothing to stop.
  using StartCallback = std::function<void(Result<WorkerId>)>;
  void start_async(WorkerSpec spec, StartCallback cb);
  // Terminates (reason stopped) without restart; the name is free on return.
  Result<void> stop(std::string_view name);
  // The same without waiting for the worker to end: the name is free at
  // once, and the worker ends after the callback it may be in (a crash
  // there does not restart it). A worker started under the same name at
  // once may overlap that last callback and the old one's terminate. An
  // event loop uses this. False if there is no such worker.
  bool stop_async(std::string_view name);
  Result<void> cast(std::string_view name, std::string bytes);
  // cb runs exactly once: with the reply (pool thread), or an error
  // (not_found inline; no_reply, callback_failed, stopped).
  void call(std::string_view name, std::string bytes, CallCallback cb);
  // The same, to one worker by its id (a REF's ID), whatever its name: ids
  // are never reused by a supervisor, so a worker that stopped is not_found
  // even if another runs under its name now. A worker restarted in place
  // after a crash keeps its id.
  Result<void> cast(WorkerId id, std::string bytes);
  void call(WorkerId id, std::string bytes, CallCallback cb);
  Result<std::string> call_sync(std::string_view name, std::string bytes);
  // In mailbox order. For state/restart the worker is terminated (reason
  // handoff) and removed before this returns; ignore leaves it running.
  Result<Handoff> begin_handoff(std::string_view name);
  // The same without waiting: cb runs once, on the pool thread that asked
  // the worker (or at once with not_found). An event loop uses these.
  using HandoffCallback = std::function<void(Result<Handoff>)>;
  void begin_handoff_async(std::string_view name, HandoffCallback cb);
  // Tells the worker it lost to `other`, then terminates it (reason
  // conflict). Answers the state it offered the winner (ctx->reply in its
  // resolve_conflict), if any.
  Result<ConflictState> resolve_conflict(std::string_view name, std::string other);
  // The same without waiting: the name is free at once (a later start or
  // stop of it does not meet the loser), and the loser hears of its loss
  // after the messages already in its mailbox; cb runs once, on that thread.
  using ConflictCallback = std::function<void(Result<ConflictState>)>;
  void resolve_conflict_async(std::string_view name, std::string other, ConflictCallback cb);
  // The winner of a conflict takes the loser's state (its merge_conflict),
  // in mailbox order. Fails with `failed` if the plugin has no
  // merge_conflict, callback_failed if it failed (the worker then restarts
  // as after any crash), not_found if no such worker runs here.
  using DoneCallback = std::function<void(Result<void>)>;
  Result<void> merge_conflict(std::string_view name, std::string state);
  void merge_conflict_async(std::string_view name, std::string state, DoneCallback cb);

  // The name service recorded worker `id` as the owner of `name` under this
  // fencing token (worker.h): its context reports it from now on. False if
  // that worker no longer runs.
  bool set_fencing_token(std::string_view name, uint64_t id, uint64_t token);

  std::vector<WorkerInfo> list() const;  // sorted by name
  std::optional<WorkerInfo> info(std::string_view name) const;
  std::optional<WorkerInfo> info(WorkerId id) const;
  std::size_t count() const;
  void set_exit_observer(ExitObserver fn);

  // For tests driving a ManualClock: post due timers, wait for quiet.
  std::size_t fire_due_timers();
  bool wait_idle(std::chrono::milliseconds deadline = std::chrono::seconds(10));

  const std::string& node_name() const;
  Runtime& runtime();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace zswarm::workers
