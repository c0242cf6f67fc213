// Membership that no input can corrupt (issue 11), in real nodes on a
// SimEnv: forged, replayed and flooded beacons against a running cluster,
// deterministically on the manual clock.
#include "discovery/cluster.hpp"

#include "support/sim.hpp"

namespace zswarm::discovery {

using namespace zswarm::sim;
namespace {

struct MemberSim : Sim {
  // SimEnv's wall clock: 2024-01-01 plus the manual clock.
  uint64_t wall_ms() {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(env.wall_now().time_since_epoch()).count());
  }
  Beacon forged(const std::string& name, uint64_t incarnation, bus::NodeId id = bus::NodeId::random()) {
    Beacon b;
    b.id = id;
    b.cluster = "sim";
    b.name = name;
    b.incarnation = incarnation;
    b.pub_port = next_port++;  // an endpoint of its own (one of a member's is refused)
    b.router_port = next_port++;
    return b;
  }
  uint16_t next_port = 1000;
  const ClusterStats& stats(SimNode& n) { return n.parts.cluster->stats(); }
  bool never_suspected(SimNode& n) {
    for (auto& e : n.events)
      if (e.kind == MembershipEvent::suspect || e.kind == MembershipEvent::down) return false;
    return true;
  }
};

TEST_F(MemberSim, AForgedBeaconWithALiveNodesNameEvictsNoOne) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  ASSERT_TRUE(b.node->register_name("svc", "echo", "").ok());
  settle();
  auto where = a.node->whereis("svc");
  ASSERT_TRUE(where.ok());
  // b's name, a new id, an incarnation an hour ahead; then one just ahead (within the skew).
  env.air().inject(encode(forged("b@h", wall_ms() + 3'600'000)));
  env.air().inject(encode(forged("b@h", wall_ms() + 60'000)));
  settle();
  run_for(3s, 50ms);
  EXPECT_EQ(state_seen(a, b), MemberState::alive);
  EXPECT_EQ(others(a).size(), 1u);
  auto after = a.node->whereis("svc");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *where);
  EXPECT_EQ(stats(a).beacons_future_incarnation, 1u);
  EXPECT_EQ(stats(a).beacons_name_in_use, 1u);
  EXPECT_TRUE(never_suspected(a));
}

TEST_F(MemberSim, ABeaconUnderThisNodesOwnNameIsAConflictNotAMember) {
  auto& a = add("a@h");
  settle();
  env.air().inject(encode(forged("a@h", wall_ms())));
  settle();
  EXPECT_TRUE(others(a).empty());
  EXPECT_EQ(a.parts.cluster->membership().unconfirmed(), 0u);
  EXPECT_EQ(stats(a).beacons_name_conflict, 1u);
}

TEST_F(MemberSim, ABeaconWithoutFramesNeverComesUpAndIsDroppedAtItsDeadline) {
  auto& a = add("a@h");
  settle();
  env.air().inject(encode(forged("ghost@h", wall_ms())));
  settle();
  EXPECT_TRUE(others(a).empty());
  EXPECT_EQ(a.parts.cluster->membership().unconfirmed(), 1u);
  run_for(1400ms);
  EXPECT_EQ(a.parts.cluster->membership().unconfirmed(), 1u);
  run_for(200ms);  // join_timeout (1500 ms) passed
  EXPECT_EQ(a.parts.cluster->membership().unconfirmed(), 0u);
  EXPECT_EQ(stats(a).members_unconfirmed_dropped, 1u);
  for (auto& e : a.events) EXPECT_TRUE(e.kind == MembershipEvent::discovered || e.kind == MembershipEvent::dropped);
}

TEST_F(MemberSim, AReplayedBeaconOfAKilledNodeKeepsItDown) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  Beacon replay = forged("b@h", b.node->info().incarnation, b.id);
  replay.pub_port = b.node->info().pub_port;
  replay.router_port = b.node->info().router_port;
  kill(b);
  run_for(600ms);
  ASSERT_EQ(state_seen(a, b), MemberState::down);
  a.events.clear();
  for (int i = 0; i < 40; ++i) {  // 4 s of replays
    env.air().inject(encode(replay));
    run_for(100ms);
    ASSERT_EQ(state_seen(a, b), MemberState::down) << i;
  }
  for (auto& e : a.events) EXPECT_NE(e.kind, MembershipEvent::up) << e.member.name;
}

TEST_F(MemberSim, ABeaconFloodIsRateLimitedAndCappedAndChangesNothing) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  run_for(100ms);
  a.events.clear();
  // 3 s at 10,000 beacons a second from one address: fresh ids, b's name, garbage.
  for (int step = 0; step < 300; ++step) {
    for (int i = 0; i < 100; ++i) {
      switch (i % 3) {
        case 0: env.air().inject(encode(forged(std::string("x").append(std::to_string(step * 100 + i)).append("@h"), wall_ms()))); break;
        case 1: env.air().inject(encode(forged("b@h", wall_ms()))); break;
        default: env.air().inject("ZSW garbage"); break;
      }
    }
    run_for(10ms);
  }
  EXPECT_TRUE(never_suspected(a));
  EXPECT_EQ(state_seen(a, b), MemberState::alive);
  EXPECT_EQ(others(a).size(), 1u);
  const auto& s = stats(a);
  EXPECT_GT(s.beacons_rate_limited, 25'000u);  // about 100 a second got through, of 10,000
  EXPECT_LE(a.parts.cluster->membership().unconfirmed(), 64u);
  run_for(1600ms);
  EXPECT_EQ(a.parts.cluster->membership().unconfirmed(), 0u);
  EXPECT_TRUE(never_suspected(a));
}

TEST_F(MemberSim, UnconfirmedMembersAreCappedInANode) {
  configure = [](NodeOptions& o) { o.max_unconfirmed = 3; };
  auto& a = add("a@h");
  settle();
  for (int i = 0; i < 5; ++i) env.air().inject(encode(forged(std::string("x").append(std::to_string(i)).append("@h"), wall_ms())));
  settle();
  EXPECT_EQ(a.parts.cluster->membership().unconfirmed(), 3u);
  EXPECT_EQ(stats(a).beacons_unconfirmed_full, 2u);
}

TEST_F(MemberSim, DownEntriesExpireAndTheNodeComesBackAsANewcomer) {
  configure = [](NodeOptions& o) { o.down_expiry = std::chrono::seconds(5); };
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  isolate(b, true);
  run_for(2s);
  ASSERT_EQ(state_seen(a, b), MemberState::down);
  run_for(5s);
  EXPECT_TRUE(others(a).empty());
  EXPECT_EQ(stats(a).members_expired, 1u);
  isolate(b, false);
  ASSERT_TRUE(env.run_until([&] { return others(a).size() == 1 && others(a)[0].state == "alive"; }, 3s));
}

}  // namespace
}  // namespace zswarm::discovery
