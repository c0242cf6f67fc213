#include "registry/entry.hpp"

#include <tuple>
#include <utility>

#include "registry/stored_entry.hpp"
#include "registry/wire_util.hpp"

namespace zswarm::registry {

using detail::error;

Result<void, DecodeError> validate(const Entry& e) {
  if (e.name.empty()) return error(DecodeErrc::invalid_value, "entry.name");
  if (e.name.size() > kMaxNameBytes) return error(DecodeErrc::too_large, "entry.name");
  if (e.owner.size() > kMaxOwnerBytes) return error(DecodeErrc::too_large, "entry.owner");
  if (e.owner.empty() && !e.tombstone) return error(DecodeErrc::invalid_value, "entry.owner");
  if (e.owner_name.size() > kMaxOwnerNameBytes) {
    return error(DecodeErrc::too_large, "entry.owner_name");
  }
  if (e.plugin.size() > kMaxPluginBytes) return error(DecodeErrc::too_large, "entry.plugin");
  if (e.args.size() > kMaxArgsBytes) return error(DecodeErrc::too_large, "entry.args");
  if (e.metadata.size() > kMaxMetadataEntries) {
    return error(DecodeErrc::too_large, "entry.metadata");
  }
  for (const auto& [key, value] : e.metadata) {
    if (key.size() > kMaxMetadataKeyBytes || value.size() > kMaxMetadataValueBytes) {
      return error(DecodeErrc::too_large, "entry.metadata");
    }
  }
  if (e.groups.size() > kMaxGroups) return error(DecodeErrc::too_large, "entry.groups");
  for (const auto& group : e.groups) {
    if (group.size() > kMaxGroupBytes) return error(DecodeErrc::too_large, "entry.groups");
  }
  if (e.clock.empty()) return error(DecodeErrc::invalid_value, "entry.clock");
  if (e.clock.size() > VectorClock::kMaxEntries) return error(DecodeErrc::too_large, "clock");
  for (const auto& [id, counter] : e.clock.entries()) {
    if (id.empty()) return error(DecodeErrc::invalid_value, "clock.id");
    if (id.size() > VectorClock::kMaxIdBytes) return error(DecodeErrc::too_large, "clock.id");
    if (counter > VectorClock::kMaxCounter) return error(DecodeErrc::invalid_value, "clock.counter");
  }
  return {};
}

bool version_wins(const Entry& a, const Entry& b) {
  const auto am = a.clock.max();
  const auto bm = b.clock.max();
  if (am != bm) return am > bm;
  if (a.tombstone != b.tombstone) return !a.tombstone;
  // From here on the smaller field wins; the clock last, since folding
  // retired ids changes it but not the stamp above.
  return std::tie(a.owner, a.worker, a.owner_name, a.plugin, a.args, a.metadata, a.groups, a.clock) <
         std::tie(b.owner, b.worker, b.owner_name, b.plugin, b.args, b.metadata, b.groups, b.clock);
}

namespace {

void pack_str(msgpack::packer<msgpack::sbuffer>& pk, std::string_view s) {
  pk.pack_str(static_cast<std::uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

// Field bits, to spot missing and repeated keys.
enum Field : unsigned {
  kName = 1u << 0,
  kOwner = 1u << 1,
  kOwnerName = 1u << 2,
  kWorker = 1u << 3,
  kPlugin = 1u << 4,
  kArgs = 1u << 5,
  kMetadata = 1u << 6,
  kGroups = 1u << 7,
  kClock = 1u << 8,
  kTombstone = 1u << 9,
  kAll = (1u << 10) - 1,
};

// Known fields plus room for ones a later version may add.
constexpr std::uint32_t kMaxEntryKeys = 32;

Result<void, DecodeError> read_metadata(const msgpack::object& o, Entry& e) {
  if (o.type != msgpack::type::MAP) return error(DecodeErrc::wrong_type, "entry.metadata");
  if (o.via.map.size > kMaxMetadataEntries) return error(DecodeErrc::too_large, "entry.metadata");
  for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
    auto key = detail::read_str(o.via.map.ptr[i].key, kMaxMetadataKeyBytes, "entry.metadata");
    if (!key) return fail(key.error());
    auto value = detail::read_str(o.via.map.ptr[i].val, kMaxMetadataValueBytes, "entry.metadata");
    if (!value) return fail(value.error());
    if (!e.metadata.emplace(std::move(key).value(), std::move(value).value()).second) {
      return error(DecodeErrc::duplicate, "entry.metadata");
    }
  }
  return {};
}

Result<void, DecodeError> read_groups(const msgpack::object& o, Entry& e) {
  if (o.type != msgpack::type::ARRAY) return error(DecodeErrc::wrong_type, "entry.groups");
  if (o.via.array.size > kMaxGroups) return error(DecodeErrc::too_large, "entry.groups");
  for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
    auto group = detail::read_str(o.via.array.ptr[i], kMaxGroupBytes, "entry.groups");
    if (!group) return fail(group.error());
    if (!e.groups.insert(std::move(group).value()).second) {
      return error(DecodeErrc::duplicate, "entry.groups");
    }
  }
  return {};
}

// Reads one known field into e; unknown keys return field 0 and are skipped.
Result<unsigned, DecodeError> read_field(std::string_view key, const msgpack::object& v, Entry& e) {
  auto assign = [](auto result, auto& out, unsigned bit) -> Result<unsigned, DecodeError> {
    if (!result) return fail(result.error());
    out = std::move(result).value();
    return bit;
  };
  if (key == "name") return assign(detail::read_str(v, kMaxNameBytes, "entry.name"), e.name, kName);
  if (key == "owner") {
    return assign(detail::read_bin(v, kMaxOwnerBytes, "entry.owner"), e.owner, kOwner);
  }
  if (key == "owner_name") {
    return assign(detail::read_str(v, kMaxOwnerNameBytes, "entry.owner_name"), e.owner_name,
                  kOwnerName);
  }
  if (key == "worker") return assign(detail::read_uint(v, "entry.worker"), e.worker, kWorker);
  if (key == "plugin") {
    return assign(detail::read_str(v, kMaxPluginBytes, "entry.plugin"), e.plugin, kPlugin);
  }
  if (key == "args") return assign(detail::read_bin(v, kMaxArgsBytes, "entry.args"), e.args, kArgs);
  if (key == "metadata") {
    auto r = read_metadata(v, e);
    if (!r) return fail(r.error());
    return kMetadata;
  }
  if (key == "groups") {
    auto r = read_groups(v, e);
    if (!r) return fail(r.error());
    return kGroups;
  }
  if (key == "clock") return assign(vector_clock_from_object(v), e.clock, kClock);
  if (key == "tombstone") {
    return assign(detail::read_bool(v, "entry.tombstone"), e.tombstone, kTombstone);
  }
  return 0u;
}

}  // namespace

void pack(msgpack::packer<msgpack::sbuffer>& pk, const Entry& e) { pack(pk, EntryView(e)); }

void pack(msgpack::packer<msgpack::sbuffer>& pk, const EntryView& e) {
  pk.pack_map(10);
  pack_str(pk, "name");
  pack_str(pk, e.name);
  pack_str(pk, "owner");
  pk.pack_bin(static_cast<std::uint32_t>(e.owner.size()));
  pk.pack_bin_body(e.owner.data(), static_cast<std::uint32_t>(e.owner.size()));
  pack_str(pk, "owner_name");
  pack_str(pk, e.owner_name);
  pack_str(pk, "worker");
  pk.pack_uint64(e.worker);
  pack_str(pk, "plugin");
  pack_str(pk, e.plugin);
  pack_str(pk, "args");
  pk.pack_bin(static_cast<std::uint32_t>(e.args.size()));
  pk.pack_bin_body(e.args.data(), static_cast<std::uint32_t>(e.args.size()));
  pack_str(pk, "metadata");
  pk.pack_map(static_cast<std::uint32_t>(e.metadata.size()));
  for (const auto& [key, value] : e.metadata) {
    pack_str(pk, key);
    pack_str(pk, value);
  }
  pack_str(pk, "groups");
  pk.pack_array(static_cast<std::uint32_t>(e.groups.size()));
  for (const auto& group : e.groups) pack_str(pk, group);
  pack_str(pk, "clock");
  if (e.clock_) {
    pack(pk, *e.clock_);
  } else {
    detail::pack(pk, *e.dots_, *e.pool_);
  }
  pack_str(pk, "tombstone");
  if (e.tombstone) {
    pk.pack_true();
  } else {
    pk.pack_false();
  }
}

std::string encode(const Entry& entry) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> pk(buffer);
  pack(pk, entry);
  return std::string(buffer.data(), buffer.size());
}

std::string encode_snapshot(const std::vector<Entry>& entries) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> pk(buffer);
  pk.pack_array(static_cast<std::uint32_t>(entries.size()));
  for (const auto& entry : entries) pack(pk, entry);
  return std::string(buffer.data(), buffer.size());
}

void SnapshotChunker::add(const Entry& entry) { add(EntryView(entry)); }

void SnapshotChunker::add(const EntryView& entry) {
  msgpack::packer<msgpack::sbuffer> pk(body_);
  pack(pk, entry);
  if (++count_ == kMaxSnapshotEntries || body_.size() >= chunk_bytes_) close();
}

void SnapshotChunker::close() {
  msgpack::sbuffer out(body_.size() + 8);
  msgpack::packer<msgpack::sbuffer> pk(out);
  pk.pack_array(static_cast<std::uint32_t>(count_));
  out.write(body_.data(), body_.size());
  chunks_.emplace_back(out.data(), out.size());
  body_.clear();
  count_ = 0;
}

std::vector<std::string> SnapshotChunker::finish() {
  if (count_ > 0 || chunks_.empty()) close();
  return std::exchange(chunks_, {});
}

std::vector<std::string> encode_snapshot_chunks(const std::vector<Entry>& entries,
                                                std::size_t chunk_bytes) {
  SnapshotChunker chunker(chunk_bytes);
  for (const auto& entry : entries) chunker.add(entry);
  return chunker.finish();
}

Result<Entry, DecodeError> entry_from_object(const msgpack::object& o, uint64_t* unknown_fields) {
  if (o.type != msgpack::type::MAP) return error(DecodeErrc::wrong_type, "entry");
  if (o.via.map.size > kMaxEntryKeys) return error(DecodeErrc::too_large, "entry");
  Entry e;
  unsigned seen = 0;
  for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
    const msgpack::object_kv& kv = o.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) return error(DecodeErrc::wrong_type, "entry.key");
    const std::string_view key(kv.key.via.str.ptr, kv.key.via.str.size);
    auto field = read_field(key, kv.val, e);
    if (!field) return fail(field.error());
    if ((seen & *field) != 0) return error(DecodeErrc::duplicate, "entry.key");
    if (*field == 0 && unknown_fields) ++*unknown_fields;
    seen |= *field;
  }
  if (seen != kAll) return error(DecodeErrc::missing_field, "entry");
  auto valid = validate(e);
  if (!valid) return fail(valid.error());
  return e;
}

Result<Entry, DecodeError> decode_entry(std::string_view bytes, uint64_t* unknown_fields) {
  auto handle = detail::unpack_one(bytes, 6, VectorClock::kMaxEntries);
  if (!handle) return fail(handle.error());
  return entry_from_object(handle->get(), unknown_fields);
}

Result<std::vector<Entry>, DecodeError> snapshot_from_object(const msgpack::object& o, uint64_t* unknown_fields) {
  if (o.type != msgpack::type::ARRAY) return error(DecodeErrc::wrong_type, "snapshot");
  if (o.via.array.size > kMaxSnapshotEntries) return error(DecodeErrc::too_large, "snapshot");
  std::vector<Entry> entries;
  // No reserve(size): the count is attacker-chosen, and sizeof(Entry) is far
  // larger than the one byte each element needs on the wire.
  for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
    auto entry = entry_from_object(o.via.array.ptr[i], unknown_fields);
    if (!entry) return fail(entry.error());
    entries.push_back(std::move(entry).value());
  }
  return entries;
}

Result<std::vector<Entry>, DecodeError> decode_snapshot(std::string_view bytes, uint64_t* unknown_fields) {
  auto handle = detail::unpack_one(bytes, 7, std::max<std::size_t>(kMaxSnapshotEntries, VectorClock::kMaxEntries));
  if (!handle) return fail(handle.error());
  return snapshot_from_object(handle->get(), unknown_fields);
}

}  // namespace zswarm::registry
