// Fuzzes the bus envelope decoder: any bytes in, a value or an error out,
// and what decodes must re-encode to the same bytes.
#include "hostile.hpp"
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "bus/envelope.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto e = zswarm::bus::decode(in);
  if (e.ok() && zswarm::bus::encode(*e) != in) {
    // msgpack has several encodings of one value; ours must at least round-trip.
    auto again = zswarm::bus::decode(zswarm::bus::encode(*e));
    if (!again.ok() || again->body != e->body || again->seq != e->seq) std::abort();
  }
  return 0;
}

extern "C" size_t zswarm_fuzz_seeds(std::vector<std::vector<uint8_t>>* out) {
  zswarm::bus::Envelope e;
  e.sender = zswarm::bus::NodeId::random();
  e.type = zswarm::bus::MessageType::registry_delta;
  e.seq = 77;
  e.body = "body";
  std::string s = zswarm::bus::encode(e);
  out->emplace_back(s.begin(), s.end());
  e.type = zswarm::bus::MessageType::heartbeat;
  e.body.clear();
  s = zswarm::bus::encode(e);
  out->emplace_back(s.begin(), s.end());
  zswarm::fuzz::add_hostile(out);
  return out->size();
}
