// The cluster secret's beacon seal: only a holder of the secret makes a
// beacon others take, each beacon is taken once, and two secrets can be
// held while a cluster rotates.
#include "discovery/beacon_seal.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace zswarm::discovery {
namespace {

ClusterSecret secret(uint8_t fill) {
  ClusterSecret s;
  s.fill(fill);
  return s;
}

Beacon beacon(const bus::NodeId& id) {
  Beacon b;
  b.id = id;
  b.incarnation = 1'700'000'000'000;
  b.pub_port = 4000;
  b.router_port = 4001;
  // Built whole, not assigned: GCC 12 -O3 warns (-Wrestrict) on the short assigns.
  b.cluster = std::string("c");
  b.name = std::string("a@h");
  b.curve_key = std::string(kCurveKeySize, 'K');
  return b;
}

SealVerdict open_with(BeaconSeal& receiver, const std::string& datagram) {
  auto parsed = parse(datagram);
  EXPECT_TRUE(parsed.ok()) << to_string(parsed.error());
  return receiver.open(datagram, *parsed);
}

TEST(BeaconSeal, OnlyTheSecretsHolderMakesABeaconOthersTake) {
  BeaconSeal a(secret(1)), b(secret(1)), stranger(secret(2));
  auto id = bus::NodeId::random();
  std::string d = a.seal(beacon(id));
  auto parsed = parse(d);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->counter, 1u);
  EXPECT_EQ(parsed->curve_key, std::string(kCurveKeySize, 'K'));
  EXPECT_LE(d.size(), kMaxBeaconSize);
  EXPECT_EQ(open_with(b, d), SealVerdict::ok);
  EXPECT_EQ(open_with(stranger, a.seal(beacon(id))), SealVerdict::unknown_key);
  // The stranger's own beacons are of no use to a member either.
  EXPECT_EQ(open_with(b, stranger.seal(beacon(bus::NodeId::random()))), SealVerdict::unknown_key);
}

TEST(BeaconSeal, EveryByteIsCoveredByTheMac) {
  BeaconSeal a(secret(1));
  auto id = bus::NodeId::random();
  std::string d = a.seal(beacon(id));
  for (std::size_t i = 0; i < d.size(); ++i) {
    BeaconSeal b(secret(1));
    std::string forged = d;
    forged[i] = static_cast<char>(forged[i] ^ 0x01);
    auto parsed = parse(forged);
    if (!parsed) continue;  // the change broke the layout: parse refuses it already
    EXPECT_NE(b.open(forged, *parsed), SealVerdict::ok) << "byte " << i;
  }
}

TEST(BeaconSeal, AForgedTagIsBadMac) {
  BeaconSeal a(secret(1)), b(secret(1));
  std::string d = a.seal(beacon(bus::NodeId::random()));
  d.back() = static_cast<char>(d.back() ^ 0x80);
  EXPECT_EQ(open_with(b, d), SealVerdict::bad_mac);
}

TEST(BeaconSeal, UnsealedBeaconsAreRefused) {
  BeaconSeal b(secret(1));
  Beacon plain = beacon(bus::NodeId::random());
  EXPECT_EQ(open_with(b, encode(plain)), SealVerdict::unsealed);
  plain.curve_key.clear();
  EXPECT_EQ(open_with(b, encode(plain)), SealVerdict::unsealed);
}

TEST(BeaconSeal, EachBeaconIsTakenOnceAndOnlyNewerOnesAfterIt) {
  BeaconSeal a(secret(1)), b(secret(1));
  auto id = bus::NodeId::random();
  std::string first = a.seal(beacon(id));
  std::string second = a.seal(beacon(id));
  std::string third = a.seal(beacon(id));
  EXPECT_EQ(open_with(b, second), SealVerdict::ok);
  EXPECT_EQ(open_with(b, second), SealVerdict::replayed);
  EXPECT_EQ(open_with(b, first), SealVerdict::replayed) << "an older beacon after a newer one";
  EXPECT_EQ(open_with(b, third), SealVerdict::ok);
  // Another node's counters are its own.
  EXPECT_EQ(open_with(b, a.seal(beacon(bus::NodeId::random()))), SealVerdict::ok);
}

TEST(BeaconSeal, RememberedCountersAreBounded) {
  BeaconSeal a(secret(1)), b(secret(1));
  auto first = bus::NodeId::random();
  std::string old = a.seal(beacon(first));
  EXPECT_EQ(open_with(b, old), SealVerdict::ok);
  for (std::size_t i = 0; i < BeaconSeal::kMaxTracked; ++i)
    ASSERT_EQ(open_with(b, a.seal(beacon(bus::NodeId::random()))), SealVerdict::ok);
  // The oldest id was forgotten: its replay is taken once more. It only says
  // "I exist"; a member must still prove itself on the CURVE bus.
  EXPECT_EQ(open_with(b, old), SealVerdict::ok);
}

TEST(BeaconSeal, RotationHoldsTwoSecretsAtOnce) {
  const ClusterSecret old_secret = secret(1), new_secret = secret(2);
  BeaconSeal x(old_secret), y(old_secret);
  auto xid = bus::NodeId::random(), yid = bus::NodeId::random();
  // Phase 1: both accept the new secret beside the old, still sealing with the old.
  x.set_secrets(old_secret, new_secret);
  y.set_secrets(old_secret, new_secret);
  EXPECT_EQ(open_with(y, x.seal(beacon(xid))), SealVerdict::ok);
  // Phase 2: x seals with the new one first; y, still on the old, takes it.
  x.set_secrets(new_secret, old_secret);
  EXPECT_EQ(open_with(y, x.seal(beacon(xid))), SealVerdict::ok);
  EXPECT_EQ(open_with(x, y.seal(beacon(yid))), SealVerdict::ok);
  y.set_secrets(new_secret, old_secret);
  // Phase 3: the old one is dropped; a beacon sealed with it is refused.
  x.set_secrets(new_secret, std::nullopt);
  EXPECT_EQ(open_with(x, y.seal(beacon(yid))), SealVerdict::ok);
  BeaconSeal laggard(old_secret);
  EXPECT_EQ(open_with(x, laggard.seal(beacon(bus::NodeId::random()))), SealVerdict::unknown_key);
  EXPECT_NE(BeaconSeal::key_id(old_secret), BeaconSeal::key_id(new_secret));
}

TEST(BeaconSeal, ParseRefusesMalformedKnownExtensions) {
  BeaconSeal a(secret(1));
  std::string d = a.seal(beacon(bus::NodeId::random()));
  // Anything after the MAC, a second counter, a short key: bad_field.
  EXPECT_FALSE(parse(std::string(d).append("\x41\x00", 2)).ok());
  Beacon b = beacon(bus::NodeId::random());
  b.extensions = {{kExtCounter, std::string(8, '\1')}};
  b.counter = 5;
  EXPECT_FALSE(parse(encode(b)).ok());
  Beacon c = beacon(bus::NodeId::random());
  c.curve_key = "short";
  EXPECT_FALSE(parse(encode(c)).ok());
  Beacon zero = beacon(bus::NodeId::random());
  zero.extensions = {{kExtCounter, std::string(8, '\0')}};
  EXPECT_FALSE(parse(encode(zero)).ok()) << "counters start at 1";
}

}  // namespace
}  // namespace zswarm::discovery

namespace zswarm::discovery {
namespace {

// docs/security.md §3.4, read from the document: zswarm seals that beacon
// to exactly those bytes, and opens them.
TEST(BeaconSeal, TheDocumentedExampleIsExact) {
  std::ifstream in(ZSWARM_SECURITY_DOC);
  std::stringstream doc;
  doc << in.rdbuf();
  const std::string text = doc.str();
  auto start = text.find("\n5a 53 57 02");
  ASSERT_NE(start, std::string::npos) << "no sealed beacon example in " << ZSWARM_SECURITY_DOC;
  auto end = text.find("```", start);
  std::string example;
  std::istringstream hex(text.substr(start, end - start));
  for (std::string byte; hex >> byte;) example.push_back(static_cast<char>(std::stoi(byte, nullptr, 16)));
  ASSERT_EQ(example.size(), 132u);
  ClusterSecret s;
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(i);
  auto parsed = parse(example);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->counter, 1u);
  Beacon b = *parsed;
  b.mac.clear();
  BeaconSeal sealer(s), opener(s);
  EXPECT_EQ(sealer.seal(b), example);
  EXPECT_EQ(opener.open(example, *parsed), SealVerdict::ok);
  auto id = BeaconSeal::key_id(s);
  std::string id_hex;
  for (uint8_t c : id) {
    char two[3];
    std::snprintf(two, sizeof two, "%02x", c);
    id_hex += two;
  }
  EXPECT_EQ(id_hex, "77c8db32d16f4ba2");
  EXPECT_NE(text.find("`" + id_hex.substr(0, 2) + " " + id_hex.substr(2, 2)), std::string::npos)
      << "the key id in the table";
}

}  // namespace
}  // namespace zswarm::discovery

namespace zswarm::discovery {
namespace {

// Found by beacon_fuzz: known extensions out of order parsed, then encoded
// differently. Now a beacon has one encoding.
TEST(BeaconSeal, KnownExtensionsComeInOneOrder) {
  Beacon b = beacon(bus::NodeId::random());
  b.curve_key.clear();
  std::string base = encode(b);
  auto ext = [](uint8_t type, std::string value) {
    return std::string(1, static_cast<char>(type)).append(1, static_cast<char>(value.size())).append(value);
  };
  const std::string counter = ext(kExtCounter, std::string(7, '\0').append(1, '\1'));
  const std::string key = ext(kExtCurveKey, std::string(kCurveKeySize, 'K'));
  const std::string later = ext(0x41, "x");
  EXPECT_TRUE(parse(std::string(base).append(counter).append(key).append(later)).ok());
  EXPECT_FALSE(parse(std::string(base).append(key).append(counter)).ok());
  EXPECT_FALSE(parse(std::string(base).append(later).append(counter)).ok());
  EXPECT_FALSE(parse(std::string(base).append(later).append(key)).ok());
}

}  // namespace
}  // namespace zswarm::discovery
