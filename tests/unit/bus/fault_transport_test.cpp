#include "bus/fault_transport.hpp"

#include <gtest/gtest.h>

#include "bus/memory_transport.hpp"

namespace zswarm::bus {
namespace {

// Two nodes on a MemoryNetwork; `a` sends through a FaultTransport.
struct Pair : ::testing::Test {
  ManualClock clock;
  MemoryNetwork net;
  NodeId a_id = NodeId::random(), b_id = NodeId::random();
  FaultTransport* fault = nullptr;
  std::unique_ptr<Transport> a;
  MemoryTransport b{net, b_id};
  std::vector<std::string> got;

  void SetUp() override {
    auto inner = std::make_unique<MemoryTransport>(net, a_id);
    auto f = std::make_unique<FaultTransport>(std::move(inner), clock, 7);
    fault = f.get();
    a = std::move(f);
    a->connect(b_id, {});
    b.connect(a_id, {});
    b.set_receiver([this](Inbound&& in) { got.push_back(in.frame); });
  }
  void send_n(int n) {
    for (int i = 0; i < n; ++i) a->send(b_id, std::to_string(i));
    net.deliver();
  }
};

TEST_F(Pair, CleanPlanPassesEverythingInOrder) {
  send_n(100);
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], std::to_string(i));
}

TEST_F(Pair, DropLosesAboutTheGivenShare) {
  fault->plan().drop = 0.3;
  send_n(2000);
  EXPECT_GT(got.size(), 1200u);
  EXPECT_LT(got.size(), 1600u);
  EXPECT_EQ(fault->stats().dropped + got.size(), 2000u);
}

TEST_F(Pair, DuplicateDeliversSomeTwice) {
  fault->plan().duplicate = 0.5;
  send_n(200);
  EXPECT_GT(got.size(), 250u);
  EXPECT_EQ(got.size(), 200u + fault->stats().duplicated);
}

TEST_F(Pair, ReorderSwapsNeighbours) {
  fault->plan().reorder = 0.3;
  send_n(200);
  int swapped = 0;
  for (std::size_t i = 1; i < got.size(); ++i) swapped += std::stoi(got[i]) < std::stoi(got[i - 1]);
  EXPECT_GT(swapped, 10);
}

TEST_F(Pair, DelayHoldsFramesUntilTheClockPassesIt) {
  fault->plan().delay = std::chrono::milliseconds(100);
  send_n(5);
  EXPECT_TRUE(got.empty());
  clock.advance(std::chrono::milliseconds(99));
  a->tick(clock.now());
  net.deliver();
  EXPECT_TRUE(got.empty());
  clock.advance(std::chrono::milliseconds(1));
  a->tick(clock.now());
  net.deliver();
  EXPECT_EQ(got.size(), 5u);
}

TEST_F(Pair, CutPartitionsOnePeerBothWays) {
  fault->plan().cut.insert(b_id);
  send_n(10);
  EXPECT_TRUE(got.empty());
  std::vector<std::string> back;
  a->set_receiver([&](Inbound&& in) { back.push_back(in.frame); });
  b.send(a_id, "hello");
  net.deliver();
  EXPECT_TRUE(back.empty());
  fault->plan().cut.clear();
  b.send(a_id, "again");
  net.deliver();
  EXPECT_EQ(back, std::vector<std::string>{"again"});
}

TEST_F(Pair, LinkDownIsNeverFaulted) {
  fault->plan().cut_all = true;
  std::vector<Inbound::Kind> kinds;
  a->set_receiver([&](Inbound&& in) { kinds.push_back(in.kind); });
  net.kill(b_id);
  net.deliver();
  // The peer_gone after it is lost: no refusal crosses a cut.
  EXPECT_EQ(kinds, std::vector<Inbound::Kind>{Inbound::link_down});
  EXPECT_EQ(fault->stats().cut, 1u);
}

TEST_F(Pair, PeerGoneIsLostOnlyToACut) {
  fault->plan().drop = 1.0;  // frames all lost and late: a refusal is neither
  fault->plan().delay = std::chrono::milliseconds(50);
  fault->plan().cut.insert(NodeId::random());  // a cut to someone else
  std::vector<Inbound::Kind> kinds;
  a->set_receiver([&](Inbound&& in) { kinds.push_back(in.kind); });
  net.kill(b_id);
  net.deliver();
  EXPECT_EQ(kinds, (std::vector<Inbound::Kind>{Inbound::link_down, Inbound::peer_gone}));
}

}  // namespace
}  // namespace zswarm::bus
