// Membership that no input can corrupt (issue 11), in real nodes on a
// SimEnv: forged, replayed and flooded beacons, and a dead run's stale
// frames, against a running cluster, deterministically on the manual clock.
#include "discovery/cluster.hpp"

#include "bus/envelope.hpp"
#include "bus/memory_transport.hpp"
#include "discovery/gossip.hpp"
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
  // A frame in the name of `id` (of run `incarnation`) delivered to `to` on a
  // connection of that id's own, as a dead process's TCP stack resends what
  // it wrote before it exited once a partition heals.
  void resend_as(const bus::NodeId& id, uint64_t incarnation, SimNode& to,
                 const std::vector<std::pair<bus::MessageType, std::string>>& messages) {
    bus::MemoryTransport ghost(net, id);  // gone again at the end of the scope: nothing answers
    ghost.connect(to.id, {});
    bus::FrameBuilder f(bus::kSpoken.max, id, incarnation);
    for (const auto& [type, body] : messages) f.add(type, 0, 7, body);
    ghost.send(to.id, f.take());
  }
  bool knows_alive(SimNode& by, const bus::NodeId& id) {
    for (auto& m : others(by))
      if (m.id == id.to_string()) return m.state == "alive";
    return false;
  }
  int ups(SimNode& by, const bus::NodeId& id) {
    int n = 0;
    for (auto& e : by.events) n += e.kind == MembershipEvent::up && e.member.id == id;
    return n;
  }
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

// Chaos seed 606: b said goodbye and exited while d was cut off, and a new
// run of b joined the others. At the heal, what the old b had written to d
// (a probe with gossip behind it in one frame, then another probe) still
// arrived, resent by its TCP stack: d took the first message for a sign of
// life and the next for the answer, brought the exited run up, and refused
// the new run's beacons ("name in use") until its probes failed, seconds
// later. Only the answer to d's own probe may bring a down member back.
TEST_F(MemberSim, AStaleFrameOfAnExitedRunRevivesNothingAndItsNewRunJoinsAtOnce) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  auto& c = add("c@h");
  auto& d = add("d@h");
  settle();
  run_for(300ms);
  const bus::NodeId old_b = b.id;
  const uint64_t old_incarnation = b.node->info().incarnation;
  isolate(d, true);
  b.node->leave();
  settle();
  ASSERT_EQ(state_seen(a, b), MemberState::left);
  kill(b);
  run_for(6s);
  ASSERT_EQ(state_seen(d, b), MemberState::down);
  auto& b2 = add("b@h");
  ASSERT_TRUE(env.run_until([&] { return knows_alive(a, b2.id) && knows_alive(c, b2.id); }, 2s));
  d.events.clear();
  isolate(d, false);
  const std::string refutation = encode_updates({{UpdateKind::alive, old_b, old_incarnation, 1, old_b}});
  resend_as(old_b, old_incarnation, d, {{bus::MessageType::probe, ""}, {bus::MessageType::gossip, refutation}});
  resend_as(old_b, old_incarnation, d, {{bus::MessageType::probe, ""}});
  const bool healed =
      env.run_until([&] { return knows_alive(d, b2.id) && knows_alive(d, a.id) && knows_alive(d, c.id); }, 2s);
  EXPECT_EQ(ups(d, old_b), 0);
  EXPECT_FALSE(knows_alive(d, old_b));
  EXPECT_EQ(stats(d).beacons_name_in_use, 0u);
  ASSERT_TRUE(healed) << "d does not see b's new run, a and c alive 2 s after the heal";
  run_for(2s);
  EXPECT_EQ(ups(d, old_b), 0);
  EXPECT_TRUE(knows_alive(d, b2.id));
}

// §6.1, §6.2: once a new run of a name is up, the old run's entry is gone and
// that id is final: its stale frames, a relayed refutation of it, and its
// replayed beacon bring nothing back, and the new run keeps its name.
TEST_F(MemberSim, ANewRunOfANameMakesTheOldIdFinal) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  auto& d = add("d@h");
  settle();
  run_for(300ms);
  const bus::NodeId old_b = b.id;
  const uint64_t old_incarnation = b.node->info().incarnation;
  Beacon replay = forged("b@h", old_incarnation, old_b);
  replay.pub_port = b.node->info().pub_port;
  replay.router_port = b.node->info().router_port;
  isolate(d, true);
  kill(b);
  run_for(6s);
  auto& b2 = add("b@h");
  isolate(d, false);
  ASSERT_TRUE(env.run_until([&] { return knows_alive(d, b2.id) && knows_alive(a, b2.id); }, 2s));
  d.events.clear();
  resend_as(old_b, old_incarnation, d, {{bus::MessageType::probe, ""}, {bus::MessageType::heartbeat, ""}});
  // a relays an old refutation of the old run (a counter above any d knew).
  bus::FrameBuilder relayed(bus::kSpoken.max, a.id, a.node->info().incarnation);
  relayed.add(bus::MessageType::gossip, 0, 0, encode_updates({{UpdateKind::alive, old_b, old_incarnation, 9, old_b}}));
  ASSERT_TRUE(a.transport->send(d.id, relayed.take()));
  for (int i = 0; i < 3; ++i) {
    env.air().inject(encode(replay));
    run_for(1s);
  }
  for (auto& e : d.events) EXPECT_NE(e.member.id, old_b) << e.kind << " " << e.reason;
  EXPECT_GE(stats(d).beacons_name_in_use, 1u);  // the replay: b@h is b2's
  EXPECT_TRUE(knows_alive(d, b2.id));
  EXPECT_TRUE(never_suspected(d));
}

// 20 members: a node beacons every 3 beacon intervals and publishes its
// digest every 3 digest intervals (kBeaconsPerInterval = 8,
// kDigestsPerInterval = 8), so what each node receives stays flat in N
// (docs/scaling.md §2). A newcomer still meets every member at once: each
// answers its first beacon with one of its own.
TEST_F(MemberSim, ALargeClusterStretchesItsBeaconsAndDigestsYetANewcomerMeetsEveryoneAtOnce) {
  constexpr int kNodes = 20;
  for (int i = 0; i < kNodes; ++i) {
    std::string name = "n";  // a host each: beacons are rate-limited per source
    add(name.append(std::to_string(i)).append("@h").append(std::to_string(i)));
  }
  settle();
  run_for(12s);  // formed, and still for kStillBeforeStretch: beacons stretch
  bus::MemoryTransport spy(net, bus::NodeId::random());  // subscribed to n0's PUB
  int published = 0;                                      // digests and heartbeats
  spy.set_receiver([&](bus::Inbound&& in) {
    if (in.kind != bus::Inbound::published) return;
    auto f = bus::decode_frame(in.frame);
    ASSERT_TRUE(f.ok());
    for (const auto& m : f->messages)
      published += m.type == bus::MessageType::digest || m.type == bus::MessageType::heartbeat;
  });
  spy.connect(nodes[0]->id, {});
  std::vector<uint64_t> before;
  for (auto& n : nodes) before.push_back(stats(*n).beacons_received);

  constexpr int kSeconds = 60;
  run_for(std::chrono::seconds(kSeconds));
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const uint64_t got = stats(*nodes[i]).beacons_received - before[i];
    // 19 peers, one beacon each every 3 s: 380. Unstretched: 1,140.
    EXPECT_LE(got, kSeconds * 8u) << nodes[i]->name;
    EXPECT_GE(got, kSeconds * 19 / 3 - 19) << nodes[i]->name;
  }
  // A digest every 6 s; the heartbeat's 9 s never comes. Unstretched: 30.
  EXPECT_GE(published, kSeconds / 6 - 2);
  EXPECT_LE(published, kSeconds / 6 + 2);
  for (auto& n : nodes) EXPECT_TRUE(never_suspected(*n)) << n->name;

  auto& late = add("late@hl");
  const auto t0 = clock.now();
  ASSERT_TRUE(env.run_until(
      [&] {
        if (others(late).size() != kNodes) return false;
        for (int i = 0; i < kNodes; ++i)
          if (!knows_alive(*nodes[i], late.id) || !knows_alive(late, nodes[i]->id)) return false;
        return true;
      },
      2s));
  EXPECT_LE(clock.now() - t0, 300ms) << "a newcomer waited for stretched beacons";
  // A change brings the plain interval back for kStillBeforeStretch: a
  // beacon lost while members come and go is made up for within a second.
  const uint64_t heard = stats(late).beacons_received;
  run_for(5s);
  EXPECT_GE(stats(late).beacons_received - heard, 5u * 18) << "20 members, one beacon a second each";
}

}  // namespace
}  // namespace zswarm::discovery
