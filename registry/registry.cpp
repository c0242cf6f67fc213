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

std::size_t Registry::Hash::operator()(std::string_view s) const noexcept {
  return std::hash<std::string_view>{}(s);
}

const Entry* Registry::find(std::string_view name) const {
  auto it = table_.find(name);
  return it == table_.end() ? nullptr : &it->second;
}

const Entry* Registry::lookup(std::string_view name) const {
  const Entry* e = find(name);
  return e != nullptr && !e->tombstone ? e : nullptr;
}

std::vector<const Entry*> Registry::list() const {
  std::vector<const Entry*> out;
  out.reserve(live_);
  for (const auto& [name, entry] : table_) {
    if (!entry.tombstone) out.push_back(&entry);
  }
  std::sort(out.begin(), out.end(), [](const Entry* a, const Entry* b) { return a->name < b->name; });
  return out;
}

std::vector<const Entry*> Registry::entries_owned_by(std::string_view member) const {
  std::vector<const Entry*> out;
  for (const auto& [name, entry] : table_) {
    if (!entry.tombstone && entry.owner == member) out.push_back(&entry);
  }
  std::sort(out.begin(), out.end(), [](const Entry* a, const Entry* b) { return a->name < b->name; });
  return out;
}

std::vector<Entry> Registry::snapshot() const {
  std::vector<Entry> out;
  out.reserve(table_.size());
  for (const auto& [name, entry] : table_) out.push_back(entry);
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return out;
}

Entry Registry::store(Table::iterator it, Entry entry) {
  if (it->second.tombstone && !entry.tombstone) ++live_;
  if (!it->second.tombstone && entry.tombstone) --live_;
  std::unique_lock lock(table_lock_.mu);
  return std::exchange(it->second, std::move(entry));
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
  return Location{it->second.owner, it->second.owner_name, it->second.worker};
}

Result<Entry, DecodeError> Registry::put(Entry fields, std::string_view self) {
  if (self.empty() || self.size() > VectorClock::kMaxIdBytes) {
    return detail::error(DecodeErrc::invalid_value, "self");
  }
  auto it = table_.find(fields.name);
  fields.clock = it != table_.end() ? it->second.clock : VectorClock{};
  fields.clock.increment(self, summary_.get(self) + 1);
  fields.tombstone = false;
  auto valid = validate(fields);
  if (!valid) return fail(valid.error());
  summary_.merge(fields.clock);
  if (it == table_.end()) {
    std::unique_lock lock(table_lock_.mu);
    table_.emplace(fields.name, fields);
    ++live_;
  } else {
    (void)store(it, fields);
  }
  return fields;
}

std::optional<Entry> Registry::remove(std::string_view name, std::string_view self) {
  auto it = table_.find(name);
  if (it == table_.end() || it->second.tombstone || self.empty() ||
      self.size() > VectorClock::kMaxIdBytes) {
    return std::nullopt;
  }
  Entry tomb = it->second;
  tomb.tombstone = true;
  // The payload is dead weight in a tombstone; owner and worker stay, to say
  // what was deleted.
  tomb.args.clear();
  tomb.metadata.clear();
  tomb.groups.clear();
  tomb.clock.increment(self, summary_.get(self) + 1);
  summary_.merge(tomb.clock);
  (void)store(it, tomb);
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
    {
      std::unique_lock lock(table_lock_.mu);
      table_.emplace(incoming.name, incoming);
    }
    if (!incoming.tombstone) ++live_;
    result.kind = ApplyKind::inserted;
    return result;
  }
  Entry& current = it->second;
  const Order order = incoming.clock.compare(current.clock);
  if (order == Order::before || (order == Order::equal && incoming == current)) {
    return result;  // stale
  }
  if (order == Order::after) {
    result.kind = ApplyKind::updated;
    result.previous = store(it, incoming);
    return result;
  }
  // Concurrent (or, through a bug elsewhere, equal clocks on different
  // content): the total order picks the same winner on every replica.
  result.kind = ApplyKind::conflict;
  if (version_wins(incoming, current)) {
    result.loser = store(it, incoming);
    result.winner = incoming;
  } else {
    result.winner = current;
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
  return std::erase_if(table_, [&](const auto& kv) {
    const Entry& e = kv.second;
    return e.tombstone && std::all_of(views.begin(), views.end(), [&](const VectorClock* v) {
             return v->dominates(e.clock);
           });
  });
}

}  // namespace zswarm::registry
