#include "registry/registry.hpp"
#include "support/replication_model.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace zswarm::registry {
namespace {

Entry fields(const std::string& name, const std::string& owner, std::uint64_t worker = 1) {
  Entry e;
  e.name = name;
  e.owner = owner;
  e.owner_name = owner + "@host";
  e.worker = worker;
  e.plugin = "echo";
  e.args = "args";
  return e;
}

Entry version(const std::string& name, const std::string& owner, VectorClock clock,
              bool tombstone = false) {
  Entry e = fields(name, owner);
  e.clock = std::move(clock);
  e.tombstone = tombstone;
  return e;
}

TEST(Registry, PutLookupRemove) {
  Registry r;
  EXPECT_EQ(r.lookup("x"), std::nullopt);
  auto put = r.put(fields("x", "a"), "a");
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(put->clock, (VectorClock{{"a", 1}}));
  ASSERT_NE(r.lookup("x"), std::nullopt);
  EXPECT_EQ(*r.lookup("x"), *put);
  EXPECT_EQ(r.size(), 1u);

  // Dots are node-wide: a's next write, on another name, gets dot 2.
  auto y = r.put(fields("y", "a"), "a");
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(y->clock, (VectorClock{{"a", 2}}));

  auto tomb = r.remove("x", "a");
  ASSERT_TRUE(tomb.has_value());
  EXPECT_TRUE(tomb->tombstone);
  EXPECT_TRUE(tomb->args.empty());
  EXPECT_EQ(tomb->owner, "a");  // says what was deleted
  EXPECT_EQ(tomb->clock, (VectorClock{{"a", 3}}));
  EXPECT_EQ(r.lookup("x"), std::nullopt);
  ASSERT_NE(r.find("x"), std::nullopt);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(r.tombstones(), 1u);
  EXPECT_FALSE(r.remove("x", "a").has_value());
  EXPECT_FALSE(r.remove("never", "a").has_value());

  // Registering again supersedes the tombstone.
  auto again = r.put(fields("x", "b"), "b");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->clock.compare(tomb->clock), Order::after);
  EXPECT_EQ(r.size(), 2u);
  EXPECT_EQ(r.tombstones(), 0u);
  // Dots are Lamport stamps: b's first write draws one more than any counter seen.
  EXPECT_EQ(again->clock, (VectorClock{{"a", 3}, {"b", 4}}));
  EXPECT_EQ(r.summary(), (VectorClock{{"a", 3}, {"b", 4}}));
}

TEST(Registry, PutRejectsInvalidEntries) {
  Registry r;
  EXPECT_FALSE(r.put(fields("", "a"), "a").ok());
  EXPECT_FALSE(r.put(fields("x", ""), "a").ok());
  EXPECT_FALSE(r.put(fields("x", "a"), "").ok());
  Entry big = fields("x", "a");
  big.args.assign(kMaxArgsBytes + 1, 'z');
  auto res = r.put(big, "a");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, DecodeErrc::too_large);
  EXPECT_EQ(r.size(), 0u);
  EXPECT_TRUE(r.summary().empty());
}

TEST(Registry, ListAndOwnership) {
  Registry r;
  ASSERT_TRUE(r.put(fields("c", "m1"), "m1").ok());
  ASSERT_TRUE(r.put(fields("a", "m2"), "m1").ok());
  ASSERT_TRUE(r.put(fields("b", "m1"), "m1").ok());
  ASSERT_TRUE(r.remove("c", "m1").has_value());
  auto live = r.list();
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[0].name, "a");
  EXPECT_EQ(live[1].name, "b");
  auto owned = r.entries_owned_by("m1");
  ASSERT_EQ(owned.size(), 1u);  // c is deleted
  EXPECT_EQ(owned[0].name, "b");
  EXPECT_EQ(r.snapshot().size(), 3u);
}

TEST(Registry, ApplyKinds) {
  Registry r;
  const Entry v1 = version("x", "a", {{"a", 1}});
  const Entry v2 = version("x", "b", {{"a", 1}, {"b", 4}});
  EXPECT_EQ(r.apply(v1).kind, ApplyKind::inserted);
  EXPECT_EQ(r.apply(v1).kind, ApplyKind::stale);  // duplicate
  auto up = r.apply(v2);
  EXPECT_EQ(up.kind, ApplyKind::updated);
  ASSERT_TRUE(up.previous.has_value());
  EXPECT_EQ(*up.previous, v1);
  EXPECT_EQ(r.apply(v1).kind, ApplyKind::stale);  // late, older
  EXPECT_EQ(*r.lookup("x"), v2);

  // A tombstone for an unknown name is kept, so an older live version that
  // arrives later cannot resurrect the name.
  EXPECT_EQ(r.apply(version("y", "a", {{"a", 7}}, true)).kind, ApplyKind::inserted);
  EXPECT_EQ(r.lookup("y"), std::nullopt);
  EXPECT_EQ(r.apply(version("y", "a", {{"a", 6}})).kind, ApplyKind::stale);
  EXPECT_EQ(r.lookup("y"), std::nullopt);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(r.tombstones(), 1u);

  // An entry with no clock carries no version: ignored.
  EXPECT_EQ(r.apply(version("z", "a", {})).kind, ApplyKind::stale);
  EXPECT_EQ(r.find("z"), std::nullopt);
  EXPECT_EQ(r.summary(), (VectorClock{{"a", 7}, {"b", 4}}));
}

TEST(Registry, ConcurrentVersionsResolveTheSameInBothOrders) {
  // Two sides of a healed partition registered the same name.
  const Entry left = version("x", "a", {{"a", 5}});
  const Entry right = version("x", "b", {{"b", 3}});
  Registry r1;
  Registry r2;
  EXPECT_EQ(r1.apply(left).kind, ApplyKind::inserted);
  auto c1 = r1.apply(right);
  EXPECT_EQ(r2.apply(right).kind, ApplyKind::inserted);
  auto c2 = r2.apply(left);
  ASSERT_EQ(c1.kind, ApplyKind::conflict);
  ASSERT_EQ(c2.kind, ApplyKind::conflict);
  EXPECT_EQ(*c1.winner, left);  // larger clock sum
  EXPECT_EQ(*c1.loser, right);
  EXPECT_EQ(*c2.winner, left);
  EXPECT_EQ(*c2.loser, right);
  EXPECT_EQ(r1.snapshot(), r2.snapshot());
  // The loser coming back is reported again but changes nothing.
  EXPECT_EQ(r1.apply(right).kind, ApplyKind::conflict);
  EXPECT_EQ(*r1.lookup("x"), left);
}

// Regression for the rule first sketched for this module (store the winner
// with the merge of both clocks, then rank by clock sum): with A || B and C a
// later write over A, order A,B,C kept A (sum(a v b) = 8 > sum(c) = 6) while
// A,C,B kept C. Ranking each version by its own clock keeps C in all orders.
TEST(Registry, CausalSuccessorOfAConflictWinnerWinsInEveryOrder) {
  const Entry a = version("x", "a", {{"a", 5}});
  const Entry b = version("x", "b", {{"b", 3}});
  const Entry c = version("x", "a", {{"a", 6}});
  std::vector<Entry> order = {a, b, c};
  std::sort(order.begin(), order.end(), [](const Entry& p, const Entry& q) { return p.clock < q.clock; });
  do {
    Registry r;
    for (const Entry& e : order) (void)r.apply(e);
    EXPECT_EQ(*r.lookup("x"), c);
  } while (std::next_permutation(order.begin(), order.end(), [](const Entry& p, const Entry& q) {
    return p.clock < q.clock;
  }));
}

TEST(Registry, MergeSnapshotReportsChanges) {
  Registry source;
  ASSERT_TRUE(source.put(fields("a", "m1"), "m1").ok());
  ASSERT_TRUE(source.put(fields("b", "m1"), "m1").ok());
  ASSERT_TRUE(source.remove("b", "m1").has_value());
  Registry target;
  std::size_t changes = 0;
  auto stats = target.merge_snapshot(source.snapshot(), [&](const ApplyResult&) { ++changes; });
  EXPECT_EQ(stats, (MergeStats{2, 0, 0, 0}));
  EXPECT_EQ(changes, 2u);
  EXPECT_EQ(target.snapshot(), source.snapshot());
  EXPECT_EQ(target.merge_snapshot(source.snapshot()), (MergeStats{0, 0, 2, 0}));
}

// ---------------------------------------------------------------------------
// Convergence: nodes write on their local state and broadcast deltas over a
// network that drops, duplicates and reorders; afterwards one round of
// snapshot exchange must leave every replica identical, and equal to a fresh
// replica that applies every delta ever sent, in any order, with repeats.

struct Simulation {
  explicit Simulation(std::uint64_t seed, int node_count) : rng(seed) {
    for (int i = 0; i < node_count; ++i) ids.push_back("node-" + std::to_string(i));
    replicas.resize(ids.size());
    inbox.resize(ids.size());
  }

  void broadcast(std::size_t from, const Entry& delta) {
    deltas.push_back(delta);
    for (std::size_t to = 0; to < ids.size(); ++to) {
      if (to == from || chance(drop_rate)) continue;
      inbox[to].push_back(delta);
      if (chance(0.1)) inbox[to].push_back(delta);  // duplicate
    }
  }

  void write(std::size_t node) {
    const std::string name = "name-" + std::to_string(rng() % 6);
    if (chance(0.3)) {
      if (auto tomb = replicas[node].remove(name, ids[node])) broadcast(node, *tomb);
      return;
    }
    auto put = replicas[node].put(fields(name, ids[node], rng() % 1000), ids[node]);
    ASSERT_TRUE(put.ok());
    broadcast(node, *put);
  }

  void deliver_one(std::size_t node) {
    auto& q = inbox[node];
    if (q.empty()) return;
    const std::size_t i = rng() % q.size();  // any pending message: reordering
    const Entry e = q[i];
    q.erase(q.begin() + static_cast<std::ptrdiff_t>(i));
    if (replicas[node].apply(e).kind == ApplyKind::conflict) ++conflicts;
  }

  void step() {
    const std::size_t node = rng() % ids.size();
    if (chance(0.4)) {
      write(node);
    } else {
      deliver_one(node);
    }
  }
  // Delivers what is still in flight (already subject to drops).
  void drain() {
    for (std::size_t n = 0; n < ids.size(); ++n) {
      while (!inbox[n].empty()) deliver_one(n);
    }
  }
  void run(int steps) {
    for (int s = 0; s < steps; ++s) step();
    drain();
  }

  // Every node merges every other node's snapshot once, in random order.
  void snapshot_repair() {
    std::vector<std::pair<std::size_t, std::size_t>> pairs;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      for (std::size_t j = 0; j < ids.size(); ++j) {
        if (i != j) pairs.emplace_back(i, j);
      }
    }
    std::shuffle(pairs.begin(), pairs.end(), rng);
    for (auto [i, j] : pairs) (void)replicas[i].merge_snapshot(replicas[j].snapshot());
  }

  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; }

  std::mt19937_64 rng;
  double drop_rate = 0.3;
  std::vector<std::string> ids;
  std::vector<Registry> replicas;
  std::vector<std::deque<Entry>> inbox;
  std::vector<Entry> deltas;
  std::size_t conflicts = 0;
};

TEST(RegistryConvergence, DropsDuplicatesAndReorderingThenSnapshotRepair) {
  std::size_t total_conflicts = 0;
  std::size_t diverged_before_repair = 0;
  for (std::uint64_t seed = 1; seed <= 150; ++seed) {
    SCOPED_TRACE(seed);
    Simulation sim(seed, 4);
    sim.run(300);
    total_conflicts += sim.conflicts;
    for (std::size_t i = 1; i < sim.replicas.size(); ++i) {
      if (sim.replicas[i].snapshot() != sim.replicas[0].snapshot()) {
        ++diverged_before_repair;
        break;
      }
    }
    sim.snapshot_repair();
    const auto expected = sim.replicas[0].snapshot();
    for (const Registry& r : sim.replicas) ASSERT_EQ(r.snapshot(), expected);

    // Any order, with duplicates, gives the same table: apply is a join.
    for (int trial = 0; trial < 3; ++trial) {
      std::vector<Entry> shuffled = sim.deltas;
      for (std::size_t k = 0; k < sim.deltas.size() / 5; ++k) {
        shuffled.push_back(sim.deltas[sim.rng() % sim.deltas.size()]);
      }
      std::shuffle(shuffled.begin(), shuffled.end(), sim.rng);
      Registry fresh;
      for (const Entry& e : shuffled) (void)fresh.apply(e);
      ASSERT_EQ(fresh.snapshot(), expected);
    }
  }
  // The histories must really exercise conflicts and repair.
  EXPECT_GT(total_conflicts, 100u);
  EXPECT_GT(diverged_before_repair, 50u);
}

// ---------------------------------------------------------------------------
// Retired writers: ids folded into VectorClock::kRetired (protocol.md §8.10).

TEST(RegistryRetire, FoldsStoredClocksSummariesAndEveryLaterArrival) {
  const std::string floor(VectorClock::kRetired);
  Registry r;
  ASSERT_TRUE(r.put(fields("x", "a"), "a").ok());  // {a:1}
  ASSERT_EQ(r.apply(version("y", "b", {{"b", 5}})).kind, ApplyKind::inserted);
  ASSERT_EQ(r.apply(version("z", "b", {{"a", 1}, {"b", 6}}, true)).kind, ApplyKind::inserted);
  r.note_seen("m", VectorClock{{"a", 1}, {"b", 6}});

  EXPECT_EQ(r.retire({"b"}), 2u);  // y and z named b
  EXPECT_TRUE(r.is_retired("b"));
  EXPECT_EQ(r.find("y")->clock(), (VectorClock{{floor, 5}}));
  EXPECT_EQ(r.find("z")->clock(), (VectorClock{{floor, 6}, {"a", 1}}));
  EXPECT_EQ(r.summary(), (VectorClock{{floor, 6}, {"a", 1}}));
  EXPECT_EQ(r.find("x")->clock(), (VectorClock{{"a", 1}}));  // untouched

  // A delta b wrote before it went, late: folded on arrival, and newer.
  EXPECT_EQ(r.apply(version("y", "b", {{"b", 7}})).kind, ApplyKind::updated);
  EXPECT_EQ(r.find("y")->clock(), (VectorClock{{floor, 7}}));
  // The same version from a replica that has not retired b yet: stale.
  EXPECT_EQ(r.apply(version("y", "b", {{"b", 7}})).kind, ApplyKind::stale);
  // The members' summaries fold too, so the tombstone can be proven seen.
  EXPECT_EQ(r.collect_garbage({"a", "m"}, "a"), 1u);
  VectorClock digest{{"a", 1}, {"b", 7}};
  r.fold(digest);
  EXPECT_EQ(digest, (VectorClock{{floor, 7}, {"a", 1}}));

  // A write after the fold draws its dot above every counter seen.
  auto w = r.put(fields("y", "a"), "a");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->clock, (VectorClock{{floor, 7}, {"a", 8}}));
  r.forget_retired({"b"});
  EXPECT_FALSE(r.is_retired("b"));
}

TEST(RegistryRetire, AReplicaThatHasNotRetiredYetKeepsTheSameWinner) {
  const std::string floor(VectorClock::kRetired);
  Registry folded;
  Registry lagging;
  const Entry y = version("y", "b", {{"b", 5}});
  (void)folded.apply(y);
  (void)lagging.apply(y);
  (void)folded.retire({"b"});
  // The folded replica's successor lacks b: the lagging one sees it as
  // concurrent, and the stamp still picks the successor.
  auto next = folded.put(fields("y", "a", 2), "a");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->clock, (VectorClock{{floor, 5}, {"a", 6}}));
  const ApplyResult r = lagging.apply(*next);
  EXPECT_EQ(r.kind, ApplyKind::conflict);
  ASSERT_TRUE(r.winner.has_value());
  EXPECT_EQ(r.winner->clock, next->clock);
  EXPECT_EQ(lagging.find("y")->clock(), next->clock);
  // The old version from the lagging replica is stale where b is folded.
  EXPECT_EQ(folded.apply(y).kind, ApplyKind::stale);
  (void)lagging.retire({"b"});
  EXPECT_EQ(lagging.snapshot(), folded.snapshot());
  EXPECT_EQ(lagging.summary(), folded.summary());
}

// Nodes restart (a new id each time) while writing over the tracker's
// replication in miniature (support/replication_model.hpp), and each replica
// retires an old id at its own moment, once it has been gone for two digest
// rounds (as retire_left_after spans several digest intervals).
TEST(RegistryRetire, ReplicasThatRetireAtDifferentMomentsConverge) {
  std::size_t folded_early = 0, conflicts = 0, resyncs = 0;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    SCOPED_TRACE(seed);
    testing::ReplicationModel c(seed, 4);
    std::vector<std::pair<std::string, int>> gone;  // id, the step it went
    for (int step = 0; step < 800; ++step) {
      if (c.chance(0.02)) {  // a restart: the node's id is new, its replica kept
        const std::size_t k = c.rng() % c.ids.size();
        gone.emplace_back(c.ids[k], step);
        c.ids[k] += "'";
      }
      if (step % 25 == 0) c.digests();
      for (auto& replica : c.replicas)
        for (const auto& [id, went] : gone)
          if (step - went > 50 && !replica.is_retired(id) && c.chance(0.05)) {
            (void)replica.retire({id});
            ++folded_early;
          }
      c.step();
    }
    c.drain();
    for (auto& replica : c.replicas)
      for (const auto& [id, went] : gone) (void)replica.retire({id});
    // Digest rounds until quiet: no forced exchange of replicas.
    for (int round = 0; round < 3; ++round) {
      c.digests();
      c.drain();
    }
    const auto expected = c.replicas[0].snapshot();
    for (const Registry& r : c.replicas) {
      ASSERT_EQ(r.snapshot(), expected);
      for (const auto& [id, counter] : r.summary().entries())
        EXPECT_TRUE(id == VectorClock::kRetired || std::count(c.ids.begin(), c.ids.end(), id)) << id;
    }
    conflicts += c.conflicts;
    resyncs += c.resyncs;
  }
  EXPECT_GT(folded_early, 500u);
  EXPECT_GT(conflicts, 50u);  // the histories really race
  EXPECT_GT(resyncs, 100u);   // and really lose frames
}

// ---------------------------------------------------------------------------
// Tombstone garbage collection.

TEST(RegistryGc, PurgesTombstonesOnlyOnceEveryLiveMemberHasSeenThem) {
  Registry a;
  Registry b;
  Registry c;
  const std::vector<std::string> live = {"a", "b", "c"};
  auto put = a.put(fields("x", "a"), "a");
  ASSERT_TRUE(put.ok());
  (void)b.apply(*put);
  (void)c.apply(*put);
  auto tomb = a.remove("x", "a");
  ASSERT_TRUE(tomb.has_value());
  (void)b.apply(*tomb);  // c misses the delete for now

  // No summaries recorded yet: nothing can be proven.
  EXPECT_EQ(a.collect_garbage(live, "a"), 0u);
  a.note_seen("b", b.summary());
  a.note_seen("c", c.summary());
  EXPECT_EQ(a.collect_garbage(live, "a"), 0u);  // c has not seen it
  EXPECT_EQ(a.tombstones(), 1u);

  (void)c.apply(*tomb);
  a.note_seen("c", c.summary());
  EXPECT_EQ(a.collect_garbage(live, "a"), 1u);
  EXPECT_EQ(a.find("x"), std::nullopt);
  EXPECT_EQ(a.tombstones(), 0u);
}

TEST(RegistryGc, UnknownAndDepartedMembers) {
  Registry a;
  ASSERT_TRUE(a.put(fields("x", "a"), "a").ok());
  ASSERT_TRUE(a.remove("x", "a").has_value());
  a.note_seen("b", a.summary());
  // A live member that never advertised a summary blocks collection.
  EXPECT_EQ(a.collect_garbage({"a", "b", "d"}, "a"), 0u);
  // Once d has left, its view no longer matters.
  EXPECT_EQ(a.collect_garbage({"a", "b"}, "a"), 1u);
}

TEST(RegistryGc, ForgetsSummariesOfMembersThatLeft) {
  Registry a;
  ASSERT_TRUE(a.put(fields("x", "a"), "a").ok());
  a.note_seen("b", a.summary());
  EXPECT_EQ(a.collect_garbage({"a"}, "a"), 0u);  // drops b's summary
  ASSERT_TRUE(a.remove("x", "a").has_value());
  // b is back (a new view is needed): without it nothing is purged.
  EXPECT_EQ(a.collect_garbage({"a", "b"}, "a"), 0u);
  a.note_seen("b", a.summary());
  EXPECT_EQ(a.collect_garbage({"a", "b"}, "a"), 1u);
}

TEST(RegistryGc, OlderSummaryDoesNotRollBack) {
  Registry a;
  a.note_seen("b", VectorClock{{"a", 5}});
  a.note_seen("b", VectorClock{{"a", 2}});  // reordered, older advert
  ASSERT_TRUE(a.put(fields("x", "a"), "a").ok());
  ASSERT_TRUE(a.remove("x", "a").has_value());  // clock {a:2}
  EXPECT_EQ(a.collect_garbage({"a", "b"}, "a"), 1u);
}

}  // namespace
}  // namespace zswarm::registry
