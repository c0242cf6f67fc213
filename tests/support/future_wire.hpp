// FutureWire: what a later version of zswarm puts on the wire, as a test
// fixture for mixed-version clusters. It sits under a node's transport and
// rewrites every frame the node sends the way a build that speaks version 3
// and knows more would: one field more in the frame and in each message, one
// key more in every map body (and in each entry of a snapshot), and after the
// node's messages one of a type this build does not know (kNewType),
// numbered in the PUB stream like the rest. Frames it receives pass as they
// are. Its beacons (future_beacon) carry an unknown flag bit and extension.
// Not thread-safe: one simulation thread drives it.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "bus/transport.hpp"

namespace zswarm::sim {

class FutureWire final : public bus::Transport {
 public:
  static constexpr uint8_t kNewType = 30;
  static constexpr uint8_t kBeaconExtension = 200;

  explicit FutureWire(std::unique_ptr<bus::Transport> inner) : inner_(std::move(inner)) {}

  void connect(const bus::NodeId& peer, const bus::PeerEndpoint& at) override { inner_->connect(peer, at); }
  void disconnect(const bus::NodeId& peer) override { inner_->disconnect(peer); }
  void publish(std::string_view frame) override;
  bool send(const bus::NodeId& peer, std::string_view frame) override;
  void set_receiver(Receiver r) override { inner_->set_receiver(std::move(r)); }
  void tick(Clock::time_point now) override { inner_->tick(now); }

  // The versions of the frames it sent, on the PUB and to each peer.
  std::set<uint8_t> pub_versions;
  std::map<bus::NodeId, std::set<uint8_t>> direct_versions;
  uint64_t bodies_extended = 0;  // map bodies that got a key more

 private:
  std::string rewrite(std::string_view frame, bool published, uint8_t& version);
  std::string extend(std::string_view body);

  std::unique_ptr<bus::Transport> inner_;
  uint64_t pub_seq_ = 0;
};

// A beacon as the later version sends it.
std::string future_beacon(std::string datagram);

}  // namespace zswarm::sim
