// Fuzz target: VectorClock wire decoder. Any input must give a clock or an
// error value; a decoded clock must survive a round trip unchanged.
#include "hostile.hpp"
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "registry/vector_clock.hpp"

using zswarm::registry::VectorClock;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto clock = zswarm::registry::decode_vector_clock(bytes);
  if (!clock) return 0;
  auto again = zswarm::registry::decode_vector_clock(zswarm::registry::encode(*clock));
  if (!again || !(*again == *clock)) std::abort();
  // compare/merge on hostile but valid clocks: laws that must hold.
  const VectorClock merged = zswarm::registry::merge(*clock, VectorClock{{"fuzz", 1}});
  if (!merged.dominates(*clock)) std::abort();
  return 0;
}

extern "C" size_t zswarm_fuzz_seeds(std::vector<std::vector<uint8_t>>* out) {
  const VectorClock seeds[] = {
      VectorClock{},
      VectorClock{{"a", 1}},
      VectorClock{{"a@host#1", 300}, {"b@host#2", 70000}, {"c", VectorClock::kMaxCounter}},
  };
  for (const VectorClock& c : seeds) {
    const std::string bytes = zswarm::registry::encode(c);
    out->emplace_back(bytes.begin(), bytes.end());
  }
  zswarm::fuzz::add_hostile(out);
  return out->size();
}
