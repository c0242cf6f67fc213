// The internal half of zswarm::Env (include/zswarm/env.hpp): the loop, bus
// and beacon interfaces a node is built from. The real ones (node/env.cpp)
// are an EventLoop thread polling ZeroMQ and a UDP BeaconSocket; a simulator
// supplies a loop the test steps, an in-memory bus and an in-memory "air".
//
// Thread-safety: Loop::post, call and the lifecycle queries are thread-safe;
// everything else belongs to the loop's thread, as do Bus and BeaconChannel.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "bus/node_id.hpp"
#include "bus/transport.hpp"
#include "zswarm/clock.hpp"
#include "zswarm/env.hpp"

namespace zmq {
class context_t;
}
namespace zswarm::bus {
class Reactor;
}

namespace zswarm::node {

// How a node's work is run: posted tasks and a tick, on one thread.
class Loop {
 public:
  using Task = std::function<void()>;
  // Runs after every wake-up; returns when it next wants to run.
  using Tick = std::function<Clock::time_point()>;
  // How the worker pool beside the loop runs: its threads (0 = hardware)
  // and whether timers get their own thread (false: the node's tick fires them).
  struct PoolShape {
    std::size_t threads = 0;
    bool timer_thread = true;
  };

  virtual ~Loop() = default;

  virtual void start(Tick tick) = 0;
  // Asks the loop to finish; safe from any thread, the loop's own included.
  virtual void stop() = 0;
  // Waits for the loop's thread to end (not from the loop itself).
  virtual void join() = 0;
  // Blocks until the loop has finished (after stop()).
  virtual void wait_stopped() = 0;
  virtual bool on_loop_thread() const = 0;
  virtual bool running() const = 0;
  // Runs `t` on the loop soon. Dropped if the loop has stopped.
  virtual void post(Task t) = 0;
  // For a caller ON the loop thread that must wait for `ready` (a blocking
  // API call): lets the loop make progress meanwhile, for at most `within`
  // of the loop's clock. A real loop cannot re-enter itself: it returns ready().
  virtual bool run_until(const std::function<bool()>& ready, Clock::duration within) = 0;
  // Work the node does off the loop (the worker pool): a stepped loop waits
  // for it to go quiet before each step. `wait_idle` returns false on timeout.
  virtual void set_background(std::function<bool()> wait_idle) { (void)wait_idle; }
  // Run around each turn of a real loop (after its sleep, before the next):
  // the node holds the worker pool's wake-ups there (Runtime::hold_wakeups).
  virtual void set_turn_hooks(Task begin, Task end) {
    (void)begin;
    (void)end;
  }
  virtual PoolShape pool_shape() const { return {}; }
  // How many times the loop has woken up (0 where it does not count).
  virtual uint64_t wakeups() const { return 0; }
  // The poller and ZeroMQ context, for sockets served on this loop; null in
  // loops without them (a simulator's).
  virtual bus::Reactor* reactor() { return nullptr; }
  virtual zmq::context_t* zmq_context() { return nullptr; }

  // Runs `f` on the loop thread and waits for its result (inline when
  // already there, or when the loop has stopped and its state is quiet).
  template <class F>
  auto call(F f) -> decltype(f()) {
    if (on_loop_thread() || !running()) return f();
    auto task = std::make_shared<std::packaged_task<decltype(f())()>>(std::move(f));
    auto once = std::make_shared<std::once_flag>();
    auto result = task->get_future();
    post([task, once] { std::call_once(*once, [&] { (*task)(); }); });
    // If the loop stopped before running it, the loop's state is quiet: run it here.
    while (result.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready)
      if (!running()) std::call_once(*once, [&] { (*task)(); });
    return result.get();
  }
};

struct BusConfig {
  bus::NodeId self;
  std::string bind_host;
  uint16_t pub_port = 0;  // 0: any free port
  uint16_t router_port = 0;
  uint16_t probe_port = 0;  // UDP for sealed datagrams, with CURVE keys only
  std::size_t max_frame_bytes = 1u << 20;
  int receive_hwm = 128;
  std::function<void(const std::string&)> warn;  // rate-limited link trouble, one line
  // CURVE keypair, 32 raw bytes each; empty: the NULL mechanism.
  std::string curve_public;
  std::string curve_secret;
  // How long the connect() that checks a dropped peer's port may take (the probe timeout).
  std::chrono::milliseconds gone_check_timeout{500};
};

// Link counters of a bus (zero where the bus has no such links).
struct BusStats {
  uint64_t connections_dropped = 0;
  uint64_t handshakes_failed = 0;
  uint64_t links_reopened = 0;
  uint64_t keys_refused = 0;
  uint64_t frames_unauthenticated = 0;
  uint64_t peers_refused = 0;
  uint64_t datagrams_sent = 0;
  uint64_t datagrams_received = 0;
  uint64_t datagrams_refused = 0;
  uint64_t datagrams_by_tcp = 0;
};

// A node's bus: the Transport the cluster talks through, and where it listens.
class Bus {
 public:
  virtual ~Bus() = default;
  virtual bus::Transport& transport() = 0;
  virtual uint16_t pub_port() const = 0;
  virtual uint16_t router_port() const = 0;
  virtual uint16_t probe_port() const { return 0; }  // 0: it takes no datagrams
  virtual BusStats stats() const = 0;
};

struct BeaconConfig {
  std::string interface;           // empty: loopback
  std::string multicast_group;     // empty: broadcast
  std::vector<std::string> seeds;  // "host:port"
  uint16_t port = 0;
  std::string dns;  // non-empty: unicast to the addresses the node resolves (extra_hosts)
};

// Where beacons come and go (discovery::BeaconSocket in the real Env).
class BeaconChannel {
 public:
  using Receiver = std::function<void(std::string_view bytes, const std::string& source_ip)>;
  virtual ~BeaconChannel() = default;
  // Where the bus should bind, inside the discovery scope.
  virtual const std::string& bind_address() const = 0;
  // Short text for logs: "broadcast 127.255.255.255:45670".
  virtual std::string describe() const = 0;
  // To everyone in scope; with seeds or dns also to `extra_hosts`.
  virtual void send(std::string_view datagram, const std::vector<std::string>& extra_hosts) = 0;
  // Datagrams received from now on go to `r`, on the loop thread.
  virtual void set_receiver(Receiver r) = 0;
};

}  // namespace zswarm::node
