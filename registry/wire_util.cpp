#include "registry/wire_util.hpp"

#include <algorithm>
#include <new>
#include <vector>

namespace zswarm::registry {

std::string_view to_string(DecodeErrc code) {
  switch (code) {
    case DecodeErrc::malformed: return "malformed";
    case DecodeErrc::trailing_bytes: return "trailing_bytes";
    case DecodeErrc::wrong_type: return "wrong_type";
    case DecodeErrc::missing_field: return "missing_field";
    case DecodeErrc::duplicate: return "duplicate";
    case DecodeErrc::too_large: return "too_large";
    case DecodeErrc::invalid_value: return "invalid_value";
  }
  return "unknown";
}

std::string to_string(const DecodeError& error) {
  std::string out(to_string(error.code));
  if (!error.where.empty()) {
    out += " at ";
    out += error.where;
  }
  return out;
}

namespace detail {

namespace {

constexpr std::size_t kCachedZones = 4;  // nested decodes hold a few at once
thread_local std::vector<std::unique_ptr<msgpack::zone>> t_zones;

std::unique_ptr<msgpack::zone> take_zone() {
  if (t_zones.empty()) return std::make_unique<msgpack::zone>();
  auto z = std::move(t_zones.back());
  t_zones.pop_back();
  return z;
}

bool reference_all(msgpack::type::object_type, std::size_t, void*) { return true; }

}  // namespace

Unpacked::~Unpacked() {
  if (!zone_) return;
  zone_->clear();
  if (t_zones.size() < kCachedZones) t_zones.push_back(std::move(zone_));
}

Result<Unpacked, DecodeError> unpack_one(std::string_view bytes, std::size_t max_depth,
                                         std::size_t max_elements) {
  const std::size_t n = bytes.size();
  const std::size_t elements = std::min(n, max_elements);
  // ext types are never used on our wire: limit 0 rejects any non-empty one.
  const msgpack::unpack_limit limit(elements, std::min(n / 2, max_elements), n, n, 0, max_depth);
  std::size_t offset = 0;
  Unpacked out(take_zone(), msgpack::object());
  try {
    out.object_ = msgpack::unpack(*out.zone_, bytes.data(), n, offset, reference_all, nullptr, limit);
    if (offset != n) return error(DecodeErrc::trailing_bytes, "");
    return out;
  } catch (const msgpack::size_overflow&) {
    return error(DecodeErrc::too_large, "msgpack container");
  } catch (const std::bad_alloc&) {
    return error(DecodeErrc::too_large, "msgpack container");
  } catch (const std::exception&) {
    // parse_error, insufficient_bytes, and anything else the parser throws.
    return error(DecodeErrc::malformed, "");
  }
}

Result<std::string, DecodeError> read_str(const msgpack::object& o, std::size_t max_bytes,
                                          std::string_view where) {
  if (o.type != msgpack::type::STR) return error(DecodeErrc::wrong_type, where);
  if (o.via.str.size > max_bytes) return error(DecodeErrc::too_large, where);
  return std::string(o.via.str.ptr, o.via.str.size);
}

Result<std::string, DecodeError> read_bin(const msgpack::object& o, std::size_t max_bytes,
                                          std::string_view where) {
  if (o.type != msgpack::type::BIN) return error(DecodeErrc::wrong_type, where);
  if (o.via.bin.size > max_bytes) return error(DecodeErrc::too_large, where);
  return std::string(o.via.bin.ptr, o.via.bin.size);
}

Result<std::uint64_t, DecodeError> read_uint(const msgpack::object& o, std::string_view where) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) return error(DecodeErrc::wrong_type, where);
  return o.via.u64;
}

Result<bool, DecodeError> read_bool(const msgpack::object& o, std::string_view where) {
  if (o.type != msgpack::type::BOOLEAN) return error(DecodeErrc::wrong_type, where);
  return o.via.boolean;
}

}  // namespace detail
}  // namespace zswarm::registry
