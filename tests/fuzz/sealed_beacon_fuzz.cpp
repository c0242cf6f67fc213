// Fuzzes the cluster secret's beacon check: any datagram that parses goes
// through BeaconSeal::open. Only a beacon sealed with the secret is taken,
// and each one once.
#include "hostile.hpp"
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "discovery/beacon_seal.hpp"

namespace {
zswarm::discovery::ClusterSecret fixed_secret() {
  zswarm::discovery::ClusterSecret s;
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(i * 7 + 1);
  return s;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static zswarm::discovery::BeaconSeal seal(fixed_secret());
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto b = zswarm::discovery::parse(in);
  if (!b.ok()) return 0;
  auto first = seal.open(in, *b);
  // Taken once: the same datagram again is a replay.
  if (first == zswarm::discovery::SealVerdict::ok && seal.open(in, *b) != zswarm::discovery::SealVerdict::replayed)
    std::abort();
  return 0;
}

extern "C" size_t zswarm_fuzz_seeds(std::vector<std::vector<uint8_t>>* out) {
  zswarm::discovery::BeaconSeal sealer(fixed_secret());
  zswarm::discovery::Beacon b;
  b.id = zswarm::bus::NodeId::random();
  b.incarnation = 1795914401413;
  b.pub_port = 40000;
  b.router_port = 40001;
  b.cluster = "prod";
  b.name = "a@host";
  b.curve_key = std::string(zswarm::discovery::kCurveKeySize, 'k');
  for (bool leaving : {false, true}) {
    b.leaving = leaving;
    std::string s = sealer.seal(b);
    out->emplace_back(s.begin(), s.end());
  }
  std::string plain = zswarm::discovery::encode(b);
  out->emplace_back(plain.begin(), plain.end());
  zswarm::fuzz::add_hostile(out);
  return out->size();
}
