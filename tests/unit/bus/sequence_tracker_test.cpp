#include "bus/sequence_tracker.hpp"

#include <gtest/gtest.h>

namespace zswarm::bus {
namespace {

TEST(SequenceTracker, FirstThenInOrder) {
  SequenceTracker t;
  NodeId a = NodeId::random();
  EXPECT_EQ(t.observe(a, 1, 5).kind, SeqVerdict::first);  // a slow joiner starts mid-stream
  EXPECT_EQ(t.observe(a, 1, 6).kind, SeqVerdict::in_order);
  EXPECT_EQ(t.observe(a, 1, 7).kind, SeqVerdict::in_order);
  EXPECT_EQ(t.gaps(), 0u);
}

TEST(SequenceTracker, GapCountsWhatWasMissed) {
  SequenceTracker t;
  NodeId a = NodeId::random();
  t.observe(a, 1, 1);
  auto v = t.observe(a, 1, 5);
  EXPECT_EQ(v.kind, SeqVerdict::gap);
  EXPECT_EQ(v.missed, 3u);
  EXPECT_EQ(t.observe(a, 1, 6).kind, SeqVerdict::in_order);
  EXPECT_EQ(t.gaps(), 1u);
  EXPECT_EQ(t.missed(), 3u);
}

TEST(SequenceTracker, DuplicatesAndOldFramesAreStale) {
  SequenceTracker t;
  NodeId a = NodeId::random();
  t.observe(a, 1, 10);
  EXPECT_EQ(t.observe(a, 1, 10).kind, SeqVerdict::stale);
  EXPECT_EQ(t.observe(a, 1, 3).kind, SeqVerdict::stale);
}

TEST(SequenceTracker, NewIncarnationRestartsTheStream) {
  SequenceTracker t;
  NodeId a = NodeId::random();
  t.observe(a, 1, 100);
  EXPECT_EQ(t.observe(a, 2, 1).kind, SeqVerdict::first);
  EXPECT_EQ(t.observe(a, 1, 101).kind, SeqVerdict::stale);  // the old incarnation is over
  EXPECT_EQ(t.observe(a, 2, 2).kind, SeqVerdict::in_order);
}

TEST(SequenceTracker, SendersAreIndependent) {
  SequenceTracker t;
  NodeId a = NodeId::random(), b = NodeId::random();
  t.observe(a, 1, 1);
  t.observe(b, 1, 1);
  EXPECT_EQ(t.observe(a, 1, 2).kind, SeqVerdict::in_order);
  EXPECT_EQ(t.observe(b, 1, 3).kind, SeqVerdict::gap);
  t.forget(b);
  EXPECT_EQ(t.observe(b, 1, 9).kind, SeqVerdict::first);
}

}  // namespace
}  // namespace zswarm::bus
