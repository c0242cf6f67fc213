#include "bus/node_id.hpp"

#include <cstring>
#include <random>

namespace zswarm::bus {

NodeId NodeId::random() {
  std::random_device rd;
  NodeId id;
  for (std::size_t i = 0; i < kSize; i += 4) {
    uint32_t r = rd();
    std::memcpy(id.b_.data() + i, &r, 4);
  }
  id.b_[6] = static_cast<uint8_t>((id.b_[6] & 0x0f) | 0x40);  // RFC 4122 version 4
  id.b_[8] = static_cast<uint8_t>((id.b_[8] & 0x3f) | 0x80);
  return id;
}

std::optional<NodeId> NodeId::from_bytes(std::string_view raw) {
  if (raw.size() != kSize) return std::nullopt;
  NodeId id;
  std::memcpy(id.b_.data(), raw.data(), kSize);
  return id;
}

std::optional<NodeId> NodeId::from_string(std::string_view hex) {
  if (hex.size() != 2 * kSize) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  NodeId id;
  for (std::size_t i = 0; i < kSize; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    id.b_[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return id;
}

std::string NodeId::to_string() const {
  static const char* digits = "0123456789abcdef";
  std::string s(2 * kSize, '0');
  for (std::size_t i = 0; i < kSize; ++i) {
    s[2 * i] = digits[b_[i] >> 4];
    s[2 * i + 1] = digits[b_[i] & 0xf];
  }
  return s;
}

std::size_t NodeId::hash() const {
  uint64_t a, b;
  std::memcpy(&a, b_.data(), 8);
  std::memcpy(&b, b_.data() + 8, 8);
  return static_cast<std::size_t>(a ^ (b * 0x9e3779b97f4a7c15ULL));
}

}  // namespace zswarm::bus
