// BeaconSeal: what a cluster secret adds to beacons (docs/security.md §3).
// A sealed beacon carries the sender's beacon counter, its CURVE public key,
// and a MAC last: a key id naming the secret, then HMAC-SHA-256 under a key
// derived from that secret, over every byte before the tag. A receiver takes
// it only if the key id names a secret it holds, the tag verifies, and the
// counter is above the last one it took from that node id (no clock needed:
// a node id is new on every start and its counter only grows).
//
// Two secrets may be held at once (rotation): beacons are sealed with the
// current one, and either one opens them.
// Not thread-safe: owned by the node's event loop.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bus/node_id.hpp"
#include "discovery/beacon.hpp"

namespace zswarm::discovery {

using ClusterSecret = std::array<uint8_t, 32>;

enum class SealVerdict {
  ok,
  unsealed,     // no MAC, counter or CURVE key
  unknown_key,  // sealed with a secret this node does not hold
  bad_mac,      // forged or altered
  replayed,     // a counter this node already took from that node id
};
std::string_view to_string(SealVerdict v);

class BeaconSeal {
 public:
  explicit BeaconSeal(const ClusterSecret& current, const std::optional<ClusterSecret>& previous = std::nullopt);

  // Rotation: seal with `current` from now on; open with either.
  void set_secrets(const ClusterSecret& current, const std::optional<ClusterSecret>& previous);
  // The datagram for `b`, with the next counter and the MAC set.
  std::string seal(Beacon b);
  // Checks a beacon parsed from `datagram`. On ok, its counter is remembered.
  SealVerdict open(std::string_view datagram, const Beacon& b);

  // The key id that names a secret (first 8 bytes of HMAC-SHA-256(secret, "zswarm key id")).
  static std::array<uint8_t, kKeyIdSize> key_id(const ClusterSecret& s);

  // Node ids whose last counter is remembered; beyond this the oldest is forgotten.
  static constexpr std::size_t kMaxTracked = 4096;

 private:
  struct Key {
    std::array<uint8_t, kKeyIdSize> id;
    std::array<uint8_t, 32> mac_key;
  };
  static Key derive(const ClusterSecret& s);

  std::vector<Key> keys_;  // current first
  uint64_t next_counter_ = 1;
  std::unordered_map<bus::NodeId, uint64_t> last_counter_;
  std::deque<bus::NodeId> tracked_order_;
};

}  // namespace zswarm::discovery
