// SimEnv: a zswarm::Env in which several REAL nodes (Node::start with this
// Env) run in one process, deterministically: a ManualClock, seeded
// randomness and node ids, a MemoryNetwork bus with a FaultTransport per
// node, an in-memory beacon "air" that can isolate a node, and a ManualLoop
// per node that the test thread steps. Nothing sleeps: settle() runs until
// quiet, run_for() moves time in steps.
//
// Thread-safety: one test thread creates the nodes and steps them; it counts
// as every node's loop thread, so the node's API runs inline, and a blocking
// call (register_name, send, call) drives the whole simulation until it is
// answered. Worker-pool threads only post().
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bus/fault_transport.hpp"
#include "bus/memory_transport.hpp"
#include "node/env_internal.hpp"
#include "zswarm/clock.hpp"
#include "zswarm/env.hpp"

namespace zswarm::sim {

class SimEnv;

// A node's loop, stepped by the test thread.
class ManualLoop final : public node::Loop {
 public:
  explicit ManualLoop(SimEnv& env);
  ~ManualLoop() override;

  void start(Tick tick) override;
  void stop() override { stopped_ = true; }
  void join() override {}
  // Drives the simulation until the node stopped (e.g. after leave()).
  void wait_stopped() override;
  bool on_loop_thread() const override { return std::this_thread::get_id() == owner_; }
  bool running() const override { return started_ && !stopped_; }
  void post(Task t) override;
  bool run_until(const std::function<bool()>& ready, Clock::duration within) override;
  void set_background(std::function<bool()> wait_idle) override { background_ = std::move(wait_idle); }
  // One pool thread, and timers fired by the node's tick on the manual clock.
  PoolShape pool_shape() const override { return {1, false}; }

  // --- the test thread's side ---
  // Waits for the worker pool to go quiet; false on its (real-time) timeout.
  bool wait_background() { return background_ ? background_() : true; }
  // Runs what was posted so far; true if anything ran.
  bool run_posted();
  // The node's tick (timers, heartbeats), if it runs.
  void tick();

 private:
  SimEnv& env_;
  std::thread::id owner_ = std::this_thread::get_id();
  Tick tick_;
  std::function<bool()> background_;
  std::mutex mu_;
  std::deque<Task> tasks_;  // guarded by mu_
  std::atomic<bool> started_{false}, stopped_{false};
};

// One node's end of the air.
class SimBeacon final : public node::BeaconChannel {
 public:
  struct State {
    bool isolated = false;  // beacons neither in nor out
    int side = 0;           // beacons reach only the endpoints of the same side (a split)
    Receiver receiver;
  };
  explicit SimBeacon(SimEnv& env, std::function<std::string(std::string)> rewrite = {});
  ~SimBeacon() override;

  const std::string& bind_address() const override { return address_; }
  std::string describe() const override { return "simulated air"; }
  void send(std::string_view datagram, const std::vector<std::string>& extra_hosts) override;
  void set_receiver(Receiver r) override { state_->receiver = std::move(r); }
  void set_isolated(bool on) { state_->isolated = on; }
  void set_side(int side) { state_->side = side; }

 private:
  SimEnv& env_;
  std::string address_ = "127.0.0.1";
  std::shared_ptr<State> state_;
  std::function<std::string(std::string)> rewrite_;
};

// Beacons in flight; each reaches every node in the air (its sender too).
class Air {
 public:
  void send(std::shared_ptr<SimBeacon::State> from, std::string datagram) {
    flying_.push_back({std::move(from), std::move(datagram)});
  }
  // A datagram from outside the cluster, to everyone not isolated.
  void inject(std::string datagram) { flying_.push_back({nullptr, std::move(datagram)}); }
  // Loses what is in flight.
  void clear() { flying_.clear(); }
  bool empty() const { return flying_.empty(); }
  // Delivers what is in flight now (not what that causes); true if any was.
  bool deliver();

 private:
  friend class SimBeacon;
  struct Flying {
    std::shared_ptr<SimBeacon::State> from;
    std::string datagram;
  };
  std::vector<std::shared_ptr<SimBeacon::State>> endpoints_;
  std::vector<Flying> flying_;
};

class SimEnv final : public Env {
 public:
  explicit SimEnv(uint64_t seed = 1) : rng_(seed) {}

  const Clock& clock() override { return clock_; }
  // Follows the manual clock, one ms more per read: nodes started at the
  // same simulated instant still get distinct, growing incarnations.
  std::chrono::system_clock::time_point wall_now() override;
  uint64_t random_u64() override;
  NodeIdBytes new_node_id() override;
  Result<std::unique_ptr<node::Loop>, Error> new_loop() override;
  Result<std::unique_ptr<node::Bus>, Error> new_bus(node::Loop& loop, const node::BusConfig& config) override;
  Result<std::unique_ptr<node::BeaconChannel>, Error> new_beacon(node::Loop& loop,
                                                                 const node::BeaconConfig& config) override;

  ManualClock& manual_clock() { return clock_; }
  bus::MemoryNetwork& net() { return net_; }
  Air& air() { return air_; }

  // What the latest Node::start got from this Env (valid while that node lives).
  struct Made {
    ManualLoop* loop = nullptr;
    bus::FaultTransport* fault = nullptr;
    SimBeacon* beacon = nullptr;
  };
  const Made& last_made() const { return made_; }

  // How the next node's wire differs from this build's (a later version's
  // test fixture): a layer under its FaultTransport, and a rewrite of every
  // beacon it sends. Used by the next Node::start only.
  struct Wire {
    std::function<std::unique_ptr<bus::Transport>(std::unique_ptr<bus::Transport>)> transport;
    std::function<std::string(std::string)> beacon;
  };
  void set_next_wire(Wire w) { next_wire_ = std::move(w); }

  // Delivers beacons, frames and posted work until quiet; no time passes.
  void settle();
  // Moves time in steps; every node ticks, then everything settles.
  void run_for(std::chrono::milliseconds d, std::chrono::milliseconds step = std::chrono::milliseconds(10));
  // Settles, then moves time in 10 ms steps until ready() or `within` passed.
  bool run_until(const std::function<bool()>& ready, Clock::duration within);

 private:
  friend class ManualLoop;
  ManualClock clock_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;  // guarded by rng_mu_
  std::atomic<int64_t> wall_reads_{0};  // pool threads read the wall clock too
  uint64_t fault_seed_ = 0;
  bus::MemoryNetwork net_;
  Air air_;
  std::vector<ManualLoop*> loops_;  // live ones, in start order
  Made made_;
  Wire next_wire_;
};

}  // namespace zswarm::sim
