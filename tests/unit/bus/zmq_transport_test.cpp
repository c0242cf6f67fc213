// ZmqTransport alone: what the conformance suite cannot ask of every
// transport. Here, the check after a link_down that tells a dead process
// (its ROUTER port refuses a connect: peer_gone) from a link that broke
// while the process lives on.
#include <gtest/gtest.h>

#include "transport_harness.hpp"

namespace zswarm::bus::conformance {
namespace {

template <class H>
class ZmqOnly : public ::testing::Test {
 protected:
  H impl;
};

struct ZmqName {
  template <class H>
  static std::string GetName(int) {
    return H::kName;
  }
};

using ZmqHarnesses = ::testing::Types<ZmqHarness, CurveZmqHarness>;
TYPED_TEST_SUITE(ZmqOnly, ZmqHarnesses, ZmqName);

TYPED_TEST(ZmqOnly, ABrokenPubLinkToALiveProcessIsNoPeerGone) {
  auto& h = this->impl;
  h.start(2);
  h.connect(1, 0);
  ASSERT_TRUE(h.await_subscribed(0, {1}));

  // A frame over node 1's max_frame_bytes makes libzmq drop the SUB link:
  // a link_down, while node 0 lives and its ROUTER still listens.
  h.t(0).publish(std::string(2u << 20, 'x'));
  ASSERT_TRUE(h.pump_until([&] { return !h.link_downs(1).empty(); })) << "the oversized frame did not break the link";
  h.settle();  // long enough for the check's connect() to be answered
  EXPECT_TRUE(h.peers_gone(1).empty()) << "a live peer was reported gone";
  EXPECT_EQ(h.zmq(1).stats().peers_refused, 0u);
  // The link is back, so the node is reachable as before.
  ASSERT_TRUE(h.await_subscribed(0, {1}));
  ASSERT_TRUE(h.t(1).send(h.id(0), "still here"));
  ASSERT_TRUE(h.pump_until([&] { return h.direct(0).size() == 1; }));
}

TYPED_TEST(ZmqOnly, AKilledPeerIsCountedAsRefused) {
  auto& h = this->impl;
  h.start(2);
  h.connect(1, 0);
  ASSERT_TRUE(h.await_subscribed(0, {1}));
  h.kill(0);
  ASSERT_TRUE(h.pump_until([&] { return !h.peers_gone(1).empty(); }, 1s));
  EXPECT_EQ(h.zmq(1).stats().peers_refused, 1u);
}

TYPED_TEST(ZmqOnly, DisconnectWhileTheCheckIsUnderWayIsSafe) {
  auto& h = this->impl;
  h.start(3);
  h.connect(1, 0);
  h.connect(2, 0);
  ASSERT_TRUE(h.await_subscribed(0, {1, 2}));
  // Node 1 drops the peer as soon as its link breaks: the check (whatever
  // its state) goes with it, and nothing is reported for a peer it let go.
  h.node(1).transport->set_receiver([&](Inbound&& in) {
    if (in.kind == Inbound::link_down) h.disconnect(1, 0);
    h.node(1).inbox.push_back(std::move(in));
  });
  h.kill(0);
  ASSERT_TRUE(h.pump_until([&] { return !h.link_downs(1).empty() && !h.peers_gone(2).empty(); }, 1s));
  h.settle();
  EXPECT_TRUE(h.peers_gone(1).empty());
}

}  // namespace
}  // namespace zswarm::bus::conformance
