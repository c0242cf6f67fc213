// The cluster state machine inside real nodes (Node::start on a SimEnv),
// several in one process over a MemoryNetwork, on a manual clock: formation,
// failure detection, goodbye, restart and sequence gaps, deterministically
// and without sleeping.
#include "discovery/cluster.hpp"

#include <algorithm>

#include "support/sim.hpp"

namespace zswarm::discovery {

using namespace zswarm::sim;
namespace {

TEST_F(Sim, ThreeNodesFormAClusterWithoutWaitingAnInterval) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  auto& c = add("c@h");
  settle();  // no time passes: first beacons and the answers to newcomers do it
  for (SimNode* x : {&a, &b, &c})
    for (SimNode* y : {&a, &b, &c})
      if (x != y) {
        EXPECT_EQ(state_seen(*x, *y), MemberState::alive);
      }
}

TEST_F(Sim, HeartbeatsKeepAnIdleClusterAlive) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  run_for(10s, 50ms);
  EXPECT_EQ(state_seen(a, b), MemberState::alive);
  EXPECT_EQ(state_seen(b, a), MemberState::alive);
  for (auto& e : a.events) EXPECT_NE(e.kind, discovery::MembershipEvent::suspect);
}

TEST_F(Sim, KilledNodeIsReportedDownAtOnce) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  auto& c = add("c@h");
  settle();
  kill(b);
  settle();  // the broken link, then the refused connect: no time passes
  EXPECT_EQ(state_seen(a, b), MemberState::down);
  EXPECT_EQ(state_seen(c, b), MemberState::down);
  EXPECT_EQ(state_seen(a, c), MemberState::alive);
  auto down = std::find_if(a.events.begin(), a.events.end(), [](const MembershipEvent& e) {
    return e.kind == MembershipEvent::down;
  });
  ASSERT_NE(down, a.events.end());
  EXPECT_EQ(down->reason, kPeerGoneReason);
}

// A link cut as the peer dies (its host lost, a cable pulled): no refusal
// crosses the cut, so only the SWIM detector decides: a probe goes
// unanswered for an interval (100 ms; the scheduled probe comes within one
// more), and the suspect does not refute within the suspicion timeout (with
// no third member to confirm it, the minimum, 200 ms, doubled: the failed
// probe, with no helper to nack, raised a's health score to 1).
TEST_F(Sim, APeerBehindACutIsDownOnlyAfterItsSuspicionTimesOut) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  a.fault->plan().cut.insert(b.id);
  kill(b);
  settle();
  EXPECT_EQ(state_seen(a, b), MemberState::alive);  // a broken link alone proves nothing
  run_for(190ms);
  EXPECT_NE(state_seen(a, b), MemberState::down);
  ASSERT_TRUE(env.run_until([&] { return state_seen(a, b) == MemberState::down; }, 500ms));
  auto suspect = std::find_if(a.events.begin(), a.events.end(), [](const MembershipEvent& e) {
    return e.kind == MembershipEvent::suspect;
  });
  ASSERT_NE(suspect, a.events.end());
  EXPECT_EQ(suspect->reason, "no answer to a probe, direct or indirect");
  auto down = std::find_if(a.events.begin(), a.events.end(), [](const MembershipEvent& e) {
    return e.kind == MembershipEvent::down;
  });
  ASSERT_NE(down, a.events.end());
  EXPECT_EQ(down->reason.rfind("no refutation ", 0), 0u) << down->reason;
}

TEST_F(Sim, SilentPartitionIsDetectedBySwimAndHeals) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  b.fault->plan().cut_all = true;  // no RST, no frames: like a pulled cable
  a.fault->plan().cut.insert(b.id);
  auto beacons_lost = [&] { env.air().clear(); };
  for (int i = 0; i < 100; ++i) {  // 1 s, beacons lost too
    clock.advance(10ms);
    a.loop->tick();
    b.loop->tick();
    beacons_lost();
    net.deliver();
  }
  EXPECT_EQ(state_seen(a, b), MemberState::down);
  EXPECT_EQ(state_seen(b, a), MemberState::down);
  for (auto& e : a.events) {
    if (e.kind == MembershipEvent::down) {
      EXPECT_NE(e.reason, kPeerGoneReason);  // silence proves nothing
    }
  }
  b.fault->plan().cut_all = false;
  a.fault->plan().cut.clear();
  run_for(1100ms);  // the next beacons bring each back
  EXPECT_EQ(state_seen(a, b), MemberState::alive);
  EXPECT_EQ(state_seen(b, a), MemberState::alive);
}

TEST_F(Sim, GoodbyeMarksLeftAtOnce) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  b.node->leave();
  settle();
  EXPECT_EQ(state_seen(a, b), MemberState::left);
}

TEST_F(Sim, RestartedNodeIsANewIncarnation) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  uint64_t old_incarnation = b.node->info().incarnation;
  kill(b);
  auto& b2 = add("b@h");
  settle();
  // b's name stays b's until b is down (its link broke and its port refused:
  // at once); then b2's next beacon joins.
  EXPECT_GE(a.parts.cluster->stats().beacons_name_in_use, 1u);
  auto b2_alive = [&] {
    for (const auto& x : others(a))
      if (x.id == b2.id.to_string()) return x.state == "alive";
    return false;
  };
  ASSERT_TRUE(env.run_until(b2_alive, 3s));
  auto seen = others(a);
  auto m = std::find_if(seen.begin(), seen.end(), [](const MemberInfo& x) { return x.name == "b@h"; });
  ASSERT_NE(m, seen.end());
  EXPECT_EQ(m->id, b2.id.to_string());
  EXPECT_GT(m->incarnation, old_incarnation);
  EXPECT_EQ(parse_state(m->state), MemberState::alive);
}

TEST_F(Sim, OtherClusterStaysOut) {
  auto& a = add("a@h");
  settle();
  discovery::Beacon other;
  other.id = bus::NodeId::random();
  other.cluster = "elsewhere";
  other.name = "x@h";
  other.incarnation = 1;
  other.pub_port = other.router_port = 9;
  env.air().inject(discovery::encode(other));
  env.air().inject("garbage");
  settle();
  EXPECT_TRUE(others(a).empty());
  EXPECT_EQ(a.parts.cluster->stats().beacons_other_cluster, 1u);
  EXPECT_EQ(a.parts.cluster->stats().beacons_garbage, 1u);
}

TEST_F(Sim, LostPublicationsAreNoticedAsGaps) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  run_for(100ms);
  a.fault->plan().drop = 0.5;
  run_for(2000ms, 20ms);
  a.fault->plan().drop = 0;
  run_for(300ms);
  EXPECT_GT(b.gaps, 0u);
  EXPECT_GT(b.parts.cluster->stats().sequence_gaps, 0u);
}

TEST_F(Sim, MalformedFramesAreCountedAndDropped) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  b.transport->send(a.id, "not an envelope");
  settle();
  EXPECT_EQ(a.parts.cluster->stats().frames_rejected, 1u);
  EXPECT_EQ(state_seen(a, b), MemberState::alive);
}

TEST_F(Sim, ALaterVersionsMessageTypeIsSkippedAndCountedNotRejected) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  run_for(100ms);
  // Type 99 is no type of this version: a newer b would send it on its PUB.
  b.parts.cluster->publish(static_cast<bus::MessageType>(99), "whatever a later version puts here");
  b.parts.cluster->send(a.id, static_cast<bus::MessageType>(98), "and on the direct channel");
  run_for(300ms);
  const auto& s = a.parts.cluster->stats();
  EXPECT_EQ(s.frames_unknown_type, 2u);
  EXPECT_EQ(s.frames_rejected, 0u);
  EXPECT_EQ(s.bodies_rejected, 0u);
  EXPECT_EQ(s.sequence_gaps, 0u);  // its sequence number was counted like any other
  EXPECT_EQ(state_seen(a, b), MemberState::alive);
}

}  // namespace
}  // namespace zswarm::discovery
