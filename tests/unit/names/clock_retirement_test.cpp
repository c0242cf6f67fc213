#include "names/clock_retirement.hpp"

#include <gtest/gtest.h>

#include <map>

#include "registry/registry.hpp"
#include "support/replication_model.hpp"

namespace zswarm::names {
namespace {

using namespace std::chrono_literals;
using registry::VectorClock;
using T = Clock::time_point;

RetirementOptions options() {
  RetirementOptions o;
  o.left_after = 10s;
  o.down_after = 60s;
  o.remember = 120s;
  return o;
}

TEST(ClockRetirement, LeftAndSupersededIdsGoSoonDownOnesAfterTheHorizon) {
  ClockRetirement r(options());
  const T t0{};
  r.observe("left", Absence::left, t0);
  r.observe("restarted", Absence::superseded, t0);
  r.observe("down", Absence::down, t0);
  EXPECT_EQ(r.waiting(), 3u);
  EXPECT_TRUE(r.take_due(t0 + 9s).empty());
  EXPECT_EQ(r.take_due(t0 + 10s), (std::vector<std::string>{"left", "restarted"}));
  EXPECT_TRUE(r.take_due(t0 + 59s).empty());
  EXPECT_EQ(r.take_due(t0 + 60s), (std::vector<std::string>{"down"}));
  EXPECT_TRUE(r.quarantined("down"));
  EXPECT_TRUE(r.quarantined("left"));
  EXPECT_EQ(r.waiting(), 0u);
  // A retired id is not timed again; it is forgotten after `remember`.
  r.observe("left", Absence::left, t0 + 70s);
  EXPECT_EQ(r.waiting(), 0u);
  EXPECT_TRUE(r.take_expired(t0 + 129s).empty());
  EXPECT_EQ(r.take_expired(t0 + 130s), (std::vector<std::string>{"left", "restarted"}));
  EXPECT_EQ(r.take_expired(t0 + 180s), (std::vector<std::string>{"down"}));
  EXPECT_EQ(r.quarantined_count(), 0u);
}

TEST(ClockRetirement, AnIdSeenAliveAgainStartsOverAndALeaveShortensADownWait) {
  ClockRetirement r(options());
  const T t0{};
  r.observe("x", Absence::down, t0);
  r.observe("x", std::nullopt, t0 + 30s);  // a healed partition: alive
  r.observe("x", Absence::down, t0 + 40s);
  EXPECT_TRUE(r.take_due(t0 + 99s).empty());  // counted from 40 s, not 0
  EXPECT_EQ(r.take_due(t0 + 100s), (std::vector<std::string>{"x"}));

  r.observe("y", Absence::down, t0);
  r.observe("y", Absence::left, t0 + 5s);  // its goodbye came after all
  EXPECT_EQ(r.take_due(t0 + 10s), (std::vector<std::string>{"y"}));
}

TEST(ClockRetirement, ObserveWritersSkipsSelfAndTheFloor) {
  ClockRetirement r(options());
  VectorClock summary{{"self", 3}, {"a", 4}, {"b", 5}};
  summary.raise(VectorClock::kRetired, 2);
  std::vector<std::string> asked;
  r.observe_writers(summary, "self", T{}, [&](const std::string& id) -> std::optional<Absence> {
    asked.push_back(id);
    if (id == "a") return std::nullopt;
    return Absence::left;
  });
  EXPECT_EQ(asked, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.waiting(), 1u);
}

TEST(ClockRetirement, AnIdNoOtherMemberNamesGoesSoonOnlyOnDigestsSentAfterItWasSeenAbsent) {
  ClockRetirement r(options());
  const T t0{};
  const VectorClock summary{{"self", 1}, {"x", 4}};
  const VectorClock other{{"self", 1}};  // names no x
  const std::vector<const VectorClock*> others = {&other};
  auto down = [](const std::string&) -> std::optional<Absence> { return Absence::down; };
  // Digests older than this node's first sight of x's absence prove
  // nothing (x may have written after they were sent, as a joiner does).
  r.observe_writers(summary, "self", t0, down, &others, t0);
  r.observe_writers(summary, "self", t0 + 2s, down, &others, t0);
  EXPECT_TRUE(r.take_due(t0 + 30s).empty());
  // A digest sent after that, still without x: the others retired it.
  r.observe_writers(summary, "self", t0 + 4s, down, &others, t0 + 3s);
  EXPECT_EQ(r.take_due(t0 + 10s), (std::vector<std::string>{"x"}));
}

// Issue 13's bound: 5,000 node restarts (rolling, one every 20 s of model
// time, over four nodes that keep replicating, losing frames, deleting and
// collecting tombstones). Each node times the ids of gone writers as the
// tracker does (a member it knew, restarted: superseded; an id it never
// knew: down), and retires them. The digest stays small, replicas agree,
// lost frames keep being repaired, and tombstones are purged.
TEST(ClockRetirement, FiveThousandRestartsKeepTheDigestSmall) {
  testing::ReplicationModel c(5000, 4, 0.05);
  std::vector<ClockRetirement> retirement(4, ClockRetirement(options()));
  std::vector<std::map<std::string, bool>> known(4);  // per node: ids it saw as members
  auto meet_all = [&] {
    for (auto& k : known)
      for (const auto& id : c.ids) k[id] = true;
  };
  meet_all();
  T now{};
  std::size_t max_digest = 0, retired = 0, purged = 0, late_repairs = 0, joins = 0;
  auto digest_round = [&] {
    c.digests();
    for (std::size_t i = 0; i < 4; ++i) {
      auto& reg = c.replicas[i];
      std::vector<const VectorClock*> others;
      for (std::size_t j = 0; j < 4; ++j)
        if (j != i) others.push_back(&c.replicas[j].summary());
      retirement[i].observe_writers(reg.summary(), c.ids[i], now, [&](const std::string& id) -> std::optional<Absence> {
        if (std::count(c.ids.begin(), c.ids.end(), id)) return std::nullopt;
        return known[i].count(id) ? Absence::superseded : Absence::down;
      }, &others, now);
      auto due = retirement[i].take_due(now);
      retired += due.size();
      if (!due.empty()) (void)reg.retire(due);
      reg.forget_retired(retirement[i].take_expired(now));
      for (std::size_t j = 0; j < 4; ++j)
        if (j != i) reg.note_seen(c.ids[j], c.replicas[j].summary());
      purged += reg.collect_garbage(c.ids, c.ids[i]);
      max_digest = std::max(max_digest, registry::encode(reg.summary()).size());
    }
  };
  for (int restart = 1; restart <= 5000; ++restart) {
    for (int tick = 0; tick < 10; ++tick) {  // 2 s each
      for (int s = 0; s < 4; ++s) c.step();
      now += 2s;
      if (tick % 2 == 0) digest_round();
    }
    const std::size_t k = c.rng() % 4;
    const std::size_t resyncs_before = c.resyncs;
    (void)c.restart(k, (k + 1 + c.rng() % 3) % 4);
    joins += c.resyncs - resyncs_before;
    retirement[k] = ClockRetirement(options());  // a new process
    known[k].clear();
    meet_all();
    if (restart == 4000) late_repairs = c.resyncs - joins;
  }
  for (int quiet = 0; quiet < 40; ++quiet) {  // 80 s: past the down horizon
    c.drain();
    now += 2s;
    digest_round();
  }
  c.drain();
  digest_round();

  const auto expected = c.replicas[0].snapshot();
  for (const auto& reg : c.replicas) {
    EXPECT_EQ(reg.snapshot(), expected);
    EXPECT_EQ(reg.tombstones(), 0u);
    EXPECT_LE(reg.summary().size(), 5u);  // the four live ids and the floor
  }
  EXPECT_LT(max_digest, 2048u) << "the digest grew with restarts";
  EXPECT_GE(retired, 5000u);
  EXPECT_GT(purged, 1000u);
  EXPECT_GT(c.resyncs, 5000u);  // every restart's join, and the lost frames
  late_repairs = c.resyncs - joins - late_repairs;
  EXPECT_GT(late_repairs, 1000u);  // frames lost in the last 1,000 restarts were still repaired
  RecordProperty("max_digest_bytes", static_cast<int>(max_digest));
  RecordProperty("resyncs", static_cast<int>(c.resyncs));
  RecordProperty("purged", static_cast<int>(purged));
}

}  // namespace
}  // namespace zswarm::names
