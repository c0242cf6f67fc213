// Registry: this node's full replica of the cluster's name table, as a
// last-writer-wins map of Entry versions (a state-based CRDT).
//
// Every replica keeps, per name, the version that wins under version_wins():
// a total order extending causality. "Keep the winner" is idempotent,
// commutative and associative, so replicas that receive the same versions in
// any order, with duplicates, converge; lost deltas are repaired by merging a
// peer's snapshot. Concurrent versions (a partition healed) are reported as a
// conflict so the loser's node can stop its worker.
//
// Local writes (put/remove) stamp the new version with a fresh dot for `self`:
// one more than any counter this replica has seen (a Lamport stamp), so a
// node's dots are unique and rising across all names, and a version written
// after another has a larger largest counter (what version_wins ranks by).
//
// Retiring an id (a node that left or is gone for good) folds it, in every
// stored clock, the summary and the members' summaries, into the reserved
// id VectorClock::kRetired; clocks received later are folded the same way.
// Replicas that have not retired it yet still order every version alike:
// folding keeps the stamp, and a version that differs only in its clock is
// the same version (stale), never a conflict. protocol.md §8.10.
//
// Deletes are tombstones, purged by collect_garbage() once every live
// member's summary covers them. That is only sound if summaries travel like
// deltas: a member advertises its summary on the same ordered channel as its
// own deltas, after applying each origin's deltas in order (the bus resyncs
// on a sequence gap first). Otherwise a dominated summary may hide a missed
// delete, or a late delta may resurrect a purged name.
//
// Entries are stored compact (registry/stored_entry.hpp: pooled strings,
// inline dots, the name once, as the key): ~180 heap bytes per name where
// a table of Entry values took ~510 (BM_RegistryMemoryPerName). Readers get
// EntryView, a borrowed Entry; put, apply and snapshot take and give Entry
// values, as the wire does.
//
// One writer: its owner (the name service, on the node's event loop)
// serialises every call but locate(), which any thread may make at any time
// (the writer holds a lock only while it changes the table or the pool).
// Views and references returned stay valid until the next mutation.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "registry/decode_error.hpp"
#include "registry/entry.hpp"
#include "registry/stored_entry.hpp"
#include "registry/vector_clock.hpp"
#include "zswarm/result.hpp"

namespace zswarm::registry {

enum class ApplyKind {
  inserted,  // the name was unknown here (the entry may be a tombstone)
  updated,   // a causal successor replaced the stored version
  stale,     // already seen, or causally older: nothing changed
  conflict,  // concurrent versions: the winner is stored, the loser dropped
};
std::string_view to_string(ApplyKind kind);

struct ApplyResult {
  ApplyKind kind = ApplyKind::stale;
  std::optional<Entry> previous;  // updated: the version replaced
  std::optional<Entry> winner;    // conflict: the version now stored
  std::optional<Entry> loser;     // conflict: the version dropped (stored or incoming)
};

struct MergeStats {
  std::size_t inserted = 0;
  std::size_t updated = 0;
  std::size_t stale = 0;
  std::size_t conflicts = 0;
  friend bool operator==(const MergeStats&, const MergeStats&) = default;
};

// Where a live name runs, copied out for a reader on another thread.
struct Location {
  std::string owner;       // raw id bytes
  std::string owner_name;  // "name@host"
  std::uint64_t worker = 0;
};

class Registry {
 public:
  // --- reads --------------------------------------------------------------

  // Thread-safe, from any thread: where the live entry for name runs.
  std::optional<Location> locate(std::string_view name) const;
  // Thread-safe, from any thread: whether a live entry exists; copies nothing.
  bool contains(std::string_view name) const;

  // The live entry for name, or nullopt (unknown or deleted). O(1) average,
  // allocates nothing.
  std::optional<EntryView> lookup(std::string_view name) const;
  // The stored version including tombstones, or nullopt.
  std::optional<EntryView> find(std::string_view name) const;
  // Live entries sorted by name.
  std::vector<EntryView> list() const;
  // Every live entry, in no particular order: for scans that need no sort.
  template <class F>
  void for_each_live(F&& f) const {
    for (const auto& [name, record] : table_)
      if (!record.tombstone) f(EntryView(name, record, pool_));
  }
  // Live entries whose owner is member (for failover and handoff), by name.
  std::vector<EntryView> entries_owned_by(std::string_view member) const;
  // Every stored version, tombstones included, sorted by name: what a peer
  // needs to repair its replica with merge_snapshot().
  std::vector<Entry> snapshot() const;
  // A resumable pass over every stored version (tombstones too), as views,
  // for a snapshot served a piece at a time: visits whole hash buckets from
  // `cursor` on, stops after the bucket in which `visit` returned false,
  // and returns whether the pass has more. The table may change between
  // calls: a rehash restarts the pass (a merge takes a version twice without
  // harm), and a version written after its bucket was passed travels as a
  // delta instead.
  struct ScanCursor {
    std::size_t bucket = 0;
    std::size_t buckets = 0;  // the table's bucket count when the pass began
  };
  template <class F>
  bool scan(ScanCursor& cursor, F&& visit) const {
    if (cursor.buckets != table_.bucket_count()) cursor = ScanCursor{0, table_.bucket_count()};
    while (cursor.bucket < cursor.buckets) {
      bool more = true;
      for (auto it = table_.begin(cursor.bucket); it != table_.end(cursor.bucket); ++it)
        more = visit(EntryView(it->first, it->second, pool_)) && more;
      ++cursor.bucket;
      if (!more) break;
    }
    return cursor.bucket < cursor.buckets;
  }
  // Room for n stored versions (never less than there is), so that merging
  // a big snapshot does not rehash the table (a stall) several times on the way.
  void reserve(std::size_t n);
  std::size_t size() const { return live_; }  // live entries
  std::size_t tombstones() const { return table_.size() - live_; }
  // Distinct strings (owner ids and names, plugins, clock ids) the stored
  // entries share, and the pool slots ever used: for tests and benches.
  std::size_t pooled_strings() const { return pool_.size(); }
  std::size_t pool_slots() const { return pool_.slots(); }

  // --- local writes: return the version to publish as a delta -------------

  // Stores a new version of fields.name, superseding whatever is stored
  // (including a tombstone); fields.clock and fields.tombstone are ignored.
  // Fails, changing nothing, if the entry breaks a limit (validate()).
  Result<Entry, DecodeError> put(Entry fields, std::string_view self);
  // Replaces the live entry by a tombstone (payload dropped, owner kept);
  // nullopt if the name is unknown or already deleted.
  std::optional<Entry> remove(std::string_view name, std::string_view self);

  // --- replication ----------------------------------------------------------

  // Merges a version received from a peer. Idempotent and commutative.
  // The entry must be valid (decoders guarantee it); an empty clock is stale.
  ApplyResult apply(const Entry& incoming);
  // Applies each entry; on_change (optional) sees every non-stale result.
  MergeStats merge_snapshot(const std::vector<Entry>& entries,
                            const std::function<void(const ApplyResult&)>& on_change = {});

  // --- retired writers ---------------------------------------------------

  // Folds these ids into kRetired everywhere, now and in every clock that
  // arrives later (until forget_retired). Returns the stored versions whose
  // clock changed.
  std::size_t retire(const std::vector<std::string>& ids);
  // Clocks received from now on keep these ids again.
  void forget_retired(const std::vector<std::string>& ids);
  bool is_retired(std::string_view id) const { return retired_.find(id) != retired_.end(); }
  std::size_t retired_count() const { return retired_.size(); }
  // A received clock (a digest) folded as this replica folds.
  void fold(VectorClock& clock) const;

  // --- tombstone garbage collection -------------------------------------

  // Merge of every clock this replica has applied or written.
  const VectorClock& summary() const { return summary_; }
  // Records what member has seen (its advertised summary); keeps the max.
  void note_seen(std::string_view member, const VectorClock& summary);
  // Anti-entropy: whether this replica has seen every version a peer's
  // summary (its digest) names. A peer that retired an id before this
  // replica did shows it in its floor: that counts as seen when this
  // replica holds the id's counter itself.
  bool covers(VectorClock digest) const;
  // This replica now counts as having seen `summary`: the caller merged a
  // whole replica made after that summary was advertised, so each version
  // it names is stored here, superseded, or a conflict's loser (which no
  // replica keeps). Without it, a loser this replica never received would
  // keep the sender's digest ahead of its summary, and anti-entropy would
  // ask for the same replica again and again.
  void cover(const VectorClock& summary);
  // Purges tombstones whose clock every live member's summary dominates;
  // `self` (if listed) counts with summary(). A live member with no recorded
  // summary blocks collection. Forgets summaries of members not in live.
  // Returns the number purged.
  std::size_t collect_garbage(const std::vector<std::string>& live_members,
                              std::string_view self = {});

 private:
  using Table = std::unordered_map<std::string, detail::Record, detail::StringHash, std::equal_to<>>;

  // Sorted by name.
  std::vector<EntryView> sorted_views(std::vector<Table::const_iterator> its) const;
  // Replaces the stored version by entry, keeping live_ and the pool right.
  void store(Table::iterator it, const Entry& entry);
  void insert(const Entry& entry);
  ApplyResult apply_folded(const Entry& incoming);
  bool has_retired(const VectorClock& clock) const;

  // The writer changes table_ and pool_ only under an exclusive lock, and
  // locate() reads them under a shared one; the writer's own reads need no
  // lock. A copy of the registry gets a lock of its own.
  struct TableLock {
    mutable std::shared_mutex mu;
    TableLock() = default;
    TableLock(const TableLock&) {}
    TableLock& operator=(const TableLock&) { return *this; }
  };
  TableLock table_lock_;
  detail::StringPool pool_;
  Table table_;
  std::size_t live_ = 0;
  VectorClock summary_;
  VectorClock::Counter stamp_ = 0;  // summary_.max(): the next dot is one more
  std::unordered_map<std::string, VectorClock, detail::StringHash, std::equal_to<>> seen_;
  std::unordered_set<std::string, detail::StringHash, std::equal_to<>> retired_;
};

}  // namespace zswarm::registry
