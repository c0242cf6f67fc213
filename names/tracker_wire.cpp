#include "names/tracker_wire.hpp"

#include <msgpack.hpp>

#include "names/ref.hpp"
#include "registry/entry.hpp"
#include "registry/wire_util.hpp"

namespace zswarm::names::wire {
namespace {

using registry::DecodeErrc;
using registry::detail::error;
using Packer = msgpack::packer<msgpack::sbuffer>;

// Field sizes: a name as the registry allows it, the rest bounded by the frame.
constexpr std::size_t kMaxName = registry::kMaxNameBytes;
constexpr std::size_t kMaxShort = 256;      // plugin, kind, error code
constexpr std::size_t kMaxText = 64 << 10;  // an error's detail
constexpr std::size_t kNoLimit = SIZE_MAX;  // bytes: the frame limit bounds them

void str(Packer& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}
void bin(Packer& pk, std::string_view s) {
  pk.pack_bin(static_cast<uint32_t>(s.size()));
  pk.pack_bin_body(s.data(), static_cast<uint32_t>(s.size()));
}
std::string out(const msgpack::sbuffer& b) { return {b.data(), b.size()}; }

// A packer target that writes straight into the string it returns.
struct StringSink {
  std::string bytes;
  void write(const char* data, std::size_t n) { bytes.append(data, n); }
};

// Walks one body map: `visit(key, value)` reads a known key and returns the
// bit it stands for, 0 for a key it does not know (skipped, for later
// versions), or a DecodeError. Missing keys are the caller's check on the
// returned bits; a key given twice is `duplicate`.
template <class Visit>
Result<unsigned, DecodeError> read_map(std::string_view body, std::string_view where, uint64_t* unknown, Visit visit) {
  auto handle = registry::detail::unpack_one(body, kMaxBodyDepth, kMaxBodyElements);
  if (!handle) return fail(handle.error());
  const msgpack::object& o = handle->get();
  if (o.type != msgpack::type::MAP) return error(DecodeErrc::wrong_type, where);
  unsigned seen = 0;
  for (uint32_t i = 0; i < o.via.map.size; ++i) {
    const auto& kv = o.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) return error(DecodeErrc::wrong_type, where);
    auto bit = visit(std::string_view(kv.key.via.str.ptr, kv.key.via.str.size), kv.val);
    if (!bit) return fail(bit.error());
    if (seen & *bit) return error(DecodeErrc::duplicate, where);
    if (*bit == 0 && unknown) ++*unknown;
    seen |= *bit;
  }
  return seen;
}

// Stores a typed read into `field` and answers the key's bit.
template <class T>
Result<unsigned, DecodeError> take(Result<T, DecodeError> r, T& field, unsigned bit) {
  if (!r) return fail(r.error());
  field = std::move(*r);
  return bit;
}

Result<unsigned, DecodeError> require(Result<unsigned, DecodeError> seen, unsigned all,
                                      std::string_view where) {
  if (!seen) return seen;
  if ((*seen & all) != all) return error(DecodeErrc::missing_field, where);
  return seen;
}

}  // namespace

using registry::detail::read_bin;
using registry::detail::read_bool;
using registry::detail::read_str;
using registry::detail::read_uint;

std::string encode(const RegisterRequest& m) {
  msgpack::sbuffer b;
  Packer pk(b);
  pk.pack_map(m.hops > 0 ? 4 : 3);  // a request not forwarded keeps the v1 bytes
  str(pk, "args"), bin(pk, m.args);
  if (m.hops > 0) str(pk, "hops"), pk.pack_uint64(m.hops);
  str(pk, "name"), str(pk, m.name);
  str(pk, "plugin"), str(pk, m.plugin);
  return out(b);
}

Result<RegisterRequest, DecodeError> decode_register_request(std::string_view body, uint64_t* unknown_fields) {
  RegisterRequest m;
  auto seen = require(read_map(body, "register_request", unknown_fields,
                               [&](std::string_view k, const msgpack::object& v) -> Result<unsigned, DecodeError> {
                                 if (k == "name") return take(read_str(v, kMaxName, "register_request.name"), m.name, 1);
                                 if (k == "plugin")
                                   return take(read_str(v, kMaxShort, "register_request.plugin"), m.plugin, 2);
                                 if (k == "args")
                                   return take(read_bin(v, registry::kMaxArgsBytes, "register_request.args"), m.args, 4);
                                 if (k == "hops") return take(read_uint(v, "register_request.hops"), m.hops, 8);
                                 return 0u;
                               }),
                      7, "register_request");
  if (!seen) return fail(seen.error());
  return m;
}

std::string encode(const SyncRequest& m) {
  if (m.snapshot && !m.owned) return {};  // the default needs no body
  msgpack::sbuffer b(24);
  Packer pk(b);
  pk.pack_map(static_cast<uint32_t>(!m.snapshot) + static_cast<uint32_t>(m.owned));
  if (m.owned) str(pk, "owned"), pk.pack_true();
  if (!m.snapshot) str(pk, "snapshot"), pk.pack_false();
  return out(b);
}

Result<SyncRequest, DecodeError> decode_sync_request(std::string_view body, uint64_t* unknown_fields) {
  SyncRequest m;
  if (body.empty()) return m;
  auto seen = read_map(body, "sync_request", unknown_fields,
                       [&](std::string_view k, const msgpack::object& v) -> Result<unsigned, DecodeError> {
                         if (k == "snapshot") return take(read_bool(v, "sync_request.snapshot"), m.snapshot, 1);
                         if (k == "owned") return take(read_bool(v, "sync_request.owned"), m.owned, 2);
                         return 0u;
                       });
  if (!seen) return fail(seen.error());
  return m;
}

std::string encode(const UnregisterRequest& m) {
  msgpack::sbuffer b;
  Packer pk(b);
  pk.pack_map(1);
  str(pk, "name"), str(pk, m.name);
  return out(b);
}

Result<UnregisterRequest, DecodeError> decode_unregister_request(std::string_view body, uint64_t* unknown_fields) {
  UnregisterRequest m;
  auto seen = require(read_map(body, "unregister_request", unknown_fields,
                               [&](std::string_view k, const msgpack::object& v) -> Result<unsigned, DecodeError> {
                                 if (k == "name") return take(read_str(v, kMaxName, "unregister_request.name"), m.name, 1);
                                 return 0u;
                               }),
                      1, "unregister_request");
  if (!seen) return fail(seen.error());
  return m;
}

constexpr std::size_t kIdBytes = 16;  // a node id (bus::NodeId)

std::string encode(const Quarantine& m) {
  msgpack::sbuffer b;
  Packer pk(b);
  pk.pack_map(3);
  str(pk, "id"), bin(pk, m.id);
  str(pk, "lowest"), bin(pk, m.lowest);
  str(pk, "members"), pk.pack_uint64(m.members);
  return out(b);
}

Result<Quarantine, DecodeError> decode_quarantine(std::string_view body, uint64_t* unknown_fields) {
  Quarantine m;
  auto seen = require(read_map(body, "quarantine", unknown_fields,
                               [&](std::string_view k, const msgpack::object& v) -> Result<unsigned, DecodeError> {
                                 if (k == "id") return take(read_bin(v, kIdBytes, "quarantine.id"), m.id, 1);
                                 if (k == "lowest") return take(read_bin(v, kIdBytes, "quarantine.lowest"), m.lowest, 2);
                                 if (k == "members") return take(read_uint(v, "quarantine.members"), m.members, 4);
                                 return 0u;
                               }),
                      7, "quarantine");
  if (!seen) return fail(seen.error());
  return m;
}

namespace {
// `key` is "name" or "ref": both sort after "message", so the keys stay in order.
std::string encode_worker_body(std::string_view key, std::string_view target, std::string_view message,
                               uint64_t hops) {
  StringSink sink;
  sink.bytes.reserve(message.size() + target.size() + 32);
  msgpack::packer<StringSink> pk(sink);
  pk.pack_map(3);
  pk.pack_str(4), pk.pack_str_body("hops", 4), pk.pack_uint64(hops);
  pk.pack_str(7), pk.pack_str_body("message", 7);
  pk.pack_bin(static_cast<uint32_t>(message.size())), pk.pack_bin_body(message.data(), static_cast<uint32_t>(message.size()));
  pk.pack_str(static_cast<uint32_t>(key.size())), pk.pack_str_body(key.data(), static_cast<uint32_t>(key.size()));
  pk.pack_str(static_cast<uint32_t>(target.size())), pk.pack_str_body(target.data(), static_cast<uint32_t>(target.size()));
  return std::move(sink.bytes);
}
}  // namespace

std::string encode_worker_message(std::string_view name, std::string_view message, uint64_t hops) {
  return encode_worker_body("name", name, message, hops);
}

std::string encode_worker_ref_message(std::string_view ref, std::string_view message, uint64_t hops) {
  return encode_worker_body("ref", ref, message, hops);
}

std::string encode(const WorkerMessage& m) {
  return m.ref.empty() ? encode_worker_message(m.name, m.message, m.hops)
                       : encode_worker_ref_message(m.ref, m.message, m.hops);
}

Result<WorkerMessage, DecodeError> decode_worker_message(std::string_view body, uint64_t* unknown_fields) {
  WorkerMessage m;
  auto seen = require(read_map(body, "worker_message", unknown_fields,
                               [&](std::string_view k, const msgpack::object& v) -> Result<unsigned, DecodeError> {
                                 if (k == "name") return take(read_str(v, kMaxName, "worker_message.name"), m.name, 1);
                                 if (k == "message")
                                   return take(read_bin(v, kNoLimit, "worker_message.message"), m.message, 2);
                                 if (k == "hops") return take(read_uint(v, "worker_message.hops"), m.hops, 4);
                                 if (k == "ref") return take(read_str(v, kMaxRefBytes, "worker_message.ref"), m.ref, 8);
                                 return 0u;
                               }),
                      6, "worker_message");
  if (!seen) return fail(seen.error());
  // Exactly one target: a name, or one worker's REF.
  const unsigned targets = *seen & 9u;
  if (targets == 0) return error(DecodeErrc::missing_field, "worker_message.name");
  if (targets == 9u) return error(DecodeErrc::invalid_value, "worker_message.ref");
  if (targets == 8u && m.ref.empty()) return error(DecodeErrc::invalid_value, "worker_message.ref");
  return m;
}

std::string encode(const HandoffOffer& m) {
  msgpack::sbuffer b(m.entry.size() + m.state.size() + 64);
  Packer pk(b);
  const bool parted = m.parts != 1;  // a single-part offer keeps the v1 bytes
  pk.pack_map(parted ? 5 : 3);
  str(pk, "entry"), bin(pk, m.entry);
  str(pk, "kind"), str(pk, m.kind);
  if (parted) {
    str(pk, "part"), pk.pack_uint64(m.part);
    str(pk, "parts"), pk.pack_uint64(m.parts);
  }
  str(pk, "state"), bin(pk, m.state);
  return out(b);
}

Result<HandoffOffer, DecodeError> decode_handoff_offer(std::string_view body, uint64_t* unknown_fields) {
  HandoffOffer m;
  auto seen = require(read_map(body, "handoff_offer", unknown_fields,
                               [&](std::string_view k, const msgpack::object& v) -> Result<unsigned, DecodeError> {
                                 if (k == "entry") return take(read_bin(v, kNoLimit, "handoff_offer.entry"), m.entry, 1);
                                 if (k == "kind") return take(read_str(v, kMaxShort, "handoff_offer.kind"), m.kind, 2);
                                 if (k == "state") return take(read_bin(v, kNoLimit, "handoff_offer.state"), m.state, 4);
                                 if (k == "part") return take(read_uint(v, "handoff_offer.part"), m.part, 8);
                                 if (k == "parts") return take(read_uint(v, "handoff_offer.parts"), m.parts, 16);
                                 return 0u;
                               }),
                      7, "handoff_offer");
  if (!seen) return fail(seen.error());
  if (m.parts == 0 || m.parts > kMaxHandoffParts) return error(DecodeErrc::invalid_value, "handoff_offer.parts");
  if (m.part >= m.parts) return error(DecodeErrc::invalid_value, "handoff_offer.part");
  return m;
}

std::string encode_answer(const Result<std::string, Error>& r) {
  msgpack::sbuffer b(r ? r->size() + 16 : 64);
  Packer pk(b);
  if (r) {
    pk.pack_map(2);
    str(pk, "ok"), pk.pack_true();
    str(pk, "value"), bin(pk, *r);
  } else {
    pk.pack_map(3);
    // Plugin error text is unbounded; the reader takes at most kMaxText.
    str(pk, "detail"), str(pk, std::string_view(r.error().detail).substr(0, kMaxText));
    str(pk, "error"), str(pk, r.error().name());
    str(pk, "ok"), pk.pack_false();
  }
  return out(b);
}

Result<std::string, Error> decode_answer(std::string_view body, uint64_t* unknown_fields) {
  bool ok = false;
  std::string value, code, detail;
  auto seen = read_map(body, "answer", unknown_fields, [&](std::string_view k, const msgpack::object& v) -> Result<unsigned, DecodeError> {
    if (k == "ok") return take(read_bool(v, "answer.ok"), ok, 1);
    if (k == "value") return take(read_bin(v, kNoLimit, "answer.value"), value, 2);
    if (k == "error") return take(read_str(v, kMaxShort, "answer.error"), code, 4);
    if (k == "detail") return take(read_str(v, kMaxText, "answer.detail"), detail, 8);
    return 0u;
  });
  auto malformed = [](std::string why) { return fail(Error{Errc::bad_message, "malformed answer: " + why}); };
  if (!seen) return malformed(registry::to_string(seen.error()));
  if (!(*seen & 1)) return malformed("missing_field at answer.ok");
  if (ok) {
    if (!(*seen & 2)) return malformed("missing_field at answer.value");
    return value;
  }
  if (!(*seen & 4)) return malformed("missing_field at answer.error");
  if (!(*seen & 8)) return malformed("missing_field at answer.detail");
  // A code this version does not know (a newer peer's) keeps its name.
  auto known = errc_from_name(code);
  return fail(Error{known.value_or(Errc::failed), known ? detail : (code + ": " + detail).substr(0, kMaxText)});
}

}  // namespace zswarm::names::wire
