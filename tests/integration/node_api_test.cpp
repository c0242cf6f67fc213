// The embeddable C++ API: two zswarm::Node instances in one process, on
// loopback, driven only through include/zswarm/node.hpp.
#include <random>

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "registry/hash_ring.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"
#include "zswarm/node.hpp"

namespace zswarm::testing {
namespace {

using namespace std::chrono_literals;

struct NodeApi : ::testing::Test {
  std::string dir;
  NodeOptions base;
  std::vector<std::unique_ptr<Node>> nodes;

  void SetUp() override {
    char tmpl[] = "/tmp/zsw-api-XXXXXX";
    dir = mkdtemp(tmpl);
    base.cluster = "api-" + std::to_string(::getpid());
    base.beacon_port = static_cast<uint16_t>(47000 + std::random_device{}() % 2000);
    base.control_dir = dir;
    base.log_level = "warn";
    scale_detector_for_this_build(base);
  }
  void TearDown() override {
    nodes.clear();
    std::filesystem::remove_all(dir);
  }
  Node& start(const std::string& name) {
    NodeOptions o = base;
    o.name = name;
    auto n = Node::start(o);
    EXPECT_TRUE(n.ok()) << (n.ok() ? "" : n.error().detail);
    nodes.push_back(std::move(n).value());
    return *nodes.back();
  }
  // A name that a@h's ring gives to b@h once b has joined ("" if none).
  static std::string placed_on_b_after_join(const std::string& prefix) {
    registry::HashRing ring;
    ring.add_member("a", "a@h");
    ring.add_member("b", "b@h");
    for (int i = 0; i < 64; ++i) {
      std::string n = std::string(prefix).append(std::to_string(i));
      if (*ring.owner(n) == "b") return n;
    }
    return "";
  }
  static std::string state_of(Node& n, const std::string& who) {
    for (const auto& m : n.members())
      if (m.name == who) return m.state;
    return "unknown";
  }
  static int alive(Node& n) {
    int k = 0;
    for (const auto& m : n.members()) k += m.state == "alive";
    return k;
  }
};

#ifdef ZSWARM_TEST_FIXTURE_DIR
// Node::send from 4 threads at once to a worker on the other node: every
// message arrives, and each thread's arrive in the order it sent them.
TEST_F(NodeApi, SendsFromFourThreadsArriveAllAndInOrderPerSender) {
  base.plugin_path = {ZSWARM_TEST_PLUGIN_DIR, ZSWARM_TEST_FIXTURE_DIR};
  Node& a = start("a");
  Node& b = start("b");
  ASSERT_TRUE(wait_until([&] { return alive(a) == 2 && alive(b) == 2; }));
  std::string name;
  for (int i = 0; i < 16 && name.empty(); ++i) {
    std::string n = std::string("order").append(std::to_string(i));
    auto ref = a.register_name(n, "probe");
    ASSERT_TRUE(ref.ok()) << ref.error().to_string();
    if (ref->rfind("b@", 0) == 0) name = n;
  }
  ASSERT_FALSE(name.empty()) << "the ring put no name on b";
  constexpr int kSenders = 4, kEach = 5000;
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int t = 0; t < kSenders; ++t)
    threads.emplace_back([&, t] {
      for (int i = 1; i <= kEach; ++i)
        if (!a.send(name, "seq t" + std::to_string(t) + " " + std::to_string(i)).ok()) ++failed;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed.load(), 0);
  // The report is a call from this thread; the senders' messages may still
  // be on their way, so ask until all have arrived.
  std::string report;
  EXPECT_TRUE(wait_until([&] {
    auto r = a.call(name, "report", 2s);
    report = r ? *r : r.error().name();
    return report.rfind(std::to_string(kSenders * kEach) + " ", 0) == 0;
  }, 20s)) << report;
  EXPECT_EQ(report, std::to_string(kSenders * kEach) + " 0 0") << "count, out of order, overlapping";
}

// A worker whose handle and begin_handoff each block for seconds holds up
// only itself: its node's loop keeps heartbeating and answering, no peer
// suspects it, and the handoff completes once the worker answers.
TEST_F(NodeApi, ABlockingWorkerNeverStallsItsNode) {
  base.plugin_path = {ZSWARM_TEST_PLUGIN_DIR, ZSWARM_TEST_FIXTURE_DIR};
  base.host = "h";
  Node& a = start("a");
  const std::string slow = placed_on_b_after_join("slow");
  ASSERT_FALSE(slow.empty());
  ASSERT_TRUE(a.register_name(slow, "probe").ok());
  ASSERT_TRUE(a.send(slow, "handoff_sleep 2000").ok());
  ASSERT_TRUE(a.send(slow, "sleep 5000").ok());  // the handoff waits behind this in the mailbox
  Node& b = start("b");
  ASSERT_TRUE(wait_until([&] { return alive(a) == 2 && alive(b) == 2; }));
  const uint64_t suspicions_before = b.info().stats.suspicions_raised;
  // Sample every 100 ms for 7.5 s, while the worker blocks.
  const auto until = std::chrono::steady_clock::now() + 7500ms;
  std::chrono::steady_clock::duration slowest{};
  bool always_alive = true;
  EXPECT_TRUE(wait_until(
      [&] {
        auto t0 = std::chrono::steady_clock::now();
        auto info = a.info();  // the control socket's path: a hop through a's loop
        slowest = std::max(slowest, std::chrono::steady_clock::now() - t0);
        EXPECT_EQ(info.name, "a@h");
        always_alive = always_alive && state_of(b, "a@h") == "alive" && state_of(a, "b@h") == "alive";
        return std::chrono::steady_clock::now() >= until;
      },
      15s, 100ms));
  EXPECT_TRUE(always_alive) << "a peer was suspected while the worker blocked";
  EXPECT_LT(slowest, 500ms) << "a's loop stalled";
  EXPECT_EQ(b.info().stats.suspicions_raised, suspicions_before) << "b suspected a at some point";
  EXPECT_GT(b.info().stats.probes_sent, 0u) << "b never probed a: nothing was checked";
  // The worker answered at last: the name moved, with its state.
  EXPECT_TRUE(wait_until([&] {
    auto r = b.whereis(slow);
    return r && r->rfind("b@h/", 0) == 0;
  }, 10s)) << (a.whereis(slow) ? *a.whereis(slow) : "gone");
  auto restored = b.call(slow, "restored", 2s);
  ASSERT_TRUE(restored.ok()) << restored.error().to_string();
  EXPECT_NE(*restored, "0") << "handed off without its state";
}

// A plugin whose init blocks holds up only its own name: init runs on the
// pool, the node's loop keeps answering and heartbeating meanwhile, the
// registration answers once init is done, and messages for a name that is
// starting here by handoff wait for it, in order.
TEST_F(NodeApi, ASlowInitHoldsUpOnlyItsName) {
  base.plugin_path = {ZSWARM_TEST_PLUGIN_DIR, ZSWARM_TEST_FIXTURE_DIR};
  base.host = "h";
  Node& a = start("a");
  const std::string slow = placed_on_b_after_join("slowinit");
  ASSERT_FALSE(slow.empty());
  auto worker_state = [](Node& n, const std::string& name) {
    for (const auto& w : n.workers())
      if (w.name == name) return w.state;
    return std::string("none");
  };
  // While `busy` holds, the loop answers at once and no peer is suspected.
  auto watch = [&](const std::function<bool()>& busy, Node& n, const std::vector<Node*>& peers) {
    std::chrono::steady_clock::duration slowest{};
    bool always_alive = true;
    EXPECT_TRUE(wait_until(
        [&] {
          auto t0 = std::chrono::steady_clock::now();
          (void)n.info();  // a hop through the loop
          slowest = std::max(slowest, std::chrono::steady_clock::now() - t0);
          for (Node* p : peers)
            for (Node* q : peers)
              if (p != q) always_alive = always_alive && state_of(*p, q->info().name) == "alive";
          return !busy();
        },
        15s, 50ms));
    EXPECT_LT(slowest, 500ms) << "the loop stalled during init";
    EXPECT_TRUE(always_alive) << "a peer was suspected during init";
  };

  std::promise<Result<std::string, Error>> registered;
  auto answer = registered.get_future();
  a.register_name_async(slow, "probe", "init_sleep 1500",
                        [&](Result<std::string, Error> r) { registered.set_value(std::move(r)); });
  ASSERT_TRUE(wait_until([&] { return worker_state(a, slow) == "starting"; }));
  EXPECT_EQ(answer.wait_for(0ms), std::future_status::timeout) << "answered before init was done";
  EXPECT_FALSE(a.whereis(slow).ok()) << "registered before init was done";
  watch([&] { return answer.wait_for(0ms) != std::future_status::ready; }, a, {});
  auto ref = answer.get();
  ASSERT_TRUE(ref.ok()) << ref.error().to_string();
  EXPECT_EQ(ref->rfind("a@h/", 0), 0u) << *ref;

  // b joins and takes the name over: its init sleeps again, on b.
  Node& b = start("b");
  ASSERT_TRUE(wait_until([&] { return worker_state(b, slow) == "starting"; }, 15s));
  constexpr int kEach = 200;
  for (int i = 1; i <= kEach; ++i) {
    ASSERT_TRUE(b.send(slow, "seq b " + std::to_string(i)).ok());
    ASSERT_TRUE(a.send(slow, "seq a " + std::to_string(i)).ok());
  }
  watch([&] { return worker_state(b, slow) == "starting"; }, b, {&a, &b});
  std::string report;
  EXPECT_TRUE(wait_until([&] {
    auto r = b.call(slow, "report", 2s);
    report = r ? *r : r.error().name();
    return report.rfind(std::to_string(2 * kEach) + " ", 0) == 0;
  }, 15s)) << report;
  EXPECT_EQ(report, std::to_string(2 * kEach) + " 0 0") << "count, out of order, overlapping";
  auto where = b.whereis(slow);
  ASSERT_TRUE(where.ok());
  EXPECT_EQ(where->rfind("b@h/", 0), 0u) << *where;
}

// Unregistering a worker that is busy in a long callback does not wait for it.
TEST_F(NodeApi, UnregisteringABusyWorkerDoesNotStallTheNode) {
  base.plugin_path = {ZSWARM_TEST_PLUGIN_DIR, ZSWARM_TEST_FIXTURE_DIR};
  Node& a = start("a");
  ASSERT_TRUE(a.register_name("busy", "probe").ok());
  ASSERT_TRUE(a.send("busy", "sleep 3000").ok());
  ASSERT_TRUE(a.send("busy", "ping").ok());
  // The ping waits in the mailbox only once the worker is inside the sleep.
  ASSERT_TRUE(wait_until([&] {
    for (const auto& w : a.workers())
      if (w.name == "busy") return w.mailbox_depth == 1;
    return false;
  }));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(a.unregister_name("busy").ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_FALSE(a.whereis("busy").ok());
  // The name is free at once, though the old worker is still in its callback.
  ASSERT_TRUE(a.register_name("busy", "probe").ok());
  auto pong = a.call("busy", "ping", 2s);
  EXPECT_TRUE(pong.ok() && *pong == "pong");
}

// A call from the thread that sent never overtakes what it sent.
TEST_F(NodeApi, ACallSeesEveryMessageItsThreadSentBefore) {
  Node& a = start("a");
  Node& b = start("b");
  ASSERT_TRUE(wait_until([&] { return alive(a) == 2 && alive(b) == 2; }));
  ASSERT_TRUE(a.register_name("api-counter", "counter").ok());
  for (int round = 1; round <= 3; ++round) {
    for (int i = 0; i < 3000; ++i) ASSERT_TRUE(a.send("api-counter", "inc").ok());
    auto got = a.call("api-counter", "get", 5s);
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    EXPECT_EQ(*got, std::to_string(3000 * round));
  }
}
#endif

TEST_F(NodeApi, RegisterNamesAnswersEachInOrder) {
  Node& a = start("a");
  Node& b = start("b");
  ASSERT_TRUE(wait_until([&] { return alive(a) == 2 && alive(b) == 2; }));
  ASSERT_TRUE(b.register_name("batch-7", "echo").ok());
  Node::Registrations specs;
  for (int i = 0; i < 300; ++i) specs.push_back({std::string("batch-").append(std::to_string(i)), "echo", ""});
  specs.push_back({"batch-x", "no_such_plugin", ""});
  auto results = a.register_names(specs);
  ASSERT_EQ(results.size(), specs.size());
  for (int i = 0; i < 300; ++i) {
    if (i == 7) {
      ASSERT_FALSE(results[7].ok());
      EXPECT_EQ(results[7].error().code, Errc::already_registered);
      continue;
    }
    ASSERT_TRUE(results[static_cast<std::size_t>(i)].ok()) << i << ": " << results[static_cast<std::size_t>(i)].error().to_string();
    EXPECT_EQ(*results[static_cast<std::size_t>(i)], *a.whereis(specs[static_cast<std::size_t>(i)].name));
  }
  ASSERT_FALSE(results.back().ok());
  EXPECT_EQ(results.back().error().code, Errc::plugin_not_found);
  EXPECT_TRUE(a.register_names({}).empty());
}

TEST_F(NodeApi, RegisterWhereisCallUnregister) {
  Node& a = start("a");
  Node& b = start("b");
  ASSERT_TRUE(wait_until([&] { return alive(a) == 2 && alive(b) == 2; }));
  EXPECT_EQ(a.info().cluster, base.cluster);

  auto ref = a.register_name("api-echo", "echo");
  ASSERT_TRUE(ref.ok()) << ref.error().name() << " " << ref.error().detail;
  auto dup = b.register_name("api-echo", "echo");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().name(), "already_registered");
  EXPECT_EQ(dup.error().detail, *ref);
  ASSERT_TRUE(wait_until([&] { auto w = b.whereis("api-echo"); return w.ok() && *w == *ref; }));

  auto reply = b.call("api-echo", "hello");
  ASSERT_TRUE(reply.ok()) << reply.error().name();
  EXPECT_EQ(*reply, "hello");
  EXPECT_TRUE(a.send("api-echo", "fire and forget").ok());
  EXPECT_EQ(a.registered().size(), 1u);

  EXPECT_TRUE(b.unregister_name("api-echo").ok());
  EXPECT_TRUE(wait_until([&] { return !a.whereis("api-echo").ok(); }));
  EXPECT_EQ(a.call("api-echo", "x").error().name(), "not_found");
}

TEST_F(NodeApi, LocalWorkersAndErrors) {
  Node& a = start("a");
  auto id = a.start_local("solo", "counter", "", "transient");
  ASSERT_TRUE(id.ok()) << id.error().name();
  auto ws = a.workers();
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0].name, "solo");
  EXPECT_EQ(ws[0].policy, "transient");
  EXPECT_FALSE(ws[0].registered);
  EXPECT_TRUE(a.send("solo", "inc 3").ok());
  EXPECT_TRUE(wait_until([&] { auto r = a.call("solo", "get"); return r.ok() && *r == "3"; }));
  EXPECT_EQ(a.start_local("x", "no_such_plugin").error().name(), "plugin_not_found");
  EXPECT_EQ(a.start_local("x", "echo", "", "forever").error().name(), "bad_option");
  EXPECT_TRUE(a.stop_local("solo").ok());
  EXPECT_TRUE(a.workers().empty());
  EXPECT_EQ(a.register_name("", "echo").error().name(), "invalid_name");
}

#ifdef ZSWARM_TEST_FIXTURE_DIR
// The control socket's start-local and stop-local take the asynchronous
// forms: a slow init holds up neither the loop nor the answer to others.
TEST_F(NodeApi, LocalStartAndStopNeverWaitOnTheLoop) {
  base.plugin_path = {ZSWARM_TEST_PLUGIN_DIR, ZSWARM_TEST_FIXTURE_DIR};
  Node& a = start("a");
  std::promise<Result<uint64_t, Error>> started;
  auto id = started.get_future();
  a.start_local_async("lazy", "probe", "init_sleep 1000", "permanent",
                      [&](Result<uint64_t, Error> r) { started.set_value(std::move(r)); });
  std::chrono::steady_clock::duration slowest{};
  while (id.wait_for(10ms) != std::future_status::ready) {
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(a.info().name.empty());  // through the loop
    slowest = std::max(slowest, std::chrono::steady_clock::now() - t0);
  }
  EXPECT_LT(slowest, 500ms) << "the loop waited for init";
  auto r = id.get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_GT(*r, 0u);
  std::promise<Result<void, Error>> stopped, missing;
  auto s1 = stopped.get_future(), s2 = missing.get_future();
  a.stop_local_async("lazy", [&](Result<void, Error> x) { stopped.set_value(std::move(x)); });
  a.stop_local_async("lazy", [&](Result<void, Error> x) { missing.set_value(std::move(x)); });
  ASSERT_EQ(s1.wait_for(5s), std::future_status::ready);
  ASSERT_EQ(s2.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(s1.get().ok());
  auto second = s2.get();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().name(), "not_found");
  std::promise<Result<uint64_t, Error>> bad;
  auto b = bad.get_future();
  a.start_local_async("x", "probe", "fail_init", "permanent", [&](Result<uint64_t, Error> x) { bad.set_value(std::move(x)); });
  ASSERT_EQ(b.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(b.get().error().name(), "init_failed");
}
#endif

TEST_F(NodeApi, StartFailsClearly) {
  NodeOptions o = base;
  auto no_name = Node::start(o);
  ASSERT_FALSE(no_name.ok());
  EXPECT_EQ(no_name.error().name(), "bad_option");
  o.name = "a";
  o.interface = "nosuchif0";
  auto no_secret = Node::start(o);
  ASSERT_FALSE(no_secret.ok());
  EXPECT_EQ(no_secret.error().name(), "bad_option");
  EXPECT_NE(no_secret.error().detail.find("--interface nosuchif0"), std::string::npos) << no_secret.error().detail;
  o.insecure = true;
  auto bad_if = Node::start(o);
  ASSERT_FALSE(bad_if.ok());
  EXPECT_EQ(bad_if.error().name(), "bind_failed");
  EXPECT_NE(bad_if.error().detail.find("nosuchif0"), std::string::npos);
}

TEST_F(NodeApi, LeaveHandsOffAndStops) {
  Node& a = start("a");
  Node& b = start("b");
  ASSERT_TRUE(wait_until([&] { return alive(a) == 2 && alive(b) == 2; }));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(a.register_name(std::string("c").append(std::to_string(i)), "counter").ok());
    ASSERT_TRUE(a.send(std::string("c").append(std::to_string(i)), "inc 7").ok());
  }
  // send() returns once the message is queued: a call behind it on the same
  // channel says it has arrived, before b leaves with the state.
  for (int i = 0; i < 10; ++i) ASSERT_EQ(*a.call(std::string("c").append(std::to_string(i)), "get"), "7");
  b.leave();
  b.wait();
  EXPECT_TRUE(b.stopped());
  ASSERT_TRUE(wait_until([&] {
    for (const auto& m : a.members())
      if (!m.self && m.state != "left") return false;
    return true;
  }));
  EXPECT_EQ(a.workers().size(), 10u);
  for (int i = 0; i < 10; ++i) {
    auto r = a.call(std::string("c").append(std::to_string(i)), "get");
    EXPECT_TRUE(r.ok() && *r == "7") << i;
  }
}

TEST_F(NodeApi, AsynchronousFormsReturnAtOnceAndAnswerOnTheLoop) {
  Node& a = start("a");
  Node& b = start("b");
  ASSERT_TRUE(wait_until([&] { return alive(a) == 2 && alive(b) == 2; }));
  std::mutex mu;
  std::vector<std::string> got;  // "what:result", in the order they ended
  auto note = [&](std::string what) {
    return [&, what](Result<std::string, Error> r) {
      std::lock_guard lock(mu);
      got.push_back(what + ":" + (r ? *r : std::string(r.error().name())));
    };
  };
  auto count = [&] {
    std::lock_guard lock(mu);
    return got.size();
  };
  a.register_name_async("async-ctr", "counter", "", note("register"));
  ASSERT_TRUE(wait_until([&] { return count() == 1; }));
  ASSERT_TRUE(wait_until([&] { return b.whereis("async-ctr").ok(); }));
  // Chained on the loop: each answer starts the next request.
  b.send_async("async-ctr", "inc 4", [&](Result<std::string, Error> r) {
    note("send")(r);
    b.call_async("async-ctr", "get", 2s, note("call"));
  });
  ASSERT_TRUE(wait_until([&] { return count() == 3; }));
  a.unregister_name_async("async-ctr", note("unregister"));
  ASSERT_TRUE(wait_until([&] { return count() == 4; }));
  // The owner is whichever node the ring picks (it hashes the host name too).
  ASSERT_TRUE(wait_until([&] { return !a.whereis("async-ctr").ok(); }));
  a.register_name_async("async-bad", "no-such-plugin", "", note("bad"));
  ASSERT_TRUE(wait_until([&] { return count() == 5; }));
  std::lock_guard lock(mu);
  const std::string owner = got[0].substr(std::string("register:").size(), 2);
  EXPECT_TRUE(owner == "a@" || owner == "b@") << got[0];
  EXPECT_EQ(got[1], "send:");
  EXPECT_EQ(got[2], "call:4");
  EXPECT_EQ(got[3].rfind("unregister:" + owner, 0), 0u) << got[3];
  EXPECT_EQ(got[4], "bad:plugin_not_found");
}

TEST_F(NodeApi, AStoppedNodeAnswersStoppedAtOnce) {
  Node& a = start("a");
  a.leave();
  a.wait();
  std::string got;
  a.call_async("anything", "get", 1s, [&](Result<std::string, Error> r) { got = r ? *r : std::string(r.error().name()); });
  EXPECT_EQ(got, "stopped");
}

}  // namespace
}  // namespace zswarm::testing
