#include "discovery/beacon.hpp"

#include <gtest/gtest.h>

namespace zswarm::discovery {
namespace {

Beacon sample() {
  Beacon b;
  b.id = bus::NodeId::random();
  b.incarnation = 0x0102030405060708ULL;
  b.pub_port = 40001;
  b.router_port = 40002;
  b.cluster = "prod";
  b.name = "a@host";
  return b;
}

TEST(Beacon, RoundTrip) {
  Beacon b = sample();
  b.leaving = true;
  auto p = parse(encode(b));
  ASSERT_TRUE(p.ok()) << to_string(p.error());
  EXPECT_EQ(p->id, b.id);
  EXPECT_EQ(p->incarnation, b.incarnation);
  EXPECT_EQ(p->pub_port, b.pub_port);
  EXPECT_EQ(p->router_port, b.router_port);
  EXPECT_TRUE(p->leaving);
  EXPECT_EQ(p->cluster, "prod");
  EXPECT_EQ(p->name, "a@host");
}

TEST(Beacon, LayoutIsBigEndianAsDocumented) {
  std::string d = encode(sample());
  EXPECT_EQ(d.substr(0, 3), "ZSW");
  EXPECT_EQ(d[3], 1);
  EXPECT_EQ(d[4], 0);
  EXPECT_EQ(static_cast<uint8_t>(d[21]), 0x01);  // incarnation, most significant first
  EXPECT_EQ(static_cast<uint8_t>(d[28]), 0x08);
  EXPECT_EQ((static_cast<uint8_t>(d[29]) << 8) | static_cast<uint8_t>(d[30]), 40001);
  EXPECT_EQ(d.size(), 33u + 1 + 4 + 1 + 6);
}

TEST(Beacon, LargestFitsInOneSmallDatagram) {
  Beacon b = sample();
  b.cluster = std::string(kMaxClusterName, 'c');
  b.name = std::string(kMaxNodeName, 'n');
  std::string d = encode(b);
  EXPECT_LE(d.size(), kMaxBeaconSize);
  EXPECT_TRUE(parse(d).ok());
}

TEST(Beacon, RejectsGarbage) {
  EXPECT_EQ(parse("").error(), BeaconError::too_short);
  EXPECT_EQ(parse("ZS").error(), BeaconError::too_short);
  EXPECT_EQ(parse("HTTP/1.1 200 OK").error(), BeaconError::bad_magic);
  EXPECT_EQ(parse(std::string(300, 'Z')).error(), BeaconError::too_long);
}

TEST(Beacon, RejectsOtherVersions) {
  std::string d = encode(sample());
  d[3] = 2;
  EXPECT_EQ(parse(d).error(), BeaconError::bad_version);
}

TEST(Beacon, RejectsUnknownFlags) {
  std::string d = encode(sample());
  d[4] = 0x04;
  EXPECT_EQ(parse(d).error(), BeaconError::bad_flags);
  d[4] = static_cast<char>(0x80);
  EXPECT_EQ(parse(d).error(), BeaconError::bad_flags);
}

TEST(Beacon, TheObserverFlagIsBitOne) {
  Beacon b = sample();
  b.observer = true;
  std::string d = encode(b);
  EXPECT_EQ(d[4], 0x02);
  auto p = parse(d);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->observer);
  EXPECT_FALSE(p->leaving);
  b.leaving = true;
  EXPECT_EQ(encode(b)[4], 0x03);
  EXPECT_FALSE(parse(encode(sample()))->observer);
}

TEST(Beacon, RejectsEveryTruncation) {
  std::string d = encode(sample());
  for (std::size_t n = 0; n < d.size(); ++n) EXPECT_FALSE(parse(d.substr(0, n)).ok()) << n;
}

TEST(Beacon, RejectsBadFields) {
  std::string d = encode(sample());
  EXPECT_EQ(parse(d + "x").error(), BeaconError::bad_field);  // trailing byte
  std::string long_len = d;
  long_len[33] = 100;  // cluster length past the end
  EXPECT_EQ(parse(long_len).error(), BeaconError::bad_field);
  std::string space = d;
  space[34] = ' ';  // names are printable, without spaces
  EXPECT_EQ(parse(space).error(), BeaconError::bad_field);
  Beacon zero = sample();
  zero.pub_port = 0;
  EXPECT_EQ(parse(encode(zero)).error(), BeaconError::bad_field);
  Beacon nil = sample();
  nil.id = bus::NodeId();
  EXPECT_EQ(parse(encode(nil)).error(), BeaconError::bad_field);
}

}  // namespace
}  // namespace zswarm::discovery
