// The CURVE bus: a peer whose key was not (yet) admitted is refused by ZAP,
// and its links come up by themselves once it is (libzmq ends a session
// for good after a refused handshake; the transport dials again).
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace zswarm::bus::conformance
