#include "discovery/gossip.hpp"

#include <msgpack.hpp>

namespace zswarm::discovery {

std::string_view to_string(UpdateKind k) {
  switch (k) {
    case UpdateKind::alive: return "alive";
    case UpdateKind::suspect: return "suspect";
    case UpdateKind::down: return "down";
    case UpdateKind::gone: return "gone";
  }
  return "?";
}

std::string_view to_string(GossipError e) {
  switch (e) {
    case GossipError::not_msgpack: return "not msgpack, or over a limit";
    case GossipError::bad_shape: return "not an array of the expected length";
    case GossipError::bad_field: return "field of wrong type or value";
    case GossipError::too_many: return "more updates than a message may hold";
  }
  return "?";
}

namespace {

// Nothing in these bodies nests deeper than 2 or holds more than kMaxUpdates
// elements, a str, a map or an ext: the unpacker refuses more before it allocates.
const msgpack::unpack_limit kLimits(/*array*/ kMaxUpdates, /*map*/ 0, /*str*/ 0, /*bin*/ bus::NodeId::kSize,
                                    /*ext*/ 0, /*depth*/ 2);

Result<msgpack::object_handle, GossipError> unpack(std::string_view body) {
  std::size_t off = 0;
  msgpack::object_handle oh;
  try {
    oh = msgpack::unpack(body.data(), body.size(), off, nullptr, nullptr, kLimits);
  } catch (const msgpack::array_size_overflow&) {
    return fail(GossipError::too_many);
  } catch (const std::exception&) {
    return fail(GossipError::not_msgpack);
  }
  if (off != body.size()) return fail(GossipError::not_msgpack);
  return oh;
}

bool as_uint(const msgpack::object& o, uint64_t& out) {
  if (o.type == msgpack::type::POSITIVE_INTEGER) {
    out = o.via.u64;
    return true;
  }
  return false;
}

bool as_id(const msgpack::object& o, bus::NodeId& out) {
  if (o.type != msgpack::type::BIN) return false;
  auto id = bus::NodeId::from_bytes({o.via.bin.ptr, o.via.bin.size});
  if (!id) return false;
  out = *id;
  return true;
}

void pack_id(msgpack::packer<msgpack::sbuffer>& pk, const bus::NodeId& id) {
  auto raw = id.bytes();
  pk.pack_bin(static_cast<uint32_t>(raw.size()));
  pk.pack_bin_body(raw.data(), static_cast<uint32_t>(raw.size()));
}

}  // namespace

std::string encode_updates(const std::vector<Update>& updates) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(static_cast<uint32_t>(updates.size()));
  for (const Update& u : updates) {
    pk.pack_array(5);
    pk.pack(static_cast<uint64_t>(u.kind));
    pack_id(pk, u.id);
    pk.pack(u.incarnation);
    pk.pack(u.counter);
    pack_id(pk, u.from);
  }
  return {buf.data(), buf.size()};
}

Result<std::vector<Update>, GossipError> decode_updates(std::string_view body) {
  auto oh = unpack(body);
  if (!oh) return fail(oh.error());
  const msgpack::object& o = oh->get();
  if (o.type != msgpack::type::ARRAY || o.via.array.size == 0) return fail(GossipError::bad_shape);
  std::vector<Update> out;
  out.reserve(o.via.array.size);
  for (uint32_t i = 0; i < o.via.array.size; ++i) {
    const msgpack::object& u = o.via.array.ptr[i];
    if (u.type != msgpack::type::ARRAY || u.via.array.size != 5) return fail(GossipError::bad_shape);
    const msgpack::object* f = u.via.array.ptr;
    Update up;
    uint64_t kind = 0;
    if (!as_uint(f[0], kind) || kind > static_cast<uint64_t>(UpdateKind::gone)) return fail(GossipError::bad_field);
    up.kind = static_cast<UpdateKind>(kind);
    if (!as_id(f[1], up.id) || !as_uint(f[2], up.incarnation) || !as_uint(f[3], up.counter) || !as_id(f[4], up.from))
      return fail(GossipError::bad_field);
    out.push_back(up);
  }
  return out;
}

std::string encode_probe_request(const ProbeRequest& r) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(2);
  pack_id(pk, r.target);
  pk.pack(r.incarnation);
  return {buf.data(), buf.size()};
}

Result<ProbeRequest, GossipError> decode_probe_request(std::string_view body) {
  auto oh = unpack(body);
  if (!oh) return fail(oh.error());
  const msgpack::object& o = oh->get();
  if (o.type != msgpack::type::ARRAY || o.via.array.size != 2) return fail(GossipError::bad_shape);
  ProbeRequest r;
  if (!as_id(o.via.array.ptr[0], r.target) || !as_uint(o.via.array.ptr[1], r.incarnation))
    return fail(GossipError::bad_field);
  return r;
}

}  // namespace zswarm::discovery
