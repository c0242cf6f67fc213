// Requests in flight: each ends exactly once, by its answer, its deadline,
// or its node going away (re-routed when it can be).
#include "names/requests.hpp"

#include <gtest/gtest.h>

namespace zswarm::names {
namespace {

using namespace std::chrono_literals;

struct Outcome {
  int calls = 0;
  std::string last;  // "ok:VALUE" or the error's name
  Requests::Done done() {
    return [this](Result<std::string, Error> r) {
      ++calls;
      last = r ? "ok:" + *r : std::string(r.error().name());
    };
  }
};

TEST(Requests, AnAnswerEndsItOnceAndALateOneFindsNothing) {
  ManualClock clock;
  Requests q;
  Outcome o;
  uint64_t id = q.next_id();
  q.add(id, bus::NodeId::random(), clock.now() + 5s, o.done());
  EXPECT_TRUE(q.complete(id, std::string("v")));
  EXPECT_FALSE(q.complete(id, std::string("again")));
  EXPECT_EQ(o.calls, 1);
  EXPECT_EQ(o.last, "ok:v");
  EXPECT_EQ(q.size(), 0u);
}

TEST(Requests, IdsAreFreshForTheNodesLife) {
  Requests q;
  uint64_t a = q.next_id(), b = q.next_id();
  EXPECT_NE(a, 0u);
  EXPECT_GT(b, a);
}

TEST(Requests, DeadlinesFailWithTimeoutOnlyWhenDue) {
  ManualClock clock;
  Requests q;
  Outcome early, late;
  q.add(q.next_id(), bus::NodeId::random(), clock.now() + 1s, early.done());
  q.add(q.next_id(), bus::NodeId::random(), clock.now() + 3s, late.done());
  clock.advance(999ms);
  EXPECT_EQ(q.expire(clock.now()), 0u);
  clock.advance(1ms);
  EXPECT_EQ(q.expire(clock.now()), 1u);
  EXPECT_EQ(early.last, "timeout");
  EXPECT_EQ(late.calls, 0);
  clock.advance(5s);
  EXPECT_EQ(q.expire(clock.now()), 1u);
  EXPECT_EQ(late.last, "timeout");
}

TEST(Requests, AGoneNodeReroutesWhatCanMoveAndFailsTheRest) {
  ManualClock clock;
  Requests q;
  auto gone = bus::NodeId::random(), other = bus::NodeId::random();
  Outcome plain, moved, elsewhere, call;
  int retries = 0;
  q.add(q.next_id(), gone, clock.now() + 5s, plain.done());
  q.add(q.next_id(), gone, clock.now() + 5s, moved.done(), [&] { ++retries; });
  q.add(q.next_id(), other, clock.now() + 5s, elsewhere.done());
  q.add(q.next_id(), bus::NodeId(), clock.now() + 5s, call.done());  // no node ends it early
  EXPECT_EQ(q.target_gone(gone, "b@h went down"), 2u);
  EXPECT_EQ(plain.last, "node_down");
  EXPECT_EQ(retries, 1);
  EXPECT_EQ(moved.calls, 0);  // the retry owns it now
  EXPECT_EQ(elsewhere.calls, 0);
  EXPECT_EQ(q.target_gone(bus::NodeId(), "nil"), 0u);
  EXPECT_EQ(call.calls, 0);
  EXPECT_EQ(q.size(), 2u);
}

TEST(Requests, ADoneMayStartANewRequest) {
  ManualClock clock;
  Requests q;
  Outcome second;
  uint64_t first = q.next_id();
  q.add(first, bus::NodeId::random(), clock.now() + 1s, [&](Result<std::string, Error>) {
    q.add(q.next_id(), bus::NodeId::random(), clock.now() + 1s, second.done());
  });
  EXPECT_TRUE(q.complete(first, std::string()));
  EXPECT_EQ(q.size(), 1u);
}

}  // namespace
}  // namespace zswarm::names
