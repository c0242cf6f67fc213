// Sealed datagrams (bus/datagram.hpp): only the addressed member opens one,
// any change to it is refused, and each counter is taken once.
#include "bus/datagram.hpp"

#include <sodium.h>

#include <gtest/gtest.h>

namespace zswarm::bus {
namespace {

struct Keypair {
  std::string pub = std::string(32, '\0'), sec = std::string(32, '\0');
  Keypair() {
    EXPECT_EQ(sodium_init() < 0, false);
    crypto_box_keypair(reinterpret_cast<uint8_t*>(pub.data()), reinterpret_cast<uint8_t*>(sec.data()));
  }
};

const DatagramSalt kSalt{1, 2, 3, 4, 5, 6, 7, 8};

DatagramKey key(const Keypair& own, const Keypair& peer) {
  DatagramKey k{};
  EXPECT_TRUE(datagram_key(own.sec, peer.pub, k));
  return k;
}

TEST(Datagram, TheAddressedMemberOpensWhatTheSenderSealed) {
  Keypair a, b;
  const std::string d = seal_datagram(key(a, b), a.pub, kSalt, 7, "a frame");
  EXPECT_EQ(d.size(), kDatagramHeaderSize + kDatagramTagSize + 7);
  auto h = parse_datagram(d);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->sender_key, a.pub);
  EXPECT_EQ(h->counter, 7u);
  auto frame = open_datagram(key(b, a), d);
  ASSERT_TRUE(frame) << to_string(frame.error());
  EXPECT_EQ(*frame, "a frame");
}

TEST(Datagram, AnyOtherKeyOrAnyChangedByteIsRefused) {
  Keypair a, b, c;
  const std::string d = seal_datagram(key(a, b), a.pub, kSalt, 1, "a frame");
  auto third = open_datagram(key(c, a), d);
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error(), DatagramError::bad_seal);
  // The nonce (counter and random part) and the box are covered. The
  // sender key is not read by open_datagram: it picks which key opens (a
  // changed one names another member, whose key does not open it).
  for (std::size_t i = 44; i < d.size(); ++i) {
    std::string x = d;
    x[i] = static_cast<char>(x[i] ^ 0x01);
    auto r = open_datagram(key(b, a), x);
    EXPECT_FALSE(r) << "byte " << i;
  }
}

TEST(Datagram, MalformedDatagramsAreRefusedBeforeAnyCrypto) {
  Keypair a, b;
  const std::string d = seal_datagram(key(a, b), a.pub, kSalt, 1, "x");
  auto err = [](std::string_view s) { return parse_datagram(s).error(); };
  EXPECT_EQ(err(d.substr(0, kDatagramHeaderSize + kDatagramTagSize - 1)), DatagramError::too_short);
  EXPECT_EQ(err(std::string(kMaxDatagramSize + 1, 'Z')), DatagramError::too_long);
  std::string x = d;
  x[0] = 'Y';
  EXPECT_EQ(err(x), DatagramError::bad_magic);
  x = d;
  x[3] = 2;
  EXPECT_EQ(err(x), DatagramError::bad_version);
  x = d;
  x[36] = 'Z';
  EXPECT_EQ(err(x), DatagramError::bad_nonce);
  const std::string zero = seal_datagram(key(a, b), a.pub, kSalt, 0, "x");
  EXPECT_EQ(err(zero), DatagramError::bad_nonce) << "counter 0 is never sent";
  // The largest frame fits, exactly.
  EXPECT_TRUE(parse_datagram(seal_datagram(key(a, b), a.pub, kSalt, 1, std::string(kMaxDatagramFrame, 'f'))));
}

TEST(Datagram, WeakOrMissizedKeysGiveNoKey) {
  Keypair a;
  DatagramKey k{};
  EXPECT_FALSE(datagram_key(a.sec, std::string(32, '\0'), k)) << "the all-zero point";
  EXPECT_FALSE(datagram_key(a.sec, "short", k));
  EXPECT_FALSE(datagram_key("short", a.pub, k));
}

TEST(ReplayWindow, TakesEachCounterOnceAndToleratesReorderingWithinSixtyFour) {
  ReplayWindow w;
  EXPECT_FALSE(w.accept(0));
  EXPECT_TRUE(w.accept(1));
  EXPECT_FALSE(w.accept(1));
  EXPECT_TRUE(w.accept(5));
  EXPECT_TRUE(w.accept(3)) << "late, within the window";
  EXPECT_FALSE(w.accept(3));
  EXPECT_TRUE(w.accept(4));
  EXPECT_TRUE(w.accept(2));
  EXPECT_FALSE(w.accept(5));
  EXPECT_TRUE(w.accept(100));
  EXPECT_TRUE(w.accept(37)) << "100 - 63: the oldest the window holds";
  EXPECT_FALSE(w.accept(36)) << "100 - 64: too old";
  EXPECT_FALSE(w.accept(37));
  EXPECT_TRUE(w.accept(1000));
  EXPECT_FALSE(w.accept(100)) << "the window moved";
  EXPECT_EQ(w.highest(), 1000u);
}

}  // namespace
}  // namespace zswarm::bus
