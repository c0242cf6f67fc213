// The SWIM failure detector with Lifeguard (discovery/swim.hpp) inside real
// nodes on a SimEnv, on the manual clock: a crash behind a cut is found in
// bounded time, an unreachable-from-one-member node is kept alive by its
// indirect probes, a suspect refutes, and a slow node backs off before it
// accuses anyone.
#include "discovery/cluster.hpp"

#include <algorithm>

#include "support/sim.hpp"

namespace zswarm::discovery {

using namespace zswarm::sim;
namespace {

// Events about `of` that `by` saw, of one kind.
int count(const SimNode& by, const SimNode& of, MembershipEvent::Kind kind) {
  return static_cast<int>(std::count_if(by.events.begin(), by.events.end(), [&](const MembershipEvent& e) {
    return e.kind == kind && e.member.id == of.id;
  }));
}

const SwimStats& swim(SimNode& n) { return n.parts.cluster->detector().stats(); }

struct SwimSim : Sim {
  std::vector<SimNode*> start(int n) {
    std::vector<SimNode*> v;
    for (int i = 0; i < n; ++i) v.push_back(&add(std::string(1, char('a' + i)).append("@h")));
    settle();
    run_for(300ms);
    for (auto* x : v) {
      EXPECT_EQ(others(*x).size(), static_cast<std::size_t>(n - 1)) << x->name;
      x->events.clear();
    }
    return v;
  }
  // Cuts the links between two nodes, both ways (beacons still pass).
  static void cut(SimNode& x, SimNode& y) {
    x.fault->plan().cut.insert(y.id);
    y.fault->plan().cut.insert(x.id);
  }
};

// A member that dies behind a cut (no refusal crosses it) is down on every
// survivor within a bound: each survivor probes it at least once per round
// of N - 1 intervals, the first failure is a suspicion that every other
// member confirms with a probe of its own, and confirmed suspicions end at
// suspicion_min.
TEST_F(SwimSim, ACrashBehindACutIsDownEverywhereInBoundedTime) {
  auto group = start(8);
  SimNode& victim = *group[3];
  for (auto* n : group)
    if (n != &victim) n->fault->plan().cut.insert(victim.id);
  kill(victim);
  settle();
  auto all_down = [&] {
    for (auto* n : group)
      if (n != &victim && state_seen(*n, victim) != MemberState::down) return false;
    return true;
  };
  Clock::duration took{};
  const auto t0 = clock.now();
  ASSERT_TRUE(env.run_until(all_down, 3s));
  took = clock.now() - t0;
  // Bound: a round of 7 intervals (700 ms) before the first probe at worst,
  // its interval (100 ms), the confirmations (100 ms) and suspicion_min (200
  // ms), with slack for the 10 ms steps. Typically ~500 ms.
  EXPECT_LE(took, 1200ms) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  for (auto* n : group) {
    if (n == &victim) continue;
    EXPECT_EQ(count(*n, victim, MembershipEvent::down), 1) << n->name;
    for (const auto& e : n->events) {
      if (e.kind == MembershipEvent::down) {
        EXPECT_NE(e.reason, kPeerGoneReason) << "the cut let a refusal through";
      }
    }
    for (auto* m : group)
      if (m != &victim && m != n) {
        EXPECT_EQ(state_seen(*n, *m), MemberState::alive) << n->name << " sees " << m->name;
      }
  }
}

// a cannot reach c (a cut between the two alone), but everyone else can: a's
// direct probes of c fail, the indirect ones through b, d, e succeed, and no
// one ever suspects c.
TEST_F(SwimSim, AMemberOneNodeCannotReachIsKeptAliveByIndirectProbes) {
  auto group = start(5);
  SimNode& a = *group[0];
  SimNode& c = *group[2];
  cut(a, c);
  run_for(10s, 10ms);
  for (auto* n : group)
    for (auto* m : group)
      if (n != m) {
        EXPECT_EQ(state_seen(*n, *m), MemberState::alive) << n->name << " sees " << m->name;
        EXPECT_EQ(count(*n, *m, MembershipEvent::suspect), 0) << n->name << " suspected " << m->name;
      }
  EXPECT_GT(swim(a).probe_requests, 0u) << "a never asked for an indirect probe";
  uint64_t relayed = 0;
  for (auto* n : group) relayed += swim(*n).probes_relayed;
  EXPECT_GT(relayed, 0u);
  EXPECT_EQ(swim(a).suspicions, 0u);
}

// With no one to probe for it (indirect_probes = 0), a suspects c, which it
// cannot reach. The suspicion reaches c through b (b's own probe of c carries
// it), c raises its counter, and its refutation clears the suspicion
// everywhere: c is never declared down.
TEST_F(SwimSim, ASuspectedNodeRefutesWithAHigherCounter) {
  configure = [](NodeOptions& o) {
    o.indirect_probes = 0;
    o.suspicion_min = 1500ms;
    o.suspicion_max = 1500ms;
  };
  auto group = start(3);
  SimNode& a = *group[0];
  SimNode& b = *group[1];
  SimNode& c = *group[2];
  cut(a, c);
  ASSERT_TRUE(env.run_until([&] { return swim(c).refutations > 0; }, 2s));
  run_for(5s, 10ms);
  EXPECT_GE(swim(a).suspicions, 1u);
  EXPECT_GE(count(b, c, MembershipEvent::suspect), 1);
  EXPECT_GE(count(b, c, MembershipEvent::recovered), 1);
  EXPECT_GE(count(a, c, MembershipEvent::recovered), 1) << "the refutation never reached a (it comes through b)";
  for (auto* n : {&a, &b}) {
    EXPECT_EQ(count(*n, c, MembershipEvent::down), 0) << n->name;
    EXPECT_NE(state_seen(*n, c), MemberState::down);
    EXPECT_GE(n->parts.cluster->membership().find(c.id)->counter, 1u) << n->name;
  }
  EXPECT_GE(c.parts.cluster->detector().counter(), 1u);
}

// A slow node: every frame to and from `a` waits 60 ms, so its round trip
// (120 ms) outlasts its whole probe interval (100 ms). Without Lifeguard it
// accuses a healthy member on almost every probe. With it, the missed nacks
// and the refutations it has to make raise its health score, its interval
// and timeout stretch, and it (almost) stops accusing.
uint64_t suspicions_by_a_slow_node(unsigned awareness_max, unsigned* score_seen) {
  struct Run : Sim {
    void TestBody() override {}
  } run;
  run.configure = [&](NodeOptions& o) { o.awareness_max = awareness_max; };
  std::vector<SimNode*> nodes;
  for (const char* name : {"a@h", "b@h", "c@h", "d@h", "e@h"}) nodes.push_back(&run.add(name));
  run.settle();
  run.run_for(300ms);
  SimNode& a = *nodes[0];
  a.fault->plan().delay = 60ms;
  *score_seen = 0;
  for (int i = 0; i < 100; ++i) {  // 10 s
    run.run_for(100ms, 5ms);
    *score_seen = std::max(*score_seen, a.parts.cluster->detector().health());
  }
  return swim(a).suspicions;
}

// a is cut off from all four others (a 1|4 split). Every probe it makes
// fails and no helper nacks, which Lifeguard reads as "the fault is ours":
// its interval and timeouts would stretch up to 9x, and the last of its
// four suspicions would end seconds later. But a has heard no one at all
// while its loop ran on time: it is alone, not slow, so it neither backs off
// nor waits past suspicion_min, and sees all four down within 0.9 s.
// (Without the rule: about 4-6 s, as issue 13's chaos runs measured.)
TEST_F(SwimSim, ANodeCutOffFromEveryoneSeesThemDownWithoutBackingOff) {
  auto group = start(5);
  SimNode& a = *group[0];
  isolate(a, true);
  auto all_down = [&] {
    for (auto* n : group)
      if (n != &a && state_seen(a, *n) != MemberState::down) return false;
    return true;
  };
  const auto t0 = clock.now();
  ASSERT_TRUE(env.run_until(all_down, 10s));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - t0);
  // A probe fails without a nack (up to 200 ms), 300 ms of silence make a
  // isolated, it probes the other three at once (100 ms), and their
  // suspicions end suspicion_min (200 ms) later: 800 ms measured.
  EXPECT_LE(took, 900ms) << took.count() << " ms";
  EXPECT_EQ(swim(a).isolations, 1u);
  EXPECT_FALSE(a.parts.cluster->detector().isolated()) << "no live member left to be cut off from";
  // The majority is not isolated and detects a the usual way.
  for (auto* n : group)
    if (n != &a) {
      EXPECT_EQ(swim(*n).isolations, 0u) << n->name;
      EXPECT_TRUE(env.run_until([&] { return state_seen(*n, a) == MemberState::down; }, 2s)) << n->name;
    }
  // Healed: everyone beacons every 250 ms since its silent downs
  // (protocol.md §2.5), so both sides find each other within about that,
  // not at the next 1 s beacon, whatever the beacons' phase: four heals.
  auto all_alive = [&] {
    for (auto* n : group)
      for (auto* m : group)
        if (n != m && state_seen(*n, *m) != MemberState::alive) return false;
    return true;
  };
  std::chrono::milliseconds slowest{0};
  for (int round = 0; round < 4; ++round) {
    if (round > 0) {
      isolate(a, true);
      ASSERT_TRUE(env.run_until([&] { return state_seen(*group[1], a) == MemberState::down; }, 5s));
      run_for(std::chrono::milliseconds(130 * round));  // another phase each time
    }
    isolate(a, false);
    const auto healed_at = clock.now();
    ASSERT_TRUE(env.run_until(all_alive, 5s)) << "round " << round;
    slowest = std::max(slowest, std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - healed_at));
  }
  EXPECT_LE(slowest, 400ms) << slowest.count() << " ms";
  EXPECT_GE(swim(a).isolations, 1u);
}

// A 2|3 split: a and b still reach each other, so each failed probe of c,
// d or e gets b's (or a's) nack in time, which proves the prober is not the
// slow one. Lifeguard must not stretch them, or the smaller side would wait
// up to 9 x 600 ms per suspicion (4.3 s measured in a chaos run); they see
// the three down in under a second.
TEST_F(SwimSim, TheSmallerSideOfASplitIsNotSlowedByLifeguard) {
  auto group = start(5);
  SimNode &a = *group[0], &b = *group[1];
  for (SimNode* x : {&a, &b}) {
    x->beacon->set_side(1);  // beacons stay on their side too
    for (int i = 2; i < 5; ++i) cut(*x, *group[static_cast<std::size_t>(i)]);
  }
  auto split = [&] {
    for (SimNode* x : {&a, &b})
      for (int i = 2; i < 5; ++i)
        if (state_seen(*x, *group[static_cast<std::size_t>(i)]) != MemberState::down) return false;
    return true;
  };
  const auto t0 = clock.now();
  ASSERT_TRUE(env.run_until(split, 15s));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - t0);
  EXPECT_LE(took, 1200ms) << took.count() << " ms";  // 800 ms measured; 2,000 with the old rule
  EXPECT_EQ(a.parts.cluster->detector().health(), 0u);
  EXPECT_EQ(state_seen(a, b), MemberState::alive);
}

// The same silence on a node whose loop is starved (every wake-up comes
// 400 ms after its deadline, so frames could be waiting in its sockets)
// proves nothing: it never counts as cut off, and Lifeguard stretches on.
TEST_F(SwimSim, SilenceWhileTheLoopRunsLateIsNotIsolation) {
  auto group = start(5);
  SimNode& a = *group[0];
  isolate(a, true);
  run_for(4000ms, 400ms);
  EXPECT_EQ(swim(a).isolations, 0u);
  EXPECT_FALSE(a.parts.cluster->detector().isolated());
  EXPECT_GT(a.parts.cluster->detector().health(), 0u) << "Lifeguard should have backed off";
}

TEST(SwimLifeguard, ASlowNodeBacksOffBeforeItAccusesOthers) {
  unsigned score_off = 0, score_on = 0;
  const uint64_t without = suspicions_by_a_slow_node(0, &score_off);
  const uint64_t with = suspicions_by_a_slow_node(8, &score_on);
  EXPECT_EQ(score_off, 0u);
  EXPECT_GT(score_on, 0u) << "the slow node never noticed it was slow";
  EXPECT_GE(without, 10u) << "the fixture is not slow enough to matter";
  EXPECT_LE(with * 5, without) << "with Lifeguard " << with << ", without " << without;
}

}  // namespace
}  // namespace zswarm::discovery

namespace zswarm::discovery {
namespace {

// A node cut off from everyone declares them all down while the others
// declare it down. After the heal its stale verdicts are still in its gossip
// queue, and others relayed some: none of them may take a live member down
// again once it is back, so the cluster settles and stays settled.
TEST_F(SwimSim, AHealedNodesStaleVerdictsDoNotFlapTheCluster) {
  auto group = start(6);
  SimNode& lone = *group[0];
  isolate(lone, true);
  run_for(6s, 10ms);
  int lone_downs = 0;  // slow to accuse (its failures raised its health score), but it did
  for (auto* n : group)
    if (n != &lone) {
      EXPECT_EQ(state_seen(*n, lone), MemberState::down) << n->name;
      lone_downs += state_seen(lone, *n) == MemberState::down;
    }
  EXPECT_GE(lone_downs, 1);
  isolate(lone, false);
  auto settled = [&] {
    for (auto* n : group)
      for (auto* m : group)
        if (n != m && state_seen(*n, *m) != MemberState::alive) return false;
    return true;
  };
  ASSERT_TRUE(env.run_until(settled, 5s)) << "the cluster did not settle after the heal";
  for (auto* n : group) n->events.clear();
  run_for(5s, 10ms);
  for (auto* n : group)
    for (const auto& e : n->events) {
      EXPECT_NE(e.kind, MembershipEvent::down) << n->name << ": " << e.member.name << " (" << e.reason << ")";
    }
  EXPECT_TRUE(settled());
}

// Every survivor of a kill sees the refusal itself, at the same time here.
// Each waits a random 0-20 ms before it tells all, and keeps quiet once
// another's proof has come: about one broadcast per kill, not N - 1.
TEST_F(SwimSim, AKilledProcessIsProvedGoneToAllByOneSurvivorNotByEach) {
  auto v = start(8);
  SimNode& dead = *v.back();
  v.pop_back();
  kill(dead);
  settle();
  run_for(30ms, 1ms);
  uint64_t published = 0, suppressed = 0;
  for (auto* x : v) {
    EXPECT_EQ(count(*x, dead, MembershipEvent::down), 1) << x->name;
    published += swim(*x).gone_published;
    suppressed += swim(*x).gone_suppressed;
  }
  EXPECT_GE(published, 1u);
  EXPECT_LE(published, 2u) << "two may draw the same millisecond";
  EXPECT_EQ(published + suppressed, v.size());
}

}  // namespace
}  // namespace zswarm::discovery
