// Resync: a peer stays owed until its snapshot's last chunk, and is asked at
// most once per interval, except right after it (re)appears.
#include "names/resync.hpp"

#include <gtest/gtest.h>

namespace zswarm::names {
namespace {

using namespace std::chrono_literals;

TEST(Resync, AsksAtOnceThenAtMostOncePerInterval) {
  ManualClock clock;
  Resync r(1s);
  auto peer = bus::NodeId::random();
  EXPECT_TRUE(r.want(peer, clock.now()));
  EXPECT_FALSE(r.want(peer, clock.now()));
  clock.advance(999ms);
  EXPECT_FALSE(r.want(peer, clock.now()));
  clock.advance(1ms);
  EXPECT_TRUE(r.want(peer, clock.now()));
  EXPECT_TRUE(r.is_owed(peer));
}

TEST(Resync, OwedUntilTheSnapshotArrives) {
  ManualClock clock;
  Resync r;
  auto a = bus::NodeId::random(), b = bus::NodeId::random();
  (void)r.want(a, clock.now());
  (void)r.want(b, clock.now());
  EXPECT_EQ(r.owed().size(), 2u);
  r.synced(a);
  EXPECT_FALSE(r.is_owed(a));
  EXPECT_TRUE(r.is_owed(b));
  r.forget(b);
  EXPECT_TRUE(r.owed().empty());
}

TEST(Resync, ANewMemberIsAskedWithoutWaiting) {
  ManualClock clock;
  Resync r(1s);
  auto peer = bus::NodeId::random();
  EXPECT_TRUE(r.want(peer, clock.now()));
  r.reset(peer);  // it came up again
  EXPECT_TRUE(r.want(peer, clock.now()));
}

}  // namespace
}  // namespace zswarm::names
