// Incoming handoff offers in parts: joined in order, bounded per offer and
// in all, dropped when parts stop coming.
#include "names/handoff_assembler.hpp"

#include <gtest/gtest.h>

namespace zswarm::names {
namespace {

using namespace std::chrono_literals;

wire::HandoffOffer part(uint64_t i, uint64_t n, std::string slice) { return {"entry", "state", std::move(slice), i, n}; }

TEST(HandoffAssembler, AOnePartOfferIsWholeAtOnce) {
  HandoffAssembler a({});
  auto w = a.add(bus::NodeId::random(), 1, part(0, 1, "s"), {});
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->has_value());
  EXPECT_EQ((*w)->state, "s");
  EXPECT_EQ(a.partial(), 0u);
}

TEST(HandoffAssembler, PartsJoinInOrderPerSenderAndCorr) {
  ManualClock clock;
  HandoffAssembler a({});
  auto x = bus::NodeId::random(), y = bus::NodeId::random();
  auto deadline = clock.now() + 3s;
  EXPECT_FALSE(a.add(x, 7, part(0, 3, "a"), deadline)->has_value());
  EXPECT_FALSE(a.add(y, 7, part(0, 2, "p"), deadline)->has_value());  // another sender, same corr
  EXPECT_FALSE(a.add(x, 7, part(1, 3, "b"), deadline)->has_value());
  EXPECT_EQ(a.bytes(), 23u);  // each partial offer's entry and kind (10 B here) count too
  auto w = a.add(x, 7, part(2, 3, "c"), deadline);
  ASSERT_TRUE(w && w->has_value());
  EXPECT_EQ((*w)->state, "abc");
  EXPECT_EQ((*w)->entry, "entry");
  auto v = a.add(y, 7, part(1, 2, "q"), deadline);
  ASSERT_TRUE(v && v->has_value());
  EXPECT_EQ((*v)->state, "pq");
  EXPECT_EQ(a.partial(), 0u);
  EXPECT_EQ(a.bytes(), 0u);
}

TEST(HandoffAssembler, APartOutOfOrderDropsTheOffer) {
  HandoffAssembler a({});
  auto x = bus::NodeId::random();
  auto skipped = a.add(x, 1, part(1, 3, "b"), {});  // no part 0
  ASSERT_FALSE(skipped);
  EXPECT_EQ(skipped.error().code, Errc::bad_message);
  (void)a.add(x, 2, part(0, 3, "a"), {});
  auto gap = a.add(x, 2, part(2, 3, "c"), {});
  ASSERT_FALSE(gap);
  EXPECT_EQ(a.partial(), 0u);
  EXPECT_EQ(a.bytes(), 0u);
  (void)a.add(x, 3, part(0, 3, "a"), {});
  EXPECT_FALSE(a.add(x, 3, part(1, 4, "b"), {}));  // the part count changed
}

TEST(HandoffAssembler, StateBoundsPerOfferAndInAll) {
  HandoffAssembler a({/*max_state_bytes*/ 10, /*max_total_bytes*/ 30});
  auto x = bus::NodeId::random();
  (void)a.add(x, 1, part(0, 3, std::string(6, 's')), {});
  auto big = a.add(x, 1, part(1, 3, std::string(6, 's')), {});
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, Errc::too_large);
  EXPECT_EQ(a.bytes(), 0u);
  (void)a.add(x, 2, part(0, 2, std::string(8, 's')), {});
  auto crowded = a.add(x, 3, part(0, 2, std::string(8, 's')), {});  // 18 + 18 > 30 in all
  ASSERT_FALSE(crowded);
  EXPECT_EQ(crowded.error().code, Errc::too_large);
  EXPECT_EQ(a.partial(), 1u);
}

TEST(HandoffAssembler, OffersWhosePartsStopComingExpire) {
  ManualClock clock;
  HandoffAssembler a({});
  auto x = bus::NodeId::random(), y = bus::NodeId::random();
  (void)a.add(x, 1, part(0, 2, "a"), clock.now() + 1s);
  (void)a.add(y, 1, part(0, 2, "b"), clock.now() + 5s);
  clock.advance(2s);
  auto gone = a.expire(clock.now());
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0], x);
  EXPECT_EQ(a.partial(), 1u);
  EXPECT_EQ(a.bytes(), 11u);
}

TEST(HandoffAssembler, EachPartMovesTheDeadlineOn) {
  ManualClock clock;
  HandoffAssembler a({});
  auto x = bus::NodeId::random();
  (void)a.add(x, 1, part(0, 3, "a"), clock.now() + 1s);
  clock.advance(900ms);
  (void)a.add(x, 1, part(1, 3, "b"), clock.now() + 1s);
  clock.advance(900ms);  // past part 0's deadline, not part 1's
  EXPECT_TRUE(a.expire(clock.now()).empty());
  auto w = a.add(x, 1, part(2, 3, "c"), clock.now() + 1s);
  ASSERT_TRUE(w && w->has_value());
  EXPECT_EQ((*w)->state, "abc");
}

TEST(HandoffAssembler, OnePeerMayHaveOnlyAFewOffersHalfSent) {
  HandoffAssembler a({64u << 20, 256u << 20, /*max_partial_per_sender*/ 2});
  auto x = bus::NodeId::random(), y = bus::NodeId::random();
  EXPECT_TRUE(a.add(x, 1, part(0, 9, "a"), {}));
  EXPECT_TRUE(a.add(x, 2, part(0, 9, "a"), {}));
  auto third = a.add(x, 3, part(0, 9, "a"), {});
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code, Errc::too_large);
  EXPECT_TRUE(a.add(y, 3, part(0, 9, "a"), {}));  // another peer has its own share
  EXPECT_EQ(a.partial(), 3u);
}

}  // namespace
}  // namespace zswarm::names
