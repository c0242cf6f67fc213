// The cluster secret against an outsider, over real sockets and real
// zswarmd processes: everything docs/security.md promises a member that
// holds the secret, and every attack of an outsider without it (issue 11's
// table), each shown to fail with the victim still a member, its names
// untouched, and the counters showing the rejections.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include "bus/envelope.hpp"
#include "discovery/beacon.hpp"
#include "names/tracker_wire.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"

namespace zswarm::testing {
namespace {

using namespace std::chrono_literals;

std::string keygen(const LocalCluster& c, const std::string& file) {
  std::string path = c.control_dir() + "/" + file;
  auto r = run({bin_dir() + "/zswarm", "keygen", path});
  EXPECT_EQ(r.code, 0) << r.output;
  return path;
}

uint64_t stat_of(LocalCluster& c, const std::string& node, const std::string& key) {
  auto info = c.ask(node, {{"cmd", "info"}});
  if (!info) return 0;
  return (*info)["stats"].value(key, uint64_t{0});
}

// Every member `by` sees, by short name (without @host) to state.
std::map<std::string, std::string> view(LocalCluster& c, const std::string& by) {
  std::map<std::string, std::string> out;
  auto m = c.ask(by, {{"cmd", "members"}});
  if (!m) return out;
  for (const auto& e : (*m)["members"]) {
    std::string name = e["name"];
    out[name.substr(0, name.find('@'))] = e["state"];
  }
  return out;
}

// A UDP socket on the loopback scope: it hears every beacon there (the
// port is shared), and sends whatever an outsider would.
class Air {
 public:
  explicit Air(uint16_t port) : port_(port) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    int on = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
    ::setsockopt(fd_, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
    timeval tv{0, 100'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port_);
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Air() { ::close(fd_); }
  bool bound() const { return bound_; }
  void send(const std::string& d) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port_);
    to.sin_addr.s_addr = htonl(0x7fffffff);  // 127.255.255.255
    ::sendto(fd_, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }
  // The next beacon heard whose node name starts with `prefix`.
  std::optional<std::string> capture(const std::string& prefix, std::chrono::milliseconds deadline) {
    auto end = std::chrono::steady_clock::now() + deadline;
    char buf[2048];
    while (std::chrono::steady_clock::now() < end) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      std::string d(buf, static_cast<std::size_t>(n));
      auto b = discovery::parse(d);
      if (b && b->name.rfind(prefix, 0) == 0) return d;
    }
    return std::nullopt;
  }

 private:
  uint16_t port_;
  int fd_ = -1;
  bool bound_ = false;
};

class Security : public ::testing::Test {
 protected:
  void SetUp() override {
    secret_ = keygen(c_, "secret");
    ASSERT_FALSE(::testing::Test::HasFailure());
  }
  Process& start(const std::string& node, std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--secret-file", secret_});
    return c_.start(node, extra);
  }
  LocalCluster c_{test_name()};
  std::string secret_;
};

TEST_F(Security, MembersMeetAndWorkOverCurve) {
  start("a");
  start("b");
  start("c");
  ASSERT_TRUE(c_.wait_all_alive({"a", "b", "c"}));
  EXPECT_TRUE(c_.ask("a", {{"cmd", "info"}})->value("secure", false));
  // Registrations go to ring owners and replies come back: DEALER -> ROUTER
  // both ways, and deltas over every PUB -> SUB link.
  for (int i = 0; i < 6; ++i) {
    auto r = c_.ask("a", {{"cmd", "register"}, {"name", std::string("n").append(std::to_string(i))}, {"plugin", "echo"}}, 15s);
    ASSERT_TRUE(r);
    ASSERT_TRUE((*r).value("ok", false)) << r->dump();
  }
  for (const char* n : {"b", "c"})
    ASSERT_TRUE(wait_until([&] {
      auto w = c_.ask(n, {{"cmd", "registered"}});
      return w && (*w)["names"].size() == 6;
    })) << n;
  auto reply = c_.ask("b", {{"cmd", "call"}, {"name", "n3"}, {"message", "ping"}, {"timeout_ms", 3000}}, 5s);
  ASSERT_TRUE(reply);
  EXPECT_EQ((*reply).value("reply", ""), "ping") << reply->dump();
  // keys_refused may be above 0: nodes started at once may dial a peer
  // before it heard their beacon; the transport dials again.
  for (const char* n : {"a", "b", "c"}) EXPECT_EQ(stat_of(c_, n, "beacons_bad_mac"), 0u) << n;
}

TEST_F(Security, TheDetectorsMessagesTravelAsSealedDatagrams) {
  start("a");
  start("b");
  start("c");
  ASSERT_TRUE(c_.wait_all_alive({"a", "b", "c"}));
  // A first probe may reach a node before it took the prober's beacon:
  // refused then, as its CURVE link is. Once all are up, none is.
  std::map<std::string, uint64_t> refused;
  for (const char* n : {"a", "b", "c"}) refused[n] = stat_of(c_, n, "datagrams_refused");
  // Each node probes one member every 100 ms and answers the others' probes.
  for (const char* n : {"a", "b", "c"}) {
    EXPECT_NE(c_.ask(n, {{"cmd", "info"}})->value("probe_port", 0), 0) << n;
    const uint64_t received = stat_of(c_, n, "datagrams_received");
    EXPECT_TRUE(wait_until([&] { return stat_of(c_, n, "datagrams_received") >= received + 20; }, 10s)) << n;
    EXPECT_GE(stat_of(c_, n, "datagrams_sent"), 10u) << n;
    EXPECT_EQ(stat_of(c_, n, "datagrams_refused"), refused[n]) << n;
    EXPECT_EQ(stat_of(c_, n, "datagrams_by_tcp"), 0u) << n;
    EXPECT_EQ(stat_of(c_, n, "suspicions_raised"), 0u) << n;
  }
  // A kill is still found: the refused connect, and the probes by datagram.
  c_.process("c").signal(SIGKILL);
  EXPECT_TRUE(wait_until([&] { return c_.state("a", "c") == "down" && c_.state("b", "c") == "down"; }, 5s));
}

TEST_F(Security, AWrongSecretOrNoSecretStaysOut) {
  start("a");
  start("b");
  ASSERT_TRUE(c_.wait_all_alive({"a", "b"}));
  std::string other = keygen(c_, "other");
  c_.start("x", {"--secret-file", other});
  c_.start("y");  // no secret: loopback needs none, but it is no member here
  ASSERT_TRUE(wait_until([&] {
    return stat_of(c_, "a", "beacons_wrong_secret") >= 2 && stat_of(c_, "a", "beacons_unsealed") >= 2 &&
           stat_of(c_, "y", "beacons_sealed_ignored") >= 2 && stat_of(c_, "x", "beacons_wrong_secret") >= 2;
  }, 10s));
  EXPECT_EQ(view(c_, "a"), (std::map<std::string, std::string>{{"a", "alive"}, {"b", "alive"}}));
  EXPECT_EQ(view(c_, "x"), (std::map<std::string, std::string>{{"x", "alive"}}));
  EXPECT_EQ(view(c_, "y"), (std::map<std::string, std::string>{{"y", "alive"}}));
  EXPECT_FALSE(c_.ask("y", {{"cmd", "info"}})->value("secure", true));
  // Logged, as well as counted (one line a second at most, whichever came first).
  EXPECT_NE(c_.process("a").log().find("[bus] dropped beacon: "), std::string::npos);
}

TEST_F(Security, ForgedBeaconsNeitherEvictNorSayGoodbye) {
  start("a");
  start("b");
  ASSERT_TRUE(c_.wait_all_alive({"a", "b"}));
  auto reg = c_.ask("b", {{"cmd", "start-local"}, {"name", "w"}, {"plugin", "echo"}});
  ASSERT_TRUE(c_.ask("a", {{"cmd", "register"}, {"name", "kept"}, {"plugin", "echo"}}, 15s));
  auto where = c_.ask("a", {{"cmd", "whereis"}, {"name", "kept"}});
  ASSERT_TRUE(where && where->value("ok", false));
  auto b_info = c_.ask("b", {{"cmd", "info"}});
  ASSERT_TRUE(b_info);
  Air air(c_.beacon_port());
  ASSERT_TRUE(air.bound());
  // b's name with a new id and a huge incarnation, unsealed and with a made-up MAC.
  discovery::Beacon fake;
  fake.id = bus::NodeId::random();
  fake.incarnation = ~uint64_t{0} >> 1;
  fake.pub_port = 1;
  fake.router_port = 2;
  fake.cluster = c_.name();
  fake.name = (*b_info)["name"];
  air.send(discovery::encode(fake));
  fake.counter = 1;
  fake.curve_key = std::string(32, 'k');
  fake.mac = std::string(40, 'm');
  air.send(discovery::encode(fake));
  // b's own id, saying goodbye.
  discovery::Beacon bye = fake;
  bye.id = *bus::NodeId::from_string((*b_info)["id"].get<std::string>());
  bye.incarnation = (*b_info)["incarnation"];
  bye.leaving = true;
  bye.mac.clear();
  bye.counter = 0;
  bye.curve_key.clear();
  air.send(discovery::encode(bye));
  ASSERT_TRUE(wait_until([&] {
    return stat_of(c_, "a", "beacons_unsealed") >= 2 && stat_of(c_, "a", "beacons_wrong_secret") >= 1;
  }));
  // Some heartbeats and a beacon round later (a hears b 5 times a second):
  uint64_t frames = stat_of(c_, "a", "frames_received");
  ASSERT_TRUE(wait_until([&] { return stat_of(c_, "a", "frames_received") >= frames + 10; }));
  // Two heartbeat rounds later b is still b, alive, with its name.
  auto after = c_.ask("a", {{"cmd", "members"}});
  ASSERT_TRUE(after);
  for (const auto& m : (*after)["members"])
    if (m["name"] == (*b_info)["name"]) {
      EXPECT_EQ(m["state"], "alive");
      EXPECT_EQ(m["id"], (*b_info)["id"]);
    }
  EXPECT_EQ(view(c_, "a"), (std::map<std::string, std::string>{{"a", "alive"}, {"b", "alive"}}));
  auto still = c_.ask("b", {{"cmd", "whereis"}, {"name", "kept"}});
  ASSERT_TRUE(still);
  EXPECT_EQ(still->value("ref", ""), where->value("ref", ""));
  EXPECT_EQ(c_.process("a").log().find("left b@"), std::string::npos);
}

TEST_F(Security, AReplayedBeaconDoesNotRaiseTheDead) {
  start("a");
  start("b");
  ASSERT_TRUE(c_.wait_all_alive({"a", "b"}));
  Air air(c_.beacon_port());
  ASSERT_TRUE(air.bound());
  auto captured = air.capture("b@", 5s);
  ASSERT_TRUE(captured) << "no beacon of b heard";
  c_.process("b").signal(SIGKILL);
  ASSERT_TRUE(c_.wait_state("a", "b", "down", 5s));
  uint64_t replayed_before = stat_of(c_, "a", "beacons_replayed");
  // The replay keeps going for longer than it took a to declare b down.
  auto end = std::chrono::steady_clock::now() + 2s;
  bool stayed_down = true;
  while (std::chrono::steady_clock::now() < end) {
    air.send(*captured);
    stayed_down &= c_.state("a", "b") == "down";
  }
  EXPECT_TRUE(stayed_down);
  EXPECT_GT(stat_of(c_, "a", "beacons_replayed"), replayed_before);
  EXPECT_EQ(c_.state("a", "b"), "down");
}

TEST_F(Security, NoConnectionSpeaksForAMemberOrReadsTheBus) {
  start("a");
  start("b");
  ASSERT_TRUE(c_.wait_all_alive({"a", "b"}));
  auto a_info = c_.ask("a", {{"cmd", "info"}});
  auto b_info = c_.ask("b", {{"cmd", "info"}});
  ASSERT_TRUE(a_info && b_info);
  const std::string host = "tcp://127.0.0.1:";
  zmq::context_t ctx;
  uint64_t refused_before = stat_of(c_, "a", "keys_refused");
  uint64_t failed_before = stat_of(c_, "a", "handshakes_failed");
  // 1. A plain DEALER with b's routing id, as the old attack did.
  zmq::socket_t thief(ctx, zmq::socket_type::dealer);
  thief.set(zmq::sockopt::linger, 0);
  thief.set(zmq::sockopt::routing_id, zmq::buffer(bus::NodeId::from_string((*b_info)["id"].get<std::string>())->bytes()));
  thief.connect(host + std::to_string((*a_info)["router_port"].get<int>()));
  (void)thief.send(zmq::str_buffer("hello"), zmq::send_flags::dontwait);
  // 2. A CURVE client with a key of its own, towards a's ROUTER and a's PUB.
  char pub[41], sec[41], srv[41];
  ASSERT_EQ(zmq_curve_keypair(pub, sec), 0);
  ASSERT_EQ(zmq_curve_keypair(srv, sec), 0);  // a made-up server key: the stranger does not know a's
  zmq::socket_t stranger(ctx, zmq::socket_type::sub);
  stranger.set(zmq::sockopt::linger, 0);
  stranger.set(zmq::sockopt::subscribe, "");
  stranger.set(zmq::sockopt::curve_publickey, std::string(pub));
  stranger.set(zmq::sockopt::curve_secretkey, std::string(sec));
  stranger.set(zmq::sockopt::curve_serverkey, std::string(srv));
  stranger.connect(host + std::to_string((*a_info)["pub_port"].get<int>()));
  // Both handshakes fail at a: NULL against CURVE, and a HELLO sealed to the wrong key.
  ASSERT_TRUE(wait_until([&] { return stat_of(c_, "a", "handshakes_failed") >= failed_before + 2; }));
  // Nothing of the bus reaches either of them, while a heartbeats 5 times a second.
  zmq::message_t m;
  stranger.set(zmq::sockopt::rcvtimeo, 1000);
  EXPECT_FALSE(stranger.recv(m));
  EXPECT_EQ(stat_of(c_, "a", "keys_refused"), refused_before) << "refused before ZAP: the server key was wrong";
  // b still reaches a directly: b registers names a owns, and calls them.
  for (int i = 0; i < 8; ++i) {
    auto r = c_.ask("b", {{"cmd", "register"}, {"name", std::string("r").append(std::to_string(i))}, {"plugin", "echo"}}, 15s);
    ASSERT_TRUE(r && r->value("ok", false)) << (r ? r->dump() : "no answer");
  }
  ASSERT_TRUE(wait_until([&] {
    auto w = c_.ask("b", {{"cmd", "whereis"}, {"name", "r5"}});
    return w && w->value("ok", false);
  }));
  auto reply = c_.ask("b", {{"cmd", "call"}, {"name", "r5"}, {"message", "x"}, {"timeout_ms", 3000}}, 5s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->value("reply", ""), "x");
  EXPECT_EQ(view(c_, "a"), (std::map<std::string, std::string>{{"a", "alive"}, {"b", "alive"}}));
}

TEST_F(Security, AKeyNoMemberAnnouncedIsRefusedByZap) {
  start("a");
  start("b");
  ASSERT_TRUE(c_.wait_all_alive({"a", "b"}));
  auto b_info = c_.ask("b", {{"cmd", "info"}});
  ASSERT_TRUE(b_info);
  Air air(c_.beacon_port());
  ASSERT_TRUE(air.bound());
  auto heard = air.capture("a@", 5s);
  ASSERT_TRUE(heard);
  auto beacon = discovery::parse(*heard);
  ASSERT_TRUE(beacon);
  // The outsider knows a's real server key (it is in every beacon), but its
  // own key was never announced by a sealed beacon.
  zmq::context_t ctx;
  char pub[41], sec[41];
  ASSERT_EQ(zmq_curve_keypair(pub, sec), 0);
  uint64_t before = stat_of(c_, "a", "keys_refused");
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer), sub(ctx, zmq::socket_type::sub);
  for (zmq::socket_t* s : {&dealer, &sub}) {
    s->set(zmq::sockopt::linger, 0);
    s->set(zmq::sockopt::curve_publickey, std::string(pub));
    s->set(zmq::sockopt::curve_secretkey, std::string(sec));
    s->set(zmq::sockopt::curve_serverkey, zmq::buffer(beacon->curve_key));
  }
  sub.set(zmq::sockopt::subscribe, "");
  dealer.connect("tcp://127.0.0.1:" + std::to_string(beacon->router_port));
  sub.connect("tcp://127.0.0.1:" + std::to_string(beacon->pub_port));
  // A well-formed register_request in member b's name: were it taken, a would register it.
  bus::FrameBuilder frame(bus::kSpoken.max, *bus::NodeId::from_string((*b_info)["id"].get<std::string>()),
                          (*b_info)["incarnation"].get<uint64_t>());
  frame.add(bus::MessageType::register_request, 0, 7, names::wire::encode(names::wire::RegisterRequest{"stolen", "echo", ""}));
  (void)dealer.send(zmq::buffer(frame.take()), zmq::send_flags::dontwait);
  ASSERT_TRUE(wait_until([&] { return stat_of(c_, "a", "keys_refused") >= before + 2; }));
  zmq::message_t m;
  sub.set(zmq::sockopt::rcvtimeo, 1000);
  EXPECT_FALSE(sub.recv(m)) << "an outsider read a's PUB";
  EXPECT_NE(c_.process("a").log().find("key not announced by a member"), std::string::npos);
  auto stolen = c_.ask("a", {{"cmd", "whereis"}, {"name", "stolen"}});
  ASSERT_TRUE(stolen);
  EXPECT_FALSE(stolen->value("ok", true)) << stolen->dump();
  auto registered = c_.ask("a", {{"cmd", "registered"}});
  ASSERT_TRUE(registered);
  EXPECT_TRUE((*registered)["names"].empty()) << registered->dump();
}

// Rotation as docs/security.md §5 says, by SIGHUP, on a live cluster: no
// member is ever suspected, and at the end only the new secret gets in.
TEST_F(Security, RotationToANewSecretKeepsEveryMember) {
  namespace fs = std::filesystem;
  const std::string dir = c_.control_dir();
  const std::string current = dir + "/current.key", previous = dir + "/previous.key";
  const std::string fresh = keygen(c_, "fresh");
  fs::copy_file(secret_, current);
  for (const char* n : {"a", "b", "c"})
    c_.start(n, {"--secret-file", current, "--previous-secret-file", previous});
  ASSERT_TRUE(c_.wait_all_alive({"a", "b", "c"}));
  auto hup_all = [&](int phase) {
    std::map<std::string, std::size_t> before;
    for (const char* n : {"a", "b", "c"}) before[n] = c_.process(n).log().size();
    for (const char* n : {"a", "b", "c"}) c_.process(n).signal(SIGHUP);
    // Each re-read its files, then heard sealed beacons from both peers.
    for (const char* n : {"a", "b", "c"}) {
      ASSERT_TRUE(wait_until([&] { return c_.process(n).log().find("secrets re-read", before[n]) != std::string::npos; }))
          << "phase " << phase << " " << n;
      uint64_t heard = stat_of(c_, n, "beacons_received");
      ASSERT_TRUE(wait_until([&] { return stat_of(c_, n, "beacons_received") >= heard + 4; }, 10s));
      EXPECT_EQ(stat_of(c_, n, "beacons_wrong_secret"), 0u) << "phase " << phase << " " << n;
    }
    for (const char* n : {"a", "b", "c"})
      EXPECT_EQ(view(c_, n), (std::map<std::string, std::string>{{"a", "alive"}, {"b", "alive"}, {"c", "alive"}}))
          << "phase " << phase;
  };
  // 1. Every node accepts the new secret too.
  fs::copy_file(fresh, previous);
  hup_all(1);
  // 2. Every node seals with the new one, still accepting the old.
  fs::copy_file(fresh, dir + "/next.key");
  fs::rename(dir + "/next.key", current);
  fs::remove(previous);
  fs::copy_file(secret_, previous);
  hup_all(2);
  // 3. The old one is dropped.
  fs::remove(previous);
  hup_all(3);
  for (const char* n : {"a", "b", "c"}) {
    auto log = c_.process(n).log();
    EXPECT_EQ(log.find("suspect "), std::string::npos) << n << "\n" << log;
    EXPECT_EQ(log.find("nodedown "), std::string::npos) << n;
  }
  // A node with only the old secret is out; one with the new one is in.
  c_.start("old", {"--secret-file", secret_});
  c_.start("new", {"--secret-file", fresh});
  ASSERT_TRUE(c_.wait_all_alive({"a", "b", "c", "new"}));
  ASSERT_TRUE(wait_until([&] { return stat_of(c_, "a", "beacons_wrong_secret") >= 1; }));
  EXPECT_EQ(view(c_, "old"), (std::map<std::string, std::string>{{"old", "alive"}}));
  EXPECT_EQ(view(c_, "a").count("old"), 0u);
}

TEST_F(Security, ABrokenSecretFileOnReloadKeepsTheOldSecret) {
  const std::string current = c_.control_dir() + "/current.key";
  std::filesystem::copy_file(secret_, current);
  c_.start("a", {"--secret-file", current});
  c_.start("b", {"--secret-file", secret_});
  ASSERT_TRUE(c_.wait_all_alive({"a", "b"}));
  std::filesystem::permissions(current, std::filesystem::perms::group_read, std::filesystem::perm_options::add);
  c_.process("a").signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return c_.process("a").log().find("kept the old secrets") != std::string::npos; }));
  EXPECT_NE(c_.process("a").log().find("chmod 600"), std::string::npos);
  uint64_t heard = stat_of(c_, "b", "beacons_received");
  ASSERT_TRUE(wait_until([&] { return stat_of(c_, "b", "beacons_received") >= heard + 2; }));
  EXPECT_EQ(stat_of(c_, "b", "beacons_wrong_secret"), 0u);
  EXPECT_EQ(c_.state("b", "a"), "alive");
}

}  // namespace
}  // namespace zswarm::testing
