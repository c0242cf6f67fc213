// Helpers shared by zswarm-bench's cases: per-operation latency samples
// (medians, where the targets are stated as medians), the plugin directory,
// and process memory figures.
#pragma once

#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace zswarm::bench {

// ZSWARM_BENCH_SMOKE set: every case runs one iteration, so `./dev test`
// checks that each still runs (no figure is worth anything then).
inline bool smoke() {
  static const bool on = std::getenv("ZSWARM_BENCH_SMOKE") != nullptr;
  return on;
}
template <int64_t N>
void iterations(benchmark::internal::Benchmark* b) {
  b->Iterations(smoke() ? 1 : N);
}
template <int Ms>
void min_time(benchmark::internal::Benchmark* b) {
  if (smoke()) b->Iterations(1);
  else b->MinTime(Ms / 1000.0);
}

inline int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// What one now_ns() pair costs (median of back-to-back reads); subtracted
// from every sample. Tens of ns on a quiet machine, more under load.
inline int64_t clock_overhead_ns() {
  std::vector<int64_t> d(2001);
  for (auto& x : d) {
    auto t0 = now_ns();
    x = now_ns() - t0;
  }
  std::nth_element(d.begin(), d.begin() + 1000, d.end());
  return d[1000];
}

// Durations of single operations; report() adds p50/p99 counters (in us,
// clock overhead subtracted) to the benchmark's row. Google Benchmark's own
// time column is the mean.
class Samples {
 public:
  Samples() { ns_.reserve(1 << 16); }
  void add(int64_t ns) { ns_.push_back(ns); }
  std::size_t size() const { return ns_.size(); }
  double percentile_us(double p) {
    if (ns_.empty()) return 0;
    auto k = static_cast<std::size_t>(p * static_cast<double>(ns_.size() - 1));
    std::nth_element(ns_.begin(), ns_.begin() + static_cast<std::ptrdiff_t>(k), ns_.end());
    return static_cast<double>(std::max<int64_t>(0, ns_[k] - overhead_)) / 1000.0;
  }
  void report(benchmark::State& state) {
    overhead_ = clock_overhead_ns();
    state.counters["p50_us"] = percentile_us(0.50);
    state.counters["p99_us"] = percentile_us(0.99);
    state.counters["clock_ns"] = static_cast<double>(overhead_);
  }

 private:
  std::vector<int64_t> ns_;
  int64_t overhead_ = 0;
};

// Plugins are built into <build>/lib, beside <build>/bin/zswarm-bench.
inline std::filesystem::path plugin_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "lib";
  return exe.parent_path().parent_path() / "lib";
}

// Resident set size from /proc/self/statm, in bytes.
long rss_bytes();
// Bytes in use by malloc (mallinfo2().uordblks + hblkhd).
std::size_t heap_bytes();

}  // namespace zswarm::bench
