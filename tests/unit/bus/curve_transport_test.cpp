// The CURVE bus: a peer whose key was not (yet) admitted is refused by ZAP,
// and its links come up by themselves once it is (libzmq ends a session
// for good after a refused handshake; the transport dials again).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "bus/datagram.hpp"
#include "transport_harness.hpp"

namespace zswarm::bus::conformance {
namespace {

TEST(CurveTransport, LinksComeUpOnceTheKeyIsAdmitted) {
  CurveZmqHarness h;
  h.start(2);
  auto& t1 = static_cast<ZmqTransport&>(h.t(1));
  h.dial(0, 1);  // 1 has not heard of 0: its ZAP handler refuses 0's key
  ASSERT_TRUE(h.t(0).send(h.id(1), "early"));
  ASSERT_TRUE(h.pump_until([&] { return t1.stats().keys_refused >= 2; }, 3s)) << "SUB and DEALER both refused";
  h.t(1).publish("unseen");
  h.settle();
  EXPECT_TRUE(h.node(1).inbox.empty());
  EXPECT_TRUE(h.published(0).empty());
  h.allow(1, 0);
  ASSERT_TRUE(h.await_subscribed(1, {0}, 3s)) << "the SUB link never came back";
  ASSERT_TRUE(h.pump_until(
      [&] {
        (void)h.t(0).send(h.id(1), "late");
        h.settle();
        for (const Inbound& in : h.direct(1))
          if (in.frame == "late") return true;
        return false;
      },
      3s))
      << "the DEALER link never came back";
  for (const Inbound& in : h.direct(1)) EXPECT_EQ(in.peer, h.id(0)) << "the sender is the admitted key's member";
}

TEST(CurveTransport, ARevokedKeyIsRefusedOnItsNextConnection) {
  CurveZmqHarness h;
  h.start(2);
  h.connect(0, 1);
  h.connect(1, 0);
  ASSERT_TRUE(h.await_subscribed(1, {0}));
  auto& t1 = static_cast<ZmqTransport&>(h.t(1));
  h.disconnect(1, 0);  // 1 declared 0 gone: 0's key is no longer admitted
  uint64_t refused = t1.stats().keys_refused;
  // 0 dials anew (as after a restart of its links): refused now.
  h.disconnect(0, 1);
  h.dial(0, 1);
  EXPECT_TRUE(h.pump_until([&] { return t1.stats().keys_refused > refused; }, 3s));
}


TEST(CurveTransport, ADatagramArrivesAsADirectFrameFromItsMember) {
  CurveZmqHarness h;
  h.start(2);
  h.connect(0, 1);
  h.connect(1, 0);
  auto& t0 = static_cast<ZmqTransport&>(h.t(0));
  auto& t1 = static_cast<ZmqTransport&>(h.t(1));
  ASSERT_NE(t1.probe_port(), 0);
  ASSERT_TRUE(h.t(0).send_datagram(h.id(1), "by datagram"));
  ASSERT_TRUE(h.pump_until([&] { return !h.direct(1).empty(); }));
  EXPECT_EQ(h.direct(1)[0].frame, "by datagram");
  EXPECT_EQ(h.direct(1)[0].peer, h.id(0));
  EXPECT_EQ(t0.stats().datagrams_sent, 1u);
  EXPECT_EQ(t0.stats().datagrams_by_tcp, 0u);
  EXPECT_EQ(t1.stats().datagrams_received, 1u);
  // Too large for one datagram: it goes on the link, and still arrives.
  const std::string big(kMaxDatagramFrame + 1, 'b');
  ASSERT_TRUE(h.t(0).send_datagram(h.id(1), big));
  ASSERT_TRUE(h.pump_until([&] { return h.direct(1).size() == 2; }, 3s));
  EXPECT_EQ(h.direct(1)[1].frame, big);
  EXPECT_EQ(t0.stats().datagrams_by_tcp, 1u);
}

TEST(CurveTransport, AMemberWithoutAProbePortGetsItsDatagramsOnTheLink) {
  CurveZmqHarness h;
  h.start(2);
  h.node(1).at.probe_port = 0;  // a build before datagrams
  h.connect(0, 1);
  h.connect(1, 0);
  auto& t0 = static_cast<ZmqTransport&>(h.t(0));
  ASSERT_TRUE(h.pump_until(
      [&] {
        (void)h.t(0).send_datagram(h.id(1), "by link");
        return !h.direct(1).empty();
      },
      3s));
  EXPECT_EQ(h.direct(1)[0].frame, "by link");
  EXPECT_EQ(t0.stats().datagrams_sent, 0u);
  EXPECT_GE(t0.stats().datagrams_by_tcp, 1u);
}

// A member the test plays by hand: its own keypair, admitted by node 1, and
// a UDP socket to send node 1 whatever it likes.
TEST(CurveTransport, DatagramsFromStrangersAlteredOrReplayedAreRefused) {
  CurveZmqHarness h;
  h.start(2);
  auto& t1 = static_cast<ZmqTransport&>(h.t(1));
  std::string pub(32, '\0'), sec(32, '\0'), other_pub(32, '\0'), other_sec(32, '\0');
  ASSERT_GE(sodium_init(), 0);
  crypto_box_keypair(reinterpret_cast<uint8_t*>(pub.data()), reinterpret_cast<uint8_t*>(sec.data()));
  crypto_box_keypair(reinterpret_cast<uint8_t*>(other_pub.data()), reinterpret_cast<uint8_t*>(other_sec.data()));
  const NodeId member = NodeId::random();
  // Its bus ports are closed: only its datagrams matter here.
  t1.connect(member, PeerEndpoint{"127.0.0.1", 9, 9, pub, 9});
  DatagramKey k{}, stranger{};
  ASSERT_TRUE(datagram_key(sec, h.node(1).at.curve_key, k));
  ASSERT_TRUE(datagram_key(other_sec, h.node(1).at.curve_key, stranger));
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(t1.probe_port());
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto send = [&](const std::string& d) {
    ::sendto(fd, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  };
  auto refused_by = [&](uint64_t n) { return h.pump_until([&] { return t1.stats().datagrams_refused >= n; }); };

  const DatagramSalt salt = new_datagram_salt();
  const std::string good = seal_datagram(k, pub, salt, 1, "from the member");
  send(good);
  ASSERT_TRUE(h.pump_until([&] { return !h.direct(1).empty(); }));
  EXPECT_EQ(h.direct(1)[0].peer, member);
  EXPECT_EQ(h.direct(1)[0].frame, "from the member");
  send(good);  // replayed
  EXPECT_TRUE(refused_by(1));
  std::string altered = seal_datagram(k, pub, salt, 2, "altered");
  altered.back() = static_cast<char>(altered.back() ^ 0x20);
  send(altered);
  EXPECT_TRUE(refused_by(2));
  send(seal_datagram(stranger, other_pub, salt, 3, "a stranger"));  // a key node 1 never admitted
  EXPECT_TRUE(refused_by(3));
  send(std::string(4000, 'Z'));
  EXPECT_TRUE(refused_by(4));
  send("ZSD");
  EXPECT_TRUE(refused_by(5));
  // The member's next datagram is still taken: no refusal moved its window.
  send(seal_datagram(k, pub, salt, 2, "still taken"));
  ASSERT_TRUE(h.pump_until([&] { return h.direct(1).size() == 2; }));
  EXPECT_EQ(h.direct(1)[1].frame, "still taken");
  EXPECT_EQ(t1.stats().datagrams_received, 2u);
  EXPECT_EQ(t1.stats().datagrams_refused, 5u);
  ::close(fd);
}

}  // namespace
}  // namespace zswarm::bus::conformance
