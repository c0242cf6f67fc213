// Fuzzes the probe datagram's checks (bus/datagram.hpp), in the order a node
// runs them: parse, the sender's key, open, the replay window. A datagram
// that opens is taken once, and a mutation of a sealed one never opens.
#include "hostile.hpp"

#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "bus/datagram.hpp"

namespace {

struct Keys {
  std::string member_pub = std::string(32, '\0'), member_sec = std::string(32, '\0');
  std::string self_pub = std::string(32, '\0'), self_sec = std::string(32, '\0');
  zswarm::bus::DatagramKey to_self{}, from_member{};
  Keys() {
    if (sodium_init() < 0) std::abort();
    unsigned char seed[crypto_box_SEEDBYTES] = {1};
    crypto_box_seed_keypair(u(member_pub), u(member_sec), seed);
    seed[0] = 2;
    crypto_box_seed_keypair(u(self_pub), u(self_sec), seed);
    if (!zswarm::bus::datagram_key(member_sec, self_pub, to_self) ||
        !zswarm::bus::datagram_key(self_sec, member_pub, from_member))
      std::abort();
  }
  static unsigned char* u(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }
};
const Keys& keys() {
  static Keys k;
  return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto h = zswarm::bus::parse_datagram(in);
  if (!h.ok() || h->sender_key != keys().member_pub) return 0;
  auto frame = zswarm::bus::open_datagram(keys().from_member, in);
  if (!frame.ok()) return 0;
  if (frame->size() + zswarm::bus::kDatagramHeaderSize + zswarm::bus::kDatagramTagSize != size) std::abort();
  zswarm::bus::ReplayWindow w;
  if (!w.accept(h->counter) || w.accept(h->counter)) std::abort();
  return 0;
}

extern "C" size_t zswarm_fuzz_seeds(std::vector<std::vector<uint8_t>>* out) {
  for (const std::string& frame : {std::string(), std::string("\x94\x02\xc4\x10", 4) + std::string(16, 'i'),
                                  std::string(zswarm::bus::kMaxDatagramFrame, 'f')}) {
    std::string d = zswarm::bus::seal_datagram(keys().to_self, keys().member_pub, zswarm::bus::DatagramSalt{}, 1, frame);
    out->emplace_back(d.begin(), d.end());
  }
  zswarm::fuzz::add_hostile(out);
  return out->size();
}
