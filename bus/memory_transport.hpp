// MemoryNetwork / MemoryTransport: an in-process network for deterministic
// tests of everything above the bus. Frames are queued in the network and
// delivered only when the test calls deliver(), in order, on its thread.
// A PUB frame reaches every transport that connect()ed to the publisher.
// Not thread-safe: one test thread drives it.
#pragma once

#include <deque>
#include <map>
#include <set>

#include "bus/transport.hpp"

namespace zswarm::bus {

class MemoryTransport;

class MemoryNetwork {
 public:
  // Delivers queued frames (and what they cause) until none are left or
  // `limit` were delivered. Returns how many were delivered.
  std::size_t deliver(std::size_t limit = SIZE_MAX);
  std::size_t pending() const { return queue_.size(); }
  // The peer's process is gone: everyone connected to it gets link_down,
  // then peer_gone (as ZmqTransport does when its port refuses a connect).
  // A cut link (a FaultTransport) holds back the peer_gone: no refusal
  // crosses a partition.
  void kill(const NodeId& peer);

 private:
  friend class MemoryTransport;
  struct Frame {
    NodeId to;
    NodeId from;
    Inbound in;
  };
  std::map<NodeId, MemoryTransport*> nodes_;
  std::deque<Frame> queue_;
};

class MemoryTransport final : public Transport {
 public:
  MemoryTransport(MemoryNetwork& net, const NodeId& self);
  ~MemoryTransport() override;

  void connect(const NodeId& peer, const PeerEndpoint& at) override;
  void disconnect(const NodeId& peer) override;
  void publish(std::string_view frame) override;
  bool send(const NodeId& peer, std::string_view frame) override;
  void set_receiver(Receiver r) override { receiver_ = std::move(r); }

 private:
  friend class MemoryNetwork;
  MemoryNetwork& net_;
  NodeId self_;
  std::set<NodeId> connected_;    // whose PUB we subscribe to
  std::set<NodeId> subscribers_;  // who subscribes to ours
  Receiver receiver_;
};

}  // namespace zswarm::bus
