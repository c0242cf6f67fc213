// SendQueue: order, the one wake-up per burst, and a bound that waits for
// room or refuses, with producers on several threads.
#include "node/send_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

namespace zswarm::node {
namespace {

using namespace std::chrono_literals;
using Q = SendQueue<int>;

TEST(SendQueue, OnlyThePushThatFindsTheLoopIdleWakesIt) {
  Q q(10);
  EXPECT_EQ(q.push(1, 0ms), Q::Pushed::wake);
  EXPECT_EQ(q.push(2, 0ms), Q::Pushed::queued);
  std::vector<int> out;
  EXPECT_TRUE(q.take(out, 1));  // one left: the loop comes back without a wake-up
  EXPECT_EQ(q.push(3, 0ms), Q::Pushed::queued);
  EXPECT_FALSE(q.take(out, 10));
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(q.push(4, 0ms), Q::Pushed::wake);  // it found the queue empty: idle again
}

TEST(SendQueue, AFullQueueRefusesOrWaitsForRoom) {
  Q q(2);
  EXPECT_NE(q.push(1, 0ms), Q::Pushed::full);
  EXPECT_NE(q.push(2, 0ms), Q::Pushed::full);
  EXPECT_EQ(q.push(3, 0ms), Q::Pushed::full);
  EXPECT_EQ(q.push(3, 20ms), Q::Pushed::full);  // nobody takes: the deadline passes
  std::thread taker([&] {  // makes room, before or while the push below waits
    std::vector<int> out;
    q.take(out, 1);
  });
  EXPECT_NE(q.push(3, 5s), Q::Pushed::full);  // room came within the deadline
  taker.join();
  std::vector<int> out;
  q.take(out, 10);
  EXPECT_EQ(out, (std::vector<int>{2, 3}));
}

TEST(SendQueue, EachProducersItemsKeepTheirOrderAndNoneIsLost) {
  constexpr int kProducers = 4, kEach = 5000;
  SendQueue<std::pair<int, int>> q(64);  // small: producers wait on each other and the taker
  std::atomic<int> done{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p)
    producers.emplace_back([&, p] {
      for (int i = 0; i < kEach; ++i)
        while (q.push({p, i}, 100ms) == decltype(q)::Pushed::full) {
        }
      ++done;
    });
  std::map<int, int> next;
  int taken = 0;
  std::vector<std::pair<int, int>> out;
  while (taken < kProducers * kEach) {
    out.clear();
    q.take(out, 100);
    for (auto [p, i] : out) {
      EXPECT_EQ(i, next[p]) << "producer " << p;
      next[p] = i + 1;
    }
    taken += static_cast<int>(out.size());
    if (out.empty()) std::this_thread::yield();
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(done.load(), kProducers);
  for (int p = 0; p < kProducers; ++p) EXPECT_EQ(next[p], kEach);
}

}  // namespace
}  // namespace zswarm::node
