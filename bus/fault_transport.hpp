// FaultTransport: wraps a Transport and injects faults in both directions,
// in place of netem (which this project cannot rely on): drop, duplicate,
// delay, reorder, and cut (a partition from one peer, or from all).
// Randomness comes from a seeded generator and time from the injected clock,
// so a failing run replays exactly.
//
// Thread-safety: like Transport, owned by one thread; the plan may be changed
// between calls on that thread.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <random>
#include <set>

#include "bus/transport.hpp"

namespace zswarm::bus {

struct FaultPlan {
  double drop = 0;       // probability a frame is lost
  double duplicate = 0;  // probability it is delivered twice
  double reorder = 0;    // probability it is held back behind the next frame
  std::chrono::milliseconds delay{0};  // every frame is held this long
  bool cut_all = false;  // partition from everyone
  std::set<NodeId> cut;  // partition from these peers
  std::set<NodeId> full;  // these peers' send queues are full: send() refuses (returns false)
};

struct FaultStats {
  uint64_t passed = 0, dropped = 0, duplicated = 0, reordered = 0, delayed = 0, cut = 0, refused = 0;
};

class FaultTransport final : public Transport {
 public:
  FaultTransport(std::unique_ptr<Transport> inner, const Clock& clock, uint64_t seed = 1);

  FaultPlan& plan() { return plan_; }
  const FaultStats& stats() const { return stats_; }
  Transport& inner() { return *inner_; }

  void connect(const NodeId& peer, const PeerEndpoint& at) override { inner_->connect(peer, at); }
  void disconnect(const NodeId& peer) override { inner_->disconnect(peer); }
  void publish(std::string_view frame) override;
  bool send(const NodeId& peer, std::string_view frame) override;
  bool send_datagram(const NodeId& peer, std::string_view frame) override;
  void set_receiver(Receiver r) override { receiver_ = std::move(r); }
  void tick(Clock::time_point now) override;
  bool linked(const NodeId& peer) const override { return inner_->linked(peer); }
  bool datagrams_to(const NodeId& peer) const override { return inner_->datagrams_to(peer); }

 private:
  // A frame in flight through the wrapper, outbound or inbound.
  struct Held {
    Clock::time_point due;
    enum Dir { out_publish, out_send, out_datagram, in } dir;
    NodeId peer;
    Inbound in_frame;
    std::string frame;
  };
  void admit(Held h, const NodeId* peer);
  void release(Held& h);
  bool chance(double p) { return p > 0 && std::uniform_real_distribution<>(0, 1)(rng_) < p; }

  std::unique_ptr<Transport> inner_;
  const Clock& clock_;
  std::mt19937_64 rng_;
  FaultPlan plan_;
  FaultStats stats_;
  Receiver receiver_;
  std::deque<Held> held_;
  std::unique_ptr<Held> behind_;  // the frame being reordered
};

}  // namespace zswarm::bus
