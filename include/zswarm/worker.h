/* zswarm worker plugin ABI, version 1.
 *
 * A worker plugin is a shared library exporting ONE symbol,
 * ZSWARM_WORKER_ENTRY ("zswarm_worker_plugin_v1"): a function returning a
 * pointer to a constant zswarm_worker_plugin table. The host checks
 * abi_version and struct_size before using anything else in it. Only plain C
 * types cross the boundary; failures are status codes, never exceptions.
 *
 * Threading: the host calls one worker's callbacks one at a time (never two
 * threads inside the same worker state), but different workers of the same
 * plugin run concurrently on the host's thread pool, so a plugin's globals
 * must be thread-safe. The context functions may only be called from inside a
 * callback, on the thread that runs it.
 *
 * Memory: whoever allocates frees. Bytes passed to a callback belong to the
 * host and are valid only during the call. A plugin hands bytes back (a reply,
 * handoff state, an error message) through context functions that COPY them.
 * The plugin's state is its own: created by init, released by terminate. */
#ifndef ZSWARM_WORKER_H
#define ZSWARM_WORKER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZSWARM_WORKER_ABI_VERSION 1u
#define ZSWARM_WORKER_ENTRY "zswarm_worker_plugin_v1"

#if defined(_WIN32)
#define ZSWARM_WORKER_EXPORT __declspec(dllexport)
#else
#define ZSWARM_WORKER_EXPORT __attribute__((visibility("default")))
#endif

/* Status returned by callbacks and context functions. Negative = failure;
 * a failing callback counts as a crash of the worker. The negative codes are
 * the same numbers, with the same names, as zswarm::Errc (zswarm/error.hpp). */
enum zswarm_status {
  ZSWARM_OK = 0,
  ZSWARM_STOP = 1,            /* callback succeeded and the worker exits normally */
  ZSWARM_ERR_FAILED = -1,     /* generic failure */
  ZSWARM_ERR_BAD_ARGS = -2,   /* malformed args or message */
  ZSWARM_ERR_NO_MEMORY = -3,
  ZSWARM_ERR_EXCEPTION = -4,  /* a C++ exception was caught at the boundary */
  ZSWARM_ERR_NOT_FOUND = -5,  /* cast target or timer unknown */
  ZSWARM_ERR_INVALID = -6     /* function not valid here (e.g. reply to a cast) */
};

enum zswarm_log_level {
  ZSWARM_LOG_TRACE = 0,
  ZSWARM_LOG_DEBUG = 1,
  ZSWARM_LOG_INFO = 2,
  ZSWARM_LOG_WARN = 3,
  ZSWARM_LOG_ERROR = 4
};

/* What begin_handoff decided (swarm's {:resume, state} / :restart / :ignore). */
enum zswarm_handoff_kind {
  ZSWARM_HANDOFF_STATE = 0,   /* move with the state written through ctx->reply */
  ZSWARM_HANDOFF_RESTART = 1, /* move, restarting from the original args */
  ZSWARM_HANDOFF_IGNORE = 2   /* stay here; the worker keeps running */
};

/* Why terminate is called. */
enum zswarm_exit_reason {
  ZSWARM_EXIT_NORMAL = 0,   /* the worker returned ZSWARM_STOP */
  ZSWARM_EXIT_STOPPED = 1,  /* the supervisor was asked to stop it */
  ZSWARM_EXIT_SHUTDOWN = 2, /* the node is shutting down */
  ZSWARM_EXIT_HANDOFF = 3,  /* the worker moved to another node */
  ZSWARM_EXIT_CONFLICT = 4, /* it lost a name conflict after a partition */
  ZSWARM_EXIT_CRASH = 5     /* a callback failed; state is released before a restart */
};

/* The host side, one per worker; valid from init until terminate returns. */
typedef struct zswarm_worker_ctx zswarm_worker_ctx;
struct zswarm_worker_ctx {
  uint32_t struct_size; /* sizeof(zswarm_worker_ctx) of the host; fields are only appended */
  void* host;           /* opaque to the plugin */

  /* NUL-terminated names, valid as long as the context. */
  const char* (*worker_name)(const zswarm_worker_ctx* ctx);
  const char* (*node_name)(const zswarm_worker_ctx* ctx);

  /* Logs through the node's logger; msg need not be NUL-terminated. */
  void (*log)(const zswarm_worker_ctx* ctx, int level, const char* msg, size_t len);

  /* Sends bytes to the worker registered as `to` (fire and forget). Copies.
   * ZSWARM_ERR_NOT_FOUND if no such name is known. */
  int (*cast)(const zswarm_worker_ctx* ctx, const char* to, size_t to_len,
              const void* data, size_t len);

  /* Output of the running callback, copied: in handle, the reply to a call
   * (ZSWARM_ERR_INVALID for a cast); in begin_handoff, the state bytes.
   * Calling it again replaces the previous output. */
  int (*reply)(const zswarm_worker_ctx* ctx, const void* data, size_t len);

  /* A human-readable reason for the failure the callback is about to return. */
  void (*set_error)(const zswarm_worker_ctx* ctx, const char* msg, size_t len);

  /* Arms (or re-arms) timer `timer_id` to fire once after delay_ms; the host
   * then calls plugin->timer. Timers die with the worker and across restarts. */
  int (*set_timer)(const zswarm_worker_ctx* ctx, uint64_t timer_id, uint64_t delay_ms);
  /* ZSWARM_ERR_NOT_FOUND if the timer was not armed. */
  int (*cancel_timer)(const zswarm_worker_ctx* ctx, uint64_t timer_id);

  /* Wall-clock time, milliseconds since the Unix epoch (the host's clock, so
   * tests can drive it). */
  int64_t (*now_unix_ms)(const zswarm_worker_ctx* ctx);

  /* Appended in context revision 2: a plugin must check
   * ctx->struct_size > offsetof(zswarm_worker_ctx, fencing_token) first
   * (zswarm::Context::fencing_token does). The name's fencing token: it
   * grows with every new owner of the name (the stamp of the registry
   * version that made this worker the owner, docs/protocol.md §8.11). Pass
   * it with writes to an outside system that keeps the largest it has seen
   * and refuses smaller ones: a stale owner (the losing side of a
   * partition) is then refused. 0 until the name is recorded (in init, and
   * for a worker that is not registered). */
  uint64_t (*fencing_token)(const zswarm_worker_ctx* ctx);
};

/* The plugin side. Optional callbacks may be NULL. */
typedef struct zswarm_worker_plugin {
  uint32_t abi_version; /* ZSWARM_WORKER_ABI_VERSION */
  uint32_t struct_size; /* sizeof(zswarm_worker_plugin) */
  const char* name;     /* plugin name, e.g. "counter"; must match the file name */

  /* Required. Creates the state from args (not NUL-terminated) into *state. */
  int (*init)(const zswarm_worker_ctx* ctx, const void* args, size_t args_len, void** state);
  /* Required. One message (a cast, or a call if ctx->reply is accepted). */
  int (*handle)(void* state, const zswarm_worker_ctx* ctx, const void* msg, size_t len);
  /* Optional. A timer armed with ctx->set_timer fired. */
  int (*timer)(void* state, const zswarm_worker_ctx* ctx, uint64_t timer_id);
  /* Optional (NULL = restart). Sets *kind; for STATE writes bytes via ctx->reply. */
  int (*begin_handoff)(void* state, const zswarm_worker_ctx* ctx, int* kind);
  /* Optional. Called right after init on the receiving node with the state bytes. */
  int (*end_handoff)(void* state, const zswarm_worker_ctx* ctx, const void* data, size_t len);
  /* Optional. This worker lost a conflict (after a partition, two copies ran)
   * to the copy `other` (its REF); it is stopped afterwards. State written
   * through ctx->reply is offered to the winner's merge_conflict. */
  int (*resolve_conflict)(void* state, const zswarm_worker_ctx* ctx, const void* other,
                          size_t len);
  /* Optional. Releases the state; always called once after a successful init. */
  void (*terminate)(void* state, const zswarm_worker_ctx* ctx, int reason);
  /* Optional, appended in revision 2 of the struct (a plugin built against
   * revision 1 has a smaller struct_size, and the host reads this as NULL).
   * This worker won a conflict: data is the state the losing copy wrote in
   * its resolve_conflict. The same state may come more than once (its
   * sender tries again until it hears it merged): merge idempotently, as a
   * CRDT does. NULL: the loser's state is dropped (logged). */
  int (*merge_conflict)(void* state, const zswarm_worker_ctx* ctx, const void* data, size_t len);
} zswarm_worker_plugin;

/* struct_size of revision 1 (without merge_conflict): still loaded. */
#define ZSWARM_WORKER_PLUGIN_SIZE_V1 (offsetof(zswarm_worker_plugin, merge_conflict))

/* Signature of the exported entry symbol. */
typedef const zswarm_worker_plugin* (*zswarm_worker_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* ZSWARM_WORKER_H */
