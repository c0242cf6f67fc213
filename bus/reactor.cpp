#include "bus/reactor.hpp"

#include <algorithm>
#include <cerrno>

namespace zswarm::bus {

void Reactor::add(zmq::socket_ref socket, Handler on_readable) {
  items_.push_back({socket.handle(), -1, std::make_shared<Handler>(std::move(on_readable))});
}

void Reactor::add_fd(int fd, Handler on_readable) {
  items_.push_back({nullptr, fd, std::make_shared<Handler>(std::move(on_readable))});
}

void Reactor::remove(zmq::socket_ref socket) {
  void* h = socket.handle();
  erase_if([&](const Item& i) { return i.socket == h; });
}

void Reactor::remove_fd(int fd) {
  erase_if([&](const Item& i) { return !i.socket && i.fd == fd; });
}

template <class Pred>
void Reactor::erase_if(Pred pred) {
  for (Item& i : items_)
    if (pred(i)) *i.handler = nullptr;  // a dispatch under way must not call it
  items_.erase(std::remove_if(items_.begin(), items_.end(), pred), items_.end());
}

int Reactor::run_once(std::chrono::milliseconds timeout) {
  std::vector<zmq::pollitem_t> poll;
  poll.reserve(items_.size());
  for (const Item& i : items_) poll.push_back({i.socket, i.socket ? 0 : i.fd, ZMQ_POLLIN, 0});
  // Handlers may change items_, so hold on to what was polled.
  std::vector<std::shared_ptr<Handler>> handlers;
  handlers.reserve(items_.size());
  for (const Item& i : items_) handlers.push_back(i.handler);

  try {
    zmq::poll(poll.data(), poll.size(), timeout);
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return 0;  // a signal; the caller loops
    throw;
  }
  int ran = 0;
  for (std::size_t k = 0; k < poll.size(); ++k) {
    if ((poll[k].revents & ZMQ_POLLIN) && *handlers[k]) {
      (*handlers[k])();
      ++ran;
    }
  }
  return ran;
}

}  // namespace zswarm::bus
