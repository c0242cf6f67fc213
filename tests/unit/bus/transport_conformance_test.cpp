// Transport conformance: one set of tests for the contract in
// bus/transport.hpp, run against every Transport implementation (in the
// manner of nng's NUTS suite). A test named Conformance/Zmq.X and one named
// Conformance/Memory.X check the same thing on the two transports.
#include <gtest/gtest.h>

#include <string>
#include <type_traits>
#include <vector>

#include "transport_harness.hpp"

namespace zswarm::bus::conformance {
namespace {

template <class H>
class Conformance : public ::testing::Test {
 protected:
  H impl;
  Harness& harness = impl;
};

struct HarnessName {
  template <class H>
  static std::string GetName(int) {
    return H::kName;
  }
};

using Harnesses = ::testing::Types<ZmqHarness, CurveZmqHarness, MemoryHarness>;
TYPED_TEST_SUITE(Conformance, Harnesses, HarnessName);

std::string numbered(const char* tag, int i) { return std::string(tag) + std::to_string(i); }

TYPED_TEST(Conformance, PublishReachesEverySubscriber) {
  Harness& h = this->harness;
  h.start(4);
  h.connect(1, 0);
  h.connect(2, 0);
  h.connect(3, 1);  // alive and connected, but not to the publisher
  ASSERT_TRUE(h.await_subscribed(0, {1, 2}));

  h.t(0).publish("hello");
  ASSERT_TRUE(h.pump_until([&] { return h.published(1).size() == 1 && h.published(2).size() == 1; }));
  h.settle();
  EXPECT_EQ(h.published(1), std::vector<std::string>{"hello"});
  EXPECT_EQ(h.published(2), std::vector<std::string>{"hello"});
  EXPECT_TRUE(h.node(3).inbox.empty()) << "a node not connected to the publisher got a frame";
  EXPECT_TRUE(h.node(0).inbox.empty()) << "the publisher heard its own frame";
}

TYPED_TEST(Conformance, SendReachesOnlyTheTarget) {
  Harness& h = this->harness;
  h.start(3);
  h.connect(0, 1);
  h.connect(0, 2);
  h.connect(1, 0);
  h.connect(2, 0);

  ASSERT_TRUE(h.t(0).send(h.id(1), "for-1"));
  ASSERT_TRUE(h.pump_until([&] { return !h.direct(1).empty(); }));
  h.settle();
  ASSERT_EQ(h.node(1).inbox.size(), 1u) << "the target got more than the one direct frame";
  const Inbound& in = h.node(1).inbox[0];
  EXPECT_EQ(in.kind, Inbound::direct);
  EXPECT_EQ(in.peer, h.id(0));
  EXPECT_EQ(in.frame, "for-1");
  EXPECT_TRUE(h.node(2).inbox.empty()) << "a bystander saw a direct frame";
  EXPECT_TRUE(h.node(0).inbox.empty()) << "the sender saw its own direct frame";
}

TYPED_TEST(Conformance, DirectFramesNameTheirSender) {
  Harness& h = this->harness;
  h.start(3);
  h.connect(1, 0);
  h.connect(2, 0);

  ASSERT_TRUE(h.t(1).send(h.id(0), "from-1"));
  ASSERT_TRUE(h.t(2).send(h.id(0), "from-2"));
  ASSERT_TRUE(h.pump_until([&] { return h.direct(0).size() == 2; }));
  for (const Inbound& in : h.direct(0)) {
    if (in.frame == "from-1") {
      EXPECT_EQ(in.peer, h.id(1));
    } else {
      EXPECT_EQ(in.frame, "from-2");
      EXPECT_EQ(in.peer, h.id(2));
    }
  }
}

TYPED_TEST(Conformance, FramesFromOneSenderArriveInOrderOnBothChannels) {
  Harness& h = this->harness;
  h.start(2);
  h.connect(1, 0);
  h.connect(0, 1);
  ASSERT_TRUE(h.await_subscribed(0, {1}));

  // Interleaved, so each channel's order is checked while the other is busy.
  // 1000 frames are far below the send HWM: nothing should be dropped either.
  constexpr int kFrames = 1000;
  for (int i = 0; i < kFrames; ++i) {
    h.t(0).publish(numbered("p", i));
    ASSERT_TRUE(h.t(0).send(h.id(1), numbered("d", i)));
  }
  ASSERT_TRUE(h.pump_until([&] { return h.published(1).size() == kFrames && h.direct(1).size() == kFrames; }))
      << "published " << h.published(1).size() << ", direct " << h.direct(1).size();
  auto pub = h.published(1);
  auto dir = h.direct(1);
  for (int i = 0; i < kFrames; ++i) {
    const auto k = static_cast<std::size_t>(i);
    ASSERT_EQ(pub[k], numbered("p", i)) << "published frame " << i << " out of order";
    ASSERT_EQ(dir[k].frame, numbered("d", i)) << "direct frame " << i << " out of order";
  }
}

TYPED_TEST(Conformance, SendToAnUnknownPeerFails) {
  Harness& h = this->harness;
  h.start(2);
  h.connect(0, 1);
  EXPECT_FALSE(h.t(0).send(NodeId::random(), "nobody"));
  EXPECT_FALSE(h.t(0).send(NodeId(), "nil"));
  EXPECT_FALSE(h.t(1).send(h.id(0), "not connected this way"));
  h.t(0).disconnect(NodeId::random());  // harmless too
  h.settle();
  EXPECT_TRUE(h.node(0).inbox.empty());
  EXPECT_TRUE(h.node(1).inbox.empty());
}

TYPED_TEST(Conformance, SendAfterDisconnectFails) {
  Harness& h = this->harness;
  h.start(2);
  h.connect(0, 1);
  ASSERT_TRUE(h.t(0).send(h.id(1), "before"));
  ASSERT_TRUE(h.pump_until([&] { return h.direct(1).size() == 1; }));

  h.disconnect(0, 1);
  EXPECT_FALSE(h.t(0).send(h.id(1), "after"));
  h.settle();
  ASSERT_EQ(h.direct(1).size(), 1u);
  EXPECT_EQ(h.direct(1)[0].frame, "before");
}

TYPED_TEST(Conformance, DisconnectStopsThatPeersPublishedFrames) {
  Harness& h = this->harness;
  h.start(3);
  h.connect(1, 0);
  h.connect(2, 0);  // a control: shows the frames were really published
  ASSERT_TRUE(h.await_subscribed(0, {1, 2}));

  h.disconnect(1, 0);
  for (int i = 0; i < 10; ++i) h.t(0).publish(numbered("after-", i));
  ASSERT_TRUE(h.pump_until([&] { return h.published(2).size() == 10; }));
  h.settle();
  EXPECT_TRUE(h.published(1).empty()) << "got " << h.published(1).size() << " frames after disconnect, first "
                                      << h.published(1).front();
}

// Frames the peer published before we disconnected, that we have not taken
// in yet, must not reach the receiver afterwards either.
TYPED_TEST(Conformance, DisconnectDiscardsPublishedFramesStillInFlight) {
  Harness& h = this->harness;
  h.start(3);
  h.connect(1, 0);
  h.connect(2, 0);
  ASSERT_TRUE(h.await_subscribed(0, {1, 2}));

  for (int i = 0; i < 10; ++i) h.t(0).publish(numbered("in-flight-", i));
  h.disconnect(1, 0);  // before node 1 runs again
  ASSERT_TRUE(h.pump_until([&] { return h.published(2).size() == 10; }));
  h.settle();
  EXPECT_TRUE(h.published(1).empty()) << "got " << h.published(1).size() << " frames after disconnect, first "
                                      << h.published(1).front();
}

TYPED_TEST(Conformance, DisconnectIsNotReportedAsLinkDown) {
  Harness& h = this->harness;
  h.start(2);
  h.connect(1, 0);
  ASSERT_TRUE(h.await_subscribed(0, {1}));

  h.disconnect(1, 0);
  h.settle();
  h.connect(1, 0);  // the same endpoint again: an old session's events must not leak in
  ASSERT_TRUE(h.await_subscribed(0, {1}));
  h.settle();
  EXPECT_TRUE(h.link_downs(1).empty()) << "a deliberate disconnect was reported as link_down";
}

TYPED_TEST(Conformance, ReconnectAfterDisconnectRestoresBothChannels) {
  Harness& h = this->harness;
  h.start(2);
  h.connect(1, 0);
  ASSERT_TRUE(h.await_subscribed(0, {1}));
  h.disconnect(1, 0);
  h.connect(1, 0);
  ASSERT_TRUE(h.await_subscribed(0, {1}));

  h.t(0).publish("again");
  ASSERT_TRUE(h.t(1).send(h.id(0), "direct-again"));
  ASSERT_TRUE(h.pump_until([&] { return h.published(1).size() == 1 && h.direct(0).size() == 1; }))
      << "published " << h.published(1).size() << ", direct " << h.direct(0).size();
  EXPECT_EQ(h.published(1)[0], "again");
  EXPECT_EQ(h.direct(0)[0].frame, "direct-again");
  EXPECT_EQ(h.direct(0)[0].peer, h.id(1));
}

TYPED_TEST(Conformance, FramesAreDeliveredByteExact) {
  Harness& h = this->harness;
  h.start(2);
  h.connect(1, 0);
  h.connect(0, 1);
  ASSERT_TRUE(h.await_subscribed(0, {1}));

  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte.push_back(static_cast<char>(b));
  std::string large(512 * 1024, '\0');
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  const std::vector<std::string> frames = {
      std::string(1, '\0'), std::string("a\0b\0\0c", 6), every_byte, std::string(), large,
  };
  for (const std::string& f : frames) {
    h.t(0).publish(f);
    ASSERT_TRUE(h.t(0).send(h.id(1), f));
  }
  const std::size_t n = frames.size();
  ASSERT_TRUE(h.pump_until([&] { return h.published(1).size() == n && h.direct(1).size() == n; }))
      << "published " << h.published(1).size() << ", direct " << h.direct(1).size();
  auto pub = h.published(1);
  auto dir = h.direct(1);
  for (std::size_t i = 0; i < n; ++i) {
    // Not EXPECT_EQ: a mismatch would print half a megabyte.
    EXPECT_TRUE(pub[i] == frames[i]) << "published frame " << i << " (" << frames[i].size()
                                     << " bytes) changed, got " << pub[i].size() << " bytes";
    EXPECT_TRUE(dir[i].frame == frames[i]) << "direct frame " << i << " (" << frames[i].size()
                                           << " bytes) changed, got " << dir[i].frame.size() << " bytes";
  }
}

TYPED_TEST(Conformance, ConnectingTwiceIsHarmless) {
  Harness& h = this->harness;
  h.start(2);
  h.connect(1, 0);
  h.connect(1, 0);
  ASSERT_TRUE(h.await_subscribed(0, {1}));

  h.t(0).publish("once");
  ASSERT_TRUE(h.t(1).send(h.id(0), "direct-once"));
  ASSERT_TRUE(h.pump_until([&] { return h.published(1).size() == 1 && h.direct(0).size() == 1; }));
  h.settle();
  EXPECT_EQ(h.published(1), std::vector<std::string>{"once"});
  EXPECT_EQ(h.direct(0).size(), 1u);

  // One disconnect undoes both connects.
  h.disconnect(1, 0);
  EXPECT_FALSE(h.t(1).send(h.id(0), "gone"));
  h.t(0).publish("after");
  h.settle();
  EXPECT_EQ(h.published(1), std::vector<std::string>{"once"});
}

// Node 0 connects to node 1, node 1 to node 2; node 2 hears from node 1
// but never connected to it. The tests then kill node 1.
void connect_three(Harness& h) {
  h.start(3);
  h.connect(0, 1);
  h.connect(1, 2);
  ASSERT_TRUE(h.await_subscribed(1, {0}));
  ASSERT_TRUE(h.await_subscribed(2, {1}));
}

TYPED_TEST(Conformance, LinkDownWhenAConnectedPeerGoesAway) {
  Harness& h = this->harness;
  ASSERT_NO_FATAL_FAILURE(connect_three(h));
  const NodeId gone = h.id(1);
  h.kill(1);
  ASSERT_TRUE(h.pump_until([&] { return !h.link_downs(0).empty(); }))
      << "no link_down within the deadline after the peer went away";
  h.settle();
  for (const Inbound& in : h.link_downs(0)) EXPECT_EQ(in.peer, gone);
  EXPECT_TRUE(h.link_downs(2).empty()) << "link_down for a peer this node never connected to";
}

TYPED_TEST(Conformance, PeerGoneSoonAfterAConnectedPeersProcessIsKilled) {
  Harness& h = this->harness;
  ASSERT_NO_FATAL_FAILURE(connect_three(h));
  const NodeId gone = h.id(1);
  const auto killed = std::chrono::steady_clock::now();
  h.kill(1);
  // Its port refuses at once: well within the 100 ms libzmq would take to retry.
  ASSERT_TRUE(h.pump_until([&] { return !h.peers_gone(0).empty(); }, 1s)) << "no peer_gone after the peer was killed";
  const auto took = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - killed);
  EXPECT_LT(took, 100ms);
  h.settle();
  ASSERT_EQ(h.peers_gone(0).size(), 1u);  // one check per link_down, one report
  EXPECT_EQ(h.peers_gone(0)[0].peer, gone);
  // After the link_down that started the check.
  auto& inbox = h.node(0).inbox;
  auto first_down = std::find_if(inbox.begin(), inbox.end(), [](const Inbound& in) { return in.kind == Inbound::link_down; });
  auto first_gone = std::find_if(inbox.begin(), inbox.end(), [](const Inbound& in) { return in.kind == Inbound::peer_gone; });
  EXPECT_LT(first_down, first_gone);
  EXPECT_TRUE(h.peers_gone(2).empty()) << "peer_gone for a peer this node never connected to";
}

TYPED_TEST(Conformance, PublishWithoutSubscribersIsHarmless) {
  Harness& h = this->harness;
  h.start(2);
  for (int i = 0; i < 1000; ++i) h.t(0).publish(numbered("void-", i));
  h.settle();
  EXPECT_TRUE(h.node(0).inbox.empty());
  EXPECT_TRUE(h.node(1).inbox.empty());
}

}  // namespace
}  // namespace zswarm::bus::conformance
