// Reactor: one poll loop over ZeroMQ sockets and plain file descriptors
// (the UDP beacon, an eventfd for wake-ups). Handlers run on the thread that
// calls run_once(); they may add or remove items while it runs.
// Not thread-safe: one owner thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <zmq.hpp>

namespace zswarm::bus {

class Reactor {
 public:
  using Handler = std::function<void()>;

  void add(zmq::socket_ref socket, Handler on_readable);
  void add_fd(int fd, Handler on_readable);
  void remove(zmq::socket_ref socket);
  void remove_fd(int fd);

  // Waits up to `timeout` for a readable item and runs every ready handler.
  // Returns how many ran.
  int run_once(std::chrono::milliseconds timeout);

 private:
  struct Item {
    void* socket;  // nullptr for a plain fd
    int fd;
    std::shared_ptr<Handler> handler;
  };
  template <class Pred>
  void erase_if(Pred pred);

  std::vector<Item> items_;
};

}  // namespace zswarm::bus
