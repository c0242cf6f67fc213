#include "bus/datagram.hpp"

#include <sodium.h>

#include <cstring>

namespace zswarm::bus {
namespace {

constexpr std::string_view kMagic = "ZSD";
constexpr std::string_view kNoncePrefix = "zswdgram";

void put_be64(uint8_t* at, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) at[i] = static_cast<uint8_t>(v);
}
uint64_t get_be64(const uint8_t* at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | at[i];
  return v;
}
const uint8_t* bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

}  // namespace

std::string_view to_string(DatagramError e) {
  switch (e) {
    case DatagramError::too_short: return "too short";
    case DatagramError::too_long: return "too long";
    case DatagramError::bad_magic: return "not a zswarm datagram";
    case DatagramError::bad_version: return "unknown datagram format";
    case DatagramError::bad_nonce: return "bad nonce";
    case DatagramError::bad_seal: return "does not open with the sender's key";
  }
  return "?";
}

bool datagram_key(std::string_view own_secret, std::string_view peer_public, DatagramKey& out) {
  if (own_secret.size() != crypto_box_SECRETKEYBYTES || peer_public.size() != crypto_box_PUBLICKEYBYTES) return false;
  if (sodium_init() < 0) return false;
  return crypto_box_beforenm(out.data(), bytes(peer_public), bytes(own_secret)) == 0;
}

DatagramSalt new_datagram_salt() {
  DatagramSalt s{};
  if (sodium_init() >= 0) randombytes_buf(s.data(), s.size());
  return s;
}

std::string seal_datagram(const DatagramKey& key, std::string_view own_public, const DatagramSalt& salt,
                          uint64_t counter, std::string_view frame) {
  std::string out(kDatagramHeaderSize + crypto_box_MACBYTES + frame.size(), '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  std::memcpy(p, kMagic.data(), 3);
  p[3] = kDatagramFormat;
  std::memcpy(p + 4, own_public.data(), kDatagramKeySize);
  uint8_t* nonce = p + 4 + kDatagramKeySize;
  std::memcpy(nonce, kNoncePrefix.data(), 8);
  put_be64(nonce + 8, counter);
  std::memcpy(nonce + 16, salt.data(), salt.size());
  crypto_box_easy_afternm(p + kDatagramHeaderSize, bytes(frame), frame.size(), nonce, key.data());
  return out;
}

Result<DatagramHeader, DatagramError> parse_datagram(std::string_view d) {
  if (d.size() > kMaxDatagramSize) return fail(DatagramError::too_long);
  if (d.size() < kDatagramHeaderSize + kDatagramTagSize) return fail(DatagramError::too_short);
  if (d.substr(0, 3) != kMagic) return fail(DatagramError::bad_magic);
  if (static_cast<uint8_t>(d[3]) != kDatagramFormat) return fail(DatagramError::bad_version);
  std::string_view nonce = d.substr(4 + kDatagramKeySize, kDatagramNonceSize);
  if (nonce.substr(0, 8) != kNoncePrefix) return fail(DatagramError::bad_nonce);
  DatagramHeader h{d.substr(4, kDatagramKeySize), get_be64(bytes(nonce) + 8)};
  if (h.counter == 0) return fail(DatagramError::bad_nonce);
  return h;
}

Result<std::string, DatagramError> open_datagram(const DatagramKey& key, std::string_view d) {
  auto h = parse_datagram(d);
  if (!h) return fail(h.error());
  std::string_view box = d.substr(kDatagramHeaderSize);
  std::string frame(box.size() - crypto_box_MACBYTES, '\0');
  if (crypto_box_open_easy_afternm(reinterpret_cast<uint8_t*>(frame.data()), bytes(box), box.size(),
                                   bytes(d) + 4 + kDatagramKeySize, key.data()) != 0)
    return fail(DatagramError::bad_seal);
  return frame;
}

bool ReplayWindow::accept(uint64_t counter) {
  if (counter == 0) return false;
  if (counter > highest_) {
    const uint64_t shift = counter - highest_;
    seen_ = shift >= 64 ? 0 : seen_ << shift;
    seen_ |= 1;
    highest_ = counter;
    return true;
  }
  const uint64_t back = highest_ - counter;
  if (back >= 64) return false;
  const uint64_t bit = uint64_t{1} << back;
  if (seen_ & bit) return false;
  seen_ |= bit;
  return true;
}

}  // namespace zswarm::bus
