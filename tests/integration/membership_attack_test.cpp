// Membership that no input can corrupt (issue 11), against real zswarmd
// processes: a forged beacon under a live node's name, a replay of a killed
// node's beacon, and a flood of beacons (fresh ids, a live name, garbage)
// from one sender as fast as it can go.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "discovery/beacon.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"

namespace zswarm::testing {
namespace {

using namespace std::chrono_literals;

uint64_t now_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

// Datagrams to every node of the cluster (the loopback broadcast they listen on).
class BeaconGun {
 public:
  explicit BeaconGun(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    int on = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
    to_.sin_family = AF_INET;
    to_.sin_port = htons(port);
    to_.sin_addr.s_addr = htonl(0x7fffffff);  // 127.255.255.255
  }
  ~BeaconGun() { ::close(fd_); }
  void fire(const std::string& d) {
    (void)::sendto(fd_, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&to_), sizeof to_);
  }

 private:
  int fd_ = -1;
  sockaddr_in to_{};
};

struct MembershipAttack : ::testing::Test {
  std::unique_ptr<LocalCluster> c;
  Json info_b, info_c;

  void SetUp() override {
    c = std::make_unique<LocalCluster>(test_name());
    for (auto n : {"a", "b", "c"}) c->start(n);
    ASSERT_TRUE(c->wait_all_alive({"a", "b", "c"}));
    auto b = c->ask("b", cmd("info"));
    auto cc = c->ask("c", cmd("info"));
    ASSERT_TRUE(b && cc);
    info_b = *b;
    info_c = *cc;
  }

  uint64_t stat(const std::string& node, const std::string& key) {
    auto info = c->ask(node, cmd("info"), 2s);
    return info && info->contains("stats") ? (*info)["stats"].value(key, uint64_t{0}) : 0;
  }
  discovery::Beacon beacon_of(const Json& info) {
    discovery::Beacon b;
    b.id = *bus::NodeId::from_string(info["id"].get<std::string>());
    b.incarnation = info["incarnation"].get<uint64_t>();
    b.pub_port = info["pub_port"].get<uint16_t>();
    b.router_port = info["router_port"].get<uint16_t>();
    b.cluster = c->name();
    b.name = info["name"].get<std::string>();
    return b;
  }
  // No line of a node's log says a member was suspected or declared down.
  void expect_no_suspicion() {
    for (auto n : {"a", "b", "c"}) {
      auto log = c->process(n).log();
      EXPECT_TRUE(c->process(n).running()) << n << ":\n" << log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
      EXPECT_EQ(log.find("[membership] suspect"), std::string::npos) << n << ":\n" << log.substr(0, 4000);
      EXPECT_EQ(log.find("nodedown"), std::string::npos) << n;
    }
  }
};

TEST_F(MembershipAttack, AForgedBeaconUnderALiveNodesNameEvictsNoOne) {
  auto reg = c->ask("b", cmd("register", {{"name", "Victim"}, {"plugin", "echo"}}), 10s);
  ASSERT_TRUE(reg && (*reg).value("ok", false)) << (reg ? reg->dump() : "no answer");
  std::string ref;
  ASSERT_TRUE(wait_until([&] {
    auto w = c->ask("a", cmd("whereis", {{"name", "Victim"}}), 1s);
    ref = w ? w->value("ref", "") : "";
    return !ref.empty();
  }));
  BeaconGun gun(c->beacon_port());
  auto fake = beacon_of(info_b);
  fake.id = bus::NodeId::random();
  fake.incarnation = now_ms() + 24 * 3600 * 1000ull;  // a day ahead: outranks every honest restart
  auto within_skew = fake;
  within_skew.id = bus::NodeId::random();
  within_skew.incarnation = now_ms() + 60'000;
  for (int i = 0; i < 5; ++i) {
    gun.fire(discovery::encode(fake));
    gun.fire(discovery::encode(within_skew));
  }
  for (auto n : {"a", "c"}) {
    EXPECT_TRUE(wait_until([&] { return stat(n, "beacons_future_incarnation") >= 5 && stat(n, "beacons_name_in_use") >= 5; }, 5s)) << n;
  }
  // Long enough for a fake member to have been confirmed, or dropped.
  ASSERT_TRUE(wait_until([&] { return stat("a", "members_unconfirmed_dropped") > 0 || stat("a", "members_unconfirmed") == 0; }, 3s));
  for (auto n : {"a", "c"}) {
    EXPECT_EQ(c->state(n, "b"), "alive") << n;
    auto members = c->ask(n, cmd("members"));
    ASSERT_TRUE(members);
    int bs = 0;
    for (const auto& m : (*members)["members"])
      if (m["name"] == info_b["name"]) {
        ++bs;
        EXPECT_EQ(m["id"], info_b["id"]);
      }
    EXPECT_EQ(bs, 1) << n;
    auto w = c->ask(n, cmd("whereis", {{"name", "Victim"}}));
    ASSERT_TRUE(w);
    EXPECT_EQ(w->value("ref", ""), ref) << n;
  }
  expect_no_suspicion();
}

TEST_F(MembershipAttack, AReplayedBeaconOfAKilledNodeKeepsItDown) {
  auto replay = discovery::encode(beacon_of(info_c));
  c->process("c").signal(SIGKILL);
  ASSERT_TRUE(c->process("c").wait_exit(5s));
  ASSERT_TRUE(c->wait_state("a", "c", "down", 5s));
  ASSERT_TRUE(c->wait_state("b", "c", "down", 5s));
  BeaconGun gun(c->beacon_port());
  int sent = 0;
  // 4 s of replays, every 20 ms; c must stay down on every node throughout.
  bool revived = wait_until(
      [&] {
        gun.fire(replay);
        ++sent;
        return c->state("a", "c") != "down" || c->state("b", "c") != "down";
      },
      4s, 20ms);
  EXPECT_FALSE(revived) << "after " << sent << " replays: a sees " << c->state("a", "c") << ", b " << c->state("b", "c");
  EXPECT_GT(sent, 20);
  for (auto n : {"a", "b"}) EXPECT_EQ(c->process(n).log().find("nodeup c@", c->process(n).log().find("nodedown c@")), std::string::npos) << n;
}

TEST_F(MembershipAttack, ABeaconFloodChangesNothingAndTheNodesKeepAnswering) {
  auto live = beacon_of(info_b);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> sent{0};
  // Fresh ids, b's name under new ids, and garbage, in turn; built ahead so
  // that the sender only sends.
  std::vector<std::string> pool;
  for (int i = 0; i < 30'000; ++i) {
    auto b = live;
    b.id = bus::NodeId::random();
    b.incarnation = now_ms();
    if (i % 3 == 0) {  // a newcomer at a closed port of its own: it gets connected, never answers
      b.name = std::string("x").append(std::to_string(i)).append("@flood");
      b.pub_port = static_cast<uint16_t>(30000 + i);
      b.router_port = static_cast<uint16_t>(b.pub_port + 1);
    }
    pool.push_back(i % 3 == 2 ? std::string("ZSW not a beacon at all ").append(std::to_string(i)) : discovery::encode(b));
  }
  auto started = std::chrono::steady_clock::now();
  std::thread sender([&] {
    BeaconGun gun(c->beacon_port());
    auto end = std::chrono::steady_clock::now() + 3s;
    for (std::size_t i = 0; !stop && std::chrono::steady_clock::now() < end; ++i) {
      gun.fire(pool[i % pool.size()]);
      sent.fetch_add(1, std::memory_order_relaxed);
    }
  });
  // The control sockets answer throughout.
  std::chrono::milliseconds slowest{0};
  int asked = 0;
  while (std::chrono::steady_clock::now() - started < 3s) {
    for (auto n : {"a", "b", "c"}) {
      auto t0 = std::chrono::steady_clock::now();
      auto r = c->ask(n, cmd("members"), 2s);
      auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
      EXPECT_TRUE(r.has_value()) << n << " did not answer during the flood";
      slowest = std::max(slowest, took);
      ++asked;
    }
  }
  stop = true;
  sender.join();
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  double rate = static_cast<double>(sent.load()) / secs;
  std::cout << "flood: " << sent.load() << " datagrams in " << secs << " s (" << static_cast<uint64_t>(rate)
            << "/s); " << asked << " control requests, slowest " << slowest.count() << " ms\n";
  EXPECT_LT(slowest, 1000ms);
  for (auto n : {"a", "b", "c"}) {
    EXPECT_GT(stat(n, "beacons_rate_limited"), 0u) << n;
    EXPECT_LE(stat(n, "members_unconfirmed"), 64u) << n;
    EXPECT_GT(stat(n, "members_unconfirmed_dropped"), 0u) << n;
    EXPECT_GT(stat(n, "beacons_name_conflict") + stat(n, "beacons_name_in_use"), 0u) << n;
  }
  for (auto by : {"a", "b", "c"})
    for (auto of : {"a", "b", "c"})
      if (std::string(by) != of) {
        EXPECT_EQ(c->state(by, of), "alive") << by << " sees " << of;
      }
  // What the flood left unconfirmed goes at its deadline (join_timeout).
  for (auto n : {"a", "b", "c"}) EXPECT_TRUE(wait_until([&] { return stat(n, "members_unconfirmed") == 0; }, 5s)) << n;
  for (auto n : {"a", "b", "c"}) {
    auto members = c->ask(n, cmd("members"));
    ASSERT_TRUE(members);
    EXPECT_EQ((*members)["members"].size(), 3u) << n << ": " << members->dump();
  }
  expect_no_suspicion();
}

}  // namespace
}  // namespace zswarm::testing
