#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "test_util.hpp"

namespace zswarm::workers {
namespace {

using namespace std::chrono_literals;
using testing::ExitCapture;
using testing::LogCapture;
using testing::test_search_path;
using zswarm::testing::wait_until;

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override { sup = make("a@test"); }

  std::unique_ptr<Supervisor> make(std::string node, RestartIntensity intensity = {},
                                   Supervisor::Router router = {}) {
    Supervisor::Options o;
    o.node_name = std::move(node);
    o.loader = &loader;
    o.clock = &clock;
    o.threads = 2;
    o.timer_thread = false;
    o.intensity = intensity;
    o.log = logs.sink();
    o.sync_timeout = 10s;
    o.router = std::move(router);
    auto s = std::make_unique<Supervisor>(std::move(o));
    s->set_exit_observer(exits.observer());
    return s;
  }

  Result<WorkerId> start(const std::string& name, const std::string& plugin = "probe",
                         const std::string& args = "", RestartPolicy policy = RestartPolicy::permanent) {
    return sup->start(WorkerSpec{name, plugin, args, policy, std::nullopt});
  }

  std::uint32_t restarts(const std::string& name) {
    auto i = sup->info(name);
    return i ? i->restarts : 0;
  }

  bool wait_restarts(const std::string& name, std::uint32_t n) {
    return wait_until([&] { return restarts(name) >= n; });
  }

  ManualClock clock;
  PluginLoader loader{test_search_path()};
  LogCapture logs;
  ExitCapture exits;
  std::unique_ptr<Supervisor> sup;  // last: destroyed before what it uses
};

// A node's loop holds the pool's wake-ups for a turn; a synchronous call
// made from the holding thread must still be answered, not time out.
TEST_F(SupervisorTest, ASynchronousCallFromAThreadHoldingWakeupsIsAnswered) {
  ASSERT_TRUE(start("w1", "probe", "hello"));
  for (int round = 0; round < 20; ++round) {  // most rounds find the pool asleep
    ASSERT_TRUE(sup->wait_idle(std::chrono::seconds(5)));
    sup->runtime().hold_wakeups();
    ASSERT_TRUE(sup->cast("w1", "ping"));
    auto r = sup->call_sync("w1", "ping");
    sup->runtime().release_wakeups();
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(*r, "pong");
  }
}

TEST_F(SupervisorTest, StartCallStop) {
  auto id = start("w1", "probe", "hello");
  ASSERT_TRUE(id) << id.error().to_string();
  EXPECT_EQ(*id, 1u);
  EXPECT_EQ(logs.count("w1", "init hello"), 1u);  // start is synchronous
  auto r = sup->call_sync("w1", "ping");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, "pong");
  EXPECT_EQ(sup->count(), 1u);

  ASSERT_TRUE(sup->stop("w1"));
  EXPECT_EQ(logs.count("w1", "terminate " + std::to_string(ZSWARM_EXIT_STOPPED)), 1u);
  EXPECT_EQ(sup->count(), 0u);
  ASSERT_TRUE(exits.wait_for(1));
  EXPECT_EQ(exits.exits()[0].reason, ExitReason::stopped);
  EXPECT_EQ(exits.exits()[0].id, 1u);

  auto gone = sup->call_sync("w1", "ping");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Errc::not_found);
  auto stop_again = sup->stop("w1");
  ASSERT_FALSE(stop_again);
  EXPECT_EQ(stop_again.error().code, Errc::not_found);
  EXPECT_FALSE(sup->cast("w1", "x"));
}

// start_async runs init on the pool: the caller goes on while init blocks,
// the callback gets what start would have returned, and a message cast once
// the name is taken waits for init.
TEST_F(SupervisorTest, StartAsyncRunsInitOnThePool) {
  std::promise<Result<WorkerId>> slow, bad;
  auto slow_done = slow.get_future(), bad_done = bad.get_future();
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> on_caller{false};
  sup->start_async(WorkerSpec{"slow", "probe", "init_sleep 300", RestartPolicy::permanent, std::nullopt},
                   [&](Result<WorkerId> r) {
                     on_caller = std::this_thread::get_id() == caller;
                     slow.set_value(std::move(r));
                   });
  sup->start_async(WorkerSpec{"bad", "probe", "fail_init", RestartPolicy::permanent, std::nullopt},
                   [&](Result<WorkerId> r) { bad.set_value(std::move(r)); });
  EXPECT_EQ(slow_done.wait_for(0ms), std::future_status::timeout) << "start_async waited for init";
  ASSERT_TRUE(wait_until([&] { return sup->info("slow").has_value(); }));
  EXPECT_EQ(sup->info("slow")->state, WorkerState::starting);
  ASSERT_TRUE(sup->cast("slow", "seq t 1").ok());  // queued behind init
  ASSERT_EQ(slow_done.wait_for(10s), std::future_status::ready);
  auto id = slow_done.get();
  ASSERT_TRUE(id.ok()) << id.error().to_string();
  EXPECT_FALSE(on_caller.load());
  EXPECT_EQ(sup->info("slow")->id, *id);
  auto report = sup->call_sync("slow", "report");
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(*report, "1 0 0") << "count, out of order, overlapping";
  ASSERT_EQ(bad_done.wait_for(10s), std::future_status::ready);
  auto failed = bad_done.get();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, Errc::init_failed);
  EXPECT_FALSE(sup->info("bad").has_value());
}

TEST_F(SupervisorTest, IdsAreUniqueAndMonotonic) {
  ASSERT_EQ(*start("a"), 1u);
  ASSERT_EQ(*start("b"), 2u);
  ASSERT_TRUE(sup->stop("a"));
  ASSERT_EQ(*start("a"), 3u);
}

TEST_F(SupervisorTest, SecondStartOfANameIsAlreadyStarted) {
  ASSERT_TRUE(start("dup"));
  auto again = start("dup", "echo");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::already_started);
  EXPECT_NE(again.error().detail.find("on a@test as worker 1"), std::string::npos) << again.error().detail;
  EXPECT_EQ(again.error().name(), "already_started");
}

// A REF addresses a worker by id: once it stops, its id is never current
// again, even while a new worker runs under the same name.
TEST_F(SupervisorTest, AWorkerIdAddressesThatWorkerOnly) {
  auto first = start("w1", "probe", "one");
  ASSERT_TRUE(first) << first.error().to_string();
  auto r = [&](WorkerId id) {
    std::promise<Result<std::string>> p;
    sup->call(id, "ping", [&p](Result<std::string> out) { p.set_value(std::move(out)); });
    return p.get_future().get();
  };
  auto pong = r(*first);
  ASSERT_TRUE(pong) << pong.error().to_string();
  EXPECT_EQ(*pong, "pong");
  ASSERT_TRUE(sup->info(*first));
  EXPECT_EQ(sup->info(*first)->name, "w1");

  ASSERT_TRUE(sup->stop("w1"));
  auto second = start("w1", "probe", "two");
  ASSERT_TRUE(second) << second.error().to_string();
  EXPECT_NE(*second, *first);
  auto stale = r(*first);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, Errc::not_found);
  EXPECT_FALSE(sup->cast(*first, "ping"));
  EXPECT_FALSE(sup->info(*first));
  EXPECT_TRUE(sup->cast(*second, "ping"));
  EXPECT_TRUE(r(*second));

  // A stop without waiting frees the id at once too.
  ASSERT_TRUE(sup->stop_async("w1"));
  EXPECT_FALSE(sup->info(*second));
  EXPECT_FALSE(sup->cast(*second, "ping"));
}

TEST_F(SupervisorTest, InitFailuresAreDistinctErrorsAndFreeTheName) {
  auto failed = start("x", "probe", "fail_init");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Errc::init_failed);
  EXPECT_NE(failed.error().detail.find("init refused"), std::string::npos);

  auto threw = start("x", "probe", "throw_init");
  ASSERT_FALSE(threw);
  EXPECT_EQ(threw.error().code, Errc::init_threw);
  EXPECT_NE(threw.error().detail.find("init exploded"), std::string::npos);

  auto c_failed = start("x", "bad_initfail");
  ASSERT_FALSE(c_failed);
  EXPECT_EQ(c_failed.error().code, Errc::init_failed);
  EXPECT_NE(c_failed.error().detail.find("refusing to start"), std::string::npos);

  auto missing = start("x", "no_such_plugin");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::plugin_not_found);

  EXPECT_EQ(sup->count(), 0u);
  EXPECT_EQ(exits.size(), 0u);  // a refused start is the caller's error, not an exit
  EXPECT_TRUE(start("x", "probe", "fine"));
}

TEST_F(SupervisorTest, PermanentRestartsAfterCrashAndAfterNormalExit) {
  ASSERT_TRUE(start("p", "probe", "orig"));
  ASSERT_TRUE(sup->cast("p", "crash"));
  ASSERT_TRUE(wait_restarts("p", 1));
  EXPECT_EQ(logs.count("p", "init orig"), 2u);  // init re-ran with the original args
  EXPECT_EQ(logs.count("p", "terminate " + std::to_string(ZSWARM_EXIT_CRASH)), 1u);
  EXPECT_EQ(*sup->call_sync("p", "args"), "orig");

  ASSERT_TRUE(sup->cast("p", "stop"));
  ASSERT_TRUE(wait_restarts("p", 2));
  EXPECT_EQ(logs.count("p", "terminate " + std::to_string(ZSWARM_EXIT_NORMAL)), 1u);
  EXPECT_EQ(*sup->call_sync("p", "ping"), "pong");
  EXPECT_EQ(exits.size(), 0u);
}

TEST_F(SupervisorTest, TransientRestartsOnlyAfterACrash) {
  ASSERT_TRUE(start("t", "probe", "", RestartPolicy::transient));
  ASSERT_TRUE(sup->cast("t", "crash"));
  ASSERT_TRUE(wait_restarts("t", 1));
  ASSERT_TRUE(sup->cast("t", "stop"));
  ASSERT_TRUE(exits.wait_for(1));
  EXPECT_EQ(exits.exits()[0].name, "t");
  EXPECT_EQ(exits.exits()[0].reason, ExitReason::normal);
  EXPECT_EQ(sup->count(), 0u);
}

TEST_F(SupervisorTest, TemporaryIsNeverRestarted) {
  ASSERT_TRUE(start("tmp", "probe", "", RestartPolicy::temporary));
  ASSERT_TRUE(sup->cast("tmp", "crash"));
  ASSERT_TRUE(exits.wait_for(1));
  auto e = exits.exits()[0];
  EXPECT_EQ(e.reason, ExitReason::crash);
  EXPECT_NE(e.detail.find("boom"), std::string::npos) << e.detail;
  EXPECT_EQ(sup->count(), 0u);
  EXPECT_EQ(logs.count("tmp", "init "), 1u);

  ASSERT_TRUE(start("tmp2", "probe", "", RestartPolicy::temporary));
  ASSERT_TRUE(sup->cast("tmp2", "stop"));
  ASSERT_TRUE(exits.wait_for(2));
  EXPECT_EQ(exits.exits()[1].reason, ExitReason::normal);
}

TEST_F(SupervisorTest, ReturnedErrorCountsAsCrash) {
  ASSERT_TRUE(start("f"));
  ASSERT_TRUE(sup->cast("f", "fail"));
  ASSERT_TRUE(wait_restarts("f", 1));
  EXPECT_EQ(logs.count("f", "crashed: failed: asked to fail"), 1u);
}

TEST_F(SupervisorTest, IntensityExceededStopsAndReportsTheWorker) {
  ASSERT_TRUE(start("i"));
  ASSERT_TRUE(start("bystander"));
  // ManualClock never moves: four crashes fall in one window; three restarts are allowed.
  for (int k = 0; k < 4; ++k) ASSERT_TRUE(sup->cast("i", "crash"));
  ASSERT_TRUE(exits.wait_for(1));
  auto e = exits.exits()[0];
  EXPECT_EQ(e.name, "i");
  EXPECT_EQ(e.reason, ExitReason::intensity_exceeded);
  EXPECT_NE(e.detail.find("3 restarts within 5000 ms"), std::string::npos) << e.detail;
  EXPECT_EQ(logs.count("i", "init "), 4u);
  EXPECT_FALSE(sup->info("i"));
  // The node survives: others run, and the name can be started again.
  EXPECT_EQ(*sup->call_sync("bystander", "ping"), "pong");
  EXPECT_TRUE(start("i"));
}

TEST_F(SupervisorTest, IntensityWindowSlidesWithTheClock) {
  sup = make("a@test", RestartIntensity{2, 10s});
  ASSERT_TRUE(start("w"));
  for (int k = 0; k < 2; ++k) ASSERT_TRUE(sup->cast("w", "crash"));
  ASSERT_TRUE(wait_restarts("w", 2));
  clock.advance(10s + 1ms);  // both restarts leave the window
  for (int k = 0; k < 2; ++k) ASSERT_TRUE(sup->cast("w", "crash"));
  ASSERT_TRUE(wait_restarts("w", 4));
  EXPECT_EQ(*sup->call_sync("w", "ping"), "pong");
  EXPECT_EQ(exits.size(), 0u);
  clock.advance(5s);  // the last two are still inside: one more crash is too many
  ASSERT_TRUE(sup->cast("w", "crash"));
  ASSERT_TRUE(exits.wait_for(1));
  EXPECT_EQ(exits.exits()[0].reason, ExitReason::intensity_exceeded);
}

TEST_F(SupervisorTest, FailingInitDuringRestartCountsTowardsIntensity) {
  ASSERT_TRUE(start("s", "probe", "orig"));
  ASSERT_TRUE(sup->cast("s", "fail_inits 2"));  // the next two inits refuse
  ASSERT_TRUE(sup->cast("s", "crash"));
  ASSERT_TRUE(wait_restarts("s", 3));  // two failed restarts, the third one works
  EXPECT_EQ(*sup->call_sync("s", "args"), "orig");
  EXPECT_EQ(exits.size(), 0u);
  ASSERT_TRUE(sup->cast("s", "crash"));  // a fourth restart in the window is too many
  ASSERT_TRUE(exits.wait_for(1));
  EXPECT_EQ(exits.exits()[0].reason, ExitReason::intensity_exceeded);
  EXPECT_NE(exits.exits()[0].detail.find("boom"), std::string::npos);

  auto refused = start("s2", "probe", "stop_init");  // ZSWARM_STOP from init is a refusal
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::init_failed);
}

TEST_F(SupervisorTest, CallErrorsAreDistinct) {
  std::promise<Result<std::string>> p;
  sup->call("nobody", "x", [&](Result<std::string> r) { p.set_value(std::move(r)); });
  auto nobody = p.get_future().get();  // answered inline
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error().code, Errc::not_found);

  ASSERT_TRUE(start("c", "probe", "", RestartPolicy::temporary));
  auto no_reply = sup->call_sync("c", "noreply");
  ASSERT_FALSE(no_reply);
  EXPECT_EQ(no_reply.error().code, Errc::no_reply);

  // A crash while serving a call answers it, and calls queued behind a
  // temporary worker that dies are answered with `stopped`. The worker is
  // kept busy (its first call's answer blocks) until all three are queued.
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<bool> blocked{false};
  sup->call("c", "ping", [&, released](Result<std::string>) {
    blocked = true;
    released.wait();
  });
  ASSERT_TRUE(wait_until([&] { return blocked.load(); }));
  std::mutex mu;
  std::vector<Result<std::string>> answers;
  for (const char* m : {"crash", "ping", "ping"}) {
    sup->call("c", m, [&](Result<std::string> r) {
      std::lock_guard lock(mu);
      answers.push_back(std::move(r));
    });
  }
  release.set_value();
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard lock(mu);
    return answers.size() == 3;
  }));
  std::lock_guard lock(mu);
  ASSERT_FALSE(answers[0]);
  EXPECT_EQ(answers[0].error().code, Errc::callback_failed);
  EXPECT_NE(answers[0].error().detail.find("boom"), std::string::npos);
  for (int k = 1; k < 3; ++k) {
    ASSERT_FALSE(answers[k]);
    EXPECT_EQ(answers[k].error().code, Errc::stopped);
  }
}

TEST_F(SupervisorTest, TimersFireOnTheInjectedClock) {
  ASSERT_TRUE(start("t"));
  ASSERT_TRUE(sup->cast("t", "timer 7 1000"));
  ASSERT_TRUE(sup->call_sync("t", "ping"));  // the cast has been handled
  EXPECT_EQ(sup->fire_due_timers(), 0u);
  clock.advance(999ms);
  EXPECT_EQ(sup->fire_due_timers(), 0u);
  clock.advance(1ms);
  EXPECT_EQ(sup->fire_due_timers(), 1u);
  ASSERT_TRUE(logs.wait_for("t", "timer 7"));
  clock.advance(1h);
  EXPECT_EQ(sup->fire_due_timers(), 0u);  // one-shot

  ASSERT_TRUE(sup->cast("t", "timer 8 10"));
  EXPECT_EQ(*sup->call_sync("t", "cancel 8"), "cancelled");
  EXPECT_EQ(*sup->call_sync("t", "cancel 8"), "unknown");
  clock.advance(1s);
  EXPECT_EQ(sup->fire_due_timers(), 0u);
}

TEST_F(SupervisorTest, RearmingTimerKeepsFiring) {
  ASSERT_TRUE(start("r"));
  ASSERT_TRUE(sup->cast("r", "timer 1 100 100"));
  ASSERT_TRUE(sup->call_sync("r", "ping"));
  for (int k = 1; k <= 5; ++k) {
    clock.advance(100ms);
    EXPECT_EQ(sup->fire_due_timers(), 1u);
    ASSERT_TRUE(logs.wait_for("r", "timer 1", static_cast<std::size_t>(k)));
    ASSERT_TRUE(sup->wait_idle());  // the re-arm happened inside the timer callback
  }
}

TEST_F(SupervisorTest, TimersDieWithTheirWorker) {
  ASSERT_TRUE(start("t"));
  ASSERT_TRUE(start("u"));
  ASSERT_TRUE(sup->cast("t", "timer 1 1000"));
  ASSERT_TRUE(sup->cast("u", "timer 1 1000"));
  ASSERT_TRUE(sup->cast("t", "crash"));  // restart: the old state's timers go
  ASSERT_TRUE(wait_restarts("t", 1));
  ASSERT_TRUE(sup->call_sync("u", "ping"));
  ASSERT_TRUE(sup->stop("u"));
  clock.advance(2s);
  EXPECT_EQ(sup->fire_due_timers(), 0u);
  EXPECT_EQ(sup->runtime().armed_timers(), 0u);
}

TEST_F(SupervisorTest, ProductionTimerThreadFiresOnTheSystemClock) {
  Supervisor::Options o;
  o.node_name = "rt@test";
  o.loader = &loader;
  o.log = logs.sink();
  Supervisor real(std::move(o));
  ASSERT_TRUE(real.start(WorkerSpec{"t", "probe", "", RestartPolicy::permanent, {}}));
  ASSERT_TRUE(real.cast("t", "timer 3 20"));
  EXPECT_TRUE(logs.wait_for("t", "timer 3"));
}

TEST_F(SupervisorTest, HandoffWithState) {
  ASSERT_TRUE(start("h"));
  ASSERT_TRUE(sup->cast("h", "ping"));
  ASSERT_TRUE(sup->cast("h", "ping"));
  auto h = sup->begin_handoff("h");  // in mailbox order: after both pings
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->kind, HandoffKind::state);
  EXPECT_EQ(h->bytes, "probe:2");
  EXPECT_EQ(sup->count(), 0u);  // removed before begin_handoff returned
  EXPECT_EQ(logs.count("h", "terminate " + std::to_string(ZSWARM_EXIT_HANDOFF)), 1u);
  ASSERT_TRUE(exits.wait_for(1));
  EXPECT_EQ(exits.exits()[0].reason, ExitReason::handoff);

  auto other = make("b@test");
  auto id = other->start(WorkerSpec{"h", "probe", "", RestartPolicy::permanent, h->bytes});
  ASSERT_TRUE(id);
  EXPECT_EQ(logs.count("h", "end_handoff probe:2"), 1u);

  auto bad = other->start(WorkerSpec{"h2", "probe", "", RestartPolicy::permanent, "bad"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::handoff_failed);
  EXPECT_EQ(other->count(), 1u);
}

TEST_F(SupervisorTest, HandoffRestartIgnoreAndCrash) {
  ASSERT_TRUE(start("r"));
  ASSERT_TRUE(sup->cast("r", "handoff restart"));
  auto r = sup->begin_handoff("r");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, HandoffKind::restart);
  EXPECT_TRUE(r->bytes.empty());
  EXPECT_EQ(sup->count(), 0u);

  ASSERT_TRUE(start("i"));
  ASSERT_TRUE(sup->cast("i", "handoff ignore"));
  auto i = sup->begin_handoff("i");
  ASSERT_TRUE(i);
  EXPECT_EQ(i->kind, HandoffKind::ignore);
  EXPECT_EQ(*sup->call_sync("i", "ping"), "pong");  // still here

  ASSERT_TRUE(sup->cast("i", "handoff crash"));
  auto c = sup->begin_handoff("i");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::callback_failed);
  EXPECT_NE(c.error().detail.find("handoff exploded"), std::string::npos);
  EXPECT_EQ(restarts("i"), 1u);  // a crash like any other

  auto none = sup->begin_handoff("nobody");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::not_found);

  // A plugin without begin_handoff (C ABI, NULL) restarts elsewhere.
  ASSERT_TRUE(start("c", "c_ok"));
  auto cr = sup->begin_handoff("c");
  ASSERT_TRUE(cr);
  EXPECT_EQ(cr->kind, HandoffKind::restart);
}

TEST_F(SupervisorTest, ResolveConflictTellsThenStops) {
  ASSERT_TRUE(start("dup"));
  ASSERT_TRUE(sup->resolve_conflict("dup", "b@test/9"));
  EXPECT_EQ(logs.count("dup", "conflict b@test/9"), 1u);
  EXPECT_EQ(logs.count("dup", "terminate " + std::to_string(ZSWARM_EXIT_CONFLICT)), 1u);
  EXPECT_EQ(sup->count(), 0u);
  ASSERT_TRUE(exits.wait_for(1));
  EXPECT_EQ(exits.exits()[0].reason, ExitReason::conflict);
  EXPECT_EQ(sup->resolve_conflict("dup", "x").error().code, Errc::not_found);
}

TEST_F(SupervisorTest, WorkersCastToEachOtherAndToTheRouter) {
  std::mutex mu;
  std::vector<std::string> routed;
  sup = make("a@test", {}, [&](std::string_view from, std::string_view to, std::string_view bytes) {
    if (to != "remote") return false;
    std::lock_guard lock(mu);
    routed.push_back(std::string(from) + ">" + std::string(to) + ":" + std::string(bytes));
    return true;
  });
  ASSERT_TRUE(start("a"));
  ASSERT_TRUE(start("b"));
  EXPECT_EQ(*sup->call_sync("a", "cast b log hello from a"), "sent");
  ASSERT_TRUE(logs.wait_for("b", "hello from a"));
  EXPECT_EQ(*sup->call_sync("a", "cast remote hi"), "sent");
  EXPECT_EQ(*sup->call_sync("a", "cast nowhere hi"), "not_found");
  std::lock_guard lock(mu);
  ASSERT_EQ(routed.size(), 1u);
  EXPECT_EQ(routed[0], "a>remote:hi");
}

TEST_F(SupervisorTest, ListReportsEveryWorker) {
  ASSERT_TRUE(start("b", "echo", "", RestartPolicy::transient));
  ASSERT_TRUE(start("a", "probe", "", RestartPolicy::temporary));
  ASSERT_TRUE(start("c", "probe"));
  ASSERT_TRUE(sup->cast("c", "crash"));
  ASSERT_TRUE(wait_restarts("c", 1));
  ASSERT_TRUE(sup->wait_idle());
  auto l = sup->list();
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].name, "a");
  EXPECT_EQ(l[0].id, 2u);
  EXPECT_EQ(l[0].plugin, "probe");
  EXPECT_EQ(l[0].policy, RestartPolicy::temporary);
  EXPECT_EQ(l[1].plugin, "echo");
  EXPECT_EQ(policy_name(l[1].policy), "transient");
  EXPECT_EQ(l[2].restarts, 1u);
  for (const auto& w : l) {
    EXPECT_EQ(w.state, WorkerState::running);
    EXPECT_EQ(w.mailbox_depth, 0u);
  }
  EXPECT_EQ(parse_policy("temporary"), RestartPolicy::temporary);
  EXPECT_FALSE(parse_policy("sometimes"));
}

TEST_F(SupervisorTest, MessagesWaitInTheMailboxWhileBusy) {
  // The call's answer runs inside the worker's turn: blocking it there keeps
  // the worker busy, so later casts must queue.
  ASSERT_TRUE(start("busy"));
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<bool> in_callback{false};
  sup->call("busy", "ping", [&, released](Result<std::string>) {
    in_callback = true;
    released.wait();
  });
  ASSERT_TRUE(wait_until([&] { return in_callback.load(); }));
  for (int k = 0; k < 5; ++k) ASSERT_TRUE(sup->cast("busy", "ping"));
  EXPECT_EQ(sup->info("busy")->mailbox_depth, 5u);
  release.set_value();
  ASSERT_TRUE(wait_until([&] { return sup->info("busy")->mailbox_depth == 0; }));
}

TEST_F(SupervisorTest, ObserverMayCallBackIntoTheSupervisor) {
  // What a node does: restart the name elsewhere when it exits.
  sup->set_exit_observer([&](const ExitInfo& e) {
    exits.observer()(e);
    if (e.reason == ExitReason::crash) {
      (void)sup->start(WorkerSpec{e.name + "-again", "probe", "", RestartPolicy::permanent, {}});
    }
  });
  ASSERT_TRUE(start("once", "probe", "", RestartPolicy::temporary));
  ASSERT_TRUE(sup->cast("once", "crash"));
  ASSERT_TRUE(wait_until([&] { return sup->info("once-again").has_value(); }));
}

TEST_F(SupervisorTest, ConcurrentStartsOfOneNameHaveOneWinner) {
  std::atomic<int> won{0};
  std::atomic<int> lost{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      auto r = start("race");
      if (r) {
        ++won;
      } else if (r.error().code == Errc::already_started) {
        ++lost;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(lost.load(), 7);
}

TEST_F(SupervisorTest, ShutdownTerminatesEveryWorkerWithoutExitEvents) {
  ASSERT_TRUE(start("s1"));
  ASSERT_TRUE(start("s2", "c_ok"));
  sup.reset();
  EXPECT_EQ(logs.count("s1", "terminate " + std::to_string(ZSWARM_EXIT_SHUTDOWN)), 1u);
  EXPECT_EQ(exits.size(), 0u);
}

}  // namespace
}  // namespace zswarm::workers
