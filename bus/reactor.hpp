// Reactor: one epoll loop over ZeroMQ sockets and plain file descriptors
// (the UDP beacon, an eventfd for wake-ups). The epoll set changes only in
// add and remove, so a wake-up costs no rebuild and no allocation.
//
// A ZeroMQ socket is watched through its ZMQ_FD, which only says "read
// ZMQ_EVENTS again": any send, receive, connect or ZMQ_EVENTS read on the
// socket, by anyone, may consume that signal while messages stay queued.
// So a socket is dirty when it is added, when its handler ran, and when its
// owner says it used the socket (touch()); before it sleeps, run_once()
// reads ZMQ_EVENTS of the dirty sockets, and after it wakes of those whose
// fd fired, and never sleeps while one is readable. A handler may read as
// little as one message per call. Reading every socket before each sleep
// would cost two system calls per socket and wake-up: O(peers) per message.
// A sweep of kSweepSlice sockets a second, round the list, bounds the cost
// of a touch() that was forgotten (a full round takes ⌈sockets/32⌉ s);
// missed_signals() counts what only the sweep found.
//
// Handlers run on the thread that calls run_once(); they may add or remove
// items (their own too) while it runs. Remove a socket or fd before closing it.
// Not thread-safe: one owner thread; run_once() is not reentrant.
#pragma once

#include <sys/epoll.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <zmq.hpp>

namespace zswarm::bus {

class Reactor {
 public:
  using Handler = std::function<void()>;

  Reactor();  // throws std::system_error if epoll cannot be set up
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // Each socket or fd once; adding one twice throws std::system_error (EEXIST).
  void add(zmq::socket_ref socket, Handler on_readable);
  // `events`: EPOLLIN by default; EPOLLOUT for a non-blocking connect() that
  // is done when writable. Errors and hang-ups fire either way.
  void add_fd(int fd, Handler on_ready, uint32_t events = EPOLLIN);
  // No-ops for what is not there. A removed handler never runs again, even
  // if it was ready in the run_once() under way.
  void remove(zmq::socket_ref socket);
  void remove_fd(int fd);
  // Call after using a watched socket outside its handler (a send, a
  // connect, a setsockopt): the use may have consumed its fd's signal.
  void touch(zmq::socket_ref socket);
  // Readable sockets whose fd was quiet, that only the sweep found: a
  // touch() missing somewhere. Should stay 0.
  uint64_t missed_signals() const { return missed_signals_; }
  // ZMQ_EVENTS reads so far (two system calls each): what a wake-up costs.
  uint64_t events_reads() const { return events_reads_; }

  // Runs the handler of every item readable now; if none is, waits up to
  // `timeout` (negative: no limit) for one. Each handler runs at most once a
  // call. Returns how many ran: 0 on timeout or a signal (EINTR).
  // Throws zmq::error_t if ZMQ_EVENTS cannot be read (the context ended),
  // std::system_error if epoll_wait fails.
  int run_once(std::chrono::milliseconds timeout);

 private:
  struct Item {
    void* socket;  // nullptr for a plain fd
    int fd;        // the plain fd, or the socket's ZMQ_FD
    bool live = true;
    bool queued = false;  // in ready_ already
    bool dirty = false;   // in dirty_: ZMQ_EVENTS must be read before the next sleep
    Handler handler;
  };

  void watch(std::unique_ptr<Item> item, uint32_t events = EPOLLIN);
  template <class Pred>
  void unwatch(Pred pred);
  void compact();  // frees the dead items
  bool queue_if_readable(Item& item);
  void mark_dirty(Item& item);
  void check_before_sleep();
  void collect(const epoll_event* events, int n);

  static constexpr int kMaxEvents = 32;

  int epfd_ = -1;
  // Items live until no dispatch can reach them: one removed while handlers
  // run is only marked dead and freed when run_once() ends.
  std::vector<std::unique_ptr<Item>> items_;
  std::vector<Item*> ready_;  // this call's handlers to run; capacity kept across calls
  std::vector<Item*> dirty_;  // the sockets with `dirty` set: a wake-up costs O(used), not O(sockets)
  bool dispatching_ = false;
  bool dead_items_ = false;
  epoll_event events_[kMaxEvents];
  std::chrono::steady_clock::time_point next_sweep_{};
  std::size_t sweep_next_ = 0;  // where the next sweep's slice starts in items_
  static constexpr std::size_t kSweepSlice = 32;
  uint64_t missed_signals_ = 0;
  uint64_t events_reads_ = 0;
};

}  // namespace zswarm::bus
