#include "discovery/beacon_socket.hpp"

#include <gtest/gtest.h>

#include <random>

#include "support/wait.hpp"

namespace zswarm::discovery {
namespace {

uint16_t test_port() {
  // Tests run in parallel: each picks its own beacon port.
  return static_cast<uint16_t>(47000 + std::random_device{}() % 2000);
}

TEST(BeaconSocket, LoopbackBroadcastReachesEverySocketOnThePort) {
  Scope s;
  s.port = test_port();
  auto a = BeaconSocket::open(s), b = BeaconSocket::open(s), c = BeaconSocket::open(s);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->bind_address(), "127.0.0.1");
  a->send("hello");
  for (BeaconSocket* sock : {&*a, &*b, &*c}) {
    std::optional<Datagram> d;
    ASSERT_TRUE(testing::wait_until([&] { return (d = sock->receive()).has_value(); }));
    EXPECT_EQ(d->bytes, "hello");
    EXPECT_EQ(d->source_ip, "127.0.0.1");
  }
}

TEST(BeaconSocket, SeedsReachTheListedHost) {
  Scope listener;
  listener.port = test_port();
  auto l = BeaconSocket::open(listener);
  ASSERT_TRUE(l.ok());
  Scope seeded;
  seeded.port = static_cast<uint16_t>(listener.port + 1);
  seeded.seeds = {"127.0.0.1:" + std::to_string(listener.port)};
  auto s = BeaconSocket::open(seeded);
  ASSERT_TRUE(s.ok()) << s.error().detail;
  s->send("seeded");
  std::optional<Datagram> d;
  ASSERT_TRUE(testing::wait_until([&] { return (d = l->receive()).has_value(); }));
  EXPECT_EQ(d->bytes, "seeded");
}

TEST(BeaconSocket, BusBindsWideOnlyForSeedsOffThisHost) {
  Scope local;
  local.port = test_port();
  local.seeds = {"127.0.0.1:1", "127.0.0.2:2"};
  auto l = BeaconSocket::open(local);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->bind_address(), "127.0.0.1");
  Scope remote = local;
  remote.seeds = {"198.18.0.7:45670"};  // resolved only, never sent to here
  auto r = BeaconSocket::open(remote);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->bind_address(), "0.0.0.0");
}

TEST(DefaultRoute, PicksTheUpDefaultRouteWithTheLowestMetric) {
  // As the kernel writes it: a header, tab-separated hex fields, trailing blanks.
  const char* table =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT   \n"
      "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0   \n"
      "wlan0\t00000000\t010200C0\t0003\t0\t0\t600\t00000000\t0\t0\t0   \n"
      "eth1\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0   \n";
  EXPECT_EQ(default_route_interface(table), "eth1");
}

TEST(DefaultRoute, NoneWithoutADefaultRoute) {
  EXPECT_EQ(default_route_interface(""), std::nullopt);
  EXPECT_EQ(default_route_interface("Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"), std::nullopt);
  // Only a subnet route; a default route that is down; a /1 (destination 0, mask not 0); a short line.
  EXPECT_EQ(default_route_interface("Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"
                                    "e0\t000012C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
                                    "e1\t00000000\t010012C6\t0002\t0\t0\t0\t00000000\t0\t0\t0\n"
                                    "e2\t00000000\t010012C6\t0003\t0\t0\t0\t00000080\t0\t0\t0\n"
                                    "e3\t00000000\n"),
            std::nullopt);
  // A route without a gateway (`ip route add default dev e4`) counts.
  EXPECT_EQ(default_route_interface("header\ne4\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n"), "e4");
}

TEST(BeaconSocket, ClearErrorsForBadScopes) {
  Scope bad_if;
  bad_if.interface = "nosuchif0";
  auto r = BeaconSocket::open(bad_if);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("nosuchif0"), std::string::npos);

  Scope bad_group;
  bad_group.multicast_group = "198.18.0.1";
  r = BeaconSocket::open(bad_group);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("multicast"), std::string::npos);

  Scope bad_seed;
  bad_seed.seeds = {"127.0.0.1:99999"};
  r = BeaconSocket::open(bad_seed);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("bad port"), std::string::npos);
}

}  // namespace
}  // namespace zswarm::discovery
