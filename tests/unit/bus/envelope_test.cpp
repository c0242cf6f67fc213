#include "bus/envelope.hpp"

#include <gtest/gtest.h>
#include <msgpack.hpp>

namespace zswarm::bus {
namespace {

Envelope sample() {
  Envelope e;
  e.type = MessageType::registry_delta;
  e.sender = NodeId::random();
  e.incarnation = 1795914401413;
  e.seq = 42;
  e.corr = 7;
  e.body = std::string("\x00\x01payload\xff", 10);
  return e;
}

// Packs an arbitrary msgpack value, for building malformed envelopes.
template <class... T>
std::string pack_array(const T&... fields) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(sizeof...(T));
  (pk.pack(fields), ...);
  return {buf.data(), buf.size()};
}

msgpack::type::raw_ref bin(const std::string& s) { return {s.data(), static_cast<uint32_t>(s.size())}; }

TEST(Envelope, RoundTripKeepsEveryField) {
  Envelope e = sample();
  auto d = decode(encode(e));
  ASSERT_TRUE(d.ok()) << to_string(d.error());
  EXPECT_EQ(d->version, kProtocolVersion);
  EXPECT_EQ(d->type, e.type);
  EXPECT_EQ(d->sender, e.sender);
  EXPECT_EQ(d->incarnation, e.incarnation);
  EXPECT_EQ(d->seq, e.seq);
  EXPECT_EQ(d->corr, e.corr);
  EXPECT_EQ(d->body, e.body);
}

TEST(Envelope, RoundTripsEveryMessageType) {
  for (int t = 1; t <= kMaxMessageType; ++t) {
    if (to_string(static_cast<MessageType>(t)).empty()) continue;
    Envelope e = sample();
    e.type = static_cast<MessageType>(t);
    auto d = decode(encode(e));
    ASSERT_TRUE(d.ok()) << t;
    EXPECT_EQ(d->type, e.type);
  }
}

TEST(Envelope, EmptyBodyAndZeroFieldsRoundTrip) {
  Envelope e;
  e.sender = NodeId::random();
  auto d = decode(encode(e));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->body.empty());
  EXPECT_EQ(d->seq, 0u);
}

TEST(Envelope, RejectsEmptyFrame) { EXPECT_EQ(decode("").error(), DecodeError::empty); }

TEST(Envelope, RejectsNonMsgpack) {
  // 0xc1 is the one byte msgpack never uses.
  EXPECT_EQ(decode("\xc1\xc1\xc1").error(), DecodeError::not_msgpack);
}

TEST(Envelope, RejectsTruncatedFrames) {
  std::string full = encode(sample());
  for (std::size_t n = 1; n < full.size(); ++n) {
    auto d = decode(std::string_view(full).substr(0, n));
    EXPECT_FALSE(d.ok()) << "prefix of " << n << " bytes decoded";
  }
}

TEST(Envelope, RejectsTrailingBytes) {
  EXPECT_EQ(decode(encode(sample()) + "x").error(), DecodeError::trailing_bytes);
}

TEST(Envelope, RejectsNonArray) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, 17);
  EXPECT_EQ(decode({buf.data(), buf.size()}).error(), DecodeError::not_array);
}

TEST(Envelope, RejectsWrongArity) {
  std::string id = NodeId::random().bytes();
  EXPECT_EQ(decode(pack_array(1, 1, bin(id), 1, 1, 1)).error(), DecodeError::wrong_arity);
  EXPECT_FALSE(decode(pack_array(1, 1, bin(id), 1, 1, 1, bin(""), 0)).ok());
}

TEST(Envelope, RejectsUnknownVersion) {
  std::string id = NodeId::random().bytes();
  EXPECT_EQ(decode(pack_array(2, 1, bin(id), 1, 1, 1, bin(""))).error(), DecodeError::bad_version);
  EXPECT_EQ(decode(pack_array(0, 1, bin(id), 1, 1, 1, bin(""))).error(), DecodeError::bad_version);
}

TEST(Envelope, TypesOutsideTheByteAreRejectedLaterVersionsTypesDecode) {
  std::string id = NodeId::random().bytes();
  EXPECT_EQ(decode(pack_array(1, 0, bin(id), 1, 1, 1, bin(""))).error(), DecodeError::unknown_type);
  EXPECT_EQ(decode(pack_array(1, 256, bin(id), 1, 1, 1, bin(""))).error(), DecodeError::unknown_type);
  // A type this build does not know is a later version's: it decodes, and
  // the receiver skips it (Cluster counts it in frames_unknown_type).
  auto later = decode(pack_array(1, 99, bin(id), 1, 1, 1, bin("x")));
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(static_cast<int>(later->type), 99);
  EXPECT_TRUE(to_string(later->type).empty());
  EXPECT_TRUE(decode(pack_array(1, 5, bin(id), 1, 1, 1, bin(""))).ok());  // a hole in the catalogue
}

TEST(Envelope, RejectsFieldsOfWrongType) {
  std::string id = NodeId::random().bytes();
  EXPECT_EQ(decode(pack_array("1", 1, bin(id), 1, 1, 1, bin(""))).error(), DecodeError::bad_field);
  EXPECT_EQ(decode(pack_array(1, 1, std::string(id), 1, 1, 1, bin(""))).error(), DecodeError::bad_field);
  EXPECT_EQ(decode(pack_array(1, 1, bin("short"), 1, 1, 1, bin(""))).error(), DecodeError::bad_field);
  EXPECT_EQ(decode(pack_array(1, 1, bin(id), -1, 1, 1, bin(""))).error(), DecodeError::bad_field);
  EXPECT_EQ(decode(pack_array(1, 1, bin(id), 1, 1.5, 1, bin(""))).error(), DecodeError::bad_field);
  EXPECT_EQ(decode(pack_array(1, 1, bin(id), 1, 1, 1, std::string("str"))).error(), DecodeError::bad_field);
}

TEST(Envelope, RejectsNestedContainersWithoutAllocating) {
  // A claimed 2^32-element array must be refused by the limits, not allocated.
  std::string huge = "\xdd\xff\xff\xff\xff";
  EXPECT_FALSE(decode(huge).ok());
  std::string id = NodeId::random().bytes();
  std::map<int, int> m{{1, 2}};
  EXPECT_FALSE(decode(pack_array(1, 1, bin(id), 1, 1, 1, m)).ok());
}

}  // namespace
}  // namespace zswarm::bus
