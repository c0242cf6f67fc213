// Google Benchmark cases for the name service's replication: the loop time a
// 100k-name snapshot costs, per turn, on the node that serves it and on the
// one that merges it (target: no turn over a few ms). Part of zswarm-bench.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <ctime>
#include <string>

#include "bench_util.hpp"
#include "names/snapshot_server.hpp"
#include "registry/registry.hpp"

namespace {

using namespace zswarm;

// This thread's CPU time in ms: what a turn costs the loop, whatever else
// the machine runs meanwhile (wall time on 2 shared cores mostly measures
// the scheduler).
double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// 100k names over 3 members, as a 3-node cluster's replica holds them.
const registry::Registry& replica_100k() {
  static registry::Registry reg = [] {
    registry::Registry r;
    const std::string members[3] = {std::string(16, 'a'), std::string(16, 'b'), std::string(16, 'c')};
    for (int i = 0; i < 100000; ++i) {
      registry::Entry e;
      e.name = std::string("worker-").append(std::to_string(1000000 + i));
      e.owner = members[i % 3];
      e.owner_name = std::string("n").append(std::to_string(i % 3)).append("@host");
      e.worker = static_cast<uint64_t>(i) + 1;
      e.plugin = "echo";
      e.args = "{}";
      (void)r.put(std::move(e), members[i % 3]);
    }
    return r;
  }();
  return reg;
}

// One whole pass: every step of the server (pack one chunk) and every merge
// on the receiver (decode one chunk, merge it) timed on its own, in CPU time.
void BM_SnapshotServeAndMerge100k(benchmark::State& state) {
  const auto& source = replica_100k();
  const auto peer = bus::NodeId::random();
  double worst_step = 0, worst_merge = 0, chunks = 0;
  for (auto _ : state) {
    names::SnapshotServer server(source);
    registry::Registry target;
    server.start(peer);
    chunks = 0;
    std::string chunk;
    uint64_t more = 0;
    auto take = [&](const bus::NodeId&, const std::string& c, uint64_t m) {
      chunk = c;
      more = m;
      return true;
    };
    while (server.busy()) {
      const double t0 = thread_cpu_ms();
      server.step(take);
      const double t1 = thread_cpu_ms();
      const std::size_t room = std::max<std::size_t>(target.size(), more);  // as the tracker uses the hint
      target.reserve(room + room / 8);
      auto decoded = registry::decode_snapshot(chunk);
      if (!decoded) return state.SkipWithError("a snapshot chunk did not decode");
      benchmark::DoNotOptimize(target.merge_snapshot(*decoded));
      const double t2 = thread_cpu_ms();
      worst_step = std::max(worst_step, t1 - t0);
      worst_merge = std::max(worst_merge, t2 - t1);
      ++chunks;
    }
    if (target.size() != source.size()) return state.SkipWithError("the merged replica is incomplete");
  }
  state.counters["worst_serve_turn_cpu_ms"] = worst_step;
  state.counters["worst_merge_turn_cpu_ms"] = worst_merge;
  state.counters["chunks"] = chunks;
}
BENCHMARK(BM_SnapshotServeAndMerge100k)->Unit(benchmark::kMillisecond)->Apply(zswarm::bench::iterations<5>);

}  // namespace
