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
  fields.clock.increment(self, summary_.get(self) + 1);
  fields.tombstone = false;
  auto valid = validate(fields);
  if (!valid) return fail(valid.error());
  summary_.merge(fields.clock);
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
  tomb.clock.increment(self, summary_.get(self) + 1);
  summary_.merge(tomb.clock);
  store(it, tomb);
  return tomb;
}

ApplyResult Registry::apply(const Entry& incoming) {
  ApplyResult result;
  if (incoming.clock.empty()) return result;  // no version at all: nothing to order
  summary_.merge(incoming.clock);
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
  result.kind = ApplyKind::conflict;
  Entry stored = current.entry();
  if (version_wins(incoming, stored)) {
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
  auto it = seen_.find(member);
  if (it == seen_.end()) {
    seen_.emplace(std::string(member), summary);
  } else {
    it->second.merge(summary);  // summaries only grow; a reordered old one changes nothing
  }
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
