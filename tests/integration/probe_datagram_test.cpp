// A member written from docs/protocol.md §1.2 and §2.1 and docs/security.md
// §2-§4.1 alone, with libsodium and libzmq and none of zswarm's own crypto:
// it holds the secret, sends sealed beacons built byte by byte, serves its
// PUB and ROUTER over CURVE, and answers the nodes' probes as sealed
// datagrams. The nodes keep it alive on those answers; a replayed, altered
// or stranger's datagram is refused and counted.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include "bus/envelope.hpp"
#include "discovery/beacon.hpp"
#include "support/loopback.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"

namespace zswarm::testing {
namespace {

using namespace std::chrono_literals;
using bus::MessageType;

const unsigned char* u(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* u(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }
std::string be(uint64_t v, int n) {
  std::string out;
  for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}
std::string hmac(std::string_view key, std::string_view msg) {
  std::string out(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, u(key), key.size());
  crypto_auth_hmacsha256_update(&st, u(msg), msg.size());
  crypto_auth_hmacsha256_final(&st, u(out));
  return out;
}

class DocMember {
 public:
  DocMember(const std::string& cluster, uint16_t beacon_port, const std::string& secret_file)
      : cluster_(cluster), beacon_port_(beacon_port) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium");
    // security.md §2: 64 hex digits; §3.1: the key id and the MAC key.
    std::ifstream in(secret_file);
    std::string hex;
    in >> hex;
    std::string secret(32, '\0');
    if (sodium_hex2bin(u(secret), 32, hex.data(), hex.size(), nullptr, nullptr, nullptr) != 0)
      throw std::runtime_error("secret");
    key_id_ = hmac(secret, "zswarm key id").substr(0, 8);
    mac_key_ = hmac(secret, "zswarm beacon mac");
    // §4: a CURVE keypair is an X25519 keypair.
    crypto_box_keypair(u(pub_), u(sec_));
    for (zmq::socket_t* s : {&pub_sock_, &router_}) {
      s->set(zmq::sockopt::linger, 0);
      s->set(zmq::sockopt::curve_server, true);
      s->set(zmq::sockopt::curve_secretkey, zmq::buffer(sec_));
      s->bind("tcp://127.0.0.1:*");
    }
    probe_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(probe_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(probe_, reinterpret_cast<sockaddr*>(&a), &len);
    probe_port_ = ntohs(a.sin_port);
  }
  ~DocMember() { ::close(probe_); }

  int probes_answered = 0;                       // probes that came by datagram, each acked
  std::map<uint16_t, std::string> last_sent;     // by destination port: the last datagram we sent there
  std::string node_key;                          // a node's CURVE key, from its datagrams

  // §2.1 and security.md §3.2: counter, curve_key, probe_port, then the MAC.
  std::string beacon() {
    discovery::Beacon b;
    b.id = id_;
    b.incarnation = kIncarnation;
    b.pub_port = bound_port(pub_sock_);
    b.router_port = bound_port(router_);
    b.cluster = cluster_;
    b.name = "doc@member";
    std::string d = discovery::encode(b);  // the fixed part and the names (§2.1, tested by beacon_test)
    d += std::string("\x01\x08", 2) + be(++beacons_, 8);
    d += std::string("\x02\x20", 2) + pub_;
    d += std::string("\x05\x02", 2) + be(probe_port_, 2);
    d += std::string("\x03\x28", 2) + key_id_;
    return d + hmac(mac_key_, d);
  }

  // §1.2: "ZSD" 01 sender_key nonce box.
  std::string seal(const std::string& receiver_key, const std::string& frame, const std::string& own_pub,
                   const std::string& own_sec) {
    std::string nonce = "zswdgram" + be(++datagrams_, 8) + std::string(8, '\0');
    randombytes_buf(u(nonce) + 16, 8);
    std::string box(frame.size() + crypto_box_MACBYTES, '\0');
    if (crypto_box_easy(u(box), u(frame), frame.size(), u(nonce), u(receiver_key), u(own_sec)) != 0)
      throw std::runtime_error("crypto_box_easy");
    return std::string("ZSD\x01", 4) + own_pub + nonce + box;
  }
  std::string seal(const std::string& receiver_key, const std::string& frame) {
    return seal(receiver_key, frame, pub_, sec_);
  }
  std::string frame(MessageType t, uint64_t corr) const {
    bus::Envelope e;
    e.type = t;
    e.sender = id_;
    e.incarnation = kIncarnation;
    e.corr = corr;
    return bus::encode(e);
  }
  void send_to(uint16_t port, const std::string& d) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::sendto(probe_, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }

  void pump() {
    auto now = std::chrono::steady_clock::now();
    if (now >= next_beacon_) {
      beacons_out_.broadcast(beacon_port_, beacon());
      next_beacon_ = now + 300ms;
    }
    if (now >= next_heartbeat_) {
      bus::Envelope e;
      e.type = MessageType::heartbeat;
      e.sender = id_;
      e.incarnation = kIncarnation;
      e.seq = ++seq_;
      pub_sock_.send(zmq::buffer(bus::encode(e)), zmq::send_flags::dontwait);
      next_heartbeat_ = now + 100ms;
    }
    zmq::message_t m;
    while (router_.recv(m, zmq::recv_flags::dontwait)) {  // a node's first probe comes this way: drained
    }
    char buf[2048];
    for (;;) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      ssize_t n = ::recvfrom(probe_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0) break;
      std::string_view d(buf, static_cast<std::size_t>(n));
      if (d.size() < 76 || d.size() > 1232 || d.substr(0, 4) != std::string_view("ZSD\x01", 4) ||
          d.substr(36, 8) != "zswdgram")
        continue;
      const std::string sender(d.substr(4, 32));
      std::string_view nonce = d.substr(36, 24), box = d.substr(60);
      std::string plain(box.size() - crypto_box_MACBYTES, '\0');
      if (crypto_box_open_easy(u(plain), u(box), box.size(), u(nonce), u(sender), u(sec_)) != 0) continue;
      node_key = sender;
      auto f = bus::decode_frame(plain);
      if (!f) continue;
      for (const auto& e : f->messages)
        if (e.type == MessageType::probe) {
          // The answer goes to the sender's probe socket: where this came from.
          const std::string ack = seal(sender, frame(MessageType::probe_ack, e.corr));
          send_to(ntohs(from.sin_port), ack);
          last_sent[ntohs(from.sin_port)] = ack;
          ++probes_answered;
        }
    }
  }

 private:
  static constexpr uint64_t kIncarnation = 1'700'000'000'000;
  std::string cluster_;
  uint16_t beacon_port_;
  bus::NodeId id_ = bus::NodeId::random();
  std::string key_id_, mac_key_;
  std::string pub_ = std::string(32, '\0'), sec_ = std::string(32, '\0');
  zmq::context_t ctx_;
  zmq::socket_t pub_sock_{ctx_, zmq::socket_type::pub};
  zmq::socket_t router_{ctx_, zmq::socket_type::router};
  LoopbackUdp beacons_out_;
  int probe_ = -1;
  uint16_t probe_port_ = 0;
  uint64_t beacons_ = 0, datagrams_ = 0, seq_ = 0;
  std::chrono::steady_clock::time_point next_beacon_{}, next_heartbeat_{};
};

class ProbeDatagramsByTheDocument : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = run({bin_dir() + "/zswarm", "keygen", c_.control_dir() + "/secret"});
    ASSERT_EQ(r.code, 0) << r.output;
    for (const char* n : {"a", "b"}) c_.start(n, {"--secret-file", c_.control_dir() + "/secret"});
    ASSERT_TRUE(c_.wait_all_alive({"a", "b"}));
    member_ = std::make_unique<DocMember>(c_.name(), c_.beacon_port(), c_.control_dir() + "/secret");
  }
  uint64_t stat(const std::string& node, const std::string& key) {
    auto info = c_.ask(node, {{"cmd", "info"}}, 2s);
    return info && info->contains("stats") ? (*info)["stats"].value(key, uint64_t{0}) : 0;
  }
  // Pumps the member for `d`, with no control request in between (it must
  // answer probes within probe_timeout_ms).
  void pump_for(std::chrono::milliseconds d) {
    auto end = std::chrono::steady_clock::now() + d;
    wait_until(
        [&] {
          member_->pump();
          return std::chrono::steady_clock::now() >= end;
        },
        d + 1s, 1ms);
  }
  bool pump_until(const std::function<bool()>& done, std::chrono::milliseconds deadline) {
    auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
      pump_for(200ms);
      if (done()) return true;
    }
    return false;
  }
  LocalCluster c_{test_name()};
  std::unique_ptr<DocMember> member_;
};

TEST_F(ProbeDatagramsByTheDocument, AMemberThatAnswersOnlyByDatagramStaysAlive) {
  ASSERT_TRUE(pump_until([&] { return c_.state("a", "doc") == "alive" && c_.state("b", "doc") == "alive"; }, 10s));
  const uint64_t refused = stat("a", "datagrams_refused") + stat("b", "datagrams_refused");
  const int answered = member_->probes_answered;
  // Each node probes one of its 2 members every 100 ms (slower in a
  // sanitizer build): about 10 answers in 1-3 s.
  EXPECT_TRUE(pump_until([&] { return member_->probes_answered - answered >= 10; }, 15s))
      << member_->probes_answered - answered;
  EXPECT_EQ(c_.state("a", "doc"), "alive");
  EXPECT_EQ(c_.state("b", "doc"), "alive");
  EXPECT_EQ(stat("a", "suspicions_raised") + stat("b", "suspicions_raised"), 0u);
  EXPECT_EQ(stat("a", "datagrams_refused") + stat("b", "datagrams_refused"), refused);
}

TEST_F(ProbeDatagramsByTheDocument, ReplayedAlteredAndStrangersDatagramsAreRefused) {
  ASSERT_TRUE(pump_until([&] { return c_.state("a", "doc") == "alive" && member_->probes_answered > 0; }, 10s));
  const uint16_t a_port = static_cast<uint16_t>(c_.ask("a", {{"cmd", "info"}})->value("probe_port", 0));
  ASSERT_TRUE(pump_until([&] { return member_->last_sent.count(a_port) > 0; }, 5s)) << "a never probed the member";
  const uint64_t before = stat("a", "datagrams_refused");
  const std::string ack = member_->last_sent[a_port];
  member_->send_to(a_port, ack);  // replayed
  std::string altered = ack;
  altered[70] = static_cast<char>(altered[70] ^ 0x01);
  member_->send_to(a_port, altered);
  std::string spub(32, '\0'), ssec(32, '\0');
  crypto_box_keypair(u(spub), u(ssec));  // a stranger: a key no node admitted
  member_->send_to(a_port, member_->seal(member_->node_key, member_->frame(MessageType::probe_ack, 1), spub, ssec));
  EXPECT_TRUE(pump_until([&] { return stat("a", "datagrams_refused") >= before + 3; }, 5s))
      << stat("a", "datagrams_refused") - before;
  // Logged too, one line a second at most: the replay again until its line shows.
  EXPECT_TRUE(pump_until(
      [&] {
        member_->send_to(a_port, ack);
        return c_.process("a").log().find("refused: replayed") != std::string::npos;
      },
      5s))
      << c_.process("a").log();
  pump_for(1s);
  EXPECT_EQ(c_.state("a", "doc"), "alive");
}

}  // namespace
}  // namespace zswarm::testing
