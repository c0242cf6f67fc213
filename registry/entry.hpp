// Entry: one version of one registered name, as the registry stores and
// replicates it, and its msgpack wire form (one entry, or a full snapshot).
//
// A delete is an Entry too (tombstone = true): it must outlive the live
// version it supersedes until every member has seen it.
//
// Versions of one name are totally ordered by version_wins(): causal order
// first (a later clock always wins), then a deterministic rank for concurrent
// versions, so every replica keeps the same one whatever it receives first.
//
// Wire form: a msgpack map with these str keys, all required (unknown keys are
// skipped, so fields can be added later):
//   "name" str, "owner" bin, "owner_name" str, "worker" uint, "plugin" str,
//   "args" bin, "metadata" map str->str, "groups" array of str (no repeats),
//   "clock" VectorClock (non-empty), "tombstone" bool.
// A snapshot is a msgpack array of entries, sent in chunks that each fit a
// bus frame. Sizes are capped by kMax* below.
//
// Plain value types and pure functions: thread-safe to share const.
#pragma once

#include <msgpack.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "registry/decode_error.hpp"
#include "registry/vector_clock.hpp"
#include "zswarm/result.hpp"

namespace zswarm::registry {

struct Entry {
  std::string name;
  std::string owner;       // raw id bytes of the node running the worker
  std::string owner_name;  // "name@host", for display
  std::uint64_t worker = 0;
  std::string plugin;
  std::string args;  // opaque bytes handed to the plugin
  std::map<std::string, std::string> metadata;
  std::set<std::string> groups;
  VectorClock clock;
  bool tombstone = false;

  friend bool operator==(const Entry&, const Entry&) = default;
};

// Size limits, enforced by decode and by Registry::put (so a local write can
// never produce an entry its peers would reject).
inline constexpr std::size_t kMaxNameBytes = 1024;
inline constexpr std::size_t kMaxOwnerBytes = VectorClock::kMaxIdBytes;
inline constexpr std::size_t kMaxOwnerNameBytes = 256;
inline constexpr std::size_t kMaxPluginBytes = 256;
// Small enough that an entry always fits one frame of the smallest allowed
// max_frame_bytes (1 MiB), with its envelope and the answer map around it.
inline constexpr std::size_t kMaxArgsBytes = 256 << 10;
inline constexpr std::size_t kMaxMetadataEntries = 64;
inline constexpr std::size_t kMaxMetadataKeyBytes = 256;
inline constexpr std::size_t kMaxMetadataValueBytes = 4096;
inline constexpr std::size_t kMaxGroups = 64;
inline constexpr std::size_t kMaxGroupBytes = 256;
// One snapshot chunk: at most this many entries, and encode_snapshot_chunks
// closes a chunk once it passes kSnapshotChunkBytes.
inline constexpr std::size_t kMaxSnapshotEntries = 16384;
inline constexpr std::size_t kSnapshotChunkBytes = 256 << 10;

// Checks the limits and invariants: non-empty name and clock, owner set on
// live entries, clock ids and counters in range.
Result<void, DecodeError> validate(const Entry& entry);

// True when version a beats version b of the same name. A strict total order
// on entries; it extends causality for clocks whose writers draw each dot
// above every counter they have seen (Registry::put), as a Lamport clock:
//   1. larger largest counter (VectorClock::max: a causal successor's is
//      larger; folding retired ids leaves it as it was),
//   2. a live entry beats a tombstone,
//   3. smaller owner id, 4. smaller worker id,
//   5. then the remaining fields and last the clock, so that even two
//      different entries with the same stamp resolve the same way everywhere.
// Because it is a total order, "keep the winner" converges in any order.
bool version_wins(const Entry& a, const Entry& b);

// A stored version, borrowed from a Registry (registry/stored_entry.hpp).
struct EntryView;

void pack(msgpack::packer<msgpack::sbuffer>& packer, const Entry& entry);
// The same wire form, read from a registry's stored version in place.
void pack(msgpack::packer<msgpack::sbuffer>& packer, const EntryView& entry);
std::string encode(const Entry& entry);
std::string encode_snapshot(const std::vector<Entry>& entries);
// The same entries as snapshot bodies of at most kMaxSnapshotEntries entries
// and about `chunk_bytes` each (one entry may exceed it alone). Never empty:
// no entries give one empty snapshot.
std::vector<std::string> encode_snapshot_chunks(const std::vector<Entry>& entries,
                                                std::size_t chunk_bytes = kSnapshotChunkBytes);

// Packs entries into snapshot chunks as they come: a chunk closes at
// kMaxSnapshotEntries entries or once it passes chunk_bytes.
class SnapshotChunker {
 public:
  explicit SnapshotChunker(std::size_t chunk_bytes = kSnapshotChunkBytes) : chunk_bytes_(chunk_bytes) {}
  void add(const Entry& entry);
  void add(const EntryView& entry);
  // Closes the chunk being filled (an empty one if no chunk was made yet).
  std::vector<std::string> finish();
  // Bytes and entries in the open chunk.
  std::size_t bytes() const { return body_.size(); }
  std::size_t count() const { return count_; }

 private:
  void close();
  std::size_t chunk_bytes_;
  msgpack::sbuffer body_;  // the entries of the chunk being filled
  std::size_t count_ = 0;
  std::vector<std::string> chunks_;
};

// Decoders add the keys they skipped (a later version's fields) to
// *unknown_fields when it is given.
Result<Entry, DecodeError> entry_from_object(const msgpack::object& object, uint64_t* unknown_fields = nullptr);
Result<Entry, DecodeError> decode_entry(std::string_view bytes, uint64_t* unknown_fields = nullptr);
Result<std::vector<Entry>, DecodeError> snapshot_from_object(const msgpack::object& object,
                                                             uint64_t* unknown_fields = nullptr);
Result<std::vector<Entry>, DecodeError> decode_snapshot(std::string_view bytes, uint64_t* unknown_fields = nullptr);

}  // namespace zswarm::registry
