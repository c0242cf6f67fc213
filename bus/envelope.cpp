#include "bus/envelope.hpp"

#include <msgpack.hpp>

namespace zswarm::bus {

std::string_view to_string(MessageType t) {
  switch (t) {
    case MessageType::heartbeat: return "heartbeat";
    case MessageType::goodbye: return "goodbye";
    case MessageType::probe: return "probe";
    case MessageType::probe_ack: return "probe_ack";
    case MessageType::registry_delta: return "registry_delta";
    case MessageType::sync_request: return "sync_request";
    case MessageType::sync_snapshot: return "sync_snapshot";
    case MessageType::digest: return "digest";
    case MessageType::register_request: return "register_request";
    case MessageType::register_reply: return "register_reply";
    case MessageType::unregister_request: return "unregister_request";
    case MessageType::unregister_reply: return "unregister_reply";
    case MessageType::worker_cast: return "worker_cast";
    case MessageType::worker_call: return "worker_call";
    case MessageType::worker_reply: return "worker_reply";
    case MessageType::handoff_offer: return "handoff_offer";
    case MessageType::handoff_done: return "handoff_done";
  }
  return "";
}

std::string_view to_string(DecodeError e) {
  switch (e) {
    case DecodeError::empty: return "empty frame";
    case DecodeError::too_large: return "frame too large";
    case DecodeError::not_msgpack: return "not msgpack";
    case DecodeError::not_array: return "not an array";
    case DecodeError::wrong_arity: return "wrong number of fields";
    case DecodeError::bad_version: return "unsupported protocol version";
    case DecodeError::unknown_type: return "unknown message type";
    case DecodeError::bad_field: return "field of wrong type";
    case DecodeError::trailing_bytes: return "bytes after the envelope";
  }
  return "?";
}

std::string encode(const Envelope& e) {
  msgpack::sbuffer buf(64 + e.body.size());
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(7);
  pk.pack_uint8(e.version);
  pk.pack_uint8(static_cast<uint8_t>(e.type));
  std::string sender = e.sender.bytes();
  pk.pack_bin(static_cast<uint32_t>(sender.size()));
  pk.pack_bin_body(sender.data(), static_cast<uint32_t>(sender.size()));
  pk.pack_uint64(e.incarnation);
  pk.pack_uint64(e.seq);
  pk.pack_uint64(e.corr);
  pk.pack_bin(static_cast<uint32_t>(e.body.size()));
  pk.pack_bin_body(e.body.data(), static_cast<uint32_t>(e.body.size()));
  return {buf.data(), buf.size()};
}

namespace {

bool as_uint(const msgpack::object& o, uint64_t& out) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) return false;
  out = o.via.u64;
  return true;
}

bool as_bin(const msgpack::object& o, std::string_view& out) {
  if (o.type != msgpack::type::BIN) return false;
  out = {o.via.bin.ptr, o.via.bin.size};
  return true;
}

// Bounds on what the unpacker may allocate for one envelope: 7 fields, no
// maps; short strings pass so that a mistyped field reads as bad_field.
const msgpack::unpack_limit kLimits(/*array*/ 7, /*map*/ 0, /*str*/ 1024, /*bin*/ kMaxFrameSize,
                                    /*ext*/ 0, /*depth*/ 1);

}  // namespace

Result<Envelope, DecodeError> decode(std::string_view frame) {
  if (frame.empty()) return fail(DecodeError::empty);
  if (frame.size() > kMaxFrameSize) return fail(DecodeError::too_large);
  msgpack::object_handle oh;
  std::size_t off = 0;
  try {
    oh = msgpack::unpack(frame.data(), frame.size(), off, nullptr, nullptr, kLimits);
  } catch (const std::exception&) {
    return fail(DecodeError::not_msgpack);
  }
  if (off != frame.size()) return fail(DecodeError::trailing_bytes);
  const msgpack::object& o = oh.get();
  if (o.type != msgpack::type::ARRAY) return fail(DecodeError::not_array);
  if (o.via.array.size != 7) return fail(DecodeError::wrong_arity);
  const msgpack::object* f = o.via.array.ptr;

  Envelope e;
  uint64_t version = 0, type = 0;
  if (!as_uint(f[0], version)) return fail(DecodeError::bad_field);
  if (version != kProtocolVersion) return fail(DecodeError::bad_version);
  if (!as_uint(f[1], type)) return fail(DecodeError::bad_field);
  // Any u8 but 0 decodes: a type this build does not know is a later
  // version's, and the receiver skips it (counted), it is not malformed.
  if (type == 0 || type > 255) return fail(DecodeError::unknown_type);
  std::string_view sender, body;
  if (!as_bin(f[2], sender)) return fail(DecodeError::bad_field);
  auto id = NodeId::from_bytes(sender);
  if (!id) return fail(DecodeError::bad_field);
  if (!as_uint(f[3], e.incarnation) || !as_uint(f[4], e.seq) || !as_uint(f[5], e.corr))
    return fail(DecodeError::bad_field);
  if (!as_bin(f[6], body)) return fail(DecodeError::bad_field);
  e.version = static_cast<uint8_t>(version);
  e.type = static_cast<MessageType>(type);
  e.sender = *id;
  e.body.assign(body);
  return e;
}

}  // namespace zswarm::bus
