// Run by the `workers.sdk_example` ctest (label sdk) after it installed zswarm
// and built workers/sdk_example out of tree; the plugin's directory comes in
// ZSWARM_SDK_PLUGIN_DIR.
#include <gtest/gtest.h>

#include <cstdlib>

#include "test_util.hpp"

namespace zswarm::workers {
namespace {

TEST(SdkExample, OutOfTreePluginLoadsAndRuns) {
  const char* dir = std::getenv("ZSWARM_SDK_PLUGIN_DIR");
  if (dir == nullptr) GTEST_SKIP() << "run through the workers.sdk_example ctest";
  PluginLoader loader({dir});
  auto plugin = loader.load("greeter");
  ASSERT_TRUE(plugin) << plugin.error().to_string();
  EXPECT_EQ((*plugin)->path().parent_path(), std::filesystem::path(dir));

  testing::LogCapture logs;
  Supervisor::Options o;
  o.node_name = "sdk@test";
  o.loader = &loader;
  o.log = logs.sink();
  Supervisor sup(std::move(o));
  ASSERT_TRUE(sup.start(WorkerSpec{"g", "greeter", "Hi", RestartPolicy::permanent, {}}));
  EXPECT_EQ(logs.count("g", "greeter ready on sdk@test"), 1u);
  EXPECT_EQ(*sup.call_sync("g", "world"), "Hi, world (#1)");
  auto h = sup.begin_handoff("g");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->bytes, "1");
  ASSERT_TRUE(sup.start(WorkerSpec{"g", "greeter", "Hey", RestartPolicy::permanent, h->bytes}));
  EXPECT_EQ(*sup.call_sync("g", "you"), "Hey, you (#2)");
}

}  // namespace
}  // namespace zswarm::workers
