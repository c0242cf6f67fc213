// Fuzzes the tracker's request and answer decoders (names/tracker_wire) and the
// REF parser (names/ref): the first byte picks the decoder, the rest is the
// body. Whatever decodes must encode and decode back to the same value.
#include <cstdlib>
#include <vector>

#include "hostile.hpp"
#include "names/ref.hpp"
#include "names/tracker_wire.hpp"

using namespace zswarm::names::wire;

namespace {

template <class T, class Decode>
void round_trip(std::string_view body, Decode decode, bool (*same)(const T&, const T&)) {
  uint64_t skipped = 0, skipped_again = 0;
  auto v = decode(body, &skipped);
  if (!v) return;
  auto again = decode(encode(*v), &skipped_again);
  // Encoding writes only the fields this version knows.
  if (!again || !same(*v, *again) || skipped_again != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 7) {
    case 0:
      round_trip<RegisterRequest>(body, decode_register_request, [](const auto& a, const auto& b) {
        return a.name == b.name && a.plugin == b.plugin && a.args == b.args;
      });
      break;
    case 1:
      round_trip<UnregisterRequest>(body, decode_unregister_request,
                                    [](const auto& a, const auto& b) { return a.name == b.name; });
      break;
    case 2:
      round_trip<WorkerMessage>(body, decode_worker_message, [](const auto& a, const auto& b) {
        return a.name == b.name && a.message == b.message && a.hops == b.hops && a.ref == b.ref;
      });
      // A REF that parses is exactly what format_ref writes.
      if (auto m = decode_worker_message(body); m && !m->ref.empty())
        if (auto r = zswarm::names::parse_ref(m->ref); r && zswarm::names::format_ref(*r) != m->ref) std::abort();
      break;
    case 3:
      round_trip<HandoffOffer>(body, decode_handoff_offer, [](const auto& a, const auto& b) {
        return a.entry == b.entry && a.kind == b.kind && a.state == b.state && a.part == b.part &&
               a.parts == b.parts;
      });
      break;
    case 5:
      round_trip<SyncRequest>(body, decode_sync_request,
                              [](const auto& a, const auto& b) { return a.snapshot == b.snapshot; });
      break;
    case 6:
      round_trip<Quarantine>(body, decode_quarantine, [](const auto& a, const auto& b) {
        return a.id == b.id && a.members == b.members && a.lowest == b.lowest;
      });
      break;
    default: {
      auto r = decode_answer(body);
      auto again = decode_answer(encode_answer(r));
      if (r.ok() != again.ok()) std::abort();
      if (r ? *r != *again : r.error().name() != again.error().name()) std::abort();
    }
  }
  return 0;
}

extern "C" size_t zswarm_fuzz_seeds(std::vector<std::vector<uint8_t>>* out) {
  auto add = [&](uint8_t which, const std::string& body) {
    std::vector<uint8_t> in{which};
    in.insert(in.end(), body.begin(), body.end());
    out->push_back(std::move(in));
  };
  add(0, encode(RegisterRequest{"counter1", "counter", "5"}));
  add(1, encode(UnregisterRequest{"x"}));
  add(2, encode(WorkerMessage{"counter1", "get", 1, {}}));
  add(2, encode(WorkerMessage{"", "get", 1, "b@host/5fb2760f.4"}));
  add(3, encode(HandoffOffer{"entry", "state", "bytes", 1, 3}));
  add(4, encode_answer(std::string("b@host/1")));
  add(4, encode_answer(zswarm::fail(zswarm::Error{zswarm::Errc::already_registered, "b@host/1"})));
  add(5, encode(SyncRequest{false}));
  add(6, encode(Quarantine{std::string(16, 'q'), 3, std::string(16, 'a')}));
  for (uint8_t which = 0; which < 7; ++which) zswarm::fuzz::add_hostile(out, {which});
  return out->size();
}
