// Secret files: keygen writes a fresh 0600 file and never overwrites; a
// node refuses a secret others could read, or one that is not 64 hex digits.
#include "node/secret_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace zswarm::node {
namespace {

namespace fs = std::filesystem;

class SecretFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("zswarm-secret-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& text, mode_t mode = 0600) {
    std::string p = path(name);
    std::ofstream(p) << text;
    ::chmod(p.c_str(), mode);
    return p;
  }
  fs::path dir_;
};

TEST_F(SecretFile, KeygenWritesANewPrivateSecret) {
  std::string p = path("s");
  ASSERT_TRUE(write_new_secret_file(p).ok());
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 65);
  auto a = read_secret_file(p);
  ASSERT_TRUE(a.ok()) << a.error().detail;
  ASSERT_TRUE(write_new_secret_file(path("t")).ok());
  auto b = read_secret_file(path("t"));
  ASSERT_TRUE(b.ok());
  EXPECT_NE(*a, *b) << "two keygens, two secrets";
  auto again = write_new_secret_file(p);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().detail.find("never overwritten"), std::string::npos);
  auto still = read_secret_file(p);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(*still, *a);
}

TEST_F(SecretFile, ReadsHexWithWhitespaceAround) {
  auto s = read_secret_file(write("s", "  " + std::string(62, '0') + "ff\n\n"));
  ASSERT_TRUE(s.ok()) << s.error().detail;
  EXPECT_EQ((*s)[31], 0xff);
  EXPECT_EQ((*s)[0], 0);
}

TEST_F(SecretFile, RefusesWhatIsNotASecret) {
  const std::string good(64, 'a');
  struct Case {
    std::string name;
    std::string text;
    mode_t mode;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"group-readable", good, 0640, "chmod 600"},
      {"world-readable", good, 0604, "chmod 600"},
      {"short", std::string(63, 'a'), 0600, "64 hex digits"},
      {"long", std::string(66, 'a'), 0600, "64 hex digits"},
      {"not-hex", std::string(64, 'g'), 0600, "64 hex digits"},
      {"empty", "", 0600, "64 hex digits"},
      {"big", std::string(10000, 'a'), 0600, "larger"},
  };
  for (const auto& c : cases) {
    auto r = read_secret_file(write(c.name, c.text, c.mode));
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error().name(), "bad_option");
    EXPECT_NE(r.error().detail.find(c.says), std::string::npos) << c.name << ": " << r.error().detail;
    EXPECT_NE(r.error().detail.find(c.name), std::string::npos) << "names the path";
  }
  EXPECT_FALSE(read_secret_file(path("missing")).ok());
  EXPECT_FALSE(read_secret_file(dir_.string()).ok()) << "a directory";
  std::string target = write("target", good);
  fs::create_symlink(target, path("link"));
  EXPECT_FALSE(read_secret_file(path("link")).ok()) << "a symlink is not followed";
}

TEST_F(SecretFile, RefusesAFileOwnedBySomeoneElse) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a file away (CI runs as root)";
  std::string p = write("theirs", std::string(64, 'a'));
  ASSERT_EQ(::chown(p.c_str(), 65534, 65534), 0);
  auto r = read_secret_file(p);
  // Root may read a file owned by root only: another user's is refused.
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("owned by uid 65534"), std::string::npos) << r.error().detail;
}

}  // namespace
}  // namespace zswarm::node
