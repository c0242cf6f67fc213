// Workers: how fast a Supervisor starts plugin workers, what an idle worker
// costs in memory, and the round trip of a local call to an echo worker.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "workers/plugin_loader.hpp"
#include "workers/supervisor.hpp"

namespace zswarm::bench {

long rss_bytes() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * ::sysconf(_SC_PAGESIZE);
}

std::size_t heap_bytes() {
  struct mallinfo2 mi = ::mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

}  // namespace zswarm::bench

namespace {

using namespace zswarm;
using namespace zswarm::workers;

const char* plugin_of(int64_t arg) { return arg == 0 ? "echo" : "counter"; }

struct Local {
  PluginLoader loader{{bench::plugin_dir()}};
  std::unique_ptr<Supervisor> sup;

  Local() {
    Supervisor::Options o;
    o.node_name = "bench@local";
    o.loader = &loader;
    o.log = [](LogLevel, std::string_view, std::string_view) {};
    sup = std::make_unique<Supervisor>(std::move(o));
  }
};

std::vector<std::string> worker_names(std::size_t n, const std::string& prefix) {
  std::vector<std::string> v;
  v.reserve(n);
  for (std::size_t i = 0; i < n; ++i) v.push_back(prefix + std::to_string(i));
  return v;
}

// Starts N workers on a fresh Supervisor (timed: the N start() calls only;
// supervisor creation and teardown are not). Arg 0: echo, 1: counter.
void BM_WorkerStart(benchmark::State& state) {
  const std::size_t n = 20000;
  const char* plugin = plugin_of(state.range(0));
  const auto names = worker_names(n, "w-");
  for (auto _ : state) {
    Local local;
    if (!local.sup->start(WorkerSpec{"warm", plugin, "", RestartPolicy::permanent, {}})) {
      state.SkipWithError("cannot start the plugin (is it built in <build>/lib?)");
      return;
    }
    auto t0 = bench::now_ns();
    for (const auto& name : names) {
      auto r = local.sup->start(WorkerSpec{name, plugin, "", RestartPolicy::permanent, {}});
      if (!r) {
        state.SkipWithError(("start failed: " + r.error().detail).c_str());
        return;
      }
    }
    state.SetIterationTime(static_cast<double>(bench::now_ns() - t0) / 1e9);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.SetLabel(plugin);
}
BENCHMARK(BM_WorkerStart)->Arg(0)->Arg(1)->Apply(zswarm::bench::iterations<3>)->UseManualTime()->Unit(benchmark::kMillisecond);

// Memory held per idle worker: malloc'd bytes and resident pages added by
// starting N workers that then sit idle.
void BM_IdleWorkerMemory(benchmark::State& state) {
  const std::size_t n = 20000;
  const char* plugin = plugin_of(state.range(0));
  const auto names = worker_names(n, "idle-");
  double heap_per = 0, rss_per = 0;
  for (auto _ : state) {
    Local local;
    (void)local.sup->start(WorkerSpec{"warm", plugin, "", RestartPolicy::permanent, {}});
    local.sup->wait_idle();
    ::malloc_trim(0);
    auto heap0 = bench::heap_bytes();
    auto rss0 = bench::rss_bytes();
    for (const auto& name : names)
      (void)local.sup->start(WorkerSpec{name, plugin, "", RestartPolicy::permanent, {}});
    local.sup->wait_idle();
    heap_per = static_cast<double>(bench::heap_bytes() - heap0) / static_cast<double>(n);
    rss_per = static_cast<double>(bench::rss_bytes() - rss0) / static_cast<double>(n);
    if (local.sup->count() != n + 1) state.SkipWithError("not every worker started");
  }
  state.counters["heap_bytes_per_worker"] = heap_per;
  state.counters["rss_bytes_per_worker"] = rss_per;
  state.SetLabel(plugin);
}
BENCHMARK(BM_IdleWorkerMemory)->Arg(0)->Arg(1)->Apply(zswarm::bench::iterations<1>)->Unit(benchmark::kMillisecond);

// One call to a local echo worker and its reply, through call_sync.
void BM_LocalCallSync(benchmark::State& state) {
  Local local;
  if (!local.sup->start(WorkerSpec{"echo", "echo", "", RestartPolicy::permanent, {}})) {
    state.SkipWithError("cannot start echo");
    return;
  }
  bench::Samples samples;
  const std::string ping = "ping";
  for (auto _ : state) {
    auto t0 = bench::now_ns();
    auto r = local.sup->call_sync("echo", ping);
    samples.add(bench::now_ns() - t0);
    if (!r) {
      state.SkipWithError("call failed");
      break;
    }
  }
  samples.report(state);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LocalCallSync)->Apply(zswarm::bench::iterations<30000>)->UseRealTime()->Unit(benchmark::kMicrosecond);

// The same through call() and a std::promise/future, as an embedder would.
void BM_LocalCallFuture(benchmark::State& state) {
  Local local;
  if (!local.sup->start(WorkerSpec{"echo", "echo", "", RestartPolicy::permanent, {}})) {
    state.SkipWithError("cannot start echo");
    return;
  }
  bench::Samples samples;
  for (auto _ : state) {
    auto t0 = bench::now_ns();
    auto p = std::make_shared<std::promise<workers::Result<std::string>>>();
    auto f = p->get_future();
    local.sup->call("echo", "ping", [p](workers::Result<std::string> r) { p->set_value(std::move(r)); });
    auto r = f.get();
    samples.add(bench::now_ns() - t0);
    if (!r) {
      state.SkipWithError("call failed");
      break;
    }
  }
  samples.report(state);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LocalCallFuture)->Apply(zswarm::bench::iterations<30000>)->UseRealTime()->Unit(benchmark::kMicrosecond);

// Casts to one echo worker as fast as the caller can post them, then a call
// as a barrier (the mailbox is FIFO): local message throughput.
void BM_LocalCastThroughput(benchmark::State& state) {
  Local local;
  if (!local.sup->start(WorkerSpec{"echo", "echo", "", RestartPolicy::permanent, {}})) {
    state.SkipWithError("cannot start echo");
    return;
  }
  const int n = 100000;
  for (auto _ : state) {
    for (int i = 0; i < n; ++i) (void)local.sup->cast("echo", "x");
    if (!local.sup->call_sync("echo", "barrier")) state.SkipWithError("barrier call failed");
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_LocalCastThroughput)->Apply(zswarm::bench::iterations<3>)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
