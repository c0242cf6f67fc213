// Fuzz target: registry Entry and snapshot decoders, then Registry::apply on
// whatever decodes. Any input must give a value or an error value; decoded
// entries must be valid and survive a round trip unchanged, through the
// wire and through the registry's stored form.
#include "hostile.hpp"
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "registry/entry.hpp"
#include "registry/registry.hpp"

namespace reg = zswarm::registry;

namespace {

reg::Entry sample(const char* name, bool tombstone) {
  reg::Entry e;
  e.name = name;
  e.owner = "6f1c0000-0000-0000-0000-00000000000a";
  e.owner_name = "a@host";
  e.worker = 7;
  e.plugin = "singleton_worker";
  e.args = std::string("\x00\x01 args", 7);
  e.metadata = {{"k", "v"}};
  e.groups = {"g"};
  e.clock = reg::VectorClock{{"6f1c0000-0000-0000-0000-00000000000a", 3}, {"b", 1}};
  e.tombstone = tombstone;
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto entry = reg::decode_entry(bytes)) {
    if (!reg::validate(*entry).ok()) std::abort();
    auto again = reg::decode_entry(reg::encode(*entry));
    if (!again || !(*again == *entry)) std::abort();
    reg::Registry r;
    (void)r.apply(*entry);
    (void)r.apply(*entry);  // idempotent: a second apply is stale
    if (r.snapshot().size() != 1) std::abort();
    auto stored = r.find(entry->name);  // the compact form gives back every field
    if (!stored || !(*stored == *entry) || !(stored->entry() == *entry)) std::abort();
  }
  if (auto snapshot = reg::decode_snapshot(bytes)) {
    auto again = reg::decode_snapshot(reg::encode_snapshot(*snapshot));
    if (!again || !(*again == *snapshot)) std::abort();
    reg::Registry r;
    (void)r.merge_snapshot(*snapshot);
    const auto once = r.snapshot();
    (void)r.merge_snapshot(*snapshot);
    if (!(r.snapshot() == once)) std::abort();
  }
  return 0;
}

extern "C" size_t zswarm_fuzz_seeds(std::vector<std::vector<uint8_t>>* out) {
  const std::string seeds[] = {
      reg::encode(sample("SingletonName", false)),
      reg::encode(sample("gone", true)),
      reg::encode_snapshot({sample("a", false), sample("b", true)}),
  };
  for (const std::string& s : seeds) out->emplace_back(s.begin(), s.end());
  zswarm::fuzz::add_hostile(out);
  return out->size();
}
