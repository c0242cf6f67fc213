// Smoke tests of every tool, and of bad input reaching a live node.
#include <arpa/inet.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include "support/process.hpp"
#include "support/wait.hpp"

namespace zswarm::testing {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(Tools, CliMembersAndInfo) {
  LocalCluster c(test_name());
  c.start("a");
  c.start("b");
  ASSERT_TRUE(c.wait_all_alive({"a", "b"}));
  auto members = run(c.cli("a") + std::vector<std::string>{"members"});
  EXPECT_EQ(members.code, 0) << members.output;
  EXPECT_NE(members.output.find("a@"), std::string::npos);
  EXPECT_NE(members.output.find("b@"), std::string::npos);
  EXPECT_NE(members.output.find("alive"), std::string::npos);

  auto json = run(c.cli("a") + std::vector<std::string>{"members", "--json"});
  EXPECT_EQ(json.code, 0);
  auto j = Json::parse(json.output);
  EXPECT_EQ(j["members"].size(), 2u);

  auto info = run(c.cli("b") + std::vector<std::string>{"info", "--json"});
  EXPECT_EQ(info.code, 0);
  auto i = Json::parse(info.output);
  EXPECT_EQ(i["cluster"], c.name());
  EXPECT_GT(i["pub_port"].get<int>(), 0);
  EXPECT_EQ(i["pid"].get<int>(), c.process("b").pid());
}

TEST(Tools, CliLeaveStopsTheNodeCleanly) {
  LocalCluster c(test_name());
  c.start("a");
  c.start("b");
  ASSERT_TRUE(c.wait_all_alive({"a", "b"}));
  auto r = run(c.cli("b") + std::vector<std::string>{"leave"});
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(c.process("b").wait_exit(5s), 0);
  EXPECT_TRUE(c.wait_state("a", "b", "left", 3s));
}

TEST(Tools, UsageErrorsExitWithTwo) {
  EXPECT_EQ(run({bin_dir() + "/zswarm", "--node", "a"}).code, 2);               // no command
  EXPECT_EQ(run({bin_dir() + "/zswarm", "--node", "a", "register"}).code, 2);   // no name
  EXPECT_EQ(run({bin_dir() + "/zswarmd", "--no-such-flag"}).code, 2);
  EXPECT_EQ(run({bin_dir() + "/zswarm", "--help"}).code, 0);
}

TEST(Tools, CliWithoutANodeSaysSo) {
  LocalCluster c(test_name());
  auto r = run(c.cli("nobody") + std::vector<std::string>{"--timeout", "300", "members"});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.output.find("no answer from node 'nobody'"), std::string::npos) << r.output;
}

// Issue 11: a control directory another user could have made or can write
// to is refused by the node (it would not start) and by the CLI (its request
// could reach that user's socket).
TEST(Tools, NodeAndCliRefuseAControlDirOthersMayWrite) {
  LocalCluster c(test_name());
  c.start("a");
  ASSERT_TRUE(wait_until([&] { return c.ask("a", {{"cmd", "ping"}}, 200ms).has_value(); }));
  EXPECT_EQ(run(c.cli("a") + std::vector<std::string>{"info"}).code, 0);
  ASSERT_EQ(::chmod(c.control_dir().c_str(), 0777), 0);
  const std::string refusal = std::string("refusing control directory ").append(c.control_dir()).append(": it is");
  auto cli = run(c.cli("a") + std::vector<std::string>{"info"});
  EXPECT_EQ(cli.code, 4) << cli.output;
  EXPECT_NE(cli.output.find(refusal), std::string::npos) << cli.output;
  auto& b = c.start("b");
  EXPECT_EQ(b.wait_exit(10s), 1) << b.log();
  EXPECT_NE(b.log().find(refusal), std::string::npos) << b.log();
}

TEST(Tools, DaemonRejectsABadConfigKeyByName) {
  char path[] = "/tmp/zswarm-badcfg-XXXXXX";
  ::close(mkstemp(path));
  std::ofstream(path) << "name = \"a\"\nheartbeat_ms = 5\n";
  auto r = run({bin_dir() + "/zswarmd", "--config", path});
  std::remove(path);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("unknown config key 'heartbeat_ms'"), std::string::npos) << r.output;
}

TEST(Tools, DaemonRejectsABadFlagValueByName) {
  auto r = run({bin_dir() + "/zswarmd", "--name", "a", "--probe-timeout-ms", "soon"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("probe_timeout_ms"), std::string::npos) << r.output;
  auto no_name = run({bin_dir() + "/zswarmd"});
  EXPECT_EQ(no_name.code, 2);
  EXPECT_NE(no_name.output.find("name is required"), std::string::npos) << no_name.output;
}

TEST(Tools, DaemonReadsItsConfigFile) {
  LocalCluster c(test_name());
  std::string path = c.control_dir() + "/node.toml";
  std::ofstream(path) << "name = \"a\"\ncluster = \"" << c.name() << "\"\nbeacon_port = " << c.beacon_port()
                      << "\ncontrol_dir = \"" << c.control_dir() << "\"\nheartbeat_interval_ms = 100\n";
  Process p({bin_dir() + "/zswarmd", "--config", path}, c.control_dir() + "/a.log");
  EXPECT_TRUE(wait_until([&] { return c.ask("a", {{"cmd", "ping"}}, 200ms).has_value(); }));
}

TEST(Tools, MonitorSeesTheBus) {
  LocalCluster c(test_name());
  c.start("a");
  c.start("b");
  ASSERT_TRUE(c.wait_all_alive({"a", "b"}));
  // Registrations all through the monitor's life: it subscribes to a node
  // when it hears the node's beacon, so the early ones may come before that.
  std::thread registrar([&] {
    for (int i = 0; i < 7; ++i) {
      wait_until([] { return false; }, 200ms);  // pacing, not a wait for an event
      c.ask("a", {{"cmd", "register"}, {"name", "watched" + std::to_string(i)}, {"plugin", "echo"}});
    }
  });
  auto r = run({bin_dir() + "/zswarm-monitor", "--cluster", c.name(), "--beacon-port",
                std::to_string(c.beacon_port()), "--duration", "2.5"});
  registrar.join();
  EXPECT_NE(r.output.find("registry_delta"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("watched6 -> "), std::string::npos) << r.output;
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("beacon  a@"), std::string::npos) << r.output;
  // Idle, a node publishes digests (every 2 s), and heartbeats only when
  // nothing else went out for heartbeat_interval_ms (3 s).
  EXPECT_NE(r.output.find("digest         from b@"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("2 nodes seen"), std::string::npos) << r.output;
}

TEST(Tools, MonitorSaysASecuredClusterIsClosedToIt) {
  LocalCluster c(test_name());
  const std::string secret = c.control_dir() + "/secret";
  ASSERT_EQ(run({bin_dir() + "/zswarm", "keygen", secret}).code, 0);
  c.start("a", {"--secret-file", secret});
  ASSERT_TRUE(wait_until([&] { return c.ask("a", {{"cmd", "ping"}}, 200ms).has_value(); }));
  ASSERT_TRUE(c.ask("a", {{"cmd", "register"}, {"name", "hidden"}, {"plugin", "echo"}}, 10s));
  auto r = run({bin_dir() + "/zswarm-monitor", "--cluster", c.name(), "--beacon-port",
                std::to_string(c.beacon_port()), "--duration", "1.5"});
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("is sealed: this cluster has a secret"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("heartbeat"), std::string::npos) << "read a CURVE bus: " << r.output;
  EXPECT_EQ(r.output.find("hidden"), std::string::npos) << r.output;
}

TEST(Tools, MistypedControlRequestsAreAnsweredNotFatal) {
  LocalCluster c(test_name());
  c.start("a");
  ASSERT_TRUE(wait_until([&] { return c.ask("a", {{"cmd", "ping"}}, 200ms).has_value(); }));
  for (const Json& bad : {Json{{"cmd", "whereis"}, {"name", 5}}, Json{{"cmd", "register"}, {"name", Json::array()}},
                          Json{{"cmd", 7}}, Json{{"cmd", "call"}, {"name", "x"}, {"timeout_ms", "soon"}},
                          Json{{"cmd", "send"}, {"ref", 5}, {"message", "x"}}}) {
    auto r = c.ask("a", bad);
    ASSERT_TRUE(r) << bad.dump();
    EXPECT_EQ((*r)["error"], "bad_request") << bad.dump() << " -> " << r->dump();
  }
  EXPECT_TRUE(c.process("a").running());
}

TEST(Tools, GarbageOnTheWireIsCountedNeverFatal) {
  LocalCluster c(test_name());
  c.start("a");
  c.start("b");
  ASSERT_TRUE(c.wait_all_alive({"a", "b"}));
  auto info = c.ask("a", {{"cmd", "info"}}).value();

  // Garbage beacons, broadcast on loopback so that every node on the port gets them.
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(c.beacon_port());
  inet_pton(AF_INET, "127.255.255.255", &to.sin_addr);
  for (const std::string& junk : {std::string("ZSW\x09garbage"), std::string("hello"), std::string(250, 'Z')})
    ::sendto(fd, junk.data(), junk.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  ::close(fd);

  // Garbage frames straight into a's ROUTER, posing as b.
  zmq::context_t ctx;
  zmq::socket_t d(ctx, zmq::socket_type::dealer);
  d.set(zmq::sockopt::linger, 0);
  d.connect("tcp://127.0.0.1:" + std::to_string(info["router_port"].get<int>()));
  for (int i = 0; i < 5; ++i) d.send(zmq::str_buffer("\x97\x01\x01junk"), zmq::send_flags::none);

  EXPECT_TRUE(wait_until([&] {
    auto now = c.ask("a", {{"cmd", "info"}});
    return now && (*now)["stats"]["beacons_garbage"].get<uint64_t>() >= 2 &&
           (*now)["stats"]["beacons_bad_version"].get<uint64_t>() >= 1 &&
           (*now)["stats"]["frames_rejected"].get<uint64_t>() >= 5;
  }));
  EXPECT_EQ(c.state("a", "b"), "alive");
  EXPECT_TRUE(c.process("a").running());
}

}  // namespace
}  // namespace zswarm::testing
