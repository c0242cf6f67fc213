#include "names/ref.hpp"

#include <charconv>

namespace zswarm::names {

std::string run_of(std::string_view owner_id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < owner_id.size() && out.size() < kRunDigits; ++i) {
    out.push_back(kHex[static_cast<uint8_t>(owner_id[i]) >> 4]);
    out.push_back(kHex[static_cast<uint8_t>(owner_id[i]) & 15]);
  }
  return out;
}

std::string format_ref(std::string_view node, std::string_view owner_id, uint64_t worker) {
  return format_ref(Ref{std::string(node), run_of(owner_id), worker});
}

std::string format_ref(const Ref& r) {
  std::string out = r.node;
  out.append("/").append(r.run).append(".").append(std::to_string(r.worker));
  return out;
}

std::optional<Ref> parse_ref(std::string_view text) {
  if (text.size() > kMaxRefBytes) return std::nullopt;
  auto slash = text.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  std::string_view tail = text.substr(slash + 1);
  if (tail.size() < kRunDigits + 2 || tail[kRunDigits] != '.') return std::nullopt;
  Ref r;
  r.node = std::string(text.substr(0, slash));
  r.run = std::string(tail.substr(0, kRunDigits));
  for (char c : r.run)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  std::string_view id = tail.substr(kRunDigits + 1);
  if (id.empty() || id.size() > 20 || id[0] == '0') return std::nullopt;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), r.worker);
  if (ec != std::errc() || end != id.data() + id.size()) return std::nullopt;
  return r;
}

}  // namespace zswarm::names
