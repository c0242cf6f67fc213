// zswarm::Env — everything a node takes from the outside world: time, wall
// time, randomness, its event loop's thread, its bus and its beacon socket
// (modelled on leveldb's Env). Env::Default() is the real one; a simulation
// passes its own to Node::start, and a test fake derives from EnvWrapper and
// overrides the one method it needs.
//
// The loop, bus and beacon types are internal to zswarm (node/env_internal.hpp):
// this header only names them, so an embedder can wrap those factories (by
// forwarding) but not implement them.
//
// Thread-safety: Env::Default() is safe from any thread. A node calls its
// Env from the thread that runs Node::start and from its loop thread; an Env
// handed to nodes that run on real threads must be thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>

#include "zswarm/clock.hpp"
#include "zswarm/error.hpp"
#include "zswarm/export.h"
#include "zswarm/result.hpp"

namespace zswarm {

namespace node {
class Loop;
class Bus;
class BeaconChannel;
struct BusConfig;
struct BeaconConfig;
}  // namespace node

// A node id's 16 raw bytes (NodeInfo::id prints them as 32 hex digits).
using NodeIdBytes = std::array<uint8_t, 16>;

class ZSWARM_API Env {
 public:
  virtual ~Env();

  // The real environment: steady and system clocks, std::random_device,
  // ZeroMQ, UDP beacons, one thread per node. Never destroyed.
  static Env* Default();

  // Monotonic time for every timeout and interval. Lives as long as the Env.
  virtual const Clock& clock() = 0;
  // Wall time; a node's incarnation is its start time in Unix milliseconds,
  // so a restarted node must read a later value than its previous run did.
  virtual std::chrono::system_clock::time_point wall_now() = 0;
  // Uniformly random bits (probe numbers and such); not for secrets.
  virtual uint64_t random_u64() = 0;
  // A fresh node id, drawn once per start; never the nil (all-zero) id.
  virtual NodeIdBytes new_node_id() = 0;

  // The node's event loop: the thread that owns the bus, the beacon socket
  // and all cluster state. The node starts it once and destroys it last.
  virtual Result<std::unique_ptr<node::Loop>, Error> new_loop() = 0;
  // The bus (fan-out and direct channel) for `config.self`, served on `loop`.
  // bind_failed when a fixed port is taken.
  virtual Result<std::unique_ptr<node::Bus>, Error> new_bus(node::Loop& loop, const node::BusConfig& config) = 0;
  // The discovery channel for beacons, served on `loop`; bind_failed names
  // what was wrong with the scope.
  virtual Result<std::unique_ptr<node::BeaconChannel>, Error> new_beacon(node::Loop& loop,
                                                                         const node::BeaconConfig& config) = 0;
};

// Forwards every call to a target Env, so a fake overrides only what it
// changes. The target must outlive the wrapper.
class ZSWARM_API EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  ~EnvWrapper() override;

  Env* target() const { return target_; }

  const Clock& clock() override { return target_->clock(); }
  std::chrono::system_clock::time_point wall_now() override { return target_->wall_now(); }
  uint64_t random_u64() override { return target_->random_u64(); }
  NodeIdBytes new_node_id() override { return target_->new_node_id(); }
  // Out of line: the internal types are complete only inside zswarm.
  Result<std::unique_ptr<node::Loop>, Error> new_loop() override;
  Result<std::unique_ptr<node::Bus>, Error> new_bus(node::Loop& loop, const node::BusConfig& config) override;
  Result<std::unique_ptr<node::BeaconChannel>, Error> new_beacon(node::Loop& loop,
                                                                 const node::BeaconConfig& config) override;

 private:
  Env* target_;
};

}  // namespace zswarm
