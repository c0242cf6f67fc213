#include "bus/envelope.hpp"

#include <algorithm>

#include <msgpack.hpp>

namespace zswarm::bus {

std::string_view to_string(MessageType t) {
  switch (t) {
    case MessageType::heartbeat: return "heartbeat";
    case MessageType::goodbye: return "goodbye";
    case MessageType::probe: return "probe";
    case MessageType::probe_ack: return "probe_ack";
    case MessageType::probe_request: return "probe_request";
    case MessageType::gossip: return "gossip";
    case MessageType::probe_nack: return "probe_nack";
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
    case MessageType::conflict_state: return "conflict_state";
    case MessageType::quarantine: return "quarantine";
  }
  return "";
}

std::string_view to_string(DecodeError e) {
  switch (e) {
    case DecodeError::empty: return "empty frame";
    case DecodeError::too_large: return "frame too large";
    case DecodeError::not_msgpack: return "not msgpack";
    case DecodeError::not_array: return "not an array";
    case DecodeError::wrong_arity: return "too few fields";
    case DecodeError::bad_version: return "unsupported protocol version";
    case DecodeError::unknown_type: return "message type out of range";
    case DecodeError::bad_field: return "field of wrong type";
    case DecodeError::trailing_bytes: return "bytes after the frame";
    case DecodeError::no_messages: return "a frame with no message";
    case DecodeError::too_many_messages: return "more messages than a frame may hold";
  }
  return "?";
}

uint8_t common_version(VersionRange a, VersionRange b) {
  uint8_t hi = std::min(a.max, b.max);
  return hi >= std::max(a.min, b.min) ? hi : 0;
}

FrameBuilder::FrameBuilder(uint8_t version, const NodeId& sender, uint64_t incarnation) {
  msgpack::sbuffer buf(32);
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(4);
  pk.pack_uint8(version);
  std::string id = sender.bytes();
  pk.pack_bin(static_cast<uint32_t>(id.size()));
  pk.pack_bin_body(id.data(), static_cast<uint32_t>(id.size()));
  pk.pack_uint64(incarnation);
  head_.assign(buf.data(), buf.size());
}

namespace {
// Appends msgpack to a std::string, so a frame is built without a second buffer.
struct StringSink {
  std::string& s;
  void write(const char* p, std::size_t n) { s.append(p, n); }
};
}  // namespace

void FrameBuilder::add(MessageType type, uint64_t seq, uint64_t corr, std::string_view body) {
  StringSink sink{messages_};
  msgpack::packer<StringSink> pk(sink);
  pk.pack_array(4);
  pk.pack_uint8(static_cast<uint8_t>(type));
  pk.pack_uint64(seq);
  pk.pack_uint64(corr);
  pk.pack_bin(static_cast<uint32_t>(body.size()));
  pk.pack_bin_body(body.data(), static_cast<uint32_t>(body.size()));
  ++count_;
}

std::string FrameBuilder::take() {
  std::string out;
  out.reserve(head_.size() + 5 + messages_.size());
  out = head_;
  StringSink sink{out};
  msgpack::packer<StringSink> pk(sink);
  pk.pack_array(static_cast<uint32_t>(count_));
  out += messages_;
  messages_.clear();
  count_ = 0;
  return out;
}

std::string encode(const Envelope& e) {
  FrameBuilder b(e.version, e.sender, e.incarnation);
  b.add(e.type, e.seq, e.corr, e.body);
  return b.take();
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

// Bounds on what the unpacker may allocate for one frame: the message array
// is the only long one, there are no maps, and a later version's extra
// fields are scalars, str or bin (so nothing nests deeper than a message).
// Short strings pass, so that a mistyped field reads as bad_field.
const msgpack::unpack_limit kLimits(/*array*/ kMaxFrameMessages, /*map*/ 0, /*str*/ 1024,
                                    /*bin*/ kMaxFrameSize, /*ext*/ 0, /*depth*/ 3);

// Bodies point into the frame while it is decoded, instead of being copied twice.
bool reference_bin(msgpack::type::object_type t, std::size_t, void*) { return t == msgpack::type::BIN; }

}  // namespace

Result<DecodedFrame, DecodeError> decode_frame(std::string_view frame, VersionRange accept) {
  if (frame.empty()) return fail(DecodeError::empty);
  if (frame.size() > kMaxFrameSize) return fail(DecodeError::too_large);
  msgpack::object_handle oh;
  std::size_t off = 0;
  try {
    oh = msgpack::unpack(frame.data(), frame.size(), off, reference_bin, nullptr, kLimits);
  } catch (const msgpack::array_size_overflow&) {
    return fail(DecodeError::too_many_messages);
  } catch (const std::exception&) {
    return fail(DecodeError::not_msgpack);
  }
  if (off != frame.size()) return fail(DecodeError::trailing_bytes);
  const msgpack::object& o = oh.get();
  if (o.type != msgpack::type::ARRAY) return fail(DecodeError::not_array);
  if (o.via.array.size < 4) return fail(DecodeError::wrong_arity);
  const msgpack::object* f = o.via.array.ptr;

  DecodedFrame out;
  out.fields_skipped = o.via.array.size - 4;
  uint64_t version = 0, incarnation = 0;
  std::string_view sender;
  if (!as_uint(f[0], version)) return fail(DecodeError::bad_field);
  if (!accept.contains(version)) return fail(DecodeError::bad_version);
  if (!as_bin(f[1], sender)) return fail(DecodeError::bad_field);
  auto id = NodeId::from_bytes(sender);
  if (!id) return fail(DecodeError::bad_field);
  if (!as_uint(f[2], incarnation)) return fail(DecodeError::bad_field);
  if (f[3].type != msgpack::type::ARRAY) return fail(DecodeError::bad_field);
  const auto& list = f[3].via.array;
  if (list.size == 0) return fail(DecodeError::no_messages);

  out.messages.reserve(list.size);
  for (uint32_t i = 0; i < list.size; ++i) {
    const msgpack::object& m = list.ptr[i];
    if (m.type != msgpack::type::ARRAY) return fail(DecodeError::bad_field);
    if (m.via.array.size < 4) return fail(DecodeError::wrong_arity);
    out.fields_skipped += m.via.array.size - 4;
    const msgpack::object* g = m.via.array.ptr;
    Envelope e;
    uint64_t type = 0;
    std::string_view body;
    if (!as_uint(g[0], type)) return fail(DecodeError::bad_field);
    // Any u8 but 0 decodes: a type this build does not know is a later
    // version's, and the receiver skips it (counted), it is not malformed.
    if (type == 0 || type > 255) return fail(DecodeError::unknown_type);
    if (!as_uint(g[1], e.seq) || !as_uint(g[2], e.corr) || !as_bin(g[3], body)) return fail(DecodeError::bad_field);
    e.version = static_cast<uint8_t>(version);
    e.type = static_cast<MessageType>(type);
    e.sender = *id;
    e.incarnation = incarnation;
    e.body.assign(body);
    out.messages.push_back(std::move(e));
  }
  return out;
}

}  // namespace zswarm::bus
