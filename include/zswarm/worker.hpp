// C++ helper for writing zswarm worker plugins on top of the C ABI in worker.h.
//
// Derive from zswarm::Worker, override the callbacks you need, and export the
// class with ZSWARM_WORKER_PLUGIN(MyWorker, "my_plugin") in one .cpp file.
// The adapter creates one object per worker (default constructor), catches
// every exception at the boundary (the worker then crashes with
// ZSWARM_ERR_EXCEPTION and the exception text), and turns fail() / stop()
// into status codes. Thread-safety: the host never enters one object from two
// threads; statics shared by all workers of a plugin must be thread-safe.
// C++17, header-only: a plugin needs only zswarm::api.
#pragma once

#include <zswarm/worker.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <string_view>

namespace zswarm {

enum class LogLevel : int {
  trace = ZSWARM_LOG_TRACE,
  debug = ZSWARM_LOG_DEBUG,
  info = ZSWARM_LOG_INFO,
  warn = ZSWARM_LOG_WARN,
  error = ZSWARM_LOG_ERROR,
};

// The host services of one worker; a thin view over zswarm_worker_ctx.
class WorkerContext {
 public:
  explicit WorkerContext(const zswarm_worker_ctx* c = nullptr) : c_(c) {}
  std::string_view name() const { return c_->worker_name(c_); }
  std::string_view node_name() const { return c_->node_name(c_); }
  void log(LogLevel level, std::string_view msg) const {
    c_->log(c_, static_cast<int>(level), msg.data(), msg.size());
  }
  void info(std::string_view msg) const { log(LogLevel::info, msg); }
  // False if no worker has that name.
  bool cast(std::string_view to, std::string_view bytes) const {
    return c_->cast(c_, to.data(), to.size(), bytes.data(), bytes.size()) == ZSWARM_OK;
  }
  // Reply to the call being handled (or handoff state); false for a cast.
  bool reply(std::string_view bytes) const {
    return c_->reply(c_, bytes.data(), bytes.size()) == ZSWARM_OK;
  }
  void set_timer(std::uint64_t id, std::uint64_t delay_ms) const { c_->set_timer(c_, id, delay_ms); }
  bool cancel_timer(std::uint64_t id) const { return c_->cancel_timer(c_, id) == ZSWARM_OK; }
  std::int64_t now_unix_ms() const { return c_->now_unix_ms(c_); }
  // The name's fencing token (worker.h): 0 before the name is recorded, or
  // on a host older than the field.
  std::uint64_t fencing_token() const {
    return c_->struct_size > offsetof(zswarm_worker_ctx, fencing_token) ? c_->fencing_token(c_) : 0;
  }
  const zswarm_worker_ctx* raw() const { return c_; }

 private:
  const zswarm_worker_ctx* c_;
};

// What begin_handoff returns.
struct Handoff {
  enum Kind { state = ZSWARM_HANDOFF_STATE, restart = ZSWARM_HANDOFF_RESTART, ignore = ZSWARM_HANDOFF_IGNORE };
  Kind kind = restart;
  std::string bytes;  // for Kind::state
  static Handoff with_state(std::string b) { return {state, std::move(b)}; }
};

class Worker {
 public:
  virtual ~Worker() = default;

  // Throw, or call fail(), to refuse to start.
  virtual void init(std::string_view /*args*/) {}
  // A cast or a call; answer a call with ctx().reply(...).
  virtual void handle(std::string_view msg) = 0;
  virtual void timer(std::uint64_t /*timer_id*/) {}
  virtual Handoff begin_handoff() { return {}; }
  virtual void end_handoff(std::string_view /*state*/) {}
  // This copy lost a conflict to the copy `other` (its REF) and stops after
  // this. Offer its state to the winner with ctx().reply(state).
  virtual void resolve_conflict(std::string_view /*other*/) {}
  virtual void terminate(int /*zswarm_exit_reason*/) {}
  // This copy won a conflict: merge the state the loser offered. It may come
  // more than once (sent again until acknowledged): merge idempotently.
  virtual void merge_conflict(std::string_view /*loser_state*/) {
    ctx().log(LogLevel::warn, "merge_conflict not implemented: the losing copy's state is dropped");
  }

  const WorkerContext& ctx() const { return ctx_; }

 protected:
  // Makes the running callback fail with ZSWARM_ERR_FAILED (a crash; for init,
  // a refused start) without throwing.
  void fail(std::string reason) { failed_ = true; error_ = std::move(reason); }
  // The worker exits normally after the running callback (ZSWARM_STOP).
  void stop() { stop_ = true; }

 private:
  template <class T>
  friend struct detail_adapter;
  WorkerContext ctx_;
  bool failed_ = false;
  bool stop_ = false;
  std::string error_;
};

template <class T>
struct detail_adapter {
  static int finish(Worker* w, const zswarm_worker_ctx* c) {
    if (w->failed_) {
      w->failed_ = false;
      c->set_error(c, w->error_.data(), w->error_.size());
      return ZSWARM_ERR_FAILED;
    }
    if (w->stop_) {
      w->stop_ = false;
      return ZSWARM_STOP;
    }
    return ZSWARM_OK;
  }
  // Runs f(), mapping exceptions to a status plus the error text.
  template <class F>
  static int guard(const zswarm_worker_ctx* c, F&& f) noexcept {
    try {
      return f();
    } catch (const std::bad_alloc&) {
      return ZSWARM_ERR_NO_MEMORY;
    } catch (const std::exception& e) {
      std::string_view what = e.what();
      c->set_error(c, what.data(), what.size());
    } catch (...) {
      c->set_error(c, "unknown exception", 17);
    }
    return ZSWARM_ERR_EXCEPTION;
  }
  static Worker* self(void* s, const zswarm_worker_ctx* c) {
    auto* w = static_cast<Worker*>(static_cast<T*>(s));
    w->ctx_ = WorkerContext(c);
    return w;
  }
  static int init(const zswarm_worker_ctx* c, const void* args, size_t len, void** out) {
    T* obj = nullptr;
    int rc = guard(c, [&] {
      obj = new T();
      Worker* w = self(obj, c);
      w->init(std::string_view(static_cast<const char*>(args), len));
      return finish(w, c);
    });
    if (rc < 0 || rc == ZSWARM_STOP) {
      delete obj;
      return rc < 0 ? rc : ZSWARM_ERR_FAILED;
    }
    *out = obj;
    return ZSWARM_OK;
  }
  static int handle(void* s, const zswarm_worker_ctx* c, const void* msg, size_t len) {
    return guard(c, [&] {
      Worker* w = self(s, c);
      w->handle(std::string_view(static_cast<const char*>(msg), len));
      return finish(w, c);
    });
  }
  static int timer(void* s, const zswarm_worker_ctx* c, std::uint64_t id) {
    return guard(c, [&] {
      Worker* w = self(s, c);
      w->timer(id);
      return finish(w, c);
    });
  }
  static int begin_handoff(void* s, const zswarm_worker_ctx* c, int* kind) {
    return guard(c, [&] {
      Worker* w = self(s, c);
      Handoff h = w->begin_handoff();
      *kind = h.kind;
      if (h.kind == Handoff::state) c->reply(c, h.bytes.data(), h.bytes.size());
      return finish(w, c);
    });
  }
  static int end_handoff(void* s, const zswarm_worker_ctx* c, const void* data, size_t len) {
    return guard(c, [&] {
      Worker* w = self(s, c);
      w->end_handoff(std::string_view(static_cast<const char*>(data), len));
      return finish(w, c);
    });
  }
  static int resolve_conflict(void* s, const zswarm_worker_ctx* c, const void* data, size_t len) {
    return guard(c, [&] {
      Worker* w = self(s, c);
      w->resolve_conflict(std::string_view(static_cast<const char*>(data), len));
      return finish(w, c);
    });
  }
  static int merge_conflict(void* s, const zswarm_worker_ctx* c, const void* data, size_t len) {
    return guard(c, [&] {
      Worker* w = self(s, c);
      w->merge_conflict(std::string_view(static_cast<const char*>(data), len));
      return finish(w, c);
    });
  }
  static void terminate(void* s, const zswarm_worker_ctx* c, int reason) {
    T* obj = static_cast<T*>(s);
    (void)guard(c, [&] {
      self(obj, c)->terminate(reason);
      return 0;
    });
    delete obj;
  }
  static const zswarm_worker_plugin* table(const char* name) {
    static const zswarm_worker_plugin t = {
        ZSWARM_WORKER_ABI_VERSION, sizeof(zswarm_worker_plugin), name,
        &init, &handle, &timer, &begin_handoff, &end_handoff, &resolve_conflict, &terminate, &merge_conflict};
    return &t;
  }
};

}  // namespace zswarm

// Exports the plugin entry symbol for ClassName (default-constructible,
// derived from zswarm::Worker). Use once per plugin library.
#define ZSWARM_WORKER_PLUGIN(ClassName, plugin_name)                             \
  extern "C" ZSWARM_WORKER_EXPORT const zswarm_worker_plugin* zswarm_worker_plugin_v1(void) { \
    return ::zswarm::detail_adapter<ClassName>::table(plugin_name);              \
  }
