// The registry's compact storage: every Entry field survives put/apply and
// comes back through the readers, the string pool grows only with distinct
// strings still named, and a registry behaves exactly like a plain map of
// Entry values under random writes.
#include "registry/stored_entry.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "registry/registry.hpp"

namespace zswarm::registry {
namespace {

// 16 raw bytes, as zswarmd's node ids (zeros included).
std::string raw_id(std::uint64_t n) {
  std::string id(16, '\0');
  for (int i = 0; i < 8; ++i) id[static_cast<std::size_t>(15 - i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return id;
}

Entry rich_entry() {
  Entry e;
  e.name = "a name longer than the small string buffer";
  e.owner = raw_id(7);
  e.owner_name = "n7@some-host.example";
  e.worker = (std::uint64_t{1} << 40) + 3;
  e.plugin = "a_plugin_with_a_long_name";
  e.args.assign(100000, 'x');
  e.args[5] = '\0';
  e.metadata = {{"role", "primary"}, {"zone", std::string(300, 'z')}};
  e.groups = {"frontend", "g2", std::string(200, 'g')};
  for (std::uint64_t i = 1; i <= 40; ++i) e.clock.increment(raw_id(i), i * 1000);
  return e;
}

TEST(StoredEntry, EveryFieldRoundTripsThroughApply) {
  const Entry e = rich_entry();
  Registry r;
  EXPECT_EQ(r.apply(e).kind, ApplyKind::inserted);
  auto view = r.lookup(e.name);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(*view, e);
  EXPECT_EQ(view->entry(), e);
  EXPECT_EQ(view->clock(), e.clock);
  EXPECT_EQ(view->args, e.args);
  EXPECT_EQ(view->metadata, e.metadata);
  EXPECT_EQ(view->groups, e.groups);
  EXPECT_EQ(r.snapshot(), std::vector<Entry>{e});
  EXPECT_EQ(r.apply(e).kind, ApplyKind::stale);  // the equality check reads the stored form
  auto at = r.locate(e.name);
  ASSERT_TRUE(at.has_value());
  EXPECT_EQ(at->owner, e.owner);
  EXPECT_EQ(at->owner_name, e.owner_name);
  EXPECT_EQ(at->worker, e.worker);
}

TEST(StoredEntry, EveryFieldRoundTripsThroughPut) {
  Entry fields = rich_entry();
  fields.clock = {};
  Registry r;
  auto put = r.put(fields, raw_id(99));
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(r.lookup(fields.name)->entry(), *put);
  // A second write keeps the stored clock and adds a dot.
  fields.metadata.clear();
  fields.groups.clear();
  fields.args = "short";
  auto again = r.put(fields, raw_id(99));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->clock.compare(put->clock), Order::after);
  EXPECT_EQ(*r.lookup(fields.name), *again);
  EXPECT_TRUE(r.lookup(fields.name)->metadata.empty());
  // The tombstone keeps owner and clock, drops the payload.
  auto tomb = r.remove(fields.name, raw_id(99));
  ASSERT_TRUE(tomb.has_value());
  EXPECT_FALSE(r.lookup(fields.name).has_value());
  EXPECT_EQ(*r.find(fields.name), *tomb);
}

TEST(StoredEntry, ViewOfAnEntryBorrowsItsFields) {
  const Entry e = rich_entry();
  const EntryView v(e);
  EXPECT_EQ(&v.name, &e.name);
  EXPECT_EQ(v, e);
  EXPECT_EQ(v.entry(), e);
  Entry other = e;
  other.worker += 1;
  EXPECT_FALSE(v == other);
}

TEST(StoredEntry, ConflictAndUpdateResultsCarryWholeEntries) {
  Entry a = rich_entry();
  a.clock = VectorClock{{raw_id(1), 5}, {raw_id(2), 1}, {raw_id(3), 9}};
  Entry b = a;
  b.owner = raw_id(8);
  b.clock = VectorClock{{raw_id(1), 6}};  // concurrent with a, smaller sum
  Registry r;
  (void)r.apply(a);
  auto c = r.apply(b);
  ASSERT_EQ(c.kind, ApplyKind::conflict);
  EXPECT_EQ(*c.winner, a);
  EXPECT_EQ(*c.loser, b);
  Entry next = a;
  next.clock = merge(a.clock, b.clock);
  next.clock.increment(raw_id(4));
  auto up = r.apply(next);
  ASSERT_EQ(up.kind, ApplyKind::updated);
  EXPECT_EQ(*up.previous, a);
  EXPECT_EQ(*r.lookup(a.name), next);
}

TEST(StoredEntry, ManyDistinctOwnersShareNothingWrongly) {
  Registry r;
  constexpr std::uint64_t kOwners = 500;
  for (std::uint64_t i = 0; i < kOwners; ++i) {
    Entry e;
    e.name = "name-" + std::to_string(i);
    e.owner = raw_id(i);
    e.owner_name = "n" + std::to_string(i) + "@host";
    e.worker = i;
    e.plugin = i % 2 ? "echo" : "counter";
    e.clock = VectorClock{{raw_id(i), i + 1}, {raw_id(kOwners), 1}};
    ASSERT_EQ(r.apply(e).kind, ApplyKind::inserted);
  }
  for (std::uint64_t i = 0; i < kOwners; ++i) {
    auto v = r.lookup("name-" + std::to_string(i));
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->owner, raw_id(i));
    EXPECT_EQ(v->owner_name, "n" + std::to_string(i) + "@host");
    EXPECT_EQ(v->plugin, i % 2 ? "echo" : "counter");
    EXPECT_EQ(v->clock(), (VectorClock{{raw_id(i), i + 1}, {raw_id(kOwners), 1}}));
    auto owned = r.entries_owned_by(raw_id(i));
    ASSERT_EQ(owned.size(), 1u);
    EXPECT_EQ(owned[0].name, "name-" + std::to_string(i));
  }
  // 500 ids, 500 owner names, 2 plugins, and the id every clock shares.
  EXPECT_EQ(r.pooled_strings(), 2 * kOwners + 2 + 1);
  EXPECT_TRUE(r.entries_owned_by(raw_id(kOwners)).empty());  // in clocks only
  EXPECT_TRUE(r.entries_owned_by("nobody").empty());
}

TEST(StoredEntry, PoolForgetsStringsNoLongerNamedAndReusesTheirSlots) {
  Registry r;
  const std::string self = raw_id(1000);
  for (int round = 0; round < 3; ++round) {
    // 100 names, each run by a member seen only this round.
    for (std::uint64_t i = 0; i < 100; ++i) {
      Entry e;
      e.name = "name-" + std::to_string(i);
      e.owner = raw_id(static_cast<std::uint64_t>(round) * 100 + i);
      e.owner_name = "member-" + std::to_string(round * 100 + static_cast<int>(i)) + "@host";
      e.plugin = "echo";
      ASSERT_TRUE(r.put(e, self).ok());
    }
    // Each owner id and owner name of this round, the plugin, self's id.
    EXPECT_EQ(r.pooled_strings(), 100u + 100u + 1u + 1u);
    EXPECT_LE(r.pool_slots(), 2 * (100u + 100u + 1u + 1u));
  }
  const std::size_t slots = r.pool_slots();
  for (std::uint64_t i = 0; i < 100; ++i) ASSERT_TRUE(r.remove("name-" + std::to_string(i), self).has_value());
  EXPECT_EQ(r.collect_garbage({self}, self), 100u);
  EXPECT_EQ(r.pooled_strings(), 0u);  // nothing stored names anything
  EXPECT_EQ(r.pool_slots(), slots);
}

TEST(StoredEntry, CopiesAreIndependent) {
  Registry a;
  (void)a.apply(rich_entry());
  Registry b = a;
  ASSERT_TRUE(a.remove(rich_entry().name, raw_id(1)).has_value());
  EXPECT_EQ(a.collect_garbage({raw_id(1)}, raw_id(1)), 1u);
  EXPECT_EQ(a.pooled_strings(), 0u);
  ASSERT_TRUE(b.lookup(rich_entry().name).has_value());
  EXPECT_EQ(*b.lookup(rich_entry().name), rich_entry());
}

// ---------------------------------------------------------------------------
// The registry against the simplest correct replica: a map of Entry values
// kept by the same rules (put/remove stamp a dot, apply keeps the winner).

class ReferenceRegistry {
 public:
  ApplyKind apply(const Entry& in) {
    if (in.clock.empty()) return ApplyKind::stale;
    summary_.merge(in.clock);
    auto it = table_.find(in.name);
    if (it == table_.end()) {
      table_.emplace(in.name, in);
      return ApplyKind::inserted;
    }
    const Order o = in.clock.compare(it->second.clock);
    if (o == Order::before || (o == Order::equal && in == it->second)) return ApplyKind::stale;
    if (o == Order::after) {
      it->second = in;
      return ApplyKind::updated;
    }
    Entry unclocked = in;
    unclocked.clock = it->second.clock;
    const bool same = unclocked == it->second;  // one version under two clocks
    const bool wins = version_wins(in, it->second);
    if (wins) it->second = in;
    if (same) return wins ? ApplyKind::updated : ApplyKind::stale;
    return ApplyKind::conflict;
  }
  Entry put(Entry e, const std::string& self) {
    auto it = table_.find(e.name);
    e.clock = it != table_.end() ? it->second.clock : VectorClock{};
    e.clock.increment(self, summary_.max() + 1);
    e.tombstone = false;
    summary_.merge(e.clock);
    table_[e.name] = e;
    return e;
  }
  std::optional<Entry> remove(const std::string& name, const std::string& self) {
    auto it = table_.find(name);
    if (it == table_.end() || it->second.tombstone) return std::nullopt;
    Entry t = it->second;
    t.tombstone = true;
    t.args.clear();
    t.metadata.clear();
    t.groups.clear();
    t.clock.increment(self, summary_.max() + 1);
    summary_.merge(t.clock);
    it->second = t;
    return t;
  }
  std::vector<Entry> snapshot() const {
    std::vector<Entry> out;
    for (const auto& [name, e] : table_) out.push_back(e);
    return out;
  }
  const std::map<std::string, Entry>& table() const { return table_; }

 private:
  std::map<std::string, Entry> table_;
  VectorClock summary_;
};

TEST(StoredEntry, BehavesLikeAPlainMapUnderRandomWrites) {
  std::mt19937_64 rng(20261130);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  const std::vector<std::string> members = {raw_id(1), raw_id(2), raw_id(3), raw_id(4), raw_id(5)};
  const std::vector<std::string> plugins = {"echo", "counter", "a_long_plugin_name_for_the_heap"};
  Registry r;
  ReferenceRegistry ref;
  std::vector<Entry> sent;  // versions to replay late, out of order
  std::map<ApplyKind, int> kinds;

  auto random_fields = [&](const std::string& name) {
    Entry e;
    e.name = name;
    const std::size_t m = pick(members.size());
    e.owner = members[m];
    e.owner_name = "n" + std::to_string(m) + (pick(10) == 0 ? "@renamed" : "@host");
    e.worker = rng() % 1000;
    e.plugin = plugins[pick(plugins.size())];
    e.args = std::string(pick(4) == 0 ? 40 + pick(200) : pick(8), static_cast<char>('a' + pick(26)));
    if (pick(5) == 0) e.metadata["k" + std::to_string(pick(3))] = "v";
    if (pick(5) == 0) e.groups.insert("g" + std::to_string(pick(3)));
    return e;
  };

  for (int step = 0; step < 20000; ++step) {
    const std::string name = "name-" + std::to_string(pick(60));
    const std::string& self = members[pick(members.size())];
    switch (pick(4)) {
      case 0: {  // a local write
        const Entry fields = random_fields(name);
        auto got = r.put(fields, self);
        ASSERT_TRUE(got.ok());
        ASSERT_EQ(*got, ref.put(fields, self)) << step;
        sent.push_back(*got);
        break;
      }
      case 1: {  // a local delete
        auto got = r.remove(name, self);
        ASSERT_EQ(got, ref.remove(name, self)) << step;
        if (got) sent.push_back(*got);
        break;
      }
      case 2: {  // a peer's new version, maybe concurrent with ours
        Entry e = random_fields(name);
        e.tombstone = pick(6) == 0;
        if (auto stored = r.find(name); stored && pick(2) == 0) {
          e.clock = stored->clock();  // a successor of what is stored here
          e.clock.increment(members[pick(members.size())]);
        } else {
          e.clock = VectorClock{{members[pick(members.size())], 1 + rng() % 40}};
          if (pick(2) == 0) e.clock.increment(members[pick(members.size())], 1 + rng() % 40);
        }
        const ApplyKind kind = r.apply(e).kind;
        ASSERT_EQ(kind, ref.apply(e)) << step;
        ++kinds[kind];
        sent.push_back(e);
        break;
      }
      default: {  // a late or repeated delta
        if (sent.empty()) break;
        const Entry& e = sent[pick(sent.size())];
        const ApplyKind kind = r.apply(e).kind;
        ASSERT_EQ(kind, ref.apply(e)) << step;
        ++kinds[kind];
        break;
      }
    }
    if (step % 500 == 0) {
      ASSERT_EQ(r.snapshot(), ref.snapshot()) << step;
    }
  }
  ASSERT_EQ(r.snapshot(), ref.snapshot());
  // The history really exercised every kind of merge.
  for (ApplyKind k : {ApplyKind::inserted, ApplyKind::updated, ApplyKind::stale, ApplyKind::conflict})
    EXPECT_GT(kinds[k], 20) << to_string(k);
  std::size_t live = 0;
  for (const auto& [name, e] : ref.table()) {
    auto found = r.find(name);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(*found, e);
    EXPECT_EQ(r.lookup(name).has_value(), !e.tombstone);
    EXPECT_EQ(r.locate(name).has_value(), !e.tombstone);
    live += e.tombstone ? 0 : 1;
  }
  EXPECT_EQ(r.size(), live);
  EXPECT_EQ(r.tombstones(), ref.table().size() - live);
  auto listed = r.list();
  ASSERT_EQ(listed.size(), live);
  for (const auto& member : members) {
    std::size_t owned = 0;
    for (const auto& [name, e] : ref.table()) owned += !e.tombstone && e.owner == member;
    EXPECT_EQ(r.entries_owned_by(member).size(), owned);
  }
}

}  // namespace
}  // namespace zswarm::registry
