// Google Benchmark cases for the registry's hot paths: a local whereis among
// 100k names, the ring's owner lookup, applying a peer's delta, and the
// snapshot codec used for resync. Part of zswarm-bench (main in main.cpp).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "registry/entry.hpp"
#include "registry/hash_ring.hpp"
#include "registry/registry.hpp"
#include "bench_util.hpp"

namespace {

using namespace zswarm::registry;

constexpr std::size_t kNames = 100000;

std::vector<std::string> make_names(std::size_t n) {
  std::mt19937_64 rng(1);
  std::vector<std::string> names;
  names.reserve(n);
  for (std::size_t i = 0; i < n; ++i) names.push_back("worker-" + std::to_string(rng() % 100000000));
  return names;
}

std::string member_id(std::size_t i) {
  return "6f1c0000-0000-4000-8000-" + std::to_string(100000000000 + i);
}

Entry make_entry(const std::string& name, std::size_t i) {
  Entry e;
  e.name = name;
  e.owner = member_id(i % 8);
  e.owner_name = std::string("n").append(std::to_string(i % 8)) + "@host";
  e.worker = i;
  e.plugin = "singleton_worker";
  e.args = "{}";
  return e;
}

Registry& filled_registry(const std::vector<std::string>& names) {
  static Registry registry;
  static bool filled = [&] {
    for (std::size_t i = 0; i < names.size(); ++i) {
      (void)registry.put(make_entry(names[i], i), member_id(i % 8));
    }
    return true;
  }();
  (void)filled;
  return registry;
}

void BM_Whereis(benchmark::State& state) {
  static const auto names = make_names(kNames);
  const Registry& registry = filled_registry(names);
  std::size_t i = 0;
  for (auto _ : state) {
    auto e = registry.lookup(names[i]);
    benchmark::DoNotOptimize(e);
    i = (i + 7919) % names.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Whereis)->Apply(zswarm::bench::min_time<300>);

// The same lookups, each timed on its own for the median (target < 1 us);
// the clock reads add ~20-40 ns to every sample.
void BM_WhereisLatency(benchmark::State& state) {
  static const auto names = make_names(kNames);
  const Registry& registry = filled_registry(names);
  zswarm::bench::Samples samples;
  std::size_t i = 0;
  for (auto _ : state) {
    auto t0 = zswarm::bench::now_ns();
    auto e = registry.lookup(names[i]);
    benchmark::DoNotOptimize(e);
    samples.add(zswarm::bench::now_ns() - t0);
    i = (i + 7919) % names.size();
  }
  samples.report(state);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WhereisLatency)->Apply(zswarm::bench::iterations<200000>);

void BM_RingOwner(benchmark::State& state) {
  static const auto names = make_names(kNames);
  HashRing ring;
  for (std::int64_t m = 0; m < state.range(0); ++m) {
    ring.add_member(member_id(static_cast<std::size_t>(m)), std::string("n").append(std::to_string(m)) + "@host");
  }
  std::size_t i = 0;
  for (auto _ : state) {
    auto owner = ring.owner(names[i]);
    benchmark::DoNotOptimize(owner);
    i = (i + 7919) % names.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RingOwner)->Arg(8)->Arg(64)->Apply(zswarm::bench::min_time<200>);

// A peer's delta for an existing name: a causal successor replacing the
// stored version (the common case during steady state).
void BM_Apply(benchmark::State& state) {
  static const auto names = make_names(kNames);
  Registry registry;
  std::vector<Entry> deltas;
  deltas.reserve(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto v1 = registry.put(make_entry(names[i], i), "peer");
    deltas.push_back(*v1);
  }
  std::size_t i = 0;
  for (auto _ : state) {
    Entry& d = deltas[i];
    d.clock.increment("peer");  // make it a successor (a few ns of the figure)
    auto result = registry.apply(d);
    benchmark::DoNotOptimize(result);
    i = (i + 1) % deltas.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Apply)->Apply(zswarm::bench::min_time<200>);

// A duplicate delta (already seen): the cheap path every fan-out repeat takes.
void BM_ApplyStale(benchmark::State& state) {
  static const auto names = make_names(kNames);
  Registry registry;
  std::vector<Entry> deltas;
  for (std::size_t i = 0; i < names.size(); ++i) {
    deltas.push_back(*registry.put(make_entry(names[i], i), "peer"));
  }
  std::size_t i = 0;
  for (auto _ : state) {
    auto result = registry.apply(deltas[i]);
    benchmark::DoNotOptimize(result);
    i = (i + 1) % deltas.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ApplyStale)->Apply(zswarm::bench::min_time<200>);

void BM_EntryDecode(benchmark::State& state) {
  Entry e = make_entry("SingletonName", 1);
  e.clock = VectorClock{{member_id(1), 12345}, {member_id(2), 99}};
  const std::string bytes = encode(e);
  for (auto _ : state) {
    auto d = decode_entry(bytes);
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_EntryDecode)->Apply(zswarm::bench::min_time<200>);

// Every live entry, sorted by name: what the tracker's periodic reconcile
// (node/tracker.cpp, every second on each node's loop) and registered() walk.
void BM_RegistryList100k(benchmark::State& state) {
  static const auto names = make_names(kNames);
  const Registry& registry = filled_registry(names);
  for (auto _ : state) {
    auto all = registry.list();
    benchmark::DoNotOptimize(all);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(registry.list().size()));
}
BENCHMARK(BM_RegistryList100k)->Unit(benchmark::kMillisecond)->Apply(zswarm::bench::iterations<5>);

// Heap bytes per live name in a replica of 100k names (issue 10: <= 300 B),
// as mallinfo2() sees it before and after the names arrive, so the table's
// buckets and the registry's own tables count too. The shape is a typical
// cluster's: names "worker-000123", plugin "echo", a few bytes of args, owners
// spread over 3 members (16 raw id bytes), clocks of 1 or 2 dots (a third of
// the names were written on two nodes), metadata and groups on 1 name in 50.
// Each version arrives as a peer's delta (apply), built just before, so only
// what the registry keeps is counted.
void BM_RegistryMemoryPerName(benchmark::State& state) {
  const std::size_t n = zswarm::bench::smoke() ? 10000 : kNames;
  std::vector<std::string> members;
  std::mt19937_64 rng(7);
  for (int m = 0; m < 3; ++m) {
    std::string id(16, '\0');
    for (char& c : id) c = static_cast<char>(rng());
    members.push_back(id);
  }
  double per_name = 0;
  for (auto _ : state) {
    Registry registry;
    const std::size_t heap0 = zswarm::bench::heap_bytes();
    char name[32];
    for (std::size_t i = 0; i < n; ++i) {
      std::snprintf(name, sizeof name, "worker-%06zu", i);
      Entry e;
      e.name = name;
      e.owner = members[i % 3];
      e.owner_name = std::string("n").append(std::to_string(i % 3)).append("@host");
      e.worker = i + 1;
      e.plugin = "echo";
      e.args = std::string("{\"n\":").append(std::to_string(i % 100)).append("}");
      if (i % 50 == 0) {
        e.metadata = {{"role", "primary"}, {"zone", "eu-1"}};
        e.groups = {"frontend"};
      }
      e.clock = VectorClock{{members[i % 3], 2 * i + 1}};
      if (i % 3 == 0) e.clock.increment(members[(i + 1) % 3], i + 1);
      (void)registry.apply(e);
    }
    const std::size_t heap1 = zswarm::bench::heap_bytes();
    if (registry.size() != n) state.SkipWithError("not every name was stored");
    per_name = (static_cast<double>(heap1) - static_cast<double>(heap0)) / static_cast<double>(n);
  }
  state.counters["heap_bytes_per_name"] = per_name;
  state.counters["names"] = static_cast<double>(n);
}
BENCHMARK(BM_RegistryMemoryPerName)->Unit(benchmark::kMillisecond)->Apply(zswarm::bench::iterations<1>);

// Full resync of 100k names: encode, decode, merge into an empty replica.
void BM_SnapshotResync100k(benchmark::State& state) {
  static const auto names = make_names(kNames);
  const Registry& source = filled_registry(names);
  const auto snapshot = source.snapshot();
  std::size_t bytes = 0, chunks = 0;
  for (auto _ : state) {
    // As the wire carries it: chunks of <= 256 KiB, each decoded and merged.
    const auto wire = encode_snapshot_chunks(snapshot);
    bytes = 0;
    chunks = wire.size();
    Registry target;
    for (const auto& chunk : wire) {
      bytes += chunk.size();
      auto decoded = decode_snapshot(chunk);
      if (!decoded) {
        state.SkipWithError("a snapshot chunk did not decode");
        return;
      }
      auto stats = target.merge_snapshot(*decoded);
      benchmark::DoNotOptimize(stats);
    }
  }
  state.counters["wire_bytes"] = static_cast<double>(bytes);
  state.counters["chunks"] = static_cast<double>(chunks);
}
BENCHMARK(BM_SnapshotResync100k)->Unit(benchmark::kMillisecond)->Apply(zswarm::bench::iterations<3>);

}  // namespace
