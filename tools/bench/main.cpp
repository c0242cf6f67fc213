// zswarm-bench: Google Benchmark cases for the registry, the wire, the
// workers and a 3-node in-process cluster. The project's performance targets
// (docs/benchmarks.md) are reported, never asserted: the exit status says
// only whether the benchmarks ran.
#include <benchmark/benchmark.h>

#include <cstdio>

#include "cluster_bench.hpp"

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  if (double ms = zswarm::bench::cluster_formed_ms(); ms > 0)
    std::fprintf(stderr, "zswarm-bench: the 3-node cluster formed in %.0f ms\n", ms);
  zswarm::bench::stop_cluster();
  benchmark::Shutdown();
  return 0;
}
