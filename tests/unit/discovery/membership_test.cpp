#include "discovery/membership.hpp"
#include "discovery/source_limit.hpp"

#include <gtest/gtest.h>

namespace zswarm::discovery {
namespace {

using namespace std::chrono_literals;
using Kind = MembershipEvent::Kind;

struct MembershipTest : ::testing::Test {
  ManualClock clock;
  bus::NodeId self = bus::NodeId::random();
  int64_t wall = 1'700'000'000'000;  // Unix ms
  Membership m{clock, self, FailureDetectorOptions{},
               MembershipLimits{"me@h", [this] { return wall; }, 600'000ms, 4, 3'600'000ms}};
  MembershipEvents ev;

  Beacon beacon(const bus::NodeId& id, const std::string& name, uint64_t inc) {
    Beacon b;
    b.id = id;
    b.name = name;
    b.cluster.assign(1, 'c');  // not = "c": GCC 12 -Wrestrict false positive once inlined
    b.incarnation = inc;
    b.pub_port = static_cast<uint16_t>(1000 + 2 * static_cast<uint8_t>(name[0]));  // one endpoint a name
    b.router_port = static_cast<uint16_t>(b.pub_port + 1);
    return b;
  }
  std::vector<Kind> kinds() {
    std::vector<Kind> k;
    for (auto& e : ev) k.push_back(e.kind);
    ev.clear();
    return k;
  }
  MemberState state(const bus::NodeId& id) { return m.find_any(id)->state; }
  // A beacon and then its first frame: a confirmed member.
  void join(const bus::NodeId& id, const std::string& name, uint64_t inc) {
    EXPECT_EQ(m.on_beacon(beacon(id, name, inc), "127.0.0.1", ev), BeaconVerdict::accepted);
    m.on_heard(id, ev);
    ev.clear();
  }
  void kill(const bus::NodeId& id) {  // the detector's verdict (discovery/swim.hpp decides it)
    m.suspect(id, "no answer", ev);
    m.declare_down(id, "no refutation", ev);
    ev.clear();
  }
  void advance(std::chrono::milliseconds d) {
    clock.advance(d);
    m.tick(ev);
  }
};

TEST_F(MembershipTest, BeaconOnlyDiscoversAFrameMakesItUp) {
  auto b = bus::NodeId::random();
  m.on_beacon(beacon(b, "b@h", 1), "127.0.0.1", ev);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::discovered});
  EXPECT_EQ(state(b), MemberState::joining);
  EXPECT_EQ(m.find(b), nullptr);  // no one above sees it
  EXPECT_TRUE(m.members().empty());
  EXPECT_TRUE(m.alive().empty());
  EXPECT_EQ(m.unconfirmed(), 1u);
  EXPECT_EQ(m.find_any(b)->endpoint.host, "127.0.0.1");
  m.on_beacon(beacon(b, "b@h", 1), "127.0.0.1", ev);  // known: nothing new
  EXPECT_TRUE(kinds().empty());
  m.on_heard(b, ev);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::up});
  EXPECT_EQ(state(b), MemberState::alive);
  EXPECT_EQ(m.unconfirmed(), 0u);
  EXPECT_EQ(m.alive(), std::vector<bus::NodeId>{b});
}

TEST_F(MembershipTest, HostsIncludeJoiningMembersOncePerAddress) {
  // Unicast scopes beacon to these: a joining member needs our beacon before it can confirm.
  auto a = bus::NodeId::random(), b = bus::NodeId::random(), c = bus::NodeId::random();
  join(a, "a@h", 1);
  m.on_beacon(beacon(b, "b@h", 1), "198.18.0.2", ev);
  m.on_beacon(beacon(c, "c@h", 1), "127.0.0.1", ev);  // a second node on a's host
  EXPECT_EQ(m.members().size(), 1u);
  EXPECT_EQ(m.hosts(), (std::vector<std::string>{"127.0.0.1", "198.18.0.2"}));
}

TEST_F(MembershipTest, UnconfirmedMemberIsDroppedSilentlyAfterItsDeadline) {
  auto b = bus::NodeId::random();
  m.on_beacon(beacon(b, "b@h", 1), "127.0.0.1", ev);
  kinds();
  for (int i = 0; i < 5; ++i) {  // beacons keep coming, frames never: a replay or a fake
    advance(300ms);
    m.on_beacon(beacon(b, "b@h", 1), "127.0.0.1", ev);
  }
  EXPECT_TRUE(kinds().empty());  // never up, never suspect
  advance(1ms);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::dropped});
  EXPECT_EQ(m.find_any(b), nullptr);
  EXPECT_EQ(m.unconfirmed(), 0u);
}

TEST_F(MembershipTest, UnconfirmedMembersAreCapped) {
  const std::string fifth = "v@h";
  EXPECT_EQ(m.on_beacon(beacon(bus::NodeId::random(), "w@h", 1), "127.0.0.1", ev), BeaconVerdict::accepted);
  EXPECT_EQ(m.on_beacon(beacon(bus::NodeId::random(), "x@h", 1), "127.0.0.1", ev), BeaconVerdict::accepted);
  EXPECT_EQ(m.on_beacon(beacon(bus::NodeId::random(), "y@h", 1), "127.0.0.1", ev), BeaconVerdict::accepted);
  EXPECT_EQ(m.on_beacon(beacon(bus::NodeId::random(), "z@h", 1), "127.0.0.1", ev), BeaconVerdict::accepted);
  EXPECT_EQ(m.on_beacon(beacon(bus::NodeId::random(), fifth, 1), "127.0.0.1", ev),
            BeaconVerdict::too_many_unconfirmed);
  EXPECT_EQ(m.unconfirmed(), 4u);
  advance(1501ms);  // they all go silently; room again
  EXPECT_EQ(m.unconfirmed(), 0u);
  EXPECT_EQ(m.on_beacon(beacon(bus::NodeId::random(), fifth, 1), "127.0.0.1", ev), BeaconVerdict::accepted);
}

TEST_F(MembershipTest, IncarnationFarInTheFutureIsRefused) {
  auto b = bus::NodeId::random();
  uint64_t limit = static_cast<uint64_t>(wall) + 600'000;
  EXPECT_EQ(m.on_beacon(beacon(b, "b@h", limit + 1), "127.0.0.1", ev), BeaconVerdict::future_incarnation);
  EXPECT_EQ(m.find_any(b), nullptr);
  EXPECT_EQ(m.on_beacon(beacon(b, "b@h", limit), "127.0.0.1", ev), BeaconVerdict::accepted);  // within the skew
}

TEST_F(MembershipTest, OwnNameUnderAnotherIdIsAConflictNeverAMember) {
  auto b = bus::NodeId::random();
  EXPECT_EQ(m.on_beacon(beacon(b, "me@h", 1), "127.0.0.1", ev), BeaconVerdict::own_name);
  EXPECT_TRUE(ev.empty());
  EXPECT_EQ(m.find_any(b), nullptr);
}

TEST_F(MembershipTest, ANewIdAtAnotherMembersEndpointIsRefused) {
  auto b = bus::NodeId::random(), fake = bus::NodeId::random();
  join(b, "b@h", 1);
  Beacon f = beacon(fake, "f@h", 1);
  f.pub_port = beacon(b, "b@h", 1).pub_port;  // b's PUB: connecting and dropping it would cut b's link
  EXPECT_EQ(m.on_beacon(f, "127.0.0.1", ev), BeaconVerdict::endpoint_in_use);
  EXPECT_EQ(m.find_any(fake), nullptr);
  EXPECT_EQ(m.on_beacon(f, "127.0.0.2", ev), BeaconVerdict::accepted);  // another host: another endpoint
}

TEST_F(MembershipTest, OwnBeaconIsIgnored) {
  m.on_beacon(beacon(self, "me@h", 1), "127.0.0.1", ev);
  EXPECT_TRUE(ev.empty());
  EXPECT_TRUE(m.members().empty());
}

TEST_F(MembershipTest, SilenceAloneChangesNothingTheDetectorDecides) {
  auto b = bus::NodeId::random();
  join(b, "b@h", 1);
  advance(10'000ms);  // no frame for 10 s: the SWIM detector, not the table, judges that
  EXPECT_TRUE(kinds().empty());
  EXPECT_EQ(state(b), MemberState::alive);
  m.suspect(b, "no answer", ev);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].reason, "no answer");
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::suspect});
  m.suspect(b, "again", ev);  // already suspect
  EXPECT_TRUE(kinds().empty());
  m.refute(b, ev);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::recovered});
  m.refute(b, ev);  // alive: nothing to refute
  EXPECT_TRUE(kinds().empty());
  m.declare_down(b, "no refutation", ev);  // from alive too (a peer's verdict)
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::down});
  m.suspect(b, "late", ev);
  m.refute(b, ev);
  m.declare_down(b, "twice", ev);
  EXPECT_TRUE(kinds().empty());
  EXPECT_EQ(state(b), MemberState::down);
}

TEST_F(MembershipTest, FramesDoNotClearASuspicionOnlyARefutationDoes) {
  auto b = bus::NodeId::random();
  join(b, "b@h", 1);
  m.suspect(b, "no answer", ev);
  kinds();
  m.on_heard(b, ev);  // every node must clear it alike: by b's own refutation
  EXPECT_TRUE(kinds().empty());
  EXPECT_EQ(state(b), MemberState::suspect);
}

TEST_F(MembershipTest, CounterOnlyGrows) {
  auto b = bus::NodeId::random();
  join(b, "b@h", 1);
  m.set_counter(b, 5);
  m.set_counter(b, 3);
  EXPECT_EQ(m.find(b)->counter, 5u);
}

TEST_F(MembershipTest, APeerWhoseProcessIsGoneIsDownAtOnce) {
  auto b = bus::NodeId::random(), c = bus::NodeId::random();
  join(b, "b@h", 1);
  join(c, "c@h", 1);
  m.suspect(b, "no answer", ev);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::suspect});
  m.on_peer_gone(b, ev);  // no time passes: no suspicion is waited out
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].reason, kPeerGoneReason);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::down});
  EXPECT_EQ(state(b), MemberState::down);
  m.on_peer_gone(c, ev);  // alive, without a link_down first: down too
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::down});
  advance(5000ms);  // nothing more
  EXPECT_TRUE(kinds().empty());
}

TEST_F(MembershipTest, PeerGoneIgnoresDownLeftJoiningAndUnknown) {
  auto down = bus::NodeId::random(), left = bus::NodeId::random(), joining = bus::NodeId::random();
  join(down, "d@h", 1);
  kill(down);
  ASSERT_EQ(state(down), MemberState::down);
  join(left, "l@h", 1);
  m.on_goodbye(left, ev);
  kinds();
  m.on_beacon(beacon(joining, "j@h", 1), "127.0.0.1", ev);
  kinds();
  for (const auto& id : {down, left, joining, bus::NodeId::random()}) m.on_peer_gone(id, ev);
  EXPECT_TRUE(kinds().empty());
  EXPECT_EQ(state(down), MemberState::down);
  EXPECT_EQ(state(left), MemberState::left);
  EXPECT_EQ(state(joining), MemberState::joining);
}

TEST_F(MembershipTest, GoodbyeIsLeftAndFinal) {
  auto b = bus::NodeId::random();
  join(b, "b@h", 1);
  m.on_goodbye(b, ev);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::left});
  m.on_beacon(beacon(b, "b@h", 1), "127.0.0.1", ev);  // a late beacon of the same incarnation
  advance(5000ms);
  EXPECT_TRUE(kinds().empty());
  EXPECT_EQ(state(b), MemberState::left);
}

TEST_F(MembershipTest, LeavingBeaconIsAGoodbye) {
  auto b = bus::NodeId::random();
  join(b, "b@h", 1);
  Beacon bye = beacon(b, "b@h", 1);
  bye.leaving = true;
  m.on_beacon(bye, "127.0.0.1", ev);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::left});
}

TEST_F(MembershipTest, SameNameNewIdNeverEvictsALiveMember) {
  auto b = bus::NodeId::random(), fake = bus::NodeId::random();
  join(b, "b@h", 10);
  // A forged beacon: b's name, another id, a far higher incarnation (within the skew).
  EXPECT_EQ(m.on_beacon(beacon(fake, "b@h", 1'700'000'500'000), "127.0.0.1", ev), BeaconVerdict::name_in_use);
  m.on_heard(fake, ev);
  EXPECT_TRUE(kinds().empty());
  EXPECT_EQ(m.find_any(fake), nullptr);
  EXPECT_EQ(state(b), MemberState::alive);
  m.suspect(b, "no answer", ev);  // even while b is suspect
  kinds();
  EXPECT_EQ(m.on_beacon(beacon(fake, "b@h", 1'700'000'500'000), "127.0.0.1", ev), BeaconVerdict::name_in_use);
  m.refute(b, ev);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::recovered});
}

TEST_F(MembershipTest, RestartUnderSameNameWaitsUntilTheOldOneIsDown) {
  auto old_id = bus::NodeId::random(), new_id = bus::NodeId::random();
  join(old_id, "b@h", 10);
  EXPECT_EQ(m.on_beacon(beacon(new_id, "b@h", 11), "127.0.0.1", ev), BeaconVerdict::name_in_use);
  kill(old_id);
  EXPECT_EQ(state(old_id), MemberState::down);
  EXPECT_EQ(m.on_beacon(beacon(new_id, "b@h", 11), "127.0.0.1", ev), BeaconVerdict::accepted);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::discovered});
  m.on_heard(new_id, ev);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::up});
  EXPECT_EQ(m.find_any(old_id), nullptr);  // the old run's entry is history
  EXPECT_EQ(m.find_by_name("b@h")->id, new_id);
  // A straggling beacon of the old incarnation changes nothing.
  EXPECT_EQ(m.on_beacon(beacon(old_id, "b@h", 10), "127.0.0.1", ev), BeaconVerdict::name_in_use);
  EXPECT_TRUE(kinds().empty());
  EXPECT_EQ(m.members().size(), 1u);
}

TEST_F(MembershipTest, RestartWithAClockGoneBackwardsRejoins) {
  auto old_id = bus::NodeId::random(), new_id = bus::NodeId::random();
  join(old_id, "b@h", 5000);
  kill(old_id);
  EXPECT_EQ(m.on_beacon(beacon(new_id, "b@h", 4000), "127.0.0.1", ev), BeaconVerdict::accepted);
  m.on_heard(new_id, ev);
  EXPECT_EQ(kinds(), std::vector<Kind>({Kind::discovered, Kind::up}));
  EXPECT_EQ(state(new_id), MemberState::alive);
  // After a goodbye too, and once the entry expired.
  auto third = bus::NodeId::random();
  m.on_goodbye(new_id, ev);
  join(third, "b@h", 3000);
  EXPECT_EQ(state(third), MemberState::alive);
}

TEST_F(MembershipTest, DownMemberComesBackWithABeaconAndTheAnswerToItsProbe) {
  auto b = bus::NodeId::random();
  join(b, "b@h", 1);
  kill(b);
  EXPECT_EQ(state(b), MemberState::down);
  m.on_beacon(beacon(b, "b@h", 1), "198.18.0.2", ev);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::discovered});  // reconnect and probe; still down
  EXPECT_EQ(state(b), MemberState::down);
  EXPECT_EQ(m.find(b)->endpoint.host, "198.18.0.2");
  m.on_heard(b, ev);  // any frame: it may be stale
  EXPECT_TRUE(kinds().empty());
  m.on_answer(b, ev);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::up});
  EXPECT_EQ(state(b), MemberState::alive);
}

TEST_F(MembershipTest, FramesFromADownMemberHaveItProbedAndOnlyTheAnswerRevivesIt) {
  auto b = bus::NodeId::random();
  join(b, "b@h", 1);
  kill(b);
  // It did not hear it was declared down, or its TCP stack resends what it
  // wrote before it died (a burst of them, after a heal).
  for (int i = 0; i < 5; ++i) m.on_heard(b, ev);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::discovered});
  EXPECT_EQ(state(b), MemberState::down);
  advance(1501ms);  // no answer: the member is gone
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::dropped});
  EXPECT_EQ(state(b), MemberState::down);
  m.on_heard(b, ev);
  m.on_answer(b, ev);  // it does talk to us
  EXPECT_EQ(kinds(), std::vector<Kind>({Kind::discovered, Kind::up}));
  EXPECT_EQ(state(b), MemberState::alive);
}

TEST_F(MembershipTest, ReplayedBeaconOfADeadMemberKeepsItDown) {
  auto b = bus::NodeId::random();
  join(b, "b@h", 1);
  kill(b);
  for (int i = 0; i < 40; ++i) {  // 4 s of replays, no frame
    m.on_beacon(beacon(b, "b@h", 1), "127.0.0.1", ev);
    advance(100ms);
    EXPECT_EQ(state(b), MemberState::down);
  }
  for (auto& e : ev) EXPECT_TRUE(e.kind == Kind::discovered || e.kind == Kind::dropped) << e.kind;
}

TEST_F(MembershipTest, DownAndLeftEntriesExpire) {
  auto b = bus::NodeId::random(), c = bus::NodeId::random();
  join(b, "b@h", 1);
  join(c, "c@h", 1);
  kill(b);
  m.on_goodbye(c, ev);
  kinds();
  advance(3'599'000ms);
  EXPECT_EQ(state(b), MemberState::down);  // before expiry a beacon still brings it back
  EXPECT_LE(m.next_deadline(), clock.now() + 1001ms);
  advance(1001ms);
  EXPECT_EQ(m.find_any(b), nullptr);
  EXPECT_EQ(m.find_any(c), nullptr);
  EXPECT_EQ(m.expired(), 2u);
  EXPECT_TRUE(kinds().empty());  // silently: everyone was told when it went down
  m.on_beacon(beacon(b, "b@h", 1), "127.0.0.1", ev);  // now simply a newcomer
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::discovered});
}

TEST_F(MembershipTest, AliveListsOwnersOfWork) {
  auto a = bus::NodeId::random(), b = bus::NodeId::random(), c = bus::NodeId::random();
  join(a, "a@h", 1);
  join(b, "b@h", 1);
  join(c, "c@h", 1);
  m.suspect(b, "no answer", ev);  // suspect still owns its work
  m.on_goodbye(c, ev);
  m.on_beacon(beacon(bus::NodeId::random(), "d@h", 1), "127.0.0.1", ev);  // unconfirmed owns nothing
  auto alive = m.alive();
  std::sort(alive.begin(), alive.end());
  std::vector<bus::NodeId> want{a, b};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(alive, want);
  EXPECT_EQ(m.alive_count(), 2u);  // kept as states change, not counted
  m.declare_down(b, "no refutation", ev);
  EXPECT_EQ(m.alive_count(), 1u);
  m.on_peer_gone(a, ev);
  EXPECT_EQ(m.alive_count(), 0u);
  advance(3'601'000ms);  // the down and left entries expire
  EXPECT_EQ(m.alive_count(), 0u);
  EXPECT_EQ(m.alive().size(), 0u);
}

TEST(SourceLimit, BucketPerSourceAndBoundedSources) {
  ManualClock clock;
  SourceLimit limit({100, 200, 2});
  int passed = 0;
  for (int i = 0; i < 1000; ++i) passed += limit.admit("198.18.0.1", clock.now());
  EXPECT_EQ(passed, 200);  // the burst
  EXPECT_TRUE(limit.admit("198.18.0.2", clock.now()));  // another source has its own bucket
  EXPECT_FALSE(limit.admit("198.18.0.3", clock.now()));  // no room for a third
  clock.advance(100ms);
  passed = 0;
  for (int i = 0; i < 1000; ++i) passed += limit.admit("198.18.0.1", clock.now());
  EXPECT_EQ(passed, 10);  // 100 a second
  clock.advance(3s);  // both buckets full again: idle, they make room
  EXPECT_TRUE(limit.admit("198.18.0.3", clock.now()));
}

}  // namespace
}  // namespace zswarm::discovery
