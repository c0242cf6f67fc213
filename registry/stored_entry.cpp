#include "registry/stored_entry.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

namespace zswarm::registry {

namespace detail {

// The byte budget in the header (a 64-bit libstdc++ or libc++ build).
static_assert(sizeof(void*) != 8 || sizeof(Record) <= 104);

StringPool::Index StringPool::acquire(std::string_view s) {
  if (auto it = index_.find(s); it != index_.end()) {
    ++slots_[it->second].refs;
    return it->second;
  }
  Index i;
  if (!free_.empty()) {
    i = free_.back();
    free_.pop_back();
    slots_[i].value.assign(s);
  } else {
    i = static_cast<Index>(slots_.size());
    slots_.push_back({std::string(s), 0});
  }
  slots_[i].refs = 1;
  index_.emplace(std::string(s), i);
  return i;
}

StringPool::Index StringPool::acquire(std::string_view s, Index hint) {
  if (hint < slots_.size() && slots_[hint].refs > 0 && slots_[hint].value == s) {
    ++slots_[hint].refs;
    return hint;
  }
  return acquire(s);
}

void StringPool::release(Index i) {
  Slot& slot = slots_[i];
  assert(slot.refs > 0);
  if (--slot.refs > 0) return;
  index_.erase(slot.value);
  slot.value.clear();
  slot.value.shrink_to_fit();
  free_.push_back(i);
}

std::optional<StringPool::Index> StringPool::find(std::string_view s) const {
  auto it = index_.find(s);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

Dots::Dots(const Dots& other) : inline_{} {
  for (const Dot& d : other) push_back(d);
}

Dots& Dots::operator=(const Dots& other) {
  if (this != &other) {
    free_heap();
    for (const Dot& d : other) push_back(d);
  }
  return *this;
}

Dots::Dots(Dots&& other) noexcept : inline_{} { *this = std::move(other); }

Dots& Dots::operator=(Dots&& other) noexcept {
  if (this == &other) return *this;
  free_heap();
  if (other.capacity_ > kInline) {
    heap_ = other.heap_;  // takes the buffer
  } else {
    inline_ = other.inline_;
  }
  size_ = other.size_;
  capacity_ = other.capacity_;
  other.size_ = 0;
  other.capacity_ = kInline;
  other.inline_ = {};
  return *this;
}

Dots::~Dots() { free_heap(); }

void Dots::free_heap() {
  if (capacity_ > kInline) delete[] heap_;
  size_ = 0;
  capacity_ = kInline;
  inline_ = {};
}

void Dots::push_back(Dot d) {
  if (size_ == capacity_) {
    // Moves to the heap at the third dot, then doubles.
    const std::uint32_t grown = capacity_ * 2;
    Dot* bigger = new Dot[grown];
    std::copy(begin(), end(), bigger);
    if (capacity_ > kInline) delete[] heap_;
    heap_ = bigger;
    capacity_ = grown;
  }
  (capacity_ > kInline ? heap_ : inline_.data())[size_++] = d;
}

Record::Record(const Record& other)
    : worker(other.worker),
      args(other.args),
      extras(other.extras ? std::make_unique<Extras>(*other.extras) : nullptr),
      clock(other.clock),
      owner(other.owner),
      owner_name(other.owner_name),
      plugin(other.plugin),
      tombstone(other.tombstone) {}

Record& Record::operator=(const Record& other) {
  if (this != &other) *this = Record(other);
  return *this;
}

Record compact(const Entry& e, StringPool& pool, const Record* previous) {
  Record r;
  r.worker = e.worker;
  r.args = e.args;
  if (!e.metadata.empty() || !e.groups.empty()) r.extras = std::make_unique<Extras>(Extras{e.metadata, e.groups});
  // The previous version's dots, in step: a successor has the same ids.
  const Dot* like = previous ? previous->clock.begin() : nullptr;
  const Dot* like_end = previous ? previous->clock.end() : nullptr;
  for (const auto& [id, counter] : e.clock.entries()) {
    r.clock.push_back({counter, like != like_end ? pool.acquire(id, like->id) : pool.acquire(id)});
    if (like != like_end) ++like;
  }
  constexpr StringPool::Index kNone = ~StringPool::Index{0};
  r.owner = pool.acquire(e.owner, previous ? previous->owner : kNone);
  r.owner_name = pool.acquire(e.owner_name, previous ? previous->owner_name : kNone);
  r.plugin = pool.acquire(e.plugin, previous ? previous->plugin : kNone);
  r.tombstone = e.tombstone;
  return r;
}

void release(const Record& r, StringPool& pool) {
  for (const Dot& d : r.clock) pool.release(d.id);
  pool.release(r.owner);
  pool.release(r.owner_name);
  pool.release(r.plugin);
}

Order compare(const VectorClock& clock, const Dots& dots, const StringPool& pool) {
  using View = std::pair<std::string_view, VectorClock::Counter>;
  return compare_dots(
      clock.entries(), dots, [](const auto& p) { return View(p.first, p.second); },
      [&](const Dot& d) { return View(pool[d.id], d.counter); });
}

bool dominates(const VectorClock& summary, const Dots& dots, const StringPool& pool) {
  return std::all_of(dots.begin(), dots.end(), [&](const Dot& d) { return summary.get(pool[d.id]) >= d.counter; });
}

VectorClock expand(const Dots& dots, const StringPool& pool) {
  // Ids come sorted and each counter is >= 1, so each increment appends the
  // id with exactly its counter.
  VectorClock clock;
  for (const Dot& d : dots) clock.increment(pool[d.id], d.counter);
  return clock;
}

void pack(msgpack::packer<msgpack::sbuffer>& packer, const Dots& dots, const StringPool& pool) {
  packer.pack_array(static_cast<std::uint32_t>(dots.size()));
  for (const Dot& d : dots) pack_dot(packer, pool[d.id], d.counter);
}

namespace {
const Metadata kNoMetadata;
const Groups kNoGroups;
}  // namespace

}  // namespace detail

EntryView::EntryView(const Entry& e)
    : name(e.name),
      owner(e.owner),
      owner_name(e.owner_name),
      worker(e.worker),
      plugin(e.plugin),
      args(e.args),
      metadata(e.metadata),
      groups(e.groups),
      tombstone(e.tombstone),
      clock_(&e.clock) {}

EntryView::EntryView(const std::string& name_, const detail::Record& r, const detail::StringPool& pool)
    : name(name_),
      owner(pool[r.owner]),
      owner_name(pool[r.owner_name]),
      worker(r.worker),
      plugin(pool[r.plugin]),
      args(r.args),
      metadata(r.extras ? r.extras->metadata : detail::kNoMetadata),
      groups(r.extras ? r.extras->groups : detail::kNoGroups),
      tombstone(r.tombstone),
      dots_(&r.clock),
      pool_(&pool) {}

VectorClock EntryView::clock() const { return clock_ ? *clock_ : detail::expand(*dots_, *pool_); }

Entry EntryView::entry() const {
  Entry e;
  e.name = name;
  e.owner = owner;
  e.owner_name = owner_name;
  e.worker = worker;
  e.plugin = plugin;
  e.args = args;
  e.metadata = metadata;
  e.groups = groups;
  e.clock = clock();
  e.tombstone = tombstone;
  return e;
}

bool operator==(const EntryView& a, const Entry& b) {
  if (a.name != b.name || a.owner != b.owner || a.owner_name != b.owner_name || a.worker != b.worker ||
      a.plugin != b.plugin || a.args != b.args || a.metadata != b.metadata || a.groups != b.groups ||
      a.tombstone != b.tombstone) {
    return false;
  }
  if (a.clock_) return *a.clock_ == b.clock;
  return b.clock.size() == a.dots_->size() && detail::compare(b.clock, *a.dots_, *a.pool_) == Order::equal;
}

}  // namespace zswarm::registry
