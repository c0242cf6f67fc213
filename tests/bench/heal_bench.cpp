// Issue 13's heal target on real nodes: two zswarm nodes (Node::start: their
// tracker, cluster, SWIM and supervisor, with real worker threads) on the
// simulator's Env (tests/support/sim_env.hpp): an in-memory bus, a manual
// clock, and beacons in an "air" that a split cuts. 10,000 counters are
// registered and the nodes split; each side restarts the other's 5,000 while
// the originals run on (both sides active: a takeover each) and counts on.
// Then the heal. Measured from the heal until every name runs exactly once
// and both replicas and digests are identical:
//   heal_protocol_ms  time on the manual clock: detection of the other side,
//                     snapshots, the conflicts' answers and merges, as the
//                     timers of the protocol space them;
//   heal_detect_ms    of which, until each node sees the other alive again;
//   heal_cpu_ms       processor time of the whole process meanwhile (every
//                     node's loop and worker thread), the checks excluded.
// On hosts with a core per node the heal takes about the larger of the two;
// on one core, about their sum. Part of zswarm-bench.
#include <benchmark/benchmark.h>

#include <ctime>
#include <map>
#include <string>

#include "tools/bench/bench_util.hpp"
#include "support/sim.hpp"

namespace {

using namespace zswarm;
using namespace std::chrono_literals;

std::string counter_name(std::size_t i) {
  std::string s("c");
  s.append(std::to_string(i));  // (not "c" + ...: GCC 12's -Wrestrict)
  return s;
}

double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// A simulated cluster outside a test: the fixture's helpers, no test body.
struct Cluster : sim::Sim {
  void TestBody() override {}
  Cluster() {
    configure = [](NodeOptions& o) { o.plugin_path = {bench::plugin_dir().string()}; };
  }
  // name -> how many of `on` run it as a registered worker.
  std::map<std::string, int> runs(std::initializer_list<sim::SimNode*> on) {
    std::map<std::string, int> out;
    for (auto* n : on)
      for (const auto& w : n->node->workers())
        if (w.registered) ++out[w.name];
    return out;
  }
  static std::map<std::string, std::string> refs(sim::SimNode& n) {
    std::map<std::string, std::string> out;
    for (const auto& r : n.node->registered()) out[r.name] = r.ref;
    return out;
  }
  static bool once_each(const std::map<std::string, int>& r, std::size_t names) {
    if (r.size() != names) return false;
    for (const auto& [name, count] : r)
      if (count != 1) return false;
    return true;
  }
};

void BM_HealSplit10kOnNodes(benchmark::State& state) {
  const std::size_t names = bench::smoke() ? 500 : 10000;
  double protocol_ms = 0, cpu_ms = 0, takeovers = 0, detect_ms = -1;
  for (auto _ : state) {
    Cluster c;
    auto& a = c.add("a@h");
    auto& b = c.add("b@h");
    c.settle();
    c.run_for(300ms);
    std::size_t ok = 0;
    for (std::size_t i = 0; i < names; ++i)
      a.parts.tracker->register_name(counter_name(i), "counter", "",
                                     [&ok](Result<std::string, Error> r) { ok += r.ok(); });
    c.settle();
    c.run_for(500ms);
    if (ok != names || !Cluster::once_each(c.runs({&a, &b}), names))
      return state.SkipWithError("the names did not all register once");

    // The split: each side restarts the other's names and counts on.
    c.isolate(a, true);
    bool split = false;
    for (int i = 0; i < 100 && !split; ++i) {
      c.run_for(100ms);
      split = Cluster::once_each(c.runs({&a}), names) && Cluster::once_each(c.runs({&b}), names);
    }
    if (!split) return state.SkipWithError("the sides did not each run every name");
    takeovers = static_cast<double>(names);
    for (std::size_t i = 0; i < names; i += 97) {  // a few increments on each side
      (void)a.node->send(counter_name(i), "inc 1");
      (void)b.node->send(counter_name(i), "inc 2");
    }
    c.settle();

    // The heal.
    c.isolate(a, false);
    const auto t0 = c.clock.now();
    double cpu = process_cpu_ms(), spent = 0;
    bool healed = false;
    detect_ms = -1;
    while (!healed && c.clock.now() - t0 < 30s) {
      c.run_for(50ms);
      const double before_check = process_cpu_ms();
      spent += before_check - cpu;
      if (detect_ms < 0 && c.state_seen(a, b) == sim::MemberState::alive && c.state_seen(b, a) == sim::MemberState::alive)
        detect_ms = static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(c.clock.now() - t0).count());
      healed = Cluster::once_each(c.runs({&a, &b}), names) && Cluster::refs(a).size() == names &&
               a.parts.tracker->replica().summary() == b.parts.tracker->replica().summary() &&
               Cluster::refs(a) == Cluster::refs(b);
      cpu = process_cpu_ms();
    }
    if (!healed) return state.SkipWithError("not healed within 30 s of protocol time");
    protocol_ms = static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(c.clock.now() - t0).count());
    cpu_ms = spent;
    // The counts of both sides were kept (PN merge): a sample.
    auto got = a.node->call("c0", "get", 5s);
    if (!got || *got != "3") return state.SkipWithError("c0 lost increments at the heal");
    state.SetIterationTime(protocol_ms / 1e3);
  }
  state.counters["names"] = static_cast<double>(names);
  state.counters["takeovers"] = takeovers;
  state.counters["heal_protocol_ms"] = protocol_ms;
  state.counters["heal_cpu_ms"] = cpu_ms;
  state.counters["heal_detect_ms"] = detect_ms;
}
BENCHMARK(BM_HealSplit10kOnNodes)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);

}  // namespace
