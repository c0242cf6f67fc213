// The shipped plugins, driven through a real supervisor.
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace zswarm::workers {
namespace {

using namespace std::chrono_literals;
using testing::LogCapture;
using testing::test_search_path;

class PluginsTest : public ::testing::Test {
 protected:
  std::unique_ptr<Supervisor> make(std::string node) {
    Supervisor::Options o;
    o.node_name = std::move(node);
    o.loader = &loader;
    o.clock = &clock;
    o.threads = 2;
    o.timer_thread = false;
    o.log = logs.sink();
    // Wall clock moves with the manual clock, from a fixed instant.
    o.wall_clock = [this] {
      return wall_base_ms + std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - t0).count();
    };
    return std::make_unique<Supervisor>(std::move(o));
  }
  Result<WorkerId> start(Supervisor& s, std::string name, std::string plugin, std::string args = "") {
    return s.start(WorkerSpec{std::move(name), std::move(plugin), std::move(args), RestartPolicy::permanent, {}});
  }

  ManualClock clock;
  Clock::time_point t0 = clock.now();
  std::int64_t wall_base_ms = 1704067200000 + 30000;  // 2024-01-01 00:00:30 UTC
  PluginLoader loader{test_search_path()};
  LogCapture logs;
};

TEST_F(PluginsTest, SingletonWorkerAnnouncesItsNode) {
  auto sup = make("a@host");
  ASSERT_TRUE(start(*sup, "SingletonName", "singleton_worker"));
  EXPECT_EQ(logs.count("SingletonName", "SingletonWorker running on a@host"), 1u);
  EXPECT_EQ(*sup->call_sync("SingletonName", "where"), "SingletonWorker running on a@host");
  auto h = sup->begin_handoff("SingletonName");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->kind, HandoffKind::restart);
}

TEST_F(PluginsTest, CounterCounts) {
  auto sup = make("a@host");
  ASSERT_TRUE(start(*sup, "c", "counter"));
  EXPECT_EQ(*sup->call_sync("c", "get"), "0");
  ASSERT_TRUE(sup->cast("c", "inc"));
  EXPECT_EQ(*sup->call_sync("c", "inc 5"), "6");
  EXPECT_EQ(*sup->call_sync("c", "inc -2"), "4");
  EXPECT_EQ(*sup->call_sync("c", "get"), "4");
  EXPECT_EQ(sup->call_sync("c", "inc x")->rfind("error:", 0), 0u);
  EXPECT_EQ(*sup->call_sync("c", "get"), "4");  // bad input does not reset it

  ASSERT_TRUE(start(*sup, "c41", "counter", "41"));
  EXPECT_EQ(*sup->call_sync("c41", "inc"), "42");
  auto bad = start(*sup, "cx", "counter", "forty");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::init_failed);
  EXPECT_NE(bad.error().detail.find("args must be an integer"), std::string::npos);
}

TEST_F(PluginsTest, CounterStateSurvivesHandoffBetweenSupervisors) {
  auto a = make("a@host");
  auto b = make("b@host");
  ASSERT_TRUE(start(*a, "count", "counter"));
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(a->cast("count", "inc"));
  ASSERT_TRUE(a->cast("count", "inc 35"));
  auto h = a->begin_handoff("count");
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->kind, HandoffKind::state);
  EXPECT_EQ(h->bytes.rfind("pn1 0 ", 0), 0u) << h->bytes;  // base 0, then the slots
  EXPECT_NE(h->bytes.find(":42:0"), std::string::npos) << h->bytes;
  EXPECT_EQ(a->count(), 0u);

  auto id = b->start(WorkerSpec{"count", "counter", "", RestartPolicy::permanent, h->bytes});
  ASSERT_TRUE(id) << id.error().to_string();
  EXPECT_EQ(*b->call_sync("count", "get"), "42");
  EXPECT_EQ(*b->call_sync("count", "inc"), "43");

  auto bad = b->start(WorkerSpec{"count2", "counter", "", RestartPolicy::permanent, "garbage"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::handoff_failed);
}

// The example on two supervisors: c reaches 5, is cut off and counts
// 3 more; the other side restarts it from its args and counts 2; after the
// heal the loser offers its state and the winner answers 10. The base (args)
// counts once, a merge delivered twice changes nothing, and decrements are
// slots too.
TEST_F(PluginsTest, CounterMergesACopyThatLostAConflictLikeAPNCounter) {
  auto a = make("a@host");
  auto b = make("b@host");
  ASSERT_TRUE(start(*a, "c", "counter", "100"));
  ASSERT_TRUE(a->cast("c", "inc 5"));
  EXPECT_EQ(*a->call_sync("c", "inc 3"), "108");
  ASSERT_TRUE(start(*b, "c", "counter", "100"));  // the other side's restart
  ASSERT_TRUE(b->cast("c", "inc"));
  EXPECT_EQ(*b->call_sync("c", "inc"), "102");

  auto lost = a->resolve_conflict("c", "b@host/1");
  ASSERT_TRUE(lost) << lost.error().to_string();
  ASSERT_TRUE(lost->offered);
  EXPECT_EQ(a->count(), 0u);
  ASSERT_TRUE(b->merge_conflict("c", lost->state));
  EXPECT_EQ(*b->call_sync("c", "get"), "110");
  ASSERT_TRUE(b->merge_conflict("c", lost->state));  // idempotent
  EXPECT_EQ(*b->call_sync("c", "dec 4"), "106");
  // A later handoff carries every slot; the next copy writes on in its own.
  auto h = b->begin_handoff("c");
  ASSERT_TRUE(h);
  ASSERT_TRUE(a->start(WorkerSpec{"c", "counter", "100", RestartPolicy::permanent, h->bytes}));
  EXPECT_EQ(*a->call_sync("c", "inc"), "107");
  ASSERT_TRUE(a->merge_conflict("c", lost->state));  // the old loser's slot again: already counted
  EXPECT_EQ(*a->call_sync("c", "get"), "107");
}

// A merge's input came off the wire: one that does not parse is logged and
// ignored, and the winner keeps its count and keeps running.
TEST_F(PluginsTest, CounterIgnoresALosersStateThatDoesNotParse) {
  auto a = make("a@host");
  ASSERT_TRUE(start(*a, "c", "counter"));
  EXPECT_EQ(*a->call_sync("c", "inc 7"), "7");
  for (const char* bad : {"pn1", "pn1 0", "pn1 x y", "pn1 0 1 zz:1:2", "pn1 0 1 1:2", "hello", "pn1 0 1 1:-1:0"}) {
    ASSERT_TRUE(a->merge_conflict("c", bad)) << bad;
    EXPECT_EQ(*a->call_sync("c", "get"), "7") << bad;
  }
  EXPECT_EQ(logs.count_containing("counter: ignored the losing copy's state"), 7u);
  // A state from a build before the PN-counter (a bare integer) still hands off.
  ASSERT_TRUE(a->start(WorkerSpec{"old", "counter", "", RestartPolicy::permanent, std::string("42")}));
  EXPECT_EQ(*a->call_sync("old", "inc"), "43");
}

// A plugin without merge_conflict (revision 1 of the table, or a C plugin
// that left it NULL): the merge fails with a clear error, the worker runs on.
TEST_F(PluginsTest, AMergeForAPluginWithoutMergeConflictFailsAndLeavesItRunning) {
  auto a = make("a@host");
  ASSERT_TRUE(start(*a, "w", "c_ok"));
  auto r = a->merge_conflict("w", "state");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::failed);
  EXPECT_NE(r.error().detail.find("no merge_conflict"), std::string::npos);
  EXPECT_EQ(a->count(), 1u);
}

TEST_F(PluginsTest, EchoRepliesWithExactlyTheBytes) {
  auto sup = make("a@host");
  ASSERT_TRUE(start(*sup, "e", "echo"));
  std::string binary("a\0b\xff\n", 5);
  EXPECT_EQ(*sup->call_sync("e", binary), binary);
  EXPECT_EQ(*sup->call_sync("e", ""), "");
  std::string big(1 << 20, 'x');
  EXPECT_EQ(*sup->call_sync("e", big), big);
}

TEST_F(PluginsTest, CronLogsEachTimeTheExpressionFires) {
  auto sup = make("a@host");
  ASSERT_TRUE(start(*sup, "hello", "cron", "* * * * * Hello world"));
  EXPECT_EQ(sup->fire_due_timers(), 0u);
  clock.advance(29s);  // wall 00:00:59
  EXPECT_EQ(sup->fire_due_timers(), 0u);
  clock.advance(1s);  // wall 00:01:00
  EXPECT_EQ(sup->fire_due_timers(), 1u);
  ASSERT_TRUE(logs.wait_for("hello", "Hello world", 1));
  ASSERT_TRUE(sup->wait_idle());  // the worker re-armed for 00:02:00
  for (int minute = 2; minute <= 4; ++minute) {
    clock.advance(59s);
    EXPECT_EQ(sup->fire_due_timers(), 0u);
    clock.advance(1s);
    EXPECT_EQ(sup->fire_due_timers(), 1u);
    ASSERT_TRUE(logs.wait_for("hello", "Hello world", static_cast<std::size_t>(minute)));
    ASSERT_TRUE(sup->wait_idle());
  }
  EXPECT_EQ(logs.count("hello", "Hello world"), 4u);
}

TEST_F(PluginsTest, CronStepExpression) {
  auto sup = make("a@host");
  ASSERT_TRUE(start(*sup, "every5", "cron", "*/5 * * * * tick"));
  // From 00:00:30 the next multiple of five minutes is 00:05:00.
  clock.advance(4min + 29s);
  EXPECT_EQ(sup->fire_due_timers(), 0u);
  clock.advance(1s);
  EXPECT_EQ(sup->fire_due_timers(), 1u);
  ASSERT_TRUE(logs.wait_for("every5", "tick"));
}

TEST_F(PluginsTest, CronRejectsBadArgsWithAClearMessage) {
  auto sup = make("a@host");
  auto bad = start(*sup, "bad", "cron", "61 * * * * Hello");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::init_failed);
  EXPECT_NE(bad.error().detail.find("invalid expression"), std::string::npos) << bad.error().detail;
  EXPECT_NE(bad.error().detail.find("field minute"), std::string::npos) << bad.error().detail;

  auto no_msg = start(*sup, "bad", "cron", "* * * * *");
  ASSERT_FALSE(no_msg);
  EXPECT_NE(no_msg.error().detail.find("no message"), std::string::npos);

  auto never = start(*sup, "bad", "cron", "0 0 30 2 * never");
  ASSERT_FALSE(never);
  EXPECT_NE(never.error().detail.find("never fires"), std::string::npos);
  EXPECT_EQ(sup->runtime().armed_timers(), 0u);
}

TEST_F(PluginsTest, RawCPluginWorks) {
  auto sup = make("a@host");
  ASSERT_TRUE(start(*sup, "c", "c_ok"));
  EXPECT_EQ(logs.count("c", "c plugin up"), 1u);
  ASSERT_TRUE(sup->cast("c", "x"));
  EXPECT_EQ(*sup->call_sync("c", "x"), "2");
  ASSERT_TRUE(sup->stop("c"));
}

}  // namespace
}  // namespace zswarm::workers
