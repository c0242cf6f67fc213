#include "discovery/beacon.hpp"

#include <sodium.h>

#include <algorithm>
#include <cassert>

namespace zswarm::discovery {
namespace {

constexpr char kMagic[3] = {'Z', 'S', 'W'};
constexpr uint8_t kFlagLeaving = 0x01;
constexpr uint8_t kFlagObserver = 0x02;
constexpr std::size_t kFixed = 3 + 1 + 1 + bus::NodeId::kSize + 8 + 2 + 2 + 1 + 1;

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_be(std::string_view in, std::size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = v << 8 | static_cast<uint8_t>(in[at + static_cast<std::size_t>(i)]);
  return v;
}

}  // namespace

std::string_view to_string(BeaconError e) {
  switch (e) {
    case BeaconError::too_short: return "too short";
    case BeaconError::too_long: return "too long";
    case BeaconError::bad_magic: return "not a zswarm beacon";
    case BeaconError::bad_version: return "unsupported beacon version";
    case BeaconError::bad_field: return "malformed field";
  }
  return "?";
}

bool valid_name(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s)
    if (c <= ' ' || c > '~') return false;
  return true;
}

std::string encode(const Beacon& b) {
  assert(valid_name(b.cluster, kMaxClusterName) && valid_name(b.name, kMaxNodeName));
  std::string out(kMagic, 3);
  out.push_back(static_cast<char>(kBeaconFormat));
  out.push_back(static_cast<char>((b.leaving ? kFlagLeaving : 0) | (b.observer ? kFlagObserver : 0) |
                                  (b.later_flags & ~(kFlagLeaving | kFlagObserver))));
  out += b.id.bytes();
  put_be(out, b.incarnation, 8);
  put_be(out, b.pub_port, 2);
  put_be(out, b.router_port, 2);
  out.push_back(static_cast<char>(b.protocol.min));
  out.push_back(static_cast<char>(b.protocol.max));
  out.push_back(static_cast<char>(b.cluster.size()));
  out += b.cluster;
  out.push_back(static_cast<char>(b.name.size()));
  out += b.name;
  auto ext = [&](uint8_t type, std::string_view value) {
    assert(value.size() <= 255);
    out.push_back(static_cast<char>(type));
    out.push_back(static_cast<char>(value.size()));
    out += value;
  };
  if (b.counter) {
    std::string c;
    put_be(c, b.counter, 8);
    ext(kExtCounter, c);
  }
  if (!b.curve_key.empty()) ext(kExtCurveKey, b.curve_key);
  if (!b.placement.empty()) ext(kExtPlacement, b.placement);
  if (b.probe_port) {
    std::string p;
    put_be(p, b.probe_port, 2);
    ext(kExtProbePort, p);
  }
  for (const auto& x : b.extensions) ext(x.type, x.value);
  if (!b.mac.empty()) ext(kExtMac, b.mac);  // last: its tag covers every byte before it
  assert(out.size() <= kMaxBeaconSize);
  return out;
}

Result<Beacon, BeaconError> parse(std::string_view d) {
  if (d.size() > kMaxBeaconSize) return fail(BeaconError::too_long);
  if (d.size() < 3 || d.substr(0, 3) != std::string_view(kMagic, 3)) {
    return fail(d.size() < 3 ? BeaconError::too_short : BeaconError::bad_magic);
  }
  if (d.size() < 4) return fail(BeaconError::too_short);
  if (static_cast<uint8_t>(d[3]) != kBeaconFormat) return fail(BeaconError::bad_version);
  if (d.size() < kFixed + 1) return fail(BeaconError::too_short);
  uint8_t flags = static_cast<uint8_t>(d[4]);  // bits this build does not know: a later version's

  Beacon b;
  b.leaving = flags & kFlagLeaving;
  b.observer = flags & kFlagObserver;
  b.later_flags = flags & ~(kFlagLeaving | kFlagObserver);
  b.id = *bus::NodeId::from_bytes(d.substr(5, bus::NodeId::kSize));
  std::size_t at = 5 + bus::NodeId::kSize;
  b.incarnation = get_be(d, at, 8);
  b.pub_port = static_cast<uint16_t>(get_be(d, at + 8, 2));
  b.router_port = static_cast<uint16_t>(get_be(d, at + 10, 2));
  b.protocol = {static_cast<uint8_t>(d[at + 12]), static_cast<uint8_t>(d[at + 13])};
  at = kFixed;

  auto take = [&](std::string& out, std::size_t max) {
    if (at >= d.size()) return false;
    std::size_t len = static_cast<uint8_t>(d[at++]);
    if (len > d.size() - at) return false;
    out.assign(d.substr(at, len));
    at += len;
    return valid_name(out, max);
  };
  if (!take(b.cluster, kMaxClusterName) || !take(b.name, kMaxNodeName)) return fail(BeaconError::bad_field);
  while (at < d.size()) {
    if (d.size() - at < 2) return fail(BeaconError::bad_field);
    BeaconExtension x;
    x.type = static_cast<uint8_t>(d[at]);
    std::size_t len = static_cast<uint8_t>(d[at + 1]);
    at += 2;
    if (len > d.size() - at) return fail(BeaconError::bad_field);
    x.value.assign(d.substr(at, len));
    at += len;
    // Known types have one size, appear once and in encode()'s order
    // (counter, curve_key, placement, probe_port, later ones, mac last), so
    // a beacon has one encoding.
    if (!b.mac.empty()) return fail(BeaconError::bad_field);
    if (x.type == kExtCounter) {
      if (len != 8 || b.counter || !b.curve_key.empty() || !b.placement.empty() || b.probe_port ||
          !b.extensions.empty())
        return fail(BeaconError::bad_field);
      b.counter = get_be(x.value, 0, 8);
      if (b.counter == 0) return fail(BeaconError::bad_field);
    } else if (x.type == kExtCurveKey) {
      if (len != kCurveKeySize || !b.curve_key.empty() || !b.placement.empty() || b.probe_port ||
          !b.extensions.empty())
        return fail(BeaconError::bad_field);
      b.curve_key = std::move(x.value);
    } else if (x.type == kExtPlacement) {
      if (len != kPlacementSize || !b.placement.empty() || b.probe_port || !b.extensions.empty())
        return fail(BeaconError::bad_field);
      b.placement = std::move(x.value);
    } else if (x.type == kExtProbePort) {
      if (len != 2 || b.probe_port || !b.extensions.empty()) return fail(BeaconError::bad_field);
      b.probe_port = static_cast<uint16_t>(get_be(x.value, 0, 2));
      if (b.probe_port == 0) return fail(BeaconError::bad_field);
    } else if (x.type == kExtMac) {
      if (len != kKeyIdSize + kMacTagSize) return fail(BeaconError::bad_field);
      b.mac = std::move(x.value);
    } else {
      b.extensions.push_back(std::move(x));
    }
  }
  if (b.pub_port == 0 || b.router_port == 0 || b.id.nil()) return fail(BeaconError::bad_field);
  if (b.protocol.min == 0 || b.protocol.min > b.protocol.max) return fail(BeaconError::bad_field);
  return b;
}

std::string placement_fingerprint(std::vector<std::string> allow, std::vector<std::string> deny, std::size_t quorum) {
  if (allow.empty() && deny.empty() && quorum == 0) return {};
  std::sort(allow.begin(), allow.end());
  std::sort(deny.begin(), deny.end());
  std::string text = "zswarm placement 1\nquorum " + std::to_string(quorum) + "\n";
  for (const auto& g : allow) text.append("allow ").append(g).append("\n");
  for (const auto& g : deny) text.append("deny ").append(g).append("\n");
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return std::string(reinterpret_cast<const char*>(digest), kPlacementSize);
}

}  // namespace zswarm::discovery
