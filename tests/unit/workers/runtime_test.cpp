#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "test_util.hpp"
#include "workers/runtime.hpp"

namespace zswarm::workers {
namespace {

using namespace std::chrono_literals;
using zswarm::testing::wait_until;

struct Seq final : Message {
  Seq(int s, int n) : sender(s), seq(n) {}
  int sender;
  int seq;
};

// Records per-sender order and catches two threads inside one actor.
class Recorder final : public Actor {
 public:
  std::atomic<int> received{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> disorder{0};
  std::atomic<int> timers{0};

 protected:
  void receive(std::unique_ptr<Message> m) noexcept override {
    if (inside_.exchange(true)) ++overlaps;
    if (auto* s = dynamic_cast<Seq*>(m.get())) {
      int& last = last_[s->sender];
      if (s->seq != last + 1) ++disorder;
      last = s->seq;
      // Widen the window in which a second thread could wrongly enter.
      for (int spin = 0; spin < 64; ++spin) std::atomic_signal_fence(std::memory_order_seq_cst);
    } else if (dynamic_cast<TimerMessage*>(m.get()) != nullptr) {
      ++timers;
    }
    inside_.store(false);
    ++received;
  }

 private:
  std::atomic<bool> inside_{false};
  std::map<int, int> last_;  // touched only inside the turn
};

TEST(Runtime, PoolHasAtLeastTwoThreads) {
  Runtime rt(Runtime::Options{});
  EXPECT_GE(rt.threads(), 2u);
  Runtime one(Runtime::Options{1, nullptr, false, 64});
  EXPECT_EQ(one.threads(), 1u);
}

TEST(Runtime, MailboxIsOrderedPerSenderAndNeverEnteredTwice) {
  Runtime rt(Runtime::Options{4, nullptr, false, 16});
  auto a = std::make_shared<Recorder>();
  auto b = std::make_shared<Recorder>();  // a second busy actor competes for threads
  constexpr int kSenders = 4;
  constexpr int kEach = 10000;
  std::vector<std::thread> senders;
  for (int s = 0; s < kSenders; ++s) {
    senders.emplace_back([&, s] {
      for (int n = 1; n <= kEach; ++n) {
        rt.post(a, std::make_unique<Seq>(s, n));
        rt.post(b, std::make_unique<Seq>(s, n));
      }
    });
  }
  for (auto& t : senders) t.join();
  ASSERT_TRUE(wait_until([&] { return a->received == kSenders * kEach && b->received == kSenders * kEach; }, 30s))
      << a->received << " " << b->received;
  EXPECT_EQ(a->overlaps.load(), 0);
  EXPECT_EQ(a->disorder.load(), 0);
  EXPECT_EQ(b->overlaps.load(), 0);
  EXPECT_EQ(b->disorder.load(), 0);
  EXPECT_TRUE(rt.wait_idle(10s));
  EXPECT_EQ(a->mailbox_depth(), 0u);
}

TEST(Runtime, UrgentMessagesJumpTheQueue) {
  Runtime rt(Runtime::Options{2, nullptr, false, 64});
  // Held actor: nothing runs until release, so the order is decided by post.
  struct Held final : Actor {
    Held() : Actor(true) {}
    std::vector<int> seen;
    void receive(std::unique_ptr<Message> m) noexcept override { seen.push_back(static_cast<Seq&>(*m).seq); }
  };
  auto h = std::make_shared<Held>();
  rt.post(h, std::make_unique<Seq>(0, 1));
  rt.post(h, std::make_unique<Seq>(0, 2));
  rt.post(h, std::make_unique<Seq>(0, 3), /*urgent=*/true);
  EXPECT_EQ(h->mailbox_depth(), 3u);
  rt.release(h);
  ASSERT_TRUE(rt.wait_idle(10s));
  EXPECT_EQ(h->seen, (std::vector<int>{3, 1, 2}));
}

TEST(Runtime, TimersFireInDeadlineOrderOnManualClock) {
  ManualClock clock;
  Runtime rt(Runtime::Options{2, &clock, false, 64});
  auto a = std::make_shared<Recorder>();
  rt.arm_timer(a, 1, 0, 30ms);
  rt.arm_timer(a, 2, 0, 10ms);
  rt.arm_timer(a, 2, 0, 20ms);  // re-arm replaces
  EXPECT_EQ(rt.armed_timers(), 2u);
  EXPECT_EQ(rt.next_deadline(), clock.now() + 20ms);
  clock.advance(25ms);
  EXPECT_EQ(rt.fire_due_timers(), 1u);
  clock.advance(5ms);
  EXPECT_EQ(rt.fire_due_timers(), 1u);
  ASSERT_TRUE(wait_until([&] { return a->timers == 2; }));
  EXPECT_FALSE(rt.next_deadline());
}

TEST(Runtime, TimerOfADroppedActorIsDiscarded) {
  ManualClock clock;
  Runtime rt(Runtime::Options{2, &clock, false, 64});
  auto a = std::make_shared<Recorder>();
  rt.arm_timer(a, 1, 0, 1ms);
  a.reset();
  clock.advance(1s);
  EXPECT_EQ(rt.fire_due_timers(), 0u);
  EXPECT_EQ(rt.armed_timers(), 0u);
}

TEST(Runtime, ManyActorsShareFewThreads) {
  Runtime rt(Runtime::Options{2, nullptr, false, 64});
  std::vector<std::shared_ptr<Recorder>> actors;
  for (int i = 0; i < 1000; ++i) actors.push_back(std::make_shared<Recorder>());
  for (int n = 1; n <= 10; ++n) {
    for (auto& a : actors) rt.post(a, std::make_unique<Seq>(0, n));
  }
  ASSERT_TRUE(rt.wait_idle(10s));
  for (auto& a : actors) {
    ASSERT_EQ(a->received.load(), 10);
    ASSERT_EQ(a->disorder.load(), 0);
  }
}

// An event loop holds the pool's wake-ups for a turn (one futex wake per
// frame, not per message): what it posted runs once it lets go, and a wait
// on the pool from the holding thread flushes first instead of sleeping out
// its deadline with every pool thread asleep.
TEST(Runtime, HeldWakeupsRunAtReleaseAndAWaitFromTheHolderFlushesThem) {
  Runtime rt(Runtime::Options{2, nullptr, false, 64});
  std::vector<std::shared_ptr<Recorder>> actors;
  for (int i = 0; i < 50; ++i) actors.push_back(std::make_shared<Recorder>());
  auto all_received = [&](int n) {
    for (auto& a : actors)
      if (a->received.load() != n) return false;
    return true;
  };

  rt.hold_wakeups();
  for (auto& a : actors) rt.post(a, std::make_unique<Seq>(0, 1));
  rt.release_wakeups();
  ASSERT_TRUE(wait_until([&] { return all_received(1); }, 5s));

  rt.hold_wakeups();
  for (auto& a : actors) rt.post(a, std::make_unique<Seq>(0, 2));
  EXPECT_TRUE(rt.wait_idle(5s));  // still holding
  EXPECT_TRUE(all_received(2));
  for (auto& a : actors) rt.post(a, std::make_unique<Seq>(0, 3));
  rt.release_wakeups();
  ASSERT_TRUE(wait_until([&] { return all_received(3); }, 5s));
  for (auto& a : actors) EXPECT_EQ(a->disorder.load(), 0);
}

// The same property end to end: casts from several threads to one plugin worker.
TEST(SupervisorMailbox, CastsFromManyThreadsAreHandledInOrderOneAtATime) {
  PluginLoader loader(testing::test_search_path());
  Supervisor::Options o;
  o.node_name = "a@test";
  o.loader = &loader;
  o.threads = 4;
  Supervisor sup(std::move(o));
  ASSERT_TRUE(sup.start(WorkerSpec{"seq", "probe", "", RestartPolicy::permanent, {}}));
  constexpr int kSenders = 4;
  constexpr int kEach = 5000;
  std::vector<std::thread> senders;
  for (int s = 0; s < kSenders; ++s) {
    senders.emplace_back([&, s] {
      for (int n = 1; n <= kEach; ++n) {
        ASSERT_TRUE(sup.cast("seq", "seq t" + std::to_string(s) + " " + std::to_string(n)));
      }
    });
  }
  for (auto& t : senders) t.join();
  auto report = sup.call_sync("seq", "report");  // queued after every cast
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_EQ(*report, std::to_string(kSenders * kEach) + " 0 0");
}

}  // namespace
}  // namespace zswarm::workers
