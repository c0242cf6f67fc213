#include "discovery/membership.hpp"

#include <gtest/gtest.h>

namespace zswarm::discovery {
namespace {

using namespace std::chrono_literals;
using Kind = MembershipEvent::Kind;

struct MembershipTest : ::testing::Test {
  ManualClock clock;
  bus::NodeId self = bus::NodeId::random();
  Membership m{clock, self, FailureDetectorOptions{200ms, 1000ms, 500ms}};
  MembershipEvents ev;

  Beacon beacon(const bus::NodeId& id, const std::string& name, uint64_t inc) {
    Beacon b;
    b.id = id;
    b.name = name;
    b.cluster = "c";
    b.incarnation = inc;
    b.pub_port = 1;
    b.router_port = 2;
    return b;
  }
  std::vector<Kind> kinds() {
    std::vector<Kind> k;
    for (auto& e : ev) k.push_back(e.kind);
    ev.clear();
    return k;
  }
  MemberState state(const bus::NodeId& id) { return m.find(id)->state; }
  void advance(std::chrono::milliseconds d) {
    clock.advance(d);
    m.tick(ev);
  }
};

TEST_F(MembershipTest, BeaconFromNewcomerIsNodeup) {
  auto b = bus::NodeId::random();
  m.on_beacon(beacon(b, "b@h", 1), "127.0.0.1", ev);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::up});
  EXPECT_EQ(state(b), MemberState::alive);
  EXPECT_EQ(m.find(b)->endpoint.host, "127.0.0.1");
  m.on_beacon(beacon(b, "b@h", 1), "127.0.0.1", ev);  // known: nothing new
  EXPECT_TRUE(kinds().empty());
}

TEST_F(MembershipTest, OwnBeaconIsIgnored) {
  m.on_beacon(beacon(self, "me@h", 1), "127.0.0.1", ev);
  EXPECT_TRUE(ev.empty());
  EXPECT_TRUE(m.members().empty());
}

TEST_F(MembershipTest, SilenceLeadsToSuspectThenDown) {
  auto b = bus::NodeId::random();
  m.on_beacon(beacon(b, "b@h", 1), "127.0.0.1", ev);
  kinds();
  advance(900ms);
  m.on_heard(b, ev);  // a heartbeat resets the silence
  advance(900ms);
  EXPECT_TRUE(kinds().empty());
  advance(101ms);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::suspect});
  advance(400ms);
  EXPECT_TRUE(kinds().empty());  // still within the probe timeout
  advance(101ms);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::down});
  EXPECT_EQ(state(b), MemberState::down);
}

TEST_F(MembershipTest, SuspectThatAnswersRecovers) {
  auto b = bus::NodeId::random();
  m.on_beacon(beacon(b, "b@h", 1), "127.0.0.1", ev);
  advance(1001ms);
  kinds();
  m.on_heard(b, ev);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::recovered});
  advance(600ms);
  EXPECT_TRUE(kinds().empty());
  EXPECT_EQ(state(b), MemberState::alive);
}

TEST_F(MembershipTest, BrokenLinkIsSuspectedAtOnce) {
  auto b = bus::NodeId::random();
  m.on_beacon(beacon(b, "b@h", 1), "127.0.0.1", ev);
  kinds();
  m.on_link_down(b, ev);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::suspect});
  advance(501ms);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::down});
}

TEST_F(MembershipTest, GoodbyeIsLeftAndFinal) {
  auto b = bus::NodeId::random();
  m.on_beacon(beacon(b, "b@h", 1), "127.0.0.1", ev);
  kinds();
  m.on_goodbye(b, ev);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::left});
  m.on_beacon(beacon(b, "b@h", 1), "127.0.0.1", ev);  // a late beacon of the same incarnation
  advance(5000ms);
  EXPECT_TRUE(kinds().empty());
  EXPECT_EQ(state(b), MemberState::left);
}

TEST_F(MembershipTest, LeavingBeaconIsAGoodbye) {
  auto b = bus::NodeId::random();
  m.on_beacon(beacon(b, "b@h", 1), "127.0.0.1", ev);
  kinds();
  Beacon bye = beacon(b, "b@h", 1);
  bye.leaving = true;
  m.on_beacon(bye, "127.0.0.1", ev);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::left});
}

TEST_F(MembershipTest, RestartUnderSameNameIsANewIncarnation) {
  auto old_id = bus::NodeId::random(), new_id = bus::NodeId::random();
  m.on_beacon(beacon(old_id, "b@h", 10), "127.0.0.1", ev);
  kinds();
  m.on_beacon(beacon(new_id, "b@h", 11), "127.0.0.1", ev);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, Kind::down);
  EXPECT_EQ(ev[0].member.id, old_id);
  EXPECT_EQ(ev[1].kind, Kind::up);
  EXPECT_EQ(ev[1].member.incarnation, 11u);
  ev.clear();
  EXPECT_EQ(m.find(old_id), nullptr);
  EXPECT_EQ(m.find_by_name("b@h")->id, new_id);
  // A straggling beacon of the old incarnation changes nothing.
  m.on_beacon(beacon(old_id, "b@h", 10), "127.0.0.1", ev);
  EXPECT_TRUE(kinds().empty());
  EXPECT_EQ(m.members().size(), 1u);
}

TEST_F(MembershipTest, DownMemberComesBackWithABeacon) {
  auto b = bus::NodeId::random();
  m.on_beacon(beacon(b, "b@h", 1), "127.0.0.1", ev);
  advance(1001ms);
  advance(501ms);
  kinds();
  EXPECT_EQ(state(b), MemberState::down);
  m.on_heard(b, ev);  // frames alone do not revive: only a beacon re-announces endpoints
  EXPECT_TRUE(kinds().empty());
  m.on_beacon(beacon(b, "b@h", 1), "198.18.0.2", ev);
  EXPECT_EQ(kinds(), std::vector<Kind>{Kind::up});
  EXPECT_EQ(state(b), MemberState::alive);
  EXPECT_EQ(m.find(b)->endpoint.host, "198.18.0.2");
}

TEST_F(MembershipTest, AliveListsOwnersOfWork) {
  auto a = bus::NodeId::random(), b = bus::NodeId::random(), c = bus::NodeId::random();
  m.on_beacon(beacon(a, "a@h", 1), "127.0.0.1", ev);
  m.on_beacon(beacon(b, "b@h", 1), "127.0.0.1", ev);
  m.on_beacon(beacon(c, "c@h", 1), "127.0.0.1", ev);
  m.on_link_down(b, ev);  // suspect still owns its work
  m.on_goodbye(c, ev);
  auto alive = m.alive();
  std::sort(alive.begin(), alive.end());
  std::vector<bus::NodeId> want{a, b};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(alive, want);
}

}  // namespace
}  // namespace zswarm::discovery
