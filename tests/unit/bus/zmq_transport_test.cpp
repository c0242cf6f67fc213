// ZmqTransport alone: what the conformance suite cannot ask of every
// transport. Here, the check after a link_down that tells a dead process
// (its ROUTER port refuses a connect: peer_gone) from a link that broke
// while the process lives on.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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

// A listening socket on 127.0.0.1 that never accepts: connects wait in its
// backlog, and are reset when it closes (as a dying process's listener does).
struct RawListener {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  uint16_t port = 0;
  RawListener() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd, 8) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("no loopback listener");
    port = ntohs(a.sin_port);
  }
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  ~RawListener() { close(); }
};

TYPED_TEST(ZmqOnly, AConnectTakenByADyingListenerIsDialledAgain) {
  auto& h = this->impl;
  h.start(2);
  RawListener listener;
  // Node 1 reaches node 0's PUB, but "its ROUTER" is the raw listener.
  PeerEndpoint at = h.node(0).at;
  at.router_port = listener.port;
  h.allow(0, 1);
  h.t(1).connect(h.id(0), at);
  ASSERT_TRUE(h.await_subscribed(0, {1}));
  // The check has connected (into the backlog) by the time link_down is
  // reported; the listener dies now, resetting that connection.
  h.node(1).transport->set_receiver([&](Inbound&& in) {
    if (in.kind == Inbound::link_down) listener.close();
    h.node(1).inbox.push_back(std::move(in));
  });
  h.kill(0);
  ASSERT_TRUE(h.pump_until([&] { return !h.peers_gone(1).empty(); }, 1s))
      << "a reset before the greeting was taken for a live peer";
  EXPECT_EQ(h.zmq(1).stats().peers_refused, 1u);
}

TYPED_TEST(ZmqOnly, AListenerThatNeverGreetsProvesNothing) {
  auto& h = this->impl;
  h.start(2);
  RawListener listener;  // takes the connect, never says a word: not libzmq, not dead
  PeerEndpoint at = h.node(0).at;
  at.router_port = listener.port;
  h.allow(0, 1);
  h.t(1).connect(h.id(0), at);
  ASSERT_TRUE(h.await_subscribed(0, {1}));
  h.kill(0);
  ASSERT_TRUE(h.pump_until([&] { return !h.link_downs(1).empty(); }));
  h.pump_until([] { return false; }, 700ms);  // past the check's 500 ms deadline
  EXPECT_TRUE(h.peers_gone(1).empty());
  EXPECT_EQ(h.zmq(1).stats().peers_refused, 0u);
  // And the check's socket was closed at its deadline: the connection it
  // left in the backlog reads as ended. (The DEALER's is there too: it has
  // sent its greeting.)
  int ended = 0, silent = 0;
  for (int conn; (conn = ::accept4(listener.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
    char byte;
    const ssize_t n = ::recv(conn, &byte, 1, MSG_DONTWAIT);
    ended += n == 0;
    silent += n < 0;
    ::close(conn);
  }
  EXPECT_EQ(ended, 1);
  EXPECT_EQ(silent, 0) << "the check's fd is still open";
}

}  // namespace
}  // namespace zswarm::bus::conformance
