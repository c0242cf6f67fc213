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
  EXPECT_EQ(p->protocol, bus::kSpoken);
  EXPECT_TRUE(p->extensions.empty());
}

TEST(Beacon, LayoutIsBigEndianAsDocumented) {
  std::string d = encode(sample());
  EXPECT_EQ(d.substr(0, 3), "ZSW");
  EXPECT_EQ(d[3], 2);  // the layout's format
  EXPECT_EQ(d[4], 0);
  EXPECT_EQ(static_cast<uint8_t>(d[21]), 0x01);  // incarnation, most significant first
  EXPECT_EQ(static_cast<uint8_t>(d[28]), 0x08);
  EXPECT_EQ((static_cast<uint8_t>(d[29]) << 8) | static_cast<uint8_t>(d[30]), 40001);
  EXPECT_EQ(d[33], bus::kSpoken.min);
  EXPECT_EQ(d[34], bus::kSpoken.max);
  EXPECT_EQ(d.size(), 35u + 1 + 4 + 1 + 6);
}

TEST(Beacon, LongestNamesLeaveRoomForAKeyAndAMac) {
  Beacon b = sample();
  b.cluster = std::string(kMaxClusterName, 'c');
  b.name = std::string(kMaxNodeName, 'n');
  // What the cluster secret will add: a key id and a MAC, about 80 bytes, and more.
  b.extensions = {{0x41, std::string(16, 'k')}, {0x42, std::string(64, 'm')}, {0x43, std::string(150, 'x')}};
  std::string d = encode(b);
  EXPECT_LE(d.size(), kMaxBeaconSize);
  auto p = parse(d);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->extensions, b.extensions);
}

// Extension 04: the fingerprint of the settings that place names. The
// defaults send none; it comes after the curve key and before a later
// version's extensions, once, 8 bytes, as everything else known.
TEST(Beacon, ThePlacementFingerprintTravelsAsExtensionFour) {
  EXPECT_EQ(placement_fingerprint({}, {}, 0), "");
  const std::string f = placement_fingerprint({"b*", "a*"}, {"gw*"}, 3);
  ASSERT_EQ(f.size(), kPlacementSize);
  EXPECT_EQ(placement_fingerprint({"a*", "b*"}, {"gw*"}, 3), f);  // the order of the globs does not matter
  EXPECT_NE(placement_fingerprint({"a*", "b*"}, {"gw*"}, 2), f);  // the quorum does
  EXPECT_NE(placement_fingerprint({"a*", "b*"}, {}, 3), f);
  EXPECT_NE(placement_fingerprint({}, {"a*", "b*", "gw*"}, 3), f);  // allow and deny are kept apart
  EXPECT_NE(placement_fingerprint({}, {}, 1), "");

  Beacon b = sample();
  b.placement = f;
  b.extensions = {{200, "later"}};
  std::string d = encode(b);
  EXPECT_EQ(d.substr(35 + 1 + 4 + 1 + 6, 2), std::string("\x04\x08", 2));
  auto p = parse(d);
  ASSERT_TRUE(p.ok()) << to_string(p.error());
  EXPECT_EQ(p->placement, f);
  EXPECT_EQ(p->extensions, b.extensions);  // not counted as unknown

  const std::string head = encode(sample());
  const std::string ext4 = std::string("\x04\x08", 2) + f;
  EXPECT_EQ(parse(head + ext4 + ext4).error(), BeaconError::bad_field);  // twice
  EXPECT_EQ(parse(head + std::string("\x04\x07", 2) + f.substr(0, 7)).error(), BeaconError::bad_field);  // short
  EXPECT_EQ(parse(head + std::string("\xc8\x01x", 3) + ext4).error(), BeaconError::bad_field);  // after a later one
  const std::string counter = std::string("\x01\x08", 2) + std::string(7, '\0') + "\x01";
  EXPECT_TRUE(parse(head + counter + ext4).ok());
  EXPECT_EQ(parse(head + ext4 + counter).error(), BeaconError::bad_field);  // one order only
}

TEST(Beacon, TheProbePortTravelsAsExtensionFiveAfterPlacement) {
  Beacon b = sample();
  b.placement = std::string(8, 'p');
  b.probe_port = 0x9c41;
  b.extensions = {{200, "later"}};
  std::string d = encode(b);
  EXPECT_EQ(d.substr(35 + 1 + 4 + 1 + 6 + 10, 4), std::string("\x05\x02\x9c\x41", 4));
  auto p = parse(d);
  ASSERT_TRUE(p.ok()) << to_string(p.error());
  EXPECT_EQ(p->probe_port, 0x9c41);
  EXPECT_EQ(p->extensions, b.extensions);

  const std::string head = encode(sample());
  const std::string ext5 = std::string("\x05\x02\x9c\x41", 4);
  const std::string ext4 = std::string("\x04\x08", 2) + std::string(8, 'p');
  EXPECT_TRUE(parse(head + ext4 + ext5).ok());
  EXPECT_EQ(parse(head + ext5 + ext4).error(), BeaconError::bad_field);  // one order only
  EXPECT_EQ(parse(head + ext5 + ext5).error(), BeaconError::bad_field);  // twice
  EXPECT_EQ(parse(head + std::string("\x05\x02\x00\x00", 4)).error(), BeaconError::bad_field);  // port 0
  EXPECT_EQ(parse(head + std::string("\x05\x01\x9c", 3)).error(), BeaconError::bad_field);      // short
  EXPECT_EQ(parse(head + std::string("\xc8\x01x", 3) + ext5).error(), BeaconError::bad_field);  // after a later one
  const std::string key = std::string("\x02\x20", 2) + std::string(32, 'k');
  EXPECT_EQ(parse(head + ext5 + key).error(), BeaconError::bad_field);
}

TEST(Growth, ExtensionsOfALaterVersionAreReadInOrder) {
  Beacon b = sample();
  b.extensions = {{200, "later"}, {7, ""}, {200, std::string(255, 'z')}};
  auto p = parse(encode(b));
  ASSERT_TRUE(p.ok()) << to_string(p.error());
  EXPECT_EQ(p->extensions, b.extensions);
  std::string cut = encode(b);
  cut.pop_back();  // the last extension's value is short
  EXPECT_EQ(parse(cut).error(), BeaconError::bad_field);
  EXPECT_EQ(parse(encode(sample()) + "x").error(), BeaconError::bad_field);  // a type without a length
}

TEST(Growth, FlagBitsOfALaterVersionAreIgnored) {
  std::string d = encode(sample());
  d[4] = static_cast<char>(0x80 | 0x04);
  auto p = parse(d);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->leaving);
  EXPECT_FALSE(p->observer);
  EXPECT_EQ(p->later_flags, 0x84);
  EXPECT_EQ(encode(*p), d);
}

TEST(Versions, TheRangeIsCarriedAndChecked) {
  Beacon b = sample();
  b.protocol = {2, 9};
  EXPECT_EQ(parse(encode(b))->protocol, (bus::VersionRange{2, 9}));
  b.protocol = {3, 2};
  EXPECT_EQ(parse(encode(b)).error(), BeaconError::bad_field);
  b.protocol = {0, 2};
  EXPECT_EQ(parse(encode(b)).error(), BeaconError::bad_field);
}

TEST(Beacon, RejectsGarbage) {
  EXPECT_EQ(parse("").error(), BeaconError::too_short);
  EXPECT_EQ(parse("ZS").error(), BeaconError::too_short);
  EXPECT_EQ(parse("HTTP/1.1 200 OK").error(), BeaconError::bad_magic);
  EXPECT_EQ(parse(std::string(kMaxBeaconSize + 1, 'Z')).error(), BeaconError::too_long);
}

TEST(Beacon, RejectsOtherFormats) {
  std::string d = encode(sample());
  d[3] = 1;  // the first release's layout
  EXPECT_EQ(parse(d).error(), BeaconError::bad_version);
  d[3] = 3;
  EXPECT_EQ(parse(d).error(), BeaconError::bad_version);
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
  long_len[35] = 100;  // cluster length past the end
  EXPECT_EQ(parse(long_len).error(), BeaconError::bad_field);
  std::string space = d;
  space[36] = ' ';  // names are printable, without spaces
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
