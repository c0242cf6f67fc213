// Beacon: the UDP datagram by which a node announces itself (at most 255
// bytes, fixed layout, big-endian; docs/protocol.md has every byte):
//   "ZSW" version flags node_id(16) incarnation(8) pub_port(2) router_port(2)
//   cluster_len cluster name_len name
// parse() validates every field and never reads past the datagram.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bus/node_id.hpp"
#include "zswarm/result.hpp"

namespace zswarm::discovery {

inline constexpr uint8_t kBeaconVersion = 1;
inline constexpr std::size_t kMaxBeaconSize = 255;
inline constexpr std::size_t kMaxClusterName = 64;
inline constexpr std::size_t kMaxNodeName = 128;

struct Beacon {
  bus::NodeId id;
  uint64_t incarnation = 0;
  uint16_t pub_port = 0;
  uint16_t router_port = 0;
  bool leaving = false;  // a goodbye: the sender is shutting down cleanly
  bool observer = false;  // reads the cluster (membership, registry), owns no names
  std::string cluster;
  std::string name;  // "name@host"
};

enum class BeaconError { too_short, too_long, bad_magic, bad_version, bad_flags, bad_field };
std::string_view to_string(BeaconError e);

// Names are 1..max printable ASCII characters without spaces.
bool valid_name(std::string_view s, std::size_t max);

// Precondition: cluster and name are valid_name()s.
std::string encode(const Beacon& b);
Result<Beacon, BeaconError> parse(std::string_view datagram);

}  // namespace zswarm::discovery
