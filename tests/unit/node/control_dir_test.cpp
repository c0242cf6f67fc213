// The control socket's directory: the default path, and the checks that keep
// another local user from planting the directory or the socket.
#include "node/control_dir.hpp"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include <gtest/gtest.h>

#include "bus/reactor.hpp"
#include "node/control_server.hpp"
#include "zswarm/node.hpp"

namespace zswarm::node {
namespace {

namespace fs = std::filesystem;

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

gid_t group_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_gid;
}

// A unix socket file that nobody listens on: what a killed node leaves.
void stale_socket(const fs::path& p) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, p.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  ::close(fd);
}

// Sets or unsets an environment variable for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

struct ControlDir : ::testing::Test {
  fs::path tmp;  // 0700, ours: stands for the runtime dir
  fs::path base, cluster, sock;

  void SetUp() override {
    char tmpl[] = "/tmp/zsw-cdir-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    tmp = tmpl;
    base = tmp / "zswarm";
    cluster = base / "c";
    sock = cluster / "a.sock";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(tmp, ec);
  }
  void make_dirs(mode_t mode) {
    ASSERT_EQ(::mkdir(base.c_str(), 0700), 0);
    ASSERT_EQ(::mkdir(cluster.c_str(), 0700), 0);
    ASSERT_EQ(::chmod(base.c_str(), mode), 0);
  }
};

std::string refusal(const Result<void, Error>& r) {
  if (r.ok()) return "";
  EXPECT_EQ(r.error().code, Errc::control_socket_failed) << r.error().detail;
  return r.error().detail;
}

TEST_F(ControlDir, DefaultIsTheFirstUsableOfEnvRuntimeDirTmp) {
  const std::string missing = (tmp / "missing").string(), run_user = (tmp / "run-user").string();
  ASSERT_EQ(::mkdir(run_user.c_str(), 0700), 0);
  EXPECT_EQ(default_control_dir("/x/ctl", tmp.c_str(), run_user, "/fallback"), "/x/ctl");
  EXPECT_EQ(default_control_dir("", tmp.c_str(), run_user, "/fallback"), tmp.string() + "/zswarm");
  EXPECT_EQ(default_control_dir(nullptr, missing.c_str(), run_user, "/fallback"), run_user + "/zswarm");
  EXPECT_EQ(default_control_dir(nullptr, nullptr, missing, "/fallback"), "/fallback");
  // A runtime dir is used only if it is ours.
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(run_user.c_str(), 65534, 65534), 0);
    EXPECT_EQ(default_control_dir(nullptr, run_user.c_str(), run_user, "/fallback"), "/fallback");
  }

  // The real one reads the environment; $ZSWARM_RUNTIME_DIR comes first.
  const std::string uid = std::to_string(::geteuid());
  {
    ScopedEnv a("ZSWARM_RUNTIME_DIR", "/x/ctl"), b("XDG_RUNTIME_DIR", tmp.c_str());
    EXPECT_EQ(zswarm::default_control_dir(), "/x/ctl");
    EXPECT_EQ(control_socket_path("", "c", "a"), "/x/ctl/c/a.sock");
    EXPECT_EQ(control_socket_path("/y", "c", "a"), "/y/c/a.sock");
  }
  {
    ScopedEnv a("ZSWARM_RUNTIME_DIR", nullptr), b("XDG_RUNTIME_DIR", tmp.c_str());
    EXPECT_EQ(zswarm::default_control_dir(), tmp.string() + "/zswarm");
  }
  {
    ScopedEnv a("ZSWARM_RUNTIME_DIR", nullptr), b("XDG_RUNTIME_DIR", nullptr);
    EXPECT_EQ(zswarm::default_control_dir(),
              default_control_dir(nullptr, nullptr, "/run/user/" + uid, "/tmp/zswarm-" + uid));
  }
}

TEST_F(ControlDir, MissingDirsAreMade0700) {
  sock = tmp / "x" / "y" / "c" / "a.sock";  // parents missing too
  ASSERT_TRUE(prepare_control_dir(sock.string(), "").ok());
  for (const auto& d : {tmp / "x", tmp / "x" / "y", tmp / "x" / "y" / "c"}) EXPECT_EQ(mode_of(d), 0700u) << d;
  // A second node (or a restart) finds them as it left them.
  EXPECT_TRUE(prepare_control_dir(sock.string(), "").ok());
}

TEST_F(ControlDir, DirThatOthersMayWriteIsRefused) {
  make_dirs(0777);
  auto why = refusal(prepare_control_dir(sock.string(), ""));
  EXPECT_NE(why.find(base.string() + ": it is a directory"), std::string::npos) << why;
  EXPECT_NE(why.find("mode 0777"), std::string::npos) << why;
  EXPECT_NE(why.find("0700 or 0750"), std::string::npos) << why;
  EXPECT_EQ(mode_of(base), 0777u);  // refused, not repaired
  ASSERT_EQ(::chmod(base.c_str(), 0705), 0);  // others may read: refused too
  EXPECT_NE(refusal(prepare_control_dir(sock.string(), "")), "");
}

TEST_F(ControlDir, SymlinkInPlaceOfADirIsRefused) {
  const fs::path elsewhere = tmp / "elsewhere";
  ASSERT_EQ(::mkdir(elsewhere.c_str(), 0700), 0);
  fs::create_directory_symlink(elsewhere, base);
  auto why = refusal(prepare_control_dir(sock.string(), ""));
  EXPECT_NE(why.find(base.string() + ": it is a symlink"), std::string::npos) << why;
  EXPECT_FALSE(fs::exists(elsewhere / "c"));

  fs::remove(base);
  ASSERT_EQ(::mkdir(base.c_str(), 0700), 0);
  fs::create_directory_symlink(elsewhere, cluster);
  EXPECT_NE(refusal(prepare_control_dir(sock.string(), "")).find(cluster.string() + ": it is a symlink"),
            std::string::npos);
}

TEST_F(ControlDir, SocketPathThatIsNoSocketIsRefused) {
  make_dirs(0700);
  std::ofstream(sock) << "not a socket";
  auto why = refusal(prepare_control_dir(sock.string(), ""));
  EXPECT_NE(why.find(sock.string() + ": it is a regular file"), std::string::npos) << why;

  fs::remove(sock);
  fs::create_symlink(tmp / "elsewhere.sock", sock);
  EXPECT_NE(refusal(prepare_control_dir(sock.string(), "")).find("a symlink"), std::string::npos);

  fs::remove(sock);
  stale_socket(sock);  // a killed node's: taken over
  EXPECT_TRUE(prepare_control_dir(sock.string(), "").ok());
}

TEST_F(ControlDir, DirOfAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to another user (CI runs as root)";
  make_dirs(0700);
  stale_socket(sock);
  ASSERT_EQ(::chown(base.c_str(), 65534, 65534), 0);
  auto why = refusal(prepare_control_dir(sock.string(), ""));
  EXPECT_NE(why.find(base.string() + ": it is a directory owned by uid 65534"), std::string::npos) << why;
  // Nor does a client talk through it: the other user could answer.
  auto client = check_control_socket(sock.string());
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, Errc::control_socket_failed);
  EXPECT_NE(client.error().detail.find("uid 65534"), std::string::npos) << client.error().detail;
}

TEST_F(ControlDir, ClientTalksOnlyThroughSafeDirs) {
  make_dirs(0700);
  auto missing = check_control_socket(sock.string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  stale_socket(sock);
  EXPECT_TRUE(check_control_socket(sock.string()).ok());
  ASSERT_EQ(::chmod(base.c_str(), 0777), 0);
  EXPECT_NE(refusal(check_control_socket(sock.string())).find("mode 0777"), std::string::npos);
  ASSERT_EQ(::chmod(base.c_str(), 0755), 0);  // readable is fine for a client
  EXPECT_TRUE(check_control_socket(sock.string()).ok());
  fs::remove(sock);
  fs::create_symlink(tmp / "elsewhere.sock", sock);
  EXPECT_NE(refusal(check_control_socket(sock.string())).find("a symlink"), std::string::npos);
}

// A group this process may give files to, other than its own: root may use
// any; another user one of its supplementary groups.
std::optional<std::pair<std::string, gid_t>> other_group() {
  std::vector<gid_t> gids;
  if (::geteuid() == 0) {
    gids = {1, 65534};
  } else {
    gids.resize(256);
    int n = ::getgroups(static_cast<int>(gids.size()), gids.data());
    gids.resize(n > 0 ? n : 0);
  }
  for (gid_t g : gids)
    if (g != ::getegid())
      if (const ::group* gr = ::getgrgid(g)) return std::make_pair(std::string(gr->gr_name), g);
  return std::nullopt;
}

TEST_F(ControlDir, GroupGetsDirs0750AndSocket0660) {
  auto group = other_group();
  if (!group) GTEST_SKIP() << "no group other than our own to test with";
  ASSERT_TRUE(prepare_control_dir(sock.string(), group->first).ok());
  for (const auto& d : {base, cluster}) {
    EXPECT_EQ(mode_of(d), 0750u) << d;
    EXPECT_EQ(group_of(d), group->second) << d;
  }
  stale_socket(sock);
  ASSERT_TRUE(restrict_control_socket(sock.string(), group->first).ok());
  EXPECT_EQ(mode_of(sock), 0660u);
  EXPECT_EQ(group_of(sock), group->second);
  ASSERT_TRUE(restrict_control_socket(sock.string(), "").ok());
  EXPECT_EQ(mode_of(sock), 0600u);
  EXPECT_NE(refusal(prepare_control_dir(sock.string(), "no-such-group-zswarm")).find("no-such-group-zswarm"),
            std::string::npos);
}

// The server checks before libzmq's bind, which would unlink any file there.
TEST_F(ControlDir, ServerRefusesAFileAndTakesOverAStaleSocket) {
  make_dirs(0700);
  zmq::context_t ctx;
  bus::Reactor reactor;
  auto open = [&] {
    return ControlServer::open(ctx, reactor, sock.string(), "", [](const auto&, auto) {}, ControlServer::Limits{});
  };
  std::ofstream(sock) << "keep me";
  auto refused = open();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("a regular file"), std::string::npos) << refused.error();
  EXPECT_TRUE(fs::is_regular_file(sock));

  fs::remove(sock);
  stale_socket(sock);
  auto server = open();
  ASSERT_TRUE(server.ok()) << server.error();
  EXPECT_EQ(mode_of(sock), 0600u);
}

}  // namespace
}  // namespace zswarm::node
