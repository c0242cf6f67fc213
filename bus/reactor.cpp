#include "bus/reactor.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <stdexcept>
#include <system_error>

namespace zswarm::bus {
namespace {

int epoll_ms(std::chrono::milliseconds timeout) {
  if (timeout.count() < 0) return -1;
  return static_cast<int>(std::min<std::chrono::milliseconds::rep>(timeout.count(), INT_MAX));
}

}  // namespace

Reactor::Reactor() {
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

Reactor::~Reactor() { ::close(epfd_); }

void Reactor::add(zmq::socket_ref socket, Handler on_readable) {
  const int fd = socket.get(zmq::sockopt::fd);
  watch(std::unique_ptr<Item>(new Item{socket.handle(), fd, true, false, false, std::move(on_readable)}));
  mark_dirty(*items_.back());  // its first check, before the next sleep
}

void Reactor::add_fd(int fd, Handler on_ready, uint32_t events) {
  watch(std::unique_ptr<Item>(new Item{nullptr, fd, true, false, false, std::move(on_ready)}), events);
}

void Reactor::watch(std::unique_ptr<Item> item, uint32_t events) {
  // Room first, so nothing can throw once epoll holds the pointer.
  items_.reserve(items_.size() + 1);
  ready_.reserve(items_.size() + 1);
  dirty_.reserve(items_.size() + 1);
  // Level-triggered: a plain fd a handler did not drain fires again, and a
  // ZMQ_FD stays quiet once ZMQ_EVENTS has been read, so neither spins.
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = item.get();
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, item->fd, &ev) != 0)
    throw std::system_error(errno, std::generic_category(), "epoll_ctl add");
  items_.push_back(std::move(item));
}

void Reactor::remove(zmq::socket_ref socket) {
  void* h = socket.handle();
  unwatch([h](const Item& i) { return i.socket == h; });
}

void Reactor::remove_fd(int fd) {
  unwatch([fd](const Item& i) { return !i.socket && i.fd == fd; });
}

void Reactor::touch(zmq::socket_ref socket) {
  void* h = socket.handle();
  for (auto& i : items_)
    if (i->live && i->socket == h) mark_dirty(*i);
}

void Reactor::mark_dirty(Item& item) {
  if (item.dirty || !item.socket) return;
  item.dirty = true;
  dirty_.push_back(&item);  // capacity reserved in watch(): each item is listed once
}

template <class Pred>
void Reactor::unwatch(Pred pred) {
  bool found = false;
  for (auto& i : items_) {
    if (!i->live || !pred(*i)) continue;
    // Fails only if the fd was closed first, which took it out of the set anyway.
    (void)::epoll_ctl(epfd_, EPOLL_CTL_DEL, i->fd, nullptr);
    i->live = false;
    found = true;
  }
  if (!found) return;
  // A dispatch under way may still hold the item (or be running its handler).
  if (dispatching_) dead_items_ = true;
  else compact();
}

void Reactor::compact() {
  dirty_.erase(std::remove_if(dirty_.begin(), dirty_.end(), [](const Item* i) { return !i->live; }), dirty_.end());
  items_.erase(std::remove_if(items_.begin(), items_.end(), [](const auto& i) { return !i->live; }), items_.end());
}

bool Reactor::queue_if_readable(Item& item) {
  int events = 0;
  size_t size = sizeof events;
  if (zmq_getsockopt(item.socket, ZMQ_EVENTS, &events, &size) != 0) throw zmq::error_t();
  ++events_reads_;
  if (!(events & ZMQ_POLLIN)) return false;
  item.queued = true;
  ready_.push_back(&item);  // capacity reserved in watch()
  return true;
}

void Reactor::check_before_sleep() {
  for (Item* i : dirty_) {
    i->dirty = false;
    if (i->live && !i->queued) queue_if_readable(*i);
  }
  dirty_.clear();
  const auto now = std::chrono::steady_clock::now();
  if (now < next_sweep_ || items_.empty()) return;
  next_sweep_ = now + std::chrono::seconds(1);
  // A slice a second, round the list: three system calls per quiet socket,
  // so sweeping all 190 sockets of a 32-node mesh each second would cost
  // more than the idle node's messages.
  const std::size_t n = std::min(kSweepSlice, items_.size());
  for (std::size_t k = 0; k < n; ++k) {
    Item& i = *items_[(sweep_next_ + k) % items_.size()];
    if (!i.socket || !i.live || i.queued) continue;
    // A signalled fd wakes the epoll_wait below: nothing was missed.
    pollfd pfd{i.fd, POLLIN, 0};
    if (::poll(&pfd, 1, 0) > 0) continue;
    if (queue_if_readable(i)) ++missed_signals_;
  }
  sweep_next_ = (sweep_next_ + n) % items_.size();
}

void Reactor::collect(const epoll_event* events, int n) {
  for (int k = 0; k < n; ++k) {
    Item& item = *static_cast<Item*>(events[k].data.ptr);
    if (item.queued) continue;
    if (item.socket) {
      queue_if_readable(item);  // the fd fired: only ZMQ_EVENTS says whether a message waits
    } else {
      // Readable, or in error or hung up: either way a read does not block
      // and the handler must see it, or level-triggering would spin.
      item.queued = true;
      ready_.push_back(&item);
    }
  }
}

int Reactor::run_once(std::chrono::milliseconds timeout) {
  if (dispatching_) throw std::logic_error("Reactor::run_once called from a handler");
  // Handlers may add and remove items: a removed one is only marked dead
  // until the pass ends, so the pointers in ready_ stay valid.
  struct Pass {
    Reactor& r;
    ~Pass() {  // also when a handler or ZMQ_EVENTS throws
      for (Item* i : r.ready_) i->queued = false;
      r.ready_.clear();
      r.dispatching_ = false;
      if (r.dead_items_) {
        r.dead_items_ = false;
        r.compact();
      }
    }
  } pass{*this};

  // Before sleeping: whoever last used a socket (a handler reading one
  // message, a send at the end of a tick) may have consumed its fd's signal.
  check_before_sleep();

  int wait_ms = ready_.empty() ? epoll_ms(timeout) : 0;
  const auto start = wait_ms > 0 ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  for (;;) {
    int n = ::epoll_wait(epfd_, events_, kMaxEvents, wait_ms);
    if (n < 0) {
      if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "epoll_wait");
      n = 0;  // a signal: run what is ready, else the caller loops
      wait_ms = 0;
    }
    collect(events_, n);
    if (!ready_.empty() || wait_ms == 0) break;
    // Woken with nothing to read (a socket's fd fires for connects and
    // POLLOUT too): sleep out the rest of the timeout.
    if (wait_ms > 0) {
      const auto left = timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::steady_clock::now() - start);
      if (left.count() <= 0) break;
      wait_ms = epoll_ms(left);
    }
  }

  dispatching_ = true;
  int ran = 0;
  // By index: a handler's add() may grow ready_'s capacity.
  for (std::size_t k = 0; k < ready_.size(); ++k) {
    Item* i = ready_[k];
    if (!i->live) continue;
    mark_dirty(*i);  // it may leave messages queued
    i->handler();
    ++ran;
  }
  return ran;
}

}  // namespace zswarm::bus
