// The compact form in which a Registry stores its entries, and EntryView, the
// borrowed Entry that its readers get.
//
// An Entry is the value and wire type; kept as is, one name would cost ~570
// heap bytes (issue 10 asks for <= 300 per name per replica). A Record keeps
// the same fields smaller: the strings every entry repeats (owner ids, owner
// names, plugin names, clock ids: a handful per cluster) live once in a
// StringPool and are referenced by a 4-byte index; the clock is a sorted run
// of (index, counter) dots, two of them inline; metadata and groups take one
// pointer, null when both are empty; the name is the table's key, not part
// of the record. A Record is 104 bytes.
//
// A StringPool counts references: a string leaves the pool (its slot is
// reused) when the last record naming it goes, so the pool only holds what
// stored records name and cannot grow with churn.
//
// Plain data with no synchronisation: the Registry serialises writers and
// guards its pool and table for its one concurrent reader (locate()).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "registry/entry.hpp"
#include "registry/vector_clock.hpp"

namespace zswarm::registry {

using Metadata = std::map<std::string, std::string>;
using Groups = std::set<std::string>;

namespace detail {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// Interned strings with reference counts, addressed by a small index.
class StringPool {
 public:
  using Index = std::uint32_t;

  // The index of s, added if new; one more reference either way.
  Index acquire(std::string_view s);
  // acquire(s) for an s known to be at i: no hashing.
  Index acquire(std::string_view s, Index hint);
  // One reference fewer; the slot is freed (and later reused) at zero.
  void release(Index i);
  const std::string& operator[](Index i) const { return slots_[i].value; }
  // The index of s if it is pooled, without taking a reference.
  std::optional<Index> find(std::string_view s) const;
  // Strings held now (slots in use).
  std::size_t size() const { return index_.size(); }
  // Slots ever allocated: what the pool's memory grows with.
  std::size_t slots() const { return slots_.size(); }

 private:
  struct Slot {
    std::string value;
    std::uint64_t refs = 0;
  };
  std::vector<Slot> slots_;
  std::vector<Index> free_;
  std::unordered_map<std::string, Index, StringHash, std::equal_to<>> index_;
};

// One clock entry: the pooled id and its counter.
struct Dot {
  std::uint64_t counter = 0;
  StringPool::Index id = 0;
};

// A clock's dots, sorted by id bytes as VectorClock keeps them; up to two
// inline (a name is written by one or two nodes, nearly always).
class Dots {
 public:
  static constexpr std::size_t kInline = 2;

  Dots() : inline_{} {}
  Dots(const Dots& other);
  Dots& operator=(const Dots& other);
  Dots(Dots&& other) noexcept;
  Dots& operator=(Dots&& other) noexcept;
  ~Dots();

  void push_back(Dot d);
  std::size_t size() const { return size_; }
  const Dot* begin() const { return size_ <= kInline ? inline_.data() : heap_; }
  const Dot* end() const { return begin() + size_; }

 private:
  void free_heap();

  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = kInline;
  union {
    std::array<Dot, kInline> inline_;
    Dot* heap_;
  };
};

// The fields nearly every entry leaves empty, behind one pointer.
struct Extras {
  Metadata metadata;
  Groups groups;
};

// An Entry as the registry stores it (its name is the table key).
struct Record {
  Record() = default;
  Record(const Record& other);
  Record& operator=(const Record& other);
  Record(Record&&) noexcept = default;
  Record& operator=(Record&&) noexcept = default;
  ~Record() = default;

  std::uint64_t worker = 0;
  std::string args;
  std::unique_ptr<Extras> extras;  // null: no metadata, no groups
  Dots clock;
  StringPool::Index owner = 0;
  StringPool::Index owner_name = 0;
  StringPool::Index plugin = 0;
  bool tombstone = false;
};

// Builds the record for e, taking a reference in pool for each pooled string.
// With `previous` (the version e replaces), strings both share are found
// without hashing: a new version nearly always keeps owner and plugin.
Record compact(const Entry& e, StringPool& pool, const Record* previous = nullptr);
// Gives back the record's references (before it is dropped or replaced).
void release(const Record& r, StringPool& pool);

// How clock relates to the stored dots (as VectorClock::compare).
Order compare(const VectorClock& clock, const Dots& dots, const StringPool& pool);
// Every counter of summary >= the dot's: summary.dominates(the clock).
bool dominates(const VectorClock& summary, const Dots& dots, const StringPool& pool);
VectorClock expand(const Dots& dots, const StringPool& pool);
// The dots' wire form: the VectorClock they stand for, packed.
void pack(msgpack::packer<msgpack::sbuffer>& packer, const Dots& dots, const StringPool& pool);

}  // namespace detail

// A stored version, borrowed: Entry's fields by reference (same names, so
// code that reads an Entry reads a view), into the registry's storage or an
// Entry. Valid until the registry's next mutation (or while the Entry
// lives). Reading it allocates nothing; clock() and entry() copy out.
struct EntryView {
  // Borrows e's fields.
  EntryView(const Entry& e);  // NOLINT(google-explicit-constructor): a view of an Entry, like string_view

  const std::string& name;
  const std::string& owner;       // raw id bytes of the node running the worker
  const std::string& owner_name;  // "name@host"
  const std::uint64_t worker;
  const std::string& plugin;
  const std::string& args;
  const Metadata& metadata;
  const Groups& groups;
  const bool tombstone;

  VectorClock clock() const;
  // A copy, with every field.
  Entry entry() const;

  friend bool operator==(const EntryView& a, const Entry& b);
  friend void pack(msgpack::packer<msgpack::sbuffer>& packer, const EntryView& entry);

 private:
  friend class Registry;
  EntryView(const std::string& name, const detail::Record& r, const detail::StringPool& pool);

  // One of the two sources of the clock.
  const VectorClock* clock_ = nullptr;
  const detail::Dots* dots_ = nullptr;
  const detail::StringPool* pool_ = nullptr;
};

}  // namespace zswarm::registry
