#include <gtest/gtest.h>

#include "test_util.hpp"
#include "workers/plugin_loader.hpp"

namespace zswarm::workers {
namespace {

using testing::test_search_path;

TEST(PluginLoader, LoadsShippedPluginsByName) {
  PluginLoader loader(test_search_path());
  for (const char* name : {"singleton_worker", "counter", "echo", "cron", "c_ok", "probe"}) {
    auto p = loader.load(name);
    ASSERT_TRUE(p) << name << ": " << p.error().to_string();
    EXPECT_EQ((*p)->name(), name);
    EXPECT_EQ((*p)->table().abi_version, ZSWARM_WORKER_ABI_VERSION);
    EXPECT_EQ((*p)->path().filename(), PluginLoader::file_name(name));
  }
}

// merge_conflict came with revision 2 of the struct: a plugin built against
// revision 1 still loads, and nothing past its struct_size is read.
TEST(PluginLoader, AnOlderRevisionOfTheTableLoadsWithoutTheFieldsItLacks) {
  PluginLoader loader(test_search_path());
  auto v1 = loader.load("c_v1");
  ASSERT_TRUE(v1) << v1.error().to_string();
  EXPECT_EQ((*v1)->table().merge_conflict, nullptr);
  EXPECT_NE((*v1)->table().terminate, nullptr);
  auto v2 = loader.load("counter");
  ASSERT_TRUE(v2);
  EXPECT_NE((*v2)->table().merge_conflict, nullptr);
}

TEST(PluginLoader, CachesLoadedPlugins) {
  PluginLoader loader(test_search_path());
  auto a = loader.load("echo");
  auto b = loader.load("echo");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->get(), b->get());
}

TEST(PluginLoader, NotFoundListsSearchedDirectories) {
  PluginLoader loader({"/nonexistent/one", "/nonexistent/two"});
  auto p = loader.load("counter");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, Errc::plugin_not_found);
  EXPECT_NE(p.error().detail.find("/nonexistent/one"), std::string::npos);
  EXPECT_NE(p.error().detail.find("/nonexistent/two"), std::string::npos);
  EXPECT_NE(p.error().detail.find("libzswarm_counter.so"), std::string::npos);
  EXPECT_EQ(p.error().name(), "plugin_not_found");
}

TEST(PluginLoader, RejectsNamesThatCouldEscapeTheSearchPath) {
  PluginLoader loader(test_search_path());
  for (const char* name : {"", "../lib/echo", "a/b", "echo.so ", "x\ny"}) {
    auto p = loader.load(name);
    ASSERT_FALSE(p) << name;
    EXPECT_EQ(p.error().code, Errc::invalid_name) << name;
  }
}

struct BadCase {
  const char* plugin;
  Errc code;
  const char* detail;  // substring of the detail
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.plugin; }

class BadPlugin : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadPlugin, IsRejectedWithItsOwnError) {
  PluginLoader loader(test_search_path());
  const auto& c = GetParam();
  auto p = loader.load(c.plugin);
  ASSERT_FALSE(p) << c.plugin;
  EXPECT_EQ(p.error().name(), errc_name(c.code)) << p.error().detail;
  EXPECT_NE(p.error().detail.find(c.detail), std::string::npos) << p.error().detail;
  // The process is unharmed: a good plugin still loads afterwards.
  EXPECT_TRUE(loader.load("echo"));
}

INSTANTIATE_TEST_SUITE_P(
    Loader, BadPlugin,
    ::testing::Values(BadCase{"bad_nosymbol", Errc::symbol_missing, "zswarm_worker_plugin_v1"},
                      BadCase{"bad_abi", Errc::abi_mismatch, "abi_version 2"},
                      BadCase{"bad_size", Errc::struct_size_mismatch, "struct_size 16"},
                      BadCase{"bad_name", Errc::invalid_plugin, "someone_else"},
                      BadCase{"bad_nullinit", Errc::invalid_plugin, "required"},
                      BadCase{"garbage", Errc::dlopen_failed, "libzswarm_garbage.so"}),
    [](const auto& param_info) { return std::string(param_info.param.plugin); });

TEST(PluginLoader, ParsesSearchPath) {
  auto dirs = PluginLoader::parse_search_path("/a::/b/c:");
  ASSERT_EQ(dirs.size(), 2u);
  EXPECT_EQ(dirs[0], "/a");
  EXPECT_EQ(dirs[1], "/b/c");
}

TEST(PluginLoader, FirstDirectoryWins) {
  PluginLoader loader({ZSWARM_TEST_FIXTURE_DIR, ZSWARM_TEST_PLUGIN_DIR});
  auto p = loader.load("echo");
  ASSERT_TRUE(p);
  EXPECT_EQ((*p)->path().parent_path(), std::filesystem::path(ZSWARM_TEST_PLUGIN_DIR));
}

}  // namespace
}  // namespace zswarm::workers
