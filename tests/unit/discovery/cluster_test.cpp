// The cluster state machine, several nodes in one process over a
// MemoryNetwork, on a manual clock: formation, failure detection, goodbye,
// restart and sequence gaps, deterministically and without sleeping.
#include "discovery/cluster.hpp"

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

TEST_F(Sim, KilledNodeIsReportedDownWithinASecond) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  auto& c = add("c@h");
  settle();
  kill(b);
  settle();  // the broken link arrives at once
  EXPECT_EQ(state_seen(a, b), MemberState::suspect);
  run_for(600ms);
  EXPECT_EQ(state_seen(a, b), MemberState::down);
  EXPECT_EQ(state_seen(c, b), MemberState::down);
  EXPECT_EQ(state_seen(a, c), MemberState::alive);
}

TEST_F(Sim, SilentPartitionIsDetectedByMissedHeartbeatsAndHeals) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  b.fault->plan().cut_all = true;  // no RST, no frames: like a pulled cable
  a.fault->plan().cut.insert(b.id);
  auto beacons_lost = [&] { air_from.clear(); };
  for (int i = 0; i < 200; ++i) {  // 2 s, beacons lost too
    clock.advance(10ms);
    a.cluster->tick();
    b.cluster->tick();
    beacons_lost();
    net.deliver();
  }
  EXPECT_EQ(state_seen(a, b), MemberState::down);
  EXPECT_EQ(state_seen(b, a), MemberState::down);
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
  b.cluster->leave();
  settle();
  EXPECT_EQ(state_seen(a, b), MemberState::left);
}

TEST_F(Sim, RestartedNodeIsANewIncarnation) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  uint64_t old_incarnation = b.cluster->options().incarnation;
  kill(b);
  auto& b2 = add("b@h");
  settle();
  const auto* m = a.cluster->membership().find_by_name("b@h");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->id, b2.id);
  EXPECT_GT(m->incarnation, old_incarnation);
  EXPECT_EQ(m->state, MemberState::alive);
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
  a.cluster->on_datagram(discovery::encode(other), "127.0.0.1");
  a.cluster->on_datagram("garbage", "127.0.0.1");
  EXPECT_TRUE(a.cluster->membership().members().empty());
  EXPECT_EQ(a.cluster->stats().beacons_other_cluster, 1u);
  EXPECT_EQ(a.cluster->stats().beacons_garbage, 1u);
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
  EXPECT_GT(b.cluster->stats().sequence_gaps, 0u);
}

TEST_F(Sim, MalformedFramesAreCountedAndDropped) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  b.transport->send(a.id, "not an envelope");
  settle();
  EXPECT_EQ(a.cluster->stats().frames_rejected, 1u);
  EXPECT_EQ(state_seen(a, b), MemberState::alive);
}

}  // namespace
}  // namespace zswarm::discovery
