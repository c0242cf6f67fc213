// Fuzzes the bus frame decoder: any bytes in, messages or an error out, and
// what decodes must re-encode (one frame, same messages) and decode the same.
#include "hostile.hpp"
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "bus/envelope.hpp"

using namespace zswarm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto f = bus::decode_frame(in, {1, 255});
  if (!f.ok()) return 0;
  if (f->messages.empty() || f->messages.size() > bus::kMaxFrameMessages) std::abort();
  const auto& first = f->messages.front();
  bus::FrameBuilder b(first.version, first.sender, first.incarnation);
  for (const auto& e : f->messages) b.add(e.type, e.seq, e.corr, e.body);
  auto again = bus::decode_frame(b.take(), {1, 255});
  if (!again.ok() || again->messages.size() != f->messages.size() || again->fields_skipped != 0) std::abort();
  for (std::size_t i = 0; i < f->messages.size(); ++i) {
    const auto &x = f->messages[i], &y = again->messages[i];
    if (x.type != y.type || x.seq != y.seq || x.corr != y.corr || x.body != y.body || y.sender != first.sender)
      std::abort();
  }
  return 0;
}

extern "C" size_t zswarm_fuzz_seeds(std::vector<std::vector<uint8_t>>* out) {
  auto add = [&](const std::string& s) { out->emplace_back(s.begin(), s.end()); };
  bus::FrameBuilder b(bus::kSpoken.max, bus::NodeId::random(), 1712345678901);
  b.add(bus::MessageType::registry_delta, 77, 0, "body");
  add(b.take());
  b.add(bus::MessageType::heartbeat, 78, 0, "");
  b.add(bus::MessageType::worker_cast, 0, 5, std::string(300, 'x'));
  b.add(static_cast<bus::MessageType>(99), 0, 0, "later");
  add(b.take());
  zswarm::fuzz::add_hostile(out);
  return out->size();
}
