#include "registry/registry.hpp"

#include <algorithm>
#include <mutex>
#include <functional>
#include <utility>

#include "registry/wire_util.hpp"

namespace zswarm::registry {

std::string_view to_string(ApplyKind kind) {
  switch (kind) {
    case ApplyKind::inserted: return "inserted";
    case ApplyKind::updated: return "updated";
    case ApplyKind::stale: return "stale";
    case ApplyKind::conflict: return "conflict";
  }
  return "unknown";
}

std::optional<EntryView> Registry::find(std::string_view name) const {
  auto it = table_.find(name);
  if (it == table_.end()) return std::nullopt;
  return EntryView(it->first, it->second, pool_);
}

std::optional<EntryView> Registry::lookup(std::string_view name) const {
  auto it = table_.find(name);
  if (it == table_.end() || it->second.tombstone) return std::nullopt;
  return EntryView(it->first, it->second, pool_);
}

std::vector<EntryView> Registry::sorted_views(std::vector<Table::const_iterator> its) const {
  std::sort(its.begin(), its.end(), [](const auto& a, const auto& b) { return a->first < b->first; });
  std::vector<EntryView> out;
  out.reserve(its.size());
  for (const auto& it : its) out.push_back(EntryView(it->first, it->second, pool_));
  return out;
}

std::vector<EntryView> Registry::list() const {
  std::vector<Table::const_iterator> its;
  its.reserve(live_);
  for (auto it = table_.begin(); it != table_.end(); ++it)
    if (!it->second.tombstone) its.push_back(it);
  return sorted_views(std::move(its));
}

std::vector<EntryView> Registry::entries_owned_by(std::string_view member) const {
  auto id = pool_.find(member);
  if (!id) return {};  // no stored entry names it
  std::vector<Table::const_iterator> its;
  for (auto it = table_.begin(); it != table_.end(); ++it)
    if (!it->second.tombstone && it->second.owner == *id) its.push_back(it);
  return sorted_views(std::move(its));
}

std::vector<Entry> Registry::snapshot() const {
  std::vector<Table::const_iterator> its;
  its.reserve(table_.size());
  for (auto it = table_.begin(); it != table_.end(); ++it) its.push_back(it);
  std::sort(its.begin(), its.end(), [](const auto& a, const auto& b) { return a->first < b->first; });
  std::vector<Entry> out;
  out.reserve(its.size());
  for (const auto& it : its) out.push_back(EntryView(it->first, it->second, pool_).entry());
  return out;
}

void Registry::store(Table::iterator it, const Entry& entry) {
  if (it->second.tombstone && !entry.tombstone) ++live_;
  if (!it->second.tombstone && entry.tombstone) --live_;
  std::unique_lock lock(table_lock_.mu);
  // The new record first: strings both versions name stay pooled.
  detail::Record record = detail::compact(entry, pool_, &it->second);
  detail::release(it->second, pool_);
  it->second = std::move(record);
}

void Registry::insert(const Entry& entry) {
  std::unique_lock lock(table_lock_.mu);
  table_.emplace(entry.name, detail::compact(entry, pool_));
  if (!entry.tombstone) ++live_;
}

void Registry::reserve(std::size_t n) {
  // Only ever grows: libstdc++'s reserve would rehash to fewer buckets too.
  if (static_cast<double>(n) <= static_cast<double>(table_.bucket_count()) * table_.max_load_factor()) return;
  std::unique_lock lock(table_lock_.mu);
  table_.reserve(n);
}

std::optional<Location> Registry::locate(std::string_view name) const {
  std::shared_lock lock(table_lock_.mu);
  auto it = table_.find(name);
  if (it == table_.end() || it->second.tombstone) return std::nullopt;
  const detail::Record& r = it->second;
  return Location{pool_[r.owner], pool_[r.owner_name], r.worker};
}

bool Registry::contains(std::string_view name) const {
  std::shared_lock lock(table_lock_.mu);
  auto it = table_.find(name);
  return it != table_.end() && !it->second.tombstone;
}

Result<Entry, DecodeError> Registry::put(Entry fields, std::string_view self) {
  if (self.empty() || self.size() > VectorClock::kMaxIdBytes) {
    return detail::error(DecodeErrc::invalid_value, "self");
  }
  auto it = table_.find(fields.name);
  fields.clock = it != table_.end() ? detail::expand(it->second.clock, pool_) : VectorClock{};
  fields.clock.increment(self, stamp_ + 1);
  fields.tombstone = false;
  auto valid = validate(fields);
  if (!valid) return fail(valid.error());
  summary_.merge(fields.clock);
  stamp_ = std::max(stamp_, fields.clock.get(self));
  if (it == table_.end()) {
    insert(fields);
  } else {
    store(it, fields);
  }
  return fields;
}

std::optional<Entry> Registry::remove(std::string_view name, std::string_view self) {
  auto it = table_.find(name);
  if (it == table_.end() || it->second.tombstone || self.empty() ||
      self.size() > VectorClock::kMaxIdBytes) {
    return std::nullopt;
  }
  Entry tomb = EntryView(it->first, it->second, pool_).entry();
  tomb.tombstone = true;
  // The payload is dead weight in a tombstone; owner and worker stay, to say
  // what was deleted.
  tomb.args.clear();
  tomb.metadata.clear();
  tomb.groups.clear();
  tomb.clock.increment(self, stamp_ + 1);
  summary_.merge(tomb.clock);
  stamp_ = std::max(stamp_, tomb.clock.get(self));
  store(it, tomb);
  return tomb;
}

bool Registry::has_retired(const VectorClock& clock) const {
  if (retired_.empty()) return false;
  for (const auto& [id, counter] : clock.entries())
    if (retired_.find(id) != retired_.end()) return true;
  return false;
}

void Registry::fold(VectorClock& clock) const {
  if (has_retired(clock)) clock.fold([this](std::string_view id) { return is_retired(id); });
}

ApplyResult Registry::apply(const Entry& incoming) {
  if (!has_retired(incoming.clock)) return apply_folded(incoming);
  Entry folded = incoming;
  fold(folded.clock);
  return apply_folded(folded);
}

namespace {
// Everything but the clock: the same version, maybe folded differently.
bool same_version(const EntryView& a, const Entry& b) {
  return a.tombstone == b.tombstone && a.owner == b.owner && a.worker == b.worker && a.owner_name == b.owner_name &&
         a.plugin == b.plugin && a.args == b.args && a.metadata == b.metadata && a.groups == b.groups;
}
}  // namespace

ApplyResult Registry::apply_folded(const Entry& incoming) {
  ApplyResult result;
  if (incoming.clock.empty()) return result;  // no version at all: nothing to order
  summary_.merge(incoming.clock);
  stamp_ = std::max(stamp_, incoming.clock.max());
  auto it = table_.find(incoming.name);
  if (it == table_.end()) {
    // A tombstone for an unknown name is kept too: it must still beat an
    // older live version that may arrive later.
    insert(incoming);
    result.kind = ApplyKind::inserted;
    return result;
  }
  const EntryView current(it->first, it->second, pool_);
  const Order order = detail::compare(incoming.clock, it->second.clock, pool_);
  if (order == Order::before || (order == Order::equal && current == incoming)) {
    return result;  // stale
  }
  if (order == Order::after) {
    result.kind = ApplyKind::updated;
    result.previous = current.entry();
    store(it, incoming);
    return result;
  }
  // Concurrent (or, through a bug elsewhere, equal clocks on different
  // content): the total order picks the same winner on every replica.
  Entry stored = current.entry();
  const bool incoming_wins = version_wins(incoming, stored);
  if (same_version(current, incoming)) {
    // One version under two clocks (one replica has folded an id the other
    // has not yet): keep the rank's pick, but there is nothing to resolve.
    if (!incoming_wins) return result;
    result.kind = ApplyKind::updated;
    result.previous = std::move(stored);
    store(it, incoming);
    return result;
  }
  result.kind = ApplyKind::conflict;
  if (incoming_wins) {
    store(it, incoming);
    result.loser = std::move(stored);
    result.winner = incoming;
  } else {
    result.winner = std::move(stored);
    result.loser = incoming;
  }
  return result;
}

MergeStats Registry::merge_snapshot(const std::vector<Entry>& entries,
                                    const std::function<void(const ApplyResult&)>& on_change) {
  MergeStats stats;
  for (const Entry& entry : entries) {
    ApplyResult r = apply(entry);
    switch (r.kind) {
      case ApplyKind::inserted: ++stats.inserted; break;
      case ApplyKind::updated: ++stats.updated; break;
      case ApplyKind::stale: ++stats.stale; break;
      case ApplyKind::conflict: ++stats.conflicts; break;
    }
    if (r.kind != ApplyKind::stale && on_change) on_change(r);
  }
  return stats;
}

void Registry::note_seen(std::string_view member, const VectorClock& summary) {
  VectorClock folded = summary;
  fold(folded);
  auto it = seen_.find(member);
  if (it == seen_.end()) {
    seen_.emplace(std::string(member), std::move(folded));
  } else {
    it->second.merge(folded);  // summaries only grow; a reordered old one changes nothing
  }
}

bool Registry::covers(VectorClock digest) const {
  fold(digest);
  const auto floor = digest.get(VectorClock::kRetired);
  if (floor > summary_.get(VectorClock::kRetired)) {
    // The ids the peer has folded and this replica still names.
    VectorClock::Counter named = 0;
    for (const auto& [id, counter] : summary_.entries())
      if (digest.get(id) == 0) named = std::max(named, counter);
    if (floor <= named) digest.drop(VectorClock::kRetired);
  }
  return summary_.dominates(digest);
}

void Registry::cover(const VectorClock& summary) {
  VectorClock folded = summary;
  fold(folded);
  summary_.merge(folded);
  stamp_ = std::max(stamp_, folded.max());
}

std::size_t Registry::retire(const std::vector<std::string>& ids) {
  for (const auto& id : ids)
    if (!id.empty() && id != VectorClock::kRetired) retired_.insert(id);
  auto retired = [this](std::string_view id) { return is_retired(id); };
  summary_.fold(retired);
  for (auto& [member, seen] : seen_) seen.fold(retired);
  // Only records whose dots name a retired id change (their ids are pooled).
  std::unordered_set<detail::StringPool::Index> gone;
  for (const auto& id : ids)
    if (auto index = pool_.find(id)) gone.insert(*index);
  if (gone.empty()) return 0;
  std::size_t changed = 0;
  for (auto it = table_.begin(); it != table_.end(); ++it) {
    const auto& dots = it->second.clock;
    if (std::none_of(dots.begin(), dots.end(), [&](const detail::Dot& d) { return gone.count(d.id) > 0; })) continue;
    Entry e = EntryView(it->first, it->second, pool_).entry();
    e.clock.fold(retired);
    store(it, e);
    ++changed;
  }
  return changed;
}

void Registry::forget_retired(const std::vector<std::string>& ids) {
  for (const auto& id : ids) retired_.erase(id);
}

std::size_t Registry::collect_garbage(const std::vector<std::string>& live_members,
                                      std::string_view self) {
  auto is_live = [&](std::string_view m) {
    return std::find(live_members.begin(), live_members.end(), m) != live_members.end();
  };
  std::erase_if(seen_, [&](const auto& kv) { return !is_live(kv.first); });
  if (tombstones() == 0) return 0;

  std::vector<const VectorClock*> views;
  views.reserve(live_members.size());
  for (const std::string& member : live_members) {
    if (!self.empty() && member == self) {
      views.push_back(&summary_);
      continue;
    }
    auto it = seen_.find(member);
    if (it == seen_.end()) return 0;  // unknown view: cannot prove it saw anything
    views.push_back(&it->second);
  }
  std::unique_lock lock(table_lock_.mu);
  std::size_t purged = 0;
  for (auto it = table_.begin(); it != table_.end();) {
    const detail::Record& r = it->second;
    if (r.tombstone && std::all_of(views.begin(), views.end(), [&](const VectorClock* v) {
          return detail::dominates(*v, r.clock, pool_);
        })) {
      detail::release(r, pool_);
      it = table_.erase(it);
      ++purged;
    } else {
      ++it;
    }
  }
  return purged;
}

}  // namespace zswarm::registry
