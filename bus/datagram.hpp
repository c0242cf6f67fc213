// Datagram: one frame (docs/protocol.md §3) sealed for one member, sent by
// UDP (docs/protocol.md §1.2, docs/security.md §5). SWIM's probes, acks and
// indirect probes travel this way, loop thread to loop thread, so a round
// trip wakes two threads instead of six (libzmq's I/O threads stay asleep).
//
//   "ZSD" format(1) sender_key(32) nonce(24) box
//   nonce = "zswdgram" counter(8, big-endian) salt(8, random, one per run)
//   box   = crypto_box_easy(frame, nonce, receiver's key, sender's secret)
//
// The keys are the members' per-run CURVE keys, so only a member can seal,
// and only the addressed member can open. The counter starts at 1 on each
// run and grows by one a datagram; a receiver takes each counter once
// (ReplayWindow). Without CURVE keys there are no datagrams.
//
// Pure functions and a value type; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "zswarm/result.hpp"

namespace zswarm::bus {

inline constexpr uint8_t kDatagramFormat = 1;
inline constexpr std::size_t kDatagramKeySize = 32;
inline constexpr std::size_t kDatagramNonceSize = 24;
inline constexpr std::size_t kDatagramHeaderSize = 4 + kDatagramKeySize + kDatagramNonceSize;  // 60
inline constexpr std::size_t kDatagramTagSize = 16;
// Fits one Ethernet frame with room for IPv6 and UDP headers, so a datagram
// is never fragmented; a larger frame goes on the direct TCP channel.
inline constexpr std::size_t kMaxDatagramSize = 1232;
inline constexpr std::size_t kMaxDatagramFrame = kMaxDatagramSize - kDatagramHeaderSize - kDatagramTagSize;  // 1156

// crypto_box_beforenm(peer's public key, own secret key): computed once per
// member (an X25519 multiplication), then each datagram costs one XSalsa20-
// Poly1305 pass.
using DatagramKey = std::array<uint8_t, 32>;
// False for keys that are not 32 bytes or give a weak shared point.
bool datagram_key(std::string_view own_secret, std::string_view peer_public, DatagramKey& out);

// Both ends of a pair share its key: the sender's salt, drawn once per run,
// keeps their nonces apart while each one's counter grows.
using DatagramSalt = std::array<uint8_t, 8>;
DatagramSalt new_datagram_salt();
// Precondition: frame.size() <= kMaxDatagramFrame, own_public is 32 bytes.
std::string seal_datagram(const DatagramKey& key, std::string_view own_public, const DatagramSalt& salt,
                          uint64_t counter, std::string_view frame);

enum class DatagramError { too_short, too_long, bad_magic, bad_version, bad_nonce, bad_seal };
std::string_view to_string(DatagramError e);

// The clear part of a datagram: who claims to have sent it, and its counter.
struct DatagramHeader {
  std::string_view sender_key;  // 32 bytes, a view into the datagram
  uint64_t counter = 0;
};
// Checks the size, the magic, the format and the nonce's prefix; no crypto.
Result<DatagramHeader, DatagramError> parse_datagram(std::string_view datagram);
// The frame, if the box opens with `key` (the sender's, from its header).
Result<std::string, DatagramError> open_datagram(const DatagramKey& key, std::string_view datagram);

// Which counters of one sender were taken: the highest, and a bitmap of the
// 64 below it (IPsec's anti-replay window). UDP may reorder; a counter more
// than 64 below the highest is refused as if replayed.
class ReplayWindow {
 public:
  // Whether `counter` is new; if so it is marked taken. 0 is never new.
  bool accept(uint64_t counter);
  uint64_t highest() const { return highest_; }

 private:
  uint64_t highest_ = 0;
  uint64_t seen_ = 0;  // bit i: highest_ - i was taken (bit 0: highest_ itself)
};

}  // namespace zswarm::bus
