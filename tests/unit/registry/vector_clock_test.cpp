#include "registry/vector_clock.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace zswarm::registry {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

VectorClock random_clock(std::mt19937_64& rng) {
  VectorClock c;
  const char* ids[] = {"a", "b", "c", "d"};
  for (const char* id : ids) {
    if (rng() % 2) c.increment(id, rng() % 4 + 1);
  }
  return c;
}

TEST(VectorClock, StartsEmptyAndIncrements) {
  VectorClock c;
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.get("a"), 0u);
  c.increment("a");
  c.increment("a");
  EXPECT_EQ(c.get("a"), 2u);
  // A node-wide dot jumps ahead; a stale dot still moves forward by one.
  c.increment("a", 10);
  EXPECT_EQ(c.get("a"), 10u);
  c.increment("a", 3);
  EXPECT_EQ(c.get("a"), 11u);
  EXPECT_EQ(c.sum(), 11u);
}

TEST(VectorClock, IdsAreKeptSorted) {
  VectorClock c;
  c.increment("zeta");
  c.increment("alpha");
  c.increment("mid");
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c.entries()[0].first, "alpha");
  EXPECT_EQ(c.entries()[2].first, "zeta");
  EXPECT_EQ(c, (VectorClock{{"mid", 1}, {"zeta", 1}, {"alpha", 1}}));
}

TEST(VectorClock, IncrementSaturates) {
  VectorClock c{{"a", VectorClock::kMaxCounter}};
  c.increment("a");
  EXPECT_EQ(c.get("a"), VectorClock::kMaxCounter);
  c.increment("b", ~VectorClock::Counter{0});
  EXPECT_EQ(c.get("b"), VectorClock::kMaxCounter);
}

TEST(VectorClock, CompareAllFourOrders) {
  VectorClock a{{"a", 1}, {"b", 2}};
  VectorClock b{{"a", 2}, {"b", 2}};
  VectorClock c{{"a", 1}, {"b", 3}};
  VectorClock d{{"a", 1}, {"b", 2}, {"c", 1}};
  EXPECT_EQ(a.compare(a), Order::equal);
  EXPECT_EQ(a.compare(b), Order::before);
  EXPECT_EQ(b.compare(a), Order::after);
  EXPECT_EQ(b.compare(c), Order::concurrent);
  EXPECT_EQ(c.compare(b), Order::concurrent);
  // An id missing on one side counts as zero.
  EXPECT_EQ(a.compare(d), Order::before);
  EXPECT_EQ(d.compare(a), Order::after);
  EXPECT_EQ(VectorClock{}.compare(VectorClock{}), Order::equal);
  EXPECT_EQ(VectorClock{}.compare(a), Order::before);
  EXPECT_EQ((VectorClock{{"x", 1}}).compare(VectorClock{{"y", 1}}), Order::concurrent);
  EXPECT_TRUE(b.dominates(a));
  EXPECT_TRUE(a.dominates(a));
  EXPECT_FALSE(a.dominates(b));
  EXPECT_FALSE(b.dominates(c));
}

TEST(VectorClock, MergeIsPointwiseMax) {
  VectorClock a{{"a", 3}, {"b", 1}};
  VectorClock b{{"b", 5}, {"c", 2}};
  EXPECT_EQ(merge(a, b), (VectorClock{{"a", 3}, {"b", 5}, {"c", 2}}));
  EXPECT_TRUE(merge(a, b).dominates(a));
  EXPECT_TRUE(merge(a, b).dominates(b));
}

TEST(VectorClock, MergeLawsHoldOnRandomClocks) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    const VectorClock a = random_clock(rng);
    const VectorClock b = random_clock(rng);
    const VectorClock c = random_clock(rng);
    EXPECT_EQ(merge(a, b), merge(b, a));                      // commutative
    EXPECT_EQ(merge(merge(a, b), c), merge(a, merge(b, c)));  // associative
    EXPECT_EQ(merge(a, a), a);                                // idempotent
    // compare agrees with itself in reverse, and with dominates.
    const Order ab = a.compare(b);
    const Order ba = b.compare(a);
    const Order mirror[] = {Order::after, Order::before, Order::equal, Order::concurrent};
    EXPECT_EQ(ba, mirror[static_cast<int>(ab)]);
    EXPECT_EQ(a.dominates(b), ab == Order::after || ab == Order::equal);
    // sum strictly grows along causality: the conflict rank relies on it.
    if (ab == Order::after) {
      EXPECT_GT(a.sum(), b.sum());
    }
  }
}

TEST(VectorClock, FoldMovesRetiredIdsIntoOneFloorThatKeepsTheirLargestCounter) {
  const std::string floor(VectorClock::kRetired);
  VectorClock c{{"a", 5}, {"b", 9}, {"c", 2}};
  EXPECT_EQ(c.max(), 9u);
  EXPECT_FALSE(c.fold([](std::string_view id) { return id == "z"; }));  // nothing to fold
  EXPECT_TRUE(c.fold([](std::string_view id) { return id == "a" || id == "c"; }));
  EXPECT_EQ(c, (VectorClock{{floor, 5}, {"b", 9}}));
  EXPECT_EQ(c.max(), 9u);
  // Folding again in another order gives the same: the floor is a maximum.
  VectorClock d{{"a", 5}, {"b", 9}, {"c", 2}};
  EXPECT_TRUE(d.fold([](std::string_view id) { return id == "c"; }));
  EXPECT_TRUE(d.fold([](std::string_view id) { return id == "a"; }));
  EXPECT_EQ(d, c);
  // The floor is never folded away, and sorts first.
  EXPECT_TRUE(d.fold([](std::string_view) { return true; }));
  EXPECT_EQ(d, (VectorClock{{floor, 9}}));
  EXPECT_EQ(d.entries().front().first, floor);
  d.drop(floor);
  EXPECT_TRUE(d.empty());
}

TEST(VectorClock, FoldIsMonotone) {
  // A clock that dominated another still does once both fold the same ids:
  // what keeps replicas that fold at different times ordering versions alike.
  std::mt19937_64 rng(77);
  const std::vector<std::string> ids = {"a", "b", "c", "d", "e"};
  for (int i = 0; i < 2000; ++i) {
    VectorClock a, b;
    for (const auto& id : ids) {
      if (rng() % 2) a.raise(id, 1 + rng() % 20);
      if (rng() % 2) b.raise(id, 1 + rng() % 20);
    }
    const VectorClock after = merge(a, b);  // dominates both
    const std::string gone = ids[rng() % ids.size()];
    auto retired = [&](std::string_view id) { return id == gone || id == "e"; };
    VectorClock fa = a, fafter = after;
    fa.fold(retired);
    fafter.fold(retired);
    EXPECT_TRUE(fafter.dominates(fa));
    EXPECT_EQ(fa.max(), a.max());
  }
}

TEST(VectorClockWire, RoundTrips) {
  for (const VectorClock& c : {VectorClock{}, VectorClock{{"n1", 1}},
                               VectorClock{{"a@h#1", 7}, {"b@h#2", VectorClock::kMaxCounter}}}) {
    auto decoded = decode_vector_clock(encode(c));
    ASSERT_TRUE(decoded.ok()) << to_string(decoded.error());
    EXPECT_EQ(*decoded, c);
  }
}

TEST(VectorClockWire, IsCompact) {
  // [["a",1]] : array(1), array(2), bin "a", 1
  EXPECT_EQ(encode(VectorClock{{"a", 1}}), bytes({0x91, 0x92, 0xc4, 0x01, 'a', 0x01}));
}

TEST(VectorClockWire, RejectsEveryTruncation) {
  const std::string good = encode(VectorClock{{"alpha", 300}, {"beta", 70000}});
  for (std::size_t n = 0; n < good.size(); ++n) {
    // malformed, or too_large when a header claims more than the bytes left.
    EXPECT_FALSE(decode_vector_clock(good.substr(0, n)).ok()) << n;
  }
}

TEST(VectorClockWire, RejectsBadInput) {
  struct Case {
    std::string input;
    DecodeErrc code;
  };
  const Case cases[] = {
      {bytes({0xa1, 'a'}), DecodeErrc::wrong_type},                        // a string
      {bytes({0x91, 0xc4, 0x01, 'a'}), DecodeErrc::wrong_type},                  // pair not an array
      {bytes({0x91, 0x91, 0xc4, 0x01, 'a'}), DecodeErrc::wrong_type},            // pair of one
      {bytes({0x91, 0x92, 0x01, 0x01}), DecodeErrc::wrong_type},           // id not a bin
      {bytes({0x91, 0x92, 0xa1, 'a', 0x01}), DecodeErrc::wrong_type},      // id a str (version 1's form)
      {bytes({0x91, 0x92, 0xc4, 0x01, 'a', 0xa1, 'b'}), DecodeErrc::wrong_type},  // counter a string
      {bytes({0x91, 0x92, 0xc4, 0x01, 'a', 0xff}), DecodeErrc::wrong_type},      // negative counter
      {bytes({0x91, 0x92, 0xc4, 0x01, 'a', 0xc3}), DecodeErrc::wrong_type},      // bool counter
      {bytes({0x91, 0x92, 0xc4, 0x01, 'a', 0x00}), DecodeErrc::invalid_value},   // zero counter
      {bytes({0x91, 0x92, 0xc4, 0x00, 0x01}), DecodeErrc::invalid_value},        // empty id
      {bytes({0x91, 0x92, 0xc4, 0x01, 'a', 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
       DecodeErrc::invalid_value},  // counter above 2^53
      {bytes({0x92, 0x92, 0xc4, 0x01, 'b', 0x01, 0x92, 0xc4, 0x01, 'a', 0x01}),
       DecodeErrc::duplicate},  // ids not ascending
      {bytes({0x92, 0x92, 0xc4, 0x01, 'a', 0x01, 0x92, 0xc4, 0x01, 'a', 0x02}), DecodeErrc::duplicate},
      {bytes({0x90, 0x00}), DecodeErrc::trailing_bytes},
      {bytes({0xc1}), DecodeErrc::malformed},  // never-used msgpack byte
      // array32 claiming 4 billion pairs in 5 bytes: refused, nothing allocated.
      {bytes({0xdd, 0xff, 0xff, 0xff, 0xff}), DecodeErrc::too_large},
      // map32 claiming 4 billion pairs.
      {bytes({0xdf, 0xff, 0xff, 0xff, 0xff}), DecodeErrc::too_large},
      // str32 claiming 4 GiB: the parser waits for bytes that never come.
      {bytes({0xdb, 0xff, 0xff, 0xff, 0xff}), DecodeErrc::malformed},
      // ext types are not part of the wire.
      {bytes({0xd4, 0x01, 0x00}), DecodeErrc::too_large},
  };
  for (const Case& c : cases) {
    auto r = decode_vector_clock(c.input);
    ASSERT_FALSE(r.ok()) << testing::PrintToString(c.input);
    EXPECT_EQ(r.error().code, c.code) << testing::PrintToString(c.input) << " got "
                                      << to_string(r.error());
  }
}

TEST(VectorClockWire, RejectsTooManyEntriesAndLongIds) {
  VectorClock big;
  for (std::size_t i = 0; i <= VectorClock::kMaxEntries; ++i) big.increment(std::string("n").append(std::to_string(i)));
  auto r = decode_vector_clock(encode(big));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, DecodeErrc::too_large);

  VectorClock long_id{{std::string(VectorClock::kMaxIdBytes + 1, 'x'), 1}};
  r = decode_vector_clock(encode(long_id));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, DecodeErrc::too_large);
}

TEST(VectorClockWire, RejectsDeepNesting) {
  std::string deep(100, static_cast<char>(0x91));
  deep.push_back(static_cast<char>(0x90));
  auto r = decode_vector_clock(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, DecodeErrc::too_large);
}

TEST(VectorClockWire, SurvivesRandomGarbage) {
  std::mt19937_64 rng(42);
  const std::string good = encode(VectorClock{{"alpha", 300}, {"beta", 70000}, {"c", 1}});
  for (int i = 0; i < 20000; ++i) {
    std::string in = good;
    if (i % 3 == 0) {
      in.resize(rng() % 64);
      for (auto& ch : in) ch = static_cast<char>(rng());
    } else {
      for (int f = 0; f < 3; ++f) in[rng() % in.size()] = static_cast<char>(rng());
    }
    auto r = decode_vector_clock(in);
    if (r.ok()) {  // whatever decodes is a valid clock that survives a round trip
      auto again = decode_vector_clock(encode(*r));
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(*again, *r);
    }
  }
}

}  // namespace
}  // namespace zswarm::registry
