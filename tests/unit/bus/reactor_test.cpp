// Reactor: ZeroMQ sockets watched through ZMQ_FD, whose signal anyone may
// consume (a send, a receive, a ZMQ_EVENTS read), and plain fds. Every wait
// has a deadline; nothing here asserts speed.
#include "bus/reactor.hpp"
#include "support/wait.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace zswarm::bus {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Runs the reactor until `done` or `deadline`; returns done().
template <class Done>
bool run_until(Reactor& r, Done done, std::chrono::milliseconds deadline = 10s) {
  const auto end = Clock::now() + deadline;
  while (!done() && Clock::now() < end) r.run_once(100ms);
  return done();
}

bool has_pollin(zmq::socket_ref s) { return (s.get(zmq::sockopt::events) & ZMQ_POLLIN) != 0; }

// An inproc PAIR: `in` is watched, `out` sends to it.
struct Pair {
  explicit Pair(zmq::context_t& ctx, const std::string& name) : in(ctx, zmq::socket_type::pair), out(ctx, zmq::socket_type::pair) {
    in.bind("inproc://" + name);
    out.connect("inproc://" + name);
  }
  zmq::socket_t in, out;
};

// A ROUTER on loopback TCP and a DEALER connected to it.
struct TcpPair {
  explicit TcpPair(zmq::context_t& ctx) : router(ctx, zmq::socket_type::router), dealer(ctx, zmq::socket_type::dealer) {
    router.set(zmq::sockopt::linger, 0);
    dealer.set(zmq::sockopt::linger, 0);
    router.bind("tcp://127.0.0.1:*");
    dealer.connect(router.get(zmq::sockopt::last_endpoint));
  }
  zmq::socket_t router, dealer;
};

struct EventFd {
  EventFd() : fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~EventFd() { ::close(fd); }
  void signal() const {
    uint64_t one = 1;
    EXPECT_EQ(::write(fd, &one, sizeof one), static_cast<ssize_t>(sizeof one));
  }
  void drain() const {
    uint64_t n;
    while (::read(fd, &n, sizeof n) > 0) {
    }
  }
  // Watched by `r`: each wake-up counts one in `calls` and drains the fd.
  void watch(Reactor& r, int& calls) const {
    r.add_fd(fd, [this, &calls] {
      ++calls;
      drain();
    });
  }
  int fd;
};

// A reactor watching one inproc PAIR; the handler counts what it reads:
// one message a call, or all that are queued.
struct WatchedPair {
  WatchedPair(const std::string& name, bool one_per_call) : p(ctx, name) {
    r.add(p.in, [this, one_per_call] {
      zmq::message_t m;
      while (p.in.recv(m, zmq::recv_flags::dontwait)) {
        ++got;
        if (one_per_call) return;
      }
    });
  }
  void send() { p.out.send(zmq::str_buffer("m"), zmq::send_flags::none); }

  zmq::context_t ctx;
  Pair p;
  Reactor r;
  int got = 0;
};

TEST(Reactor, HandlerReadingOneMessagePerCallGetsAllQueued) {
  WatchedPair w("reactor-bounded", true);
  for (int i = 0; i < 5; ++i) w.send();
  // No message arrives after the first wake: the rest must come from ZMQ_EVENTS.
  EXPECT_TRUE(run_until(w.r, [&] { return w.got == 5; }));
  EXPECT_EQ(w.r.run_once(0ms), 0);
}

// As a send on the socket by other code would: read ZMQ_EVENTS, which
// takes the fd's signal, while the message stays queued.
void consume_signal(WatchedPair& w) {
  ASSERT_TRUE(zswarm::testing::wait_until([&] { return has_pollin(w.p.in); }, 10s, 1ms));
  pollfd pfd{w.p.in.get(zmq::sockopt::fd), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 0), 0) << "the fd should be quiet now";
}

TEST(Reactor, SignalConsumedOutsideTheReactorIsNotLostWhenTouched) {
  WatchedPair w("reactor-consumed", false);
  EXPECT_EQ(w.r.run_once(0ms), 0);  // the new socket's first check
  w.send();
  consume_signal(w);
  w.r.touch(w.p.in);
  EXPECT_EQ(w.r.run_once(5s), 1);
  EXPECT_EQ(w.got, 1);
  EXPECT_EQ(w.r.missed_signals(), 0u);
}

// A use nobody reported is found by the once-a-second sweep, and counted.
TEST(Reactor, AnUntouchedUseIsFoundByTheSweepAndCounted) {
  WatchedPair w("reactor-untouched", false);
  EXPECT_EQ(w.r.run_once(0ms), 0);
  w.send();
  consume_signal(w);
  EXPECT_TRUE(run_until(w.r, [&] { return w.got == 1; }, 5s));
  EXPECT_EQ(w.r.missed_signals(), 1u);
}

// Among 100 idle sockets the sweep reads a slice a second, not all of them,
// and still comes round to the one whose signal was taken.
TEST(Reactor, TheSweepReadsASliceASecondAndStillFindsAnUntouchedUse) {
  WatchedPair w("reactor-slice", false);
  std::vector<std::unique_ptr<Pair>> idle;
  for (int i = 0; i < 100; ++i) {
    idle.push_back(std::make_unique<Pair>(w.ctx, "reactor-slice-" + std::to_string(i)));
    w.r.add(idle.back()->in, [] {});
  }
  EXPECT_EQ(w.r.run_once(0ms), 0);
  w.send();
  consume_signal(w);
  const uint64_t reads0 = w.r.events_reads();
  const auto start = Clock::now();
  // 101 sockets, 32 a second: found within 4 sweeps.
  EXPECT_TRUE(run_until(w.r, [&] { return w.got == 1; }, 15s));
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start).count();
  EXPECT_EQ(w.r.missed_signals(), 1u);
  EXPECT_LE(w.r.events_reads() - reads0, 32u * static_cast<uint64_t>(seconds + 2));
}

// Wake-ups by other items read ZMQ_EVENTS only of the sockets that were
// used: an idle peer's sockets cost nothing per message (docs/scaling.md §2).
TEST(Reactor, WakeUpsDoNotReadEveryIdleSocket) {
  zmq::context_t ctx;
  constexpr int kIdle = 40, kWakes = 200;
  std::vector<std::unique_ptr<Pair>> idle;
  Reactor r;
  for (int i = 0; i < kIdle; ++i) {
    idle.push_back(std::make_unique<Pair>(ctx, "reactor-idle-" + std::to_string(i)));
    r.add(idle.back()->in, [] {});
  }
  EventFd e;
  int woken = 0;
  e.watch(r, woken);
  EXPECT_EQ(r.run_once(0ms), 0);
  const uint64_t reads0 = r.events_reads();
  for (int i = 0; i < kWakes; ++i) {
    e.signal();
    EXPECT_EQ(r.run_once(5s), 1);
  }
  EXPECT_EQ(woken, kWakes);
  // Reading every socket per wake-up would be kIdle * kWakes = 8,000; a
  // sweep a second allows a few whole passes in a slow run.
  EXPECT_LT(r.events_reads() - reads0, 10u * kIdle);
  EXPECT_EQ(r.missed_signals(), 0u);
}

// A DEALER and a ROUTER on one reactor over TCP. The test sends pings
// between run_once calls, which takes the DEALER's fd signal for pongs that
// arrived meanwhile; its handler reads one pong per call.
TEST(Reactor, SendsBetweenWakesDoNotLoseReplies) {
  zmq::context_t ctx;
  TcpPair tcp(ctx);
  zmq::socket_t &router = tcp.router, &dealer = tcp.dealer;
  Reactor r;
  r.add(router, [&] {
    zmq::message_t id, body;
    while (router.recv(id, zmq::recv_flags::dontwait)) {
      if (!router.recv(body, zmq::recv_flags::dontwait)) break;
      router.send(id, zmq::send_flags::sndmore);
      router.send(body, zmq::send_flags::none);
    }
  });
  int pongs = 0;
  r.add(dealer, [&] {
    zmq::message_t m;
    if (dealer.recv(m, zmq::recv_flags::dontwait)) ++pongs;
  });

  constexpr int kRounds = 2000, kWindow = 8;
  int pings = 0, stalls = 0;
  const auto end = Clock::now() + 30s;
  while (pongs < kRounds && Clock::now() < end) {
    while (pings < kRounds && pings - pongs < kWindow) {
      dealer.send(zmq::str_buffer("ping"), zmq::send_flags::none);
      ++pings;
    }
    r.touch(dealer);
    // Slept out a whole second while a pong was waiting: the reactor missed it.
    if (r.run_once(1s) == 0 && has_pollin(dealer)) ++stalls;
  }
  EXPECT_EQ(pongs, kRounds);
  EXPECT_EQ(stalls, 0);
  EXPECT_EQ(r.missed_signals(), 0u);
}

TEST(Reactor, PlainFdRunsWhileReadable) {
  Reactor r;
  EventFd e;
  int calls = 0;
  e.watch(r, calls);
  EXPECT_EQ(r.run_once(0ms), 0);
  e.signal();
  EXPECT_EQ(r.run_once(5s), 1);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(r.run_once(0ms), 0);

  // Level-triggered: a handler that reads one byte a call is called again.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  int bytes = 0;
  r.add_fd(fds[0], [&] {
    char c;
    if (::read(fds[0], &c, 1) == 1) ++bytes;
  });
  ASSERT_EQ(::write(fds[1], "ab", 2), 2);
  EXPECT_EQ(r.run_once(5s), 1);
  EXPECT_EQ(r.run_once(5s), 1);
  EXPECT_EQ(bytes, 2);
  r.remove_fd(fds[0]);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(Reactor, HandlerRemovedByAnotherInTheSamePassDoesNotRun) {
  Reactor r;
  EventFd a, b;
  int ran_a = 0, ran_b = 0;
  r.add_fd(a.fd, [&] {
    ++ran_a;
    r.remove_fd(b.fd);
  });
  r.add_fd(b.fd, [&] {
    ++ran_b;
    r.remove_fd(a.fd);
  });
  a.signal();
  b.signal();
  EXPECT_EQ(r.run_once(5s), 1);
  EXPECT_EQ(ran_a + ran_b, 1);
}

// The same with sockets, each closed by the other's handler: the reactor
// must not touch a removed socket, whatever epoll reported for it.
TEST(Reactor, SocketRemovedAndClosedByAnotherHandlerIsNotTouched) {
  zmq::context_t ctx;
  auto a = std::make_unique<Pair>(ctx, "reactor-remove-a");
  auto b = std::make_unique<Pair>(ctx, "reactor-remove-b");
  Reactor r;
  int ran = 0;
  // Each reads its message and, if the other is still there, removes and closes it.
  auto handler = [&](std::unique_ptr<Pair>& self, std::unique_ptr<Pair>& other) {
    ++ran;
    zmq::message_t m;
    while (self->in.recv(m, zmq::recv_flags::dontwait)) {
    }
    if (!other) return;
    r.remove(other->in);
    other.reset();
  };
  r.add(a->in, [&] { handler(a, b); });
  r.add(b->in, [&] { handler(b, a); });
  a->out.send(zmq::str_buffer("m"), zmq::send_flags::none);
  b->out.send(zmq::str_buffer("m"), zmq::send_flags::none);
  // Both are readable at the pass's start (inproc queues at send).
  EXPECT_EQ(r.run_once(5s), 1);
  EXPECT_EQ(ran, 1);
  ASSERT_TRUE(!a != !b);  // exactly one pair is left
  Pair& survivor = a ? *a : *b;
  survivor.out.send(zmq::str_buffer("m"), zmq::send_flags::none);
  EXPECT_TRUE(run_until(r, [&] { return ran == 2; }));
}

TEST(Reactor, HandlerMayRemoveItselfAndAddAnother) {
  Reactor r;
  EventFd first, second;
  std::string seen;
  int second_calls = 0;
  r.add_fd(first.fd, [&, tag = std::string("first handler, still alive after its removal")] {
    r.remove_fd(first.fd);
    seen = tag;  // the handler's own state outlives remove_fd while it runs
    r.add_fd(second.fd, [&] {
      ++second_calls;
      second.drain();
    });
  });
  first.signal();
  second.signal();
  EXPECT_EQ(r.run_once(5s), 1);
  EXPECT_EQ(seen, "first handler, still alive after its removal");
  EXPECT_EQ(second_calls, 0) << "added during the pass: runs on the next";
  EXPECT_EQ(r.run_once(5s), 1);
  EXPECT_EQ(second_calls, 1);
  EXPECT_EQ(r.run_once(0ms), 0) << "first was removed though still readable";
}

double thread_cpu_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// A socket's fd also fires when a peer connects (no message): run_once must
// sleep out its timeout rather than return early or spin.
TEST(Reactor, NothingReadyReturnsZeroAfterTheTimeoutWithoutSpinning) {
  zmq::context_t ctx;
  TcpPair tcp(ctx);  // its handshake runs during the wait
  Reactor r;
  EventFd e;
  int calls = 0;
  r.add(tcp.router, [&] { ++calls; });
  r.add_fd(e.fd, [&] { ++calls; });

  constexpr auto kTimeout = 300ms;
  const auto t0 = Clock::now();
  const double cpu0 = thread_cpu_s();
  EXPECT_EQ(r.run_once(kTimeout), 0);
  const double cpu = thread_cpu_s() - cpu0;
  EXPECT_GE(Clock::now() - t0, kTimeout);
  EXPECT_EQ(calls, 0);
  // A spinning loop would burn about the whole timeout.
  EXPECT_LT(cpu, std::chrono::duration<double>(kTimeout).count() / 2);
}

TEST(Reactor, AddingAnFdTwiceThrows) {
  Reactor r;
  EventFd e;
  r.add_fd(e.fd, [] {});
  EXPECT_THROW(r.add_fd(e.fd, [] {}), std::system_error);
  r.remove_fd(e.fd);
  r.add_fd(e.fd, [] {});  // gone, so it may come back
}

}  // namespace
}  // namespace zswarm::bus
