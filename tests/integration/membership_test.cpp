// A cluster that forms by itself: real zswarmd processes on loopback.
#include <signal.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <sstream>
#include <vector>

#include "support/process.hpp"
#include "support/wait.hpp"

namespace zswarm::testing {
namespace {

using namespace std::chrono_literals;

TEST(Membership, ThreeNodesAllSeeEachOther) {
  LocalCluster c(test_name());
  c.start("a");
  c.start("b");
  c.start("c");
  EXPECT_TRUE(c.wait_all_alive({"a", "b", "c"}));
  auto log = c.process("a").log();
  EXPECT_TRUE(wait_until([&] { return c.process("a").log().find("[membership] nodeup b@") != std::string::npos; }))
      << log;
}

TEST(Membership, KilledNodeIsReportedDownByTheOthers) {
  LocalCluster c(test_name());
  c.start("a");
  c.start("b");
  c.start("c");
  ASSERT_TRUE(c.wait_all_alive({"a", "b", "c"}));
  c.process("b").signal(SIGKILL);
  EXPECT_TRUE(c.wait_state("a", "b", "down", 5s));
  EXPECT_TRUE(c.wait_state("c", "b", "down", 5s));
  EXPECT_EQ(c.state("a", "c"), "alive");
  EXPECT_TRUE(wait_until([&] { return c.process("a").log().find("[membership] nodedown b@") != std::string::npos; }));
}

// A kill -9 on a host that answers: the peers' links break, b's ROUTER port
// refuses their connect(), and b is down at once, not after the 500 ms probe
// timeout. Ten kills; the time from each to `down` as a's control socket
// reports it is printed (the figure in docs/operations.md §3), not asserted:
// on a saturated machine a check may run out of time and leave the kill to
// the probe, which is correct too. What is asserted is the mechanism: the
// refusal decided (nearly) every kill.
TEST(Membership, AKilledNodeIsDownAtOnceBecauseItsPortRefuses) {
  LocalCluster c(test_name());
  c.start("a");
  c.start("c");
  std::vector<int64_t> took;
  for (int i = 0; i < 10; ++i) {
    c.start("b");
    ASSERT_TRUE(c.wait_all_alive({"a", "b", "c"})) << i;
    const auto killed = std::chrono::steady_clock::now();
    c.process("b").signal(SIGKILL);
    ASSERT_TRUE(wait_until([&] { return c.state("a", "b") == "down"; }, 5s, 1ms)) << i;
    took.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed)
                       .count());
    EXPECT_TRUE(c.wait_state("c", "b", "down", 5s)) << i;
    ASSERT_TRUE(c.process("b").wait_exit(5s));
    c.forget("b");
  }
  std::sort(took.begin(), took.end());
  std::cout << "kill -9 -> down (ms, 10 kills): p50 " << took[took.size() / 2] << ", max " << took.back() << "\n";
  // Down for a refusal, not for an unanswered probe: a's own refused
  // connect, or c's, told as a `gone` update ("seen by c@"), whichever came
  // first; all ten on an idle machine (CI saw one of ten fall back to the
  // probe while saturated).
  std::istringstream log(c.process("a").log());
  int downs = 0, refused = 0;
  for (std::string line; std::getline(log, line);) {
    if (line.find("[membership] nodedown b@") == std::string::npos) continue;
    ++downs;
    refused += line.find("(connection refused: the process is gone)") != std::string::npos ||
               line.find("(its process is gone (seen by c@") != std::string::npos;
  }
  EXPECT_EQ(downs, 10);
  EXPECT_GE(refused, 8) << c.process("a").log();
}

TEST(Membership, RestartedNodeComesBackWithANewIncarnation) {
  LocalCluster c(test_name());
  c.start("a");
  c.start("b");
  ASSERT_TRUE(c.wait_all_alive({"a", "b"}));
  auto before = c.ask("b", {{"cmd", "info"}});
  ASSERT_TRUE(before);
  c.process("b").signal(SIGKILL);
  ASSERT_TRUE(c.process("b").wait_exit(5s));
  c.forget("b");
  c.start("b");
  ASSERT_TRUE(c.wait_all_alive({"a", "b"}));
  auto after = c.ask("b", {{"cmd", "info"}});
  ASSERT_TRUE(after);
  EXPECT_GT((*after)["incarnation"].get<uint64_t>(), (*before)["incarnation"].get<uint64_t>());
  EXPECT_NE((*after)["id"], (*before)["id"]);
  // a holds exactly one b: the new incarnation replaced the old one.
  auto members = c.ask("a", {{"cmd", "members"}});
  int bs = 0;
  for (const auto& m : (*members)["members"]) {
    if (m["name"].get<std::string>().rfind("b@", 0) == 0) {
      ++bs;
      EXPECT_EQ(m["incarnation"], (*after)["incarnation"]);
      EXPECT_EQ(m["state"], "alive");
    }
  }
  EXPECT_EQ(bs, 1);
}

TEST(Membership, SigtermSaysGoodbyeAndPeersMarkItLeftAtOnce) {
  LocalCluster c(test_name());
  c.start("a");
  c.start("b");
  ASSERT_TRUE(c.wait_all_alive({"a", "b"}));
  c.process("b").signal(SIGTERM);
  // "left", never "suspect" or "down": the goodbye arrived before any timeout.
  EXPECT_TRUE(c.wait_state("a", "b", "left", 3s));
  EXPECT_EQ(c.process("b").wait_exit(5s), 0);
  EXPECT_EQ(c.process("a").log().find("suspect b@"), std::string::npos);
}

TEST(Membership, NodeOfAnotherClusterStaysOut) {
  LocalCluster c(test_name());
  LocalCluster other(test_name() + "-other", c.beacon_port());
  c.start("a");
  c.start("b");
  // Same beacon port, other cluster name: it hears our beacons and we its.
  other.start("x");
  ASSERT_TRUE(c.wait_all_alive({"a", "b"}));
  ASSERT_TRUE(wait_until([&] {
    auto info = c.ask("a", {{"cmd", "info"}});
    return info && (*info)["stats"]["beacons_other_cluster"].get<uint64_t>() > 0;
  }));
  auto members = c.ask("a", {{"cmd", "members"}});
  ASSERT_TRUE(members);
  EXPECT_EQ((*members)["members"].size(), 2u);
  EXPECT_EQ(c.state("a", "x"), "");
}

TEST(Membership, TwoClustersSideBySideOnOnePort) {
  LocalCluster one(test_name() + "-1");
  LocalCluster two(test_name() + "-2", one.beacon_port());
  one.start("a");
  one.start("b");
  two.start("a");
  two.start("b");
  EXPECT_TRUE(one.wait_all_alive({"a", "b"}));
  EXPECT_TRUE(two.wait_all_alive({"a", "b"}));
  EXPECT_EQ(one.ask("a", {{"cmd", "members"}}).value()["members"].size(), 2u);
  EXPECT_EQ(two.ask("a", {{"cmd", "members"}}).value()["members"].size(), 2u);
}

TEST(Membership, SeedsFindEachOtherWithoutBroadcast) {
  // Two beacon ports, so broadcast cannot join them: only the unicast seeds can.
  LocalCluster one(test_name());
  LocalCluster two(test_name(), static_cast<uint16_t>(one.beacon_port() + 1));
  std::string p1 = std::to_string(one.beacon_port()), p2 = std::to_string(two.beacon_port());
  one.start("a", {"--seeds", "127.0.0.1:" + p2});
  // b joins a's cluster name, but listens on the other port.
  Process b({bin_dir() + "/zswarmd", "--name", "b", "--cluster", one.name(), "--beacon-port", p2, "--control-dir",
             one.control_dir(), "--seeds", "127.0.0.1:" + p1},
            one.control_dir() + "/b.log");
  EXPECT_TRUE(one.wait_all_alive({"a", "b"})) << b.log();
}

TEST(Membership, SameNameTwiceInOneClusterIsRefused) {
  LocalCluster c(test_name());
  c.start("a");
  ASSERT_TRUE(wait_until([&] { return c.ask("a", {{"cmd", "ping"}}, 200ms).has_value(); }));
  auto& dup = c.start("a");
  EXPECT_EQ(dup.wait_exit(10s), 1);
  EXPECT_NE(dup.log().find("already answers"), std::string::npos) << dup.log();
  EXPECT_TRUE(c.ask("a", {{"cmd", "ping"}}).has_value());  // the first one is unharmed
}

}  // namespace
}  // namespace zswarm::testing
