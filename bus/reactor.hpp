// Reactor: one epoll loop over ZeroMQ sockets and plain file descriptors
// (the UDP beacon, an eventfd for wake-ups). The epoll set changes only in
// add and remove, so a wake-up costs no rebuild and no allocation.
//
// A ZeroMQ socket is watched through its ZMQ_FD, which only says "read
// ZMQ_EVENTS again": any send, receive, connect or ZMQ_EVENTS read on the
// socket, by anyone, may consume that signal while messages stay queued.
// So run_once() reads ZMQ_EVENTS of every socket before it sleeps and of
// every socket whose fd fired after it wakes, and never sleeps while one is
// readable. A handler may read as little as one message per call.
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
    Handler handler;
  };

  void watch(std::unique_ptr<Item> item, uint32_t events = EPOLLIN);
  template <class Pred>
  void unwatch(Pred pred);
  void compact();  // frees the dead items
  void queue_if_readable(Item& item);
  void collect(const epoll_event* events, int n);

  static constexpr int kMaxEvents = 32;

  int epfd_ = -1;
  // Items live until no dispatch can reach them: one removed while handlers
  // run is only marked dead and freed when run_once() ends.
  std::vector<std::unique_ptr<Item>> items_;
  std::vector<Item*> ready_;  // this call's handlers to run; capacity kept across calls
  bool dispatching_ = false;
  bool dead_items_ = false;
  epoll_event events_[kMaxEvents];
};

}  // namespace zswarm::bus
