// Fuzzes the beacon parser: any datagram in, a beacon or an error out, and
// a parsed beacon re-encodes to exactly the datagram.
#include "hostile.hpp"
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "discovery/beacon.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto b = zswarm::discovery::parse(in);
  if (b.ok() && zswarm::discovery::encode(*b) != in) std::abort();
  return 0;
}

extern "C" size_t zswarm_fuzz_seeds(std::vector<std::vector<uint8_t>>* out) {
  zswarm::discovery::Beacon b;
  b.id = zswarm::bus::NodeId::random();
  b.incarnation = 1795914401413;
  b.pub_port = 40000;
  b.router_port = 40001;
  b.cluster = "prod";
  b.name = "a@host";
  std::string s = zswarm::discovery::encode(b);
  out->emplace_back(s.begin(), s.end());
  b.leaving = true;
  s = zswarm::discovery::encode(b);
  out->emplace_back(s.begin(), s.end());
  zswarm::fuzz::add_hostile(out);
  return out->size();
}
