// Beacon: the UDP datagram by which a node announces itself (at most 512
// bytes, big-endian; docs/protocol.md §2 has every byte):
//   "ZSW" format(2) flags node_id(16) incarnation(8) pub_port(2) router_port(2)
//   proto_min proto_max cluster_len cluster name_len name {ext_type ext_len ext}*
// Later versions grow it by extensions (a type-length-value list at the end)
// and flag bits; a receiver skips those it does not know.
// parse() validates every field and never reads past the datagram.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <vector>

#include "bus/envelope.hpp"
#include "bus/node_id.hpp"
#include "zswarm/result.hpp"

namespace zswarm::discovery {

// The layout's own version (not the protocol's: that is proto_min..max).
inline constexpr uint8_t kBeaconFormat = 2;
// Room for the longest names (35 + 65 + 129 bytes) and 283 bytes of
// extensions: a key id and a MAC (about 80) fit with room to spare.
inline constexpr std::size_t kMaxBeaconSize = 512;
inline constexpr std::size_t kMaxClusterName = 64;
inline constexpr std::size_t kMaxNodeName = 128;

struct BeaconExtension {
  uint8_t type = 0;
  std::string value;  // at most 255 bytes
  friend bool operator==(const BeaconExtension&, const BeaconExtension&) = default;
};

struct Beacon {
  bus::NodeId id;
  uint64_t incarnation = 0;
  uint16_t pub_port = 0;
  uint16_t router_port = 0;
  bool leaving = false;  // a goodbye: the sender is shutting down cleanly
  bool observer = false;  // reads the cluster (membership, registry), owns no names
  uint8_t later_flags = 0;  // flag bits of a later version: ignored, kept to re-encode
  std::string cluster;
  std::string name;  // "name@host"
  bus::VersionRange protocol = bus::kSpoken;  // the wire versions the sender speaks
  // Extensions this version knows (docs/protocol.md §2.1); empty/0: absent.
  uint64_t counter = 0;    // the sender's beacon number, one more each beacon (replay guard)
  std::string curve_key;   // the sender's CURVE public key, 32 raw bytes
  std::string placement;   // 8 bytes: placement_fingerprint() of the sender; empty: the defaults
  uint16_t probe_port = 0; // the sender's UDP port for sealed datagrams; 0: absent
  std::string mac;         // key id (8) + HMAC-SHA-256 tag (32); always the last extension
  std::vector<BeaconExtension> extensions;     // a later version's, in the order sent
};

inline constexpr uint8_t kExtCounter = 0x01;
inline constexpr uint8_t kExtCurveKey = 0x02;
inline constexpr uint8_t kExtMac = 0x03;
inline constexpr uint8_t kExtPlacement = 0x04;
inline constexpr uint8_t kExtProbePort = 0x05;
inline constexpr std::size_t kPlacementSize = 8;
inline constexpr std::size_t kCurveKeySize = 32;
inline constexpr std::size_t kKeyIdSize = 8;
inline constexpr std::size_t kMacTagSize = 32;

// What decides who owns a name beside the members themselves: the
// placement globs and the quorum (protocol.md §2.1, extension 04). Nodes
// whose fingerprints differ would disagree on owners, so they refuse each
// other. The first 8 bytes of SHA-256 over a canonical text of the sorted
// globs and the quorum; empty for the defaults (no globs, no quorum), which
// then send no extension at all.
std::string placement_fingerprint(std::vector<std::string> allow, std::vector<std::string> deny, std::size_t quorum);

enum class BeaconError { too_short, too_long, bad_magic, bad_version, bad_field };
std::string_view to_string(BeaconError e);

// Names are 1..max printable ASCII characters without spaces.
bool valid_name(std::string_view s, std::size_t max);

// Precondition: cluster and name are valid_name()s, extension values are at
// most 255 bytes, and the whole fits kMaxBeaconSize.
std::string encode(const Beacon& b);
Result<Beacon, BeaconError> parse(std::string_view datagram);

}  // namespace zswarm::discovery
