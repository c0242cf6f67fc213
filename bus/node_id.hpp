// NodeId: the 128-bit identity a node draws at start-up. Every run of a node
// gets a new one, so a restarted node is never confused with its previous
// incarnation. Value type; thread-safe as any value.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace zswarm::bus {

class NodeId {
 public:
  static constexpr std::size_t kSize = 16;

  NodeId() = default;  // the nil id
  static NodeId random();
  // Accepts exactly kSize raw bytes.
  static std::optional<NodeId> from_bytes(std::string_view raw);
  // Accepts the 32-hex-digit form that to_string() prints.
  static std::optional<NodeId> from_string(std::string_view hex);

  std::string bytes() const { return {reinterpret_cast<const char*>(b_.data()), b_.size()}; }
  std::string to_string() const;
  // First 8 hex digits: enough for a human reading a log.
  std::string short_string() const { return to_string().substr(0, 8); }
  bool nil() const { return *this == NodeId(); }

  friend bool operator==(const NodeId& a, const NodeId& b) { return a.b_ == b.b_; }
  friend bool operator!=(const NodeId& a, const NodeId& b) { return !(a == b); }
  friend bool operator<(const NodeId& a, const NodeId& b) { return a.b_ < b.b_; }
  std::size_t hash() const;

 private:
  std::array<uint8_t, kSize> b_{};
};

}  // namespace zswarm::bus

template <>
struct std::hash<zswarm::bus::NodeId> {
  std::size_t operator()(const zswarm::bus::NodeId& id) const { return id.hash(); }
};
