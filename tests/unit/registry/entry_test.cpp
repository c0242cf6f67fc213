#include "registry/entry.hpp"

#include <gtest/gtest.h>

#include <msgpack.hpp>

#include <algorithm>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace zswarm::registry {
namespace {

Entry sample() {
  Entry e;
  e.name = "SingletonName";
  e.owner = "6f1c-uuid-a";
  e.owner_name = "a@host";
  e.worker = 42;
  e.plugin = "singleton_worker";
  e.args = std::string("\x00\x01\xff binary", 10);
  e.metadata = {{"k", "v"}, {"zone", "eu"}};
  e.groups = {"g1", "g2"};
  e.clock = VectorClock{{"6f1c-uuid-a", 3}, {"b", 1}};
  return e;
}

// Packs a map with the sample's fields, letting a test replace or drop one.
std::string encode_with(const std::string& key,
                        const std::function<void(msgpack::packer<msgpack::sbuffer>&)>& value,
                        bool drop = false) {
  const Entry e = sample();
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  const std::vector<std::string> keys = {"name",   "owner",  "owner_name", "worker", "plugin",
                                         "args",   "metadata", "groups",   "clock",  "tombstone"};
  pk.pack_map(static_cast<std::uint32_t>(keys.size() - (drop ? 1 : 0)));
  for (const auto& k : keys) {
    if (k == key && drop) continue;
    pk.pack(k);
    if (k == key) {
      value(pk);
      continue;
    }
    if (k == "name") pk.pack(e.name);
    if (k == "owner") pk.pack(msgpack::type::raw_ref(e.owner.data(), static_cast<std::uint32_t>(e.owner.size())));
    if (k == "owner_name") pk.pack(e.owner_name);
    if (k == "worker") pk.pack(e.worker);
    if (k == "plugin") pk.pack(e.plugin);
    if (k == "args") {
      pk.pack_bin(static_cast<std::uint32_t>(e.args.size()));
      pk.pack_bin_body(e.args.data(), static_cast<std::uint32_t>(e.args.size()));
    }
    if (k == "metadata") pk.pack(e.metadata);
    if (k == "groups") pk.pack(e.groups);
    if (k == "clock") pack(pk, e.clock);
    if (k == "tombstone") pk.pack(false);
  }
  return std::string(buf.data(), buf.size());
}

TEST(EntryWire, RoundTrips) {
  Entry e = sample();
  auto d = decode_entry(encode(e));
  ASSERT_TRUE(d.ok()) << to_string(d.error());
  EXPECT_EQ(*d, e);

  Entry tomb = sample();
  tomb.tombstone = true;
  tomb.owner.clear();
  tomb.args.clear();
  d = decode_entry(encode(tomb));
  ASSERT_TRUE(d.ok()) << to_string(d.error());
  EXPECT_EQ(*d, tomb);
}

TEST(EntryWire, HelperEncodesLikeTheEncoder) {
  // Guards the helper used by the rejection tests below.
  auto d = decode_entry(encode_with("worker", [](auto& pk) { pk.pack(42); }));
  ASSERT_TRUE(d.ok()) << to_string(d.error());
  EXPECT_EQ(*d, sample());
}

TEST(EntryWire, SnapshotRoundTrips) {
  std::vector<Entry> entries;
  for (int i = 0; i < 50; ++i) {
    Entry e = sample();
    e.name = std::string("n").append(std::to_string(i));
    e.tombstone = i % 7 == 0;
    entries.push_back(e);
  }
  auto d = decode_snapshot(encode_snapshot(entries));
  ASSERT_TRUE(d.ok()) << to_string(d.error());
  EXPECT_EQ(*d, entries);
  auto empty = decode_snapshot(encode_snapshot({}));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(EntryWire, SkipsUnknownKeys) {
  std::string bytes = encode(sample());
  // Bump the fixmap count (10 -> 11) and append one more key/value pair.
  ASSERT_EQ(static_cast<unsigned char>(bytes[0]), 0x8a);
  bytes[0] = static_cast<char>(0x8b);
  bytes += std::string("\xa6" "future" "\xc3", 8);
  uint64_t skipped = 0;
  auto d = decode_entry(bytes, &skipped);
  ASSERT_TRUE(d.ok()) << to_string(d.error());
  EXPECT_EQ(*d, sample());
  EXPECT_EQ(skipped, 1u);
}

void expect_error(const std::string& bytes, DecodeErrc code) {
  auto d = decode_entry(bytes);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, code) << to_string(d.error());
}

TEST(EntryWire, RejectsWrongTypes) {
  auto as_int = [](auto& pk) { pk.pack(7); };
  auto as_str = [](auto& pk) { pk.pack(std::string("x")); };
  for (const char* key : {"name", "owner", "owner_name", "plugin", "args", "metadata", "groups",
                          "clock", "tombstone"}) {
    SCOPED_TRACE(key);
    expect_error(encode_with(key, as_int), DecodeErrc::wrong_type);
  }
  expect_error(encode_with("worker", as_str), DecodeErrc::wrong_type);
  expect_error(encode_with("worker", [](auto& pk) { pk.pack(-1); }), DecodeErrc::wrong_type);
  // args and owner must be bin, not str (owner was a hex str in version 1).
  expect_error(encode_with("args", as_str), DecodeErrc::wrong_type);
  expect_error(encode_with("owner", as_str), DecodeErrc::wrong_type);
  expect_error(encode_with("metadata", [](auto& pk) {
                 pk.pack_map(1);
                 pk.pack(std::string("k"));
                 pk.pack(1);
               }),
               DecodeErrc::wrong_type);
  expect_error(encode_with("groups", [](auto& pk) {
                 pk.pack_array(1);
                 pk.pack(1);
               }),
               DecodeErrc::wrong_type);
  expect_error(std::string("\x93\x01\x02\x03", 4), DecodeErrc::wrong_type);  // not a map
  // A non-string key.
  std::string bytes = encode(sample());
  bytes[0] = static_cast<char>(0x8b);
  bytes += std::string("\x01\x02", 2);
  expect_error(bytes, DecodeErrc::wrong_type);
}

TEST(EntryWire, RejectsMissingAndRepeatedFields) {
  for (const char* key : {"name", "owner", "owner_name", "worker", "plugin", "args", "metadata",
                          "groups", "clock", "tombstone"}) {
    SCOPED_TRACE(key);
    expect_error(encode_with(key, {}, /*drop=*/true), DecodeErrc::missing_field);
  }
  std::string bytes = encode(sample());
  bytes[0] = static_cast<char>(0x8b);
  bytes += std::string("\xa4name\xa1x", 7);
  expect_error(bytes, DecodeErrc::duplicate);
  expect_error(encode_with("groups", [](auto& pk) {
                 pk.pack_array(2);
                 pk.pack(std::string("g"));
                 pk.pack(std::string("g"));
               }),
               DecodeErrc::duplicate);
  expect_error(encode_with("metadata", [](auto& pk) {
                 pk.pack_map(2);
                 pk.pack(std::string("k"));
                 pk.pack(std::string("1"));
                 pk.pack(std::string("k"));
                 pk.pack(std::string("2"));
               }),
               DecodeErrc::duplicate);
}

TEST(EntryWire, RejectsInvalidValuesAndOversizedFields) {
  expect_error(encode_with("name", [](auto& pk) { pk.pack(std::string()); }),
               DecodeErrc::invalid_value);
  expect_error(encode_with("name", [](auto& pk) { pk.pack(std::string(kMaxNameBytes + 1, 'n')); }),
               DecodeErrc::too_large);
  expect_error(encode_with("owner", [](auto& pk) { pk.pack_bin(0); }),
               DecodeErrc::invalid_value);  // a live entry needs an owner
  expect_error(encode_with("clock", [](auto& pk) { pk.pack_array(0); }), DecodeErrc::invalid_value);
  expect_error(encode_with("args",
                           [](auto& pk) {
                             const std::string big(kMaxArgsBytes + 1, 'a');
                             pk.pack_bin(static_cast<std::uint32_t>(big.size()));
                             pk.pack_bin_body(big.data(), static_cast<std::uint32_t>(big.size()));
                           }),
               DecodeErrc::too_large);
  expect_error(encode_with("groups",
                           [](auto& pk) {
                             pk.pack_array(kMaxGroups + 1);
                             for (std::size_t i = 0; i <= kMaxGroups; ++i) pk.pack(std::to_string(i));
                           }),
               DecodeErrc::too_large);
  expect_error(encode_with("metadata",
                           [](auto& pk) {
                             pk.pack_map(1);
                             pk.pack(std::string("k"));
                             pk.pack(std::string(kMaxMetadataValueBytes + 1, 'v'));
                           }),
               DecodeErrc::too_large);
  expect_error(encode(sample()) + "x", DecodeErrc::trailing_bytes);
}

TEST(EntryWire, RejectsEveryTruncation) {
  const std::string good = encode(sample());
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(decode_entry(good.substr(0, n)).ok()) << n;
  }
  const std::string snap = encode_snapshot({sample(), sample()});
  for (std::size_t n = 0; n < snap.size(); ++n) {
    EXPECT_FALSE(decode_snapshot(snap.substr(0, n)).ok()) << n;
  }
}

TEST(EntryWire, SnapshotRejectsBadElementsAndHugeCounts) {
  std::string bytes = encode_snapshot({sample()});
  // array32 header claiming 4 billion entries, backed by 1 entry of bytes.
  std::string forged("\xdd\xff\xff\xff\xff", 5);
  forged += encode(sample());
  auto d = decode_snapshot(forged);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, DecodeErrc::too_large);
  // A snapshot element that is not an entry.
  d = decode_snapshot(std::string("\x92\x80\x01", 3));
  ASSERT_FALSE(d.ok());
  // A snapshot that is not an array.
  d = decode_snapshot(encode(sample()));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, DecodeErrc::wrong_type);
}

TEST(EntryWire, SurvivesRandomMutations) {
  std::mt19937_64 rng(9);
  const std::string good = encode_snapshot({sample(), sample()});
  std::size_t accepted = 0;
  // Kept small for the sanitizer build; tests/fuzz goes further.
  for (int i = 0; i < 5000; ++i) {
    std::string in = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) in[rng() % in.size()] = static_cast<char>(rng());
    auto d = decode_snapshot(in);
    if (!d.ok()) continue;
    ++accepted;
    for (const Entry& e : *d) EXPECT_TRUE(validate(e).ok());
    auto again = decode_snapshot(encode_snapshot(*d));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *d);
  }
  EXPECT_GT(accepted, 0u);  // some flips land in payload bytes and stay valid
}

TEST(EntryOrder, IsATotalOrderExtendingCausality) {
  Entry a = sample();
  Entry b = sample();
  b.clock.increment("b", a.clock.max() + 1);  // a causal successor, as Registry::put draws it
  EXPECT_TRUE(version_wins(b, a));
  EXPECT_FALSE(version_wins(a, b));
  EXPECT_FALSE(version_wins(a, a));  // irreflexive
  // Folding retired ids into kRetired keeps the stamp, so the rank too.
  Entry folded = b;
  folded.clock.fold([](std::string_view id) { return id == "6f1c-uuid-a"; });
  EXPECT_EQ(folded.clock, (VectorClock{{std::string(VectorClock::kRetired), 3}, {"b", 4}}));
  EXPECT_TRUE(version_wins(folded, a));
  EXPECT_FALSE(version_wins(a, folded));

  // Concurrent, equal stamps: live beats tombstone...
  Entry x = sample();
  x.clock = VectorClock{{"x", 2}};
  Entry y = sample();
  y.clock = VectorClock{{"y", 2}};
  y.tombstone = true;
  EXPECT_TRUE(version_wins(x, y));
  EXPECT_FALSE(version_wins(y, x));
  // ...then the smaller owner id.
  y.tombstone = false;
  y.owner = "0-smaller";
  EXPECT_TRUE(version_wins(y, x));
  EXPECT_FALSE(version_wins(x, y));
  // A larger stamp (largest counter) beats all tie-breaks, even a tombstone.
  x.clock = VectorClock{{"x", 3}};
  x.tombstone = true;
  EXPECT_TRUE(version_wins(x, y));
  // Different content under an identical clock still resolves one way.
  Entry p = sample();
  Entry q = sample();
  q.args = "different";
  EXPECT_NE(version_wins(p, q), version_wins(q, p));
}

}  // namespace
}  // namespace zswarm::registry
