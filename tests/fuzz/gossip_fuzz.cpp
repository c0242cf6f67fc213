// Fuzz target: the SWIM detector's bodies (gossip updates, probe_request).
// Any input must give a value or an error; a decoded value must survive a
// round trip unchanged, and never hold more than kMaxUpdates updates.
#include "hostile.hpp"
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "discovery/gossip.hpp"

using namespace zswarm::discovery;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto updates = decode_updates(bytes)) {
    if (updates->empty() || updates->size() > kMaxUpdates) std::abort();
    auto again = decode_updates(encode_updates(*updates));
    if (!again || *again != *updates) std::abort();
  }
  if (auto request = decode_probe_request(bytes)) {
    auto again = decode_probe_request(encode_probe_request(*request));
    if (!again || !(*again == *request)) std::abort();
  }
  return 0;
}

extern "C" size_t zswarm_fuzz_seeds(std::vector<std::vector<uint8_t>>* out) {
  const auto a = *zswarm::bus::NodeId::from_string("ba3e8390187b4d72a61c89388a1b389b");
  const auto c = *zswarm::bus::NodeId::from_string("c3a1d55e09f24a6b9e8d7c6b5a493827");
  const std::string seeds[] = {
      encode_updates({{UpdateKind::suspect, c, 1795914740401, 0, a}}),
      encode_updates({{UpdateKind::alive, c, 1795914740401, 7, c}, {UpdateKind::down, a, 1, ~0ull, c}}),
      encode_probe_request({c, 1795914740401}),
  };
  for (const std::string& s : seeds) out->emplace_back(s.begin(), s.end());
  zswarm::fuzz::add_hostile(out);
  return out->size();
}
