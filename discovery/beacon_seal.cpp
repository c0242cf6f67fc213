#include "discovery/beacon_seal.hpp"

#include <cstring>
#include <stdexcept>

#include <sodium.h>

namespace zswarm::discovery {
namespace {

std::array<uint8_t, 32> hmac(const uint8_t* key, std::string_view data) {
  std::array<uint8_t, 32> out{};
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key, 32);
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  crypto_auth_hmacsha256_final(&st, out.data());
  return out;
}

}  // namespace

std::string_view to_string(SealVerdict v) {
  switch (v) {
    case SealVerdict::ok: return "ok";
    case SealVerdict::unsealed: return "no MAC (the sender has no cluster secret)";
    case SealVerdict::unknown_key: return "sealed with another secret";
    case SealVerdict::bad_mac: return "MAC does not verify";
    case SealVerdict::replayed: return "replayed (counter not above the last one taken)";
  }
  return "?";
}

BeaconSeal::Key BeaconSeal::derive(const ClusterSecret& s) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  Key k;
  auto id = hmac(s.data(), "zswarm key id");
  std::memcpy(k.id.data(), id.data(), k.id.size());
  k.mac_key = hmac(s.data(), "zswarm beacon mac");
  sodium_memzero(id.data(), id.size());
  return k;
}

std::array<uint8_t, kKeyIdSize> BeaconSeal::key_id(const ClusterSecret& s) { return derive(s).id; }

BeaconSeal::BeaconSeal(const ClusterSecret& current, const std::optional<ClusterSecret>& previous) {
  set_secrets(current, previous);
}

void BeaconSeal::set_secrets(const ClusterSecret& current, const std::optional<ClusterSecret>& previous) {
  keys_.clear();
  keys_.push_back(derive(current));
  if (previous && *previous != current) keys_.push_back(derive(*previous));
}

std::string BeaconSeal::seal(Beacon b) {
  const Key& k = keys_.front();
  b.counter = next_counter_++;
  b.mac.assign(reinterpret_cast<const char*>(k.id.data()), k.id.size());
  b.mac.append(kMacTagSize, '\0');
  std::string out = encode(b);
  auto tag = hmac(k.mac_key.data(), std::string_view(out).substr(0, out.size() - kMacTagSize));
  std::memcpy(out.data() + out.size() - kMacTagSize, tag.data(), tag.size());
  return out;
}

SealVerdict BeaconSeal::open(std::string_view datagram, const Beacon& b) {
  if (b.mac.size() != kKeyIdSize + kMacTagSize || b.counter == 0 || b.curve_key.size() != kCurveKeySize)
    return SealVerdict::unsealed;
  const Key* key = nullptr;
  for (const Key& k : keys_)
    if (std::memcmp(k.id.data(), b.mac.data(), kKeyIdSize) == 0) key = &k;
  if (!key) return SealVerdict::unknown_key;
  // parse() put the MAC last, so the tag is the datagram's last 32 bytes.
  auto tag = hmac(key->mac_key.data(), datagram.substr(0, datagram.size() - kMacTagSize));
  if (crypto_verify_32(tag.data(), reinterpret_cast<const unsigned char*>(datagram.data()) + datagram.size() -
                                       kMacTagSize) != 0)
    return SealVerdict::bad_mac;
  auto [it, fresh] = last_counter_.try_emplace(b.id, b.counter);
  if (!fresh) {
    if (b.counter <= it->second) return SealVerdict::replayed;
    it->second = b.counter;
    return SealVerdict::ok;
  }
  tracked_order_.push_back(b.id);
  if (tracked_order_.size() > kMaxTracked) {
    last_counter_.erase(tracked_order_.front());
    tracked_order_.pop_front();
  }
  return SealVerdict::ok;
}

}  // namespace zswarm::discovery
