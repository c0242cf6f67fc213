// 100,000 idle workers on one supervisor: start, measure, stop.
#include <gtest/gtest.h>

#include <malloc.h>

#include <cstdio>

#include "test_util.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define ZSWARM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ZSWARM_ASAN 1
#endif
#endif

namespace zswarm::workers {
namespace {

std::size_t heap_in_use() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

TEST(Memory, HundredThousandIdleWorkers) {
  constexpr std::size_t kWorkers = 100000;
  PluginLoader loader(testing::test_search_path());
  Supervisor::Options o;
  o.node_name = "a@test";
  o.loader = &loader;
  o.threads = 2;
  o.log = [](LogLevel, std::string_view, std::string_view) {};
  Supervisor sup(std::move(o));
  // Warm up: plugin loaded, thread pool and first allocations done.
  ASSERT_TRUE(sup.start(WorkerSpec{"warmup", "counter", "", RestartPolicy::permanent, {}}));
  ASSERT_TRUE(sup.stop("warmup"));

  std::size_t before = heap_in_use();
  for (std::size_t i = 0; i < kWorkers; ++i) {
    auto r = sup.start(WorkerSpec{"counter-" + std::to_string(i), "counter", "", RestartPolicy::permanent, {}});
    ASSERT_TRUE(r) << r.error().to_string();
  }
  std::size_t after = heap_in_use();
  ASSERT_EQ(sup.count(), kWorkers);
  // They are alive: a few answer.
  EXPECT_EQ(*sup.call_sync("counter-0", "inc"), "1");
  EXPECT_EQ(*sup.call_sync("counter-99999", "get"), "0");

  double per_worker = static_cast<double>(after - before) / kWorkers;
  std::printf("[ memory ] %zu idle counter workers: %.0f bytes each (heap in use)\n", kWorkers, per_worker);
  RecordProperty("bytes_per_idle_worker", static_cast<int>(per_worker));
#ifndef ZSWARM_ASAN
  EXPECT_LE(per_worker, 2048.0);
#endif

  for (std::size_t i = 0; i < kWorkers; ++i) {
    ASSERT_TRUE(sup.stop("counter-" + std::to_string(i)));
  }
  EXPECT_EQ(sup.count(), 0u);
  EXPECT_TRUE(sup.wait_idle());
#ifndef ZSWARM_ASAN
  // Everything per worker was given back (the map keeps its bucket array).
  double left = static_cast<double>(heap_in_use()) - static_cast<double>(before);
  EXPECT_LE(left / kWorkers, 64.0) << left;
#endif
}

}  // namespace
}  // namespace zswarm::workers
