#include "bus/envelope.hpp"

#include <gtest/gtest.h>
#include <msgpack.hpp>

#include <map>

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

// Packs an arbitrary msgpack value, for building malformed frames.
template <class... T>
std::string pack_array(const T&... fields) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(sizeof...(T));
  (pk.pack(fields), ...);
  return {buf.data(), buf.size()};
}

msgpack::type::raw_ref bin(const std::string& s) { return {s.data(), static_cast<uint32_t>(s.size())}; }

// A frame of one message [type, seq, corr, body] built field by field.
template <class... T>
std::string frame_of(uint64_t version, const std::string& id, const std::tuple<T...>& message) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(4);
  pk.pack(version);
  pk.pack(bin(id));
  pk.pack(uint64_t{1});
  pk.pack_array(1);
  pk.pack_array(sizeof...(T));
  std::apply([&](const auto&... f) { (pk.pack(f), ...); }, message);
  return {buf.data(), buf.size()};
}

Result<DecodedFrame, DecodeError> decode_one(std::string_view frame) { return decode_frame(frame); }

TEST(Envelope, RoundTripKeepsEveryField) {
  Envelope e = sample();
  auto d = decode_frame(encode(e));
  ASSERT_TRUE(d.ok()) << to_string(d.error());
  ASSERT_EQ(d->messages.size(), 1u);
  const Envelope& got = d->messages[0];
  EXPECT_EQ(got.version, kSpoken.max);
  EXPECT_EQ(got.type, e.type);
  EXPECT_EQ(got.sender, e.sender);
  EXPECT_EQ(got.incarnation, e.incarnation);
  EXPECT_EQ(got.seq, e.seq);
  EXPECT_EQ(got.corr, e.corr);
  EXPECT_EQ(got.body, e.body);
  EXPECT_EQ(d->fields_skipped, 0u);
}

TEST(Envelope, RoundTripsEveryMessageType) {
  for (int t = 1; t <= kMaxMessageType; ++t) {
    if (to_string(static_cast<MessageType>(t)).empty()) continue;
    Envelope e = sample();
    e.type = static_cast<MessageType>(t);
    auto d = decode_frame(encode(e));
    ASSERT_TRUE(d.ok()) << t;
    EXPECT_EQ(d->messages.at(0).type, e.type);
  }
}

TEST(Envelope, EmptyBodyAndZeroFieldsRoundTrip) {
  Envelope e;
  e.sender = NodeId::random();
  auto d = decode_frame(encode(e));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->messages.at(0).body.empty());
  EXPECT_EQ(d->messages.at(0).seq, 0u);
}

std::string batch_of(std::size_t n, const NodeId& sender) {
  FrameBuilder b(kSpoken.max, sender, 99);
  for (std::size_t i = 0; i < n; ++i)
    b.add(i % 2 ? MessageType::worker_cast : MessageType::registry_delta, i + 1, 1000 + i, std::string("m").append(std::to_string(i)));
  EXPECT_EQ(b.messages(), n);
  return b.take();
}

TEST(Batch, AThousandMessagesInOneFrameArriveInOrder) {
  NodeId sender = NodeId::random();
  auto d = decode_frame(batch_of(1000, sender));
  ASSERT_TRUE(d.ok()) << to_string(d.error());
  ASSERT_EQ(d->messages.size(), 1000u);
  for (std::size_t i = 0; i < 1000; ++i) {
    const Envelope& e = d->messages[i];
    EXPECT_EQ(e.sender, sender);
    EXPECT_EQ(e.incarnation, 99u);
    EXPECT_EQ(e.type, i % 2 ? MessageType::worker_cast : MessageType::registry_delta);
    EXPECT_EQ(e.seq, i + 1);
    EXPECT_EQ(e.corr, 1000 + i);
    EXPECT_EQ(e.body, std::string("m").append(std::to_string(i)));
  }
}

TEST(Batch, AFrameCutAnywhereIsRejectedWhole) {
  std::string full = batch_of(1000, NodeId::random());
  // Every cut in the head and the first messages, then one every 37 bytes.
  for (std::size_t n = 1; n < full.size(); n += (n < 400 ? 1 : 37)) {
    auto d = decode_frame(std::string_view(full).substr(0, n));
    EXPECT_FALSE(d.ok()) << "a prefix of " << n << " of " << full.size() << " bytes decoded";
  }
  // A cut frame with the rest of another behind it is no better.
  EXPECT_FALSE(decode_frame(full.substr(0, full.size() / 2) + full.substr(0, 10)).ok());
}

TEST(Batch, TheBuilderStartsAgainAfterTake) {
  NodeId sender = NodeId::random();
  FrameBuilder b(kSpoken.max, sender, 5);
  b.add(MessageType::heartbeat, 1, 0, "");
  b.add(MessageType::heartbeat, 2, 0, "");
  std::string first = b.take();
  EXPECT_EQ(b.messages(), 0u);
  b.add(MessageType::goodbye, 3, 0, "");
  auto d = decode_frame(b.take());
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->messages.size(), 1u);
  EXPECT_EQ(d->messages[0].type, MessageType::goodbye);
  EXPECT_EQ(decode_frame(first)->messages.size(), 2u);
}

TEST(Batch, MoreMessagesThanAFrameMayHoldAreRefused) {
  FrameBuilder b(kSpoken.max, NodeId::random(), 1);
  for (std::size_t i = 0; i <= kMaxFrameMessages; ++i) b.add(MessageType::heartbeat, i + 1, 0, "");
  EXPECT_EQ(decode_frame(b.take()).error(), DecodeError::too_many_messages);
}

TEST(Batch, AFrameWithNoMessageIsRefused) {
  std::string id = NodeId::random().bytes();
  EXPECT_EQ(decode_one(pack_array(2, bin(id), 1, std::vector<int>{})).error(), DecodeError::no_messages);
}

TEST(Growth, ExtraFieldsOfALaterVersionAreSkippedAndCounted) {
  std::string id = NodeId::random().bytes();
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(6);  // two fields more than this version's frame
  pk.pack(2);
  pk.pack(bin(id));
  pk.pack(7);
  pk.pack_array(2);
  pk.pack_array(5);  // one more than this version's message
  pk.pack(20), pk.pack(0), pk.pack(3), pk.pack(bin("hello")), pk.pack("later");
  pk.pack_array(4);
  pk.pack(22), pk.pack(0), pk.pack(4), pk.pack(bin(""));
  pk.pack("a later field");
  pk.pack(bin("and another"));
  auto d = decode_one({buf.data(), buf.size()});
  ASSERT_TRUE(d.ok()) << to_string(d.error());
  EXPECT_EQ(d->fields_skipped, 3u);
  ASSERT_EQ(d->messages.size(), 2u);
  EXPECT_EQ(d->messages[0].body, "hello");
  EXPECT_EQ(d->messages[1].corr, 4u);
}

TEST(Growth, LaterVersionsTypesDecodeTypesOutsideTheByteDoNot) {
  std::string id = NodeId::random().bytes();
  EXPECT_EQ(decode_one(frame_of(2, id, std::tuple(0, 1, 1, bin("")))).error(), DecodeError::unknown_type);
  EXPECT_EQ(decode_one(frame_of(2, id, std::tuple(256, 1, 1, bin("")))).error(), DecodeError::unknown_type);
  // A type this build does not know is a later version's: it decodes, and
  // the receiver skips it (Cluster counts it in frames_unknown_type).
  auto later = decode_one(frame_of(2, id, std::tuple(99, 1, 1, bin("x"))));
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(static_cast<int>(later->messages[0].type), 99);
  EXPECT_TRUE(to_string(later->messages[0].type).empty());
  EXPECT_TRUE(decode_one(frame_of(2, id, std::tuple(5, 1, 1, bin("")))).ok());  // a hole in the catalogue
}

TEST(Versions, OnlyTheAcceptedRangeDecodes) {
  std::string id = NodeId::random().bytes();
  auto msg = std::tuple(1, 1, 0, bin(""));
  EXPECT_EQ(decode_one(frame_of(1, id, msg)).error(), DecodeError::bad_version);
  EXPECT_EQ(decode_one(frame_of(3, id, msg)).error(), DecodeError::bad_version);
  EXPECT_EQ(decode_one(frame_of(0, id, msg)).error(), DecodeError::bad_version);
  EXPECT_TRUE(decode_one(frame_of(2, id, msg)).ok());
  auto v3 = decode_frame(frame_of(3, id, msg), {2, 3});
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ(v3->messages[0].version, 3);
}

TEST(Versions, TheHighestCommonVersionIsSpoken) {
  EXPECT_EQ(common_version({2, 2}, {2, 3}), 2);
  EXPECT_EQ(common_version({2, 4}, {3, 5}), 4);
  EXPECT_EQ(common_version({2, 3}, {2, 3}), 3);
  EXPECT_EQ(common_version({2, 2}, {3, 4}), 0);
  EXPECT_EQ(common_version({3, 4}, {1, 2}), 0);
}

TEST(Envelope, RejectsEmptyFrame) { EXPECT_EQ(decode_one("").error(), DecodeError::empty); }

TEST(Envelope, RejectsNonMsgpack) {
  // 0xc1 is the one byte msgpack never uses.
  EXPECT_EQ(decode_one("\xc1\xc1\xc1").error(), DecodeError::not_msgpack);
}

TEST(Envelope, RejectsTruncatedFrames) {
  std::string full = encode(sample());
  for (std::size_t n = 1; n < full.size(); ++n) {
    auto d = decode_one(std::string_view(full).substr(0, n));
    EXPECT_FALSE(d.ok()) << "prefix of " << n << " bytes decoded";
  }
}

TEST(Envelope, RejectsTrailingBytes) {
  EXPECT_EQ(decode_one(encode(sample()) + "x").error(), DecodeError::trailing_bytes);
}

TEST(Envelope, RejectsNonArray) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, 17);
  EXPECT_EQ(decode_one({buf.data(), buf.size()}).error(), DecodeError::not_array);
}

TEST(Envelope, RejectsTooFewFields) {
  std::string id = NodeId::random().bytes();
  EXPECT_EQ(decode_one(pack_array(2, bin(id), 1)).error(), DecodeError::wrong_arity);
  EXPECT_EQ(decode_one(frame_of(2, id, std::tuple(1, 1, 1))).error(), DecodeError::wrong_arity);
}

TEST(Envelope, RejectsFieldsOfWrongType) {
  std::string id = NodeId::random().bytes();
  auto ok_msg = std::vector<std::tuple<int, int, int, msgpack::type::raw_ref>>{{1, 1, 0, bin("")}};
  EXPECT_EQ(decode_one(pack_array("2", bin(id), 1, ok_msg)).error(), DecodeError::bad_field);
  EXPECT_EQ(decode_one(pack_array(2, std::string(id), 1, ok_msg)).error(), DecodeError::bad_field);
  EXPECT_EQ(decode_one(pack_array(2, bin("short"), 1, ok_msg)).error(), DecodeError::bad_field);
  EXPECT_EQ(decode_one(pack_array(2, bin(id), -1, ok_msg)).error(), DecodeError::bad_field);
  EXPECT_EQ(decode_one(pack_array(2, bin(id), 1, 5)).error(), DecodeError::bad_field);
  EXPECT_EQ(decode_one(pack_array(2, bin(id), 1, std::vector<int>{7})).error(), DecodeError::bad_field);
  EXPECT_EQ(decode_one(frame_of(2, id, std::tuple(1, 1.5, 1, bin("")))).error(), DecodeError::bad_field);
  EXPECT_EQ(decode_one(frame_of(2, id, std::tuple(1, 1, -1, bin("")))).error(), DecodeError::bad_field);
  EXPECT_EQ(decode_one(frame_of(2, id, std::tuple(1, 1, 1, std::string("str")))).error(), DecodeError::bad_field);
}

TEST(Envelope, RejectsNestedContainersWithoutAllocating) {
  // A claimed 2^32-element array must be refused by the limits, not allocated.
  EXPECT_FALSE(decode_one("\xdd\xff\xff\xff\xff").ok());
  std::string id = NodeId::random().bytes();
  std::map<int, int> m{{1, 2}};
  EXPECT_FALSE(decode_one(frame_of(2, id, std::tuple(1, 1, 1, bin(""), m))).ok());
  EXPECT_FALSE(decode_one(frame_of(2, id, std::tuple(1, 1, 1, bin(""), std::vector<int>{1}))).ok());
  EXPECT_FALSE(decode_one(std::string(100000, '\x91')).ok());
}

}  // namespace
}  // namespace zswarm::bus
