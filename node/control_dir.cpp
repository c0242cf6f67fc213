#include "node/control_dir.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <vector>

#include "zswarm/node.hpp"

namespace zswarm {

std::string default_control_dir() {
  const std::string uid = std::to_string(::geteuid());
  return node::default_control_dir(std::getenv("ZSWARM_RUNTIME_DIR"), std::getenv("XDG_RUNTIME_DIR"),
                                   std::string("/run/user/").append(uid), std::string("/tmp/zswarm-").append(uid));
}

std::string control_socket_path(const std::string& control_dir, const std::string& cluster,
                                 const std::string& name) {
  return (control_dir.empty() ? default_control_dir() : control_dir) + "/" + cluster + "/" + name + ".sock";
}

namespace node {

namespace fs = std::filesystem;

namespace {

Unexpected<Error> refuse(std::string detail) { return fail(Error{Errc::control_socket_failed, std::move(detail)}); }

std::string errno_text() { return std::strerror(errno); }

std::string who(uid_t uid) {
  std::string out = std::string("uid ").append(std::to_string(uid));
  passwd pw{};
  passwd* found = nullptr;
  char buf[4096];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found) out.append(" (").append(pw.pw_name).append(")");
  return out;
}

std::string describe(const struct stat& st) {
  const mode_t m = st.st_mode;
  const char* kind = S_ISLNK(m)    ? "a symlink"
                     : S_ISDIR(m)  ? "a directory"
                     : S_ISREG(m)  ? "a regular file"
                     : S_ISSOCK(m) ? "a socket"
                                   : "a special file";
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(m & 07777));
  return std::string(kind).append(" owned by ").append(who(st.st_uid)).append(" with mode ").append(mode);
}

// "refusing control directory /x: it is a symlink owned by uid 1001 (eve) with mode 0777; expected ..."
Unexpected<Error> refuse_found(const char* what, const fs::path& p, const struct stat& st, const std::string& expected) {
  return refuse(std::string("refusing ").append(what).append(" ").append(p.string()).append(": it is ")
                    .append(describe(st)).append("; expected ").append(expected));
}

// What a directory must be to be trusted.
struct Rule {
  const char* what;   // names it in the error
  bool root_may_own;  // besides this user
  mode_t forbidden;   // mode bits that must be clear...
  bool sticky_ok;     // ...unless sticky (/tmp): others cannot rename what is not theirs
  const char* expected;
};

constexpr Rule kOwn{"control directory", false, 0027, false,
                    "a directory owned by this node's user with mode 0700 or 0750: no write for the group, no "
                    "access for others"};
// Above the control directory: whoever may change one could swap it after it was checked.
constexpr Rule kParent{"directory above the control directory", true, 0022, true,
                       "a directory owned by this user or root that nobody else may write to (or sticky, like /tmp)"};
constexpr Rule kClient{"control directory", true, 0022, false,
                       "a directory owned by this user or root that nobody else may write to"};

Result<void, Error> check(const fs::path& p, const struct stat& st, const Rule& r) {
  const bool owner_ok = st.st_uid == ::geteuid() || (r.root_may_own && st.st_uid == 0);
  const bool mode_ok = (st.st_mode & r.forbidden) == 0 || (r.sticky_ok && (st.st_mode & S_ISVTX));
  if (S_ISDIR(st.st_mode) && owner_ok && mode_ok) return {};
  return refuse_found(r.what, p, st, std::string(r.expected).append(" (this user: ").append(who(::geteuid())).append(")"));
}

Result<std::optional<gid_t>, Error> group_id(const std::string& name) {
  if (name.empty()) return std::optional<gid_t>();
  std::vector<char> buf(16384);
  for (;;) {
    ::group gr{};
    ::group* found = nullptr;
    int rc = ::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1u << 22)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc == 0 && found) return std::optional<gid_t>(gr.gr_gid);
    return refuse(std::string("control_group: no group '").append(name).append("'"));
  }
}

struct Fd {
  int fd;
  ~Fd() { ::close(fd); }
};

// Makes or opens one of the node's own directories and checks it through its
// fd, so no symlink is followed and what is chmod'ed is what was checked.
Result<void, Error> own_dir(const fs::path& p, std::optional<gid_t> gid) {
  const bool made = ::mkdir(p.c_str(), 0700) == 0;
  if (!made && errno != EEXIST)
    return refuse(std::string("cannot create control directory ").append(p.string()).append(": ").append(errno_text()));
  struct stat st;
  int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    std::string why = errno_text();
    if (::lstat(p.c_str(), &st) == 0)
      if (auto r = check(p, st, kOwn); !r) return r;  // a symlink, a file
    return refuse(std::string("cannot open control directory ").append(p.string()).append(": ").append(why));
  }
  Fd guard{fd};
  if (::fstat(fd, &st) != 0)
    return refuse(std::string("cannot stat control directory ").append(p.string()).append(": ").append(errno_text()));
  if (auto r = check(p, st, kOwn); !r) return r;
  if (gid && (::fchown(fd, static_cast<uid_t>(-1), *gid) != 0 || ::fchmod(fd, 0750) != 0))
    return refuse(std::string("cannot give control directory ").append(p.string()).append(" to group id ")
                      .append(std::to_string(*gid)).append(" (control_group): ").append(errno_text()));
  if (!gid && made && ::fchmod(fd, 0700) != 0)  // the umask may have taken more
    return refuse(std::string("cannot chmod control directory ").append(p.string()).append(": ").append(errno_text()));
  return {};
}

// socket_path as parent/base/cluster/socket, absolute, with the symlinks
// above base resolved: they are checked where they lead.
struct Layout {
  fs::path parent, base, cluster, socket;
};

Result<Layout, Error> layout(const std::string& socket_path) {
  std::error_code ec;
  fs::path abs = fs::absolute(socket_path, ec).lexically_normal();
  fs::path base = abs.parent_path().parent_path();
  fs::path parent = ec ? fs::path() : fs::weakly_canonical(base.parent_path(), ec);
  if (ec) return refuse(std::string("cannot resolve control socket path ").append(socket_path).append(": ").append(ec.message()));
  Layout l{parent, parent / base.filename(), {}, {}};
  l.cluster = l.base / abs.parent_path().filename();
  l.socket = l.cluster / abs.filename();
  return l;
}

// Every directory from / down to `parent`. Missing ones are made as the
// node's own when `make` is given, else they are not_found.
Result<void, Error> check_parents(const fs::path& parent, const std::optional<gid_t>* make) {
  fs::path p;
  for (const auto& part : parent) {
    p /= part;
    struct stat st;
    if (::lstat(p.c_str(), &st) == 0) {
      if (auto r = check(p, st, kParent); !r) return r;
    } else if (errno != ENOENT) {
      return refuse(std::string("cannot stat ").append(p.string()).append(": ").append(errno_text()));
    } else if (!make) {
      return fail(Error{Errc::not_found, p.string() + " does not exist"});
    } else if (auto r = own_dir(p, *make); !r) {
      return r;
    }
  }
  return {};
}

bool owned_dir(const char* p) {
  struct stat st;
  return ::lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid();
}

}  // namespace

std::string default_control_dir(const char* runtime_dir, const char* xdg_runtime_dir, const std::string& run_user_dir,
                                const std::string& fallback) {
  if (runtime_dir && *runtime_dir) return runtime_dir;
  if (xdg_runtime_dir && *xdg_runtime_dir && owned_dir(xdg_runtime_dir))
    return std::string(xdg_runtime_dir).append("/zswarm");
  if (owned_dir(run_user_dir.c_str())) return run_user_dir + "/zswarm";
  return fallback;
}

Result<void, Error> prepare_control_dir(const std::string& socket_path, const std::string& group) {
  auto gid = group_id(group);
  if (!gid) return fail(gid.error());
  auto l = layout(socket_path);
  if (!l) return fail(l.error());
  if (auto r = check_parents(l->parent, &*gid); !r) return r;
  for (const auto& dir : {l->base, l->cluster})
    if (auto r = own_dir(dir, *gid); !r) return r;
  struct stat st;
  if (::lstat(l->socket.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode) || st.st_uid != ::geteuid())
      return refuse_found("control socket path", l->socket, st,
                          std::string("nothing there, or a socket left by ")
                              .append(who(::geteuid()))
                              .append(" (remove it if no node uses it)"));
  } else if (errno != ENOENT) {
    return refuse(std::string("cannot stat ").append(l->socket.string()).append(": ").append(errno_text()));
  }
  return {};
}

Result<void, Error> restrict_control_socket(const std::string& socket_path, const std::string& group) {
  auto gid = group_id(group);
  if (!gid) return fail(gid.error());
  // By path: the directory is the node's own, nobody else can swap the file.
  if (*gid && ::lchown(socket_path.c_str(), static_cast<uid_t>(-1), **gid) != 0)
    return refuse(std::string("cannot give control socket ").append(socket_path).append(" to group ")
                      .append(group).append(": ").append(errno_text()));
  if (::chmod(socket_path.c_str(), *gid ? 0660 : 0600) != 0)
    return refuse(std::string("cannot chmod control socket ").append(socket_path).append(": ").append(errno_text()));
  return {};
}

Result<void, Error> check_control_socket(const std::string& socket_path) {
  auto l = layout(socket_path);
  if (!l) return fail(l.error());
  if (auto r = check_parents(l->parent, nullptr); !r) return r;
  for (const auto& p : {l->base, l->cluster, l->socket}) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) return fail(Error{Errc::not_found, p.string() + " does not exist"});
    if (p != l->socket) {
      if (auto r = check(p, st, kClient); !r) return r;
    } else if (!S_ISSOCK(st.st_mode)) {
      return refuse_found("control socket path", p, st, "a socket");
    }
  }
  return {};
}

}  // namespace node
}  // namespace zswarm
