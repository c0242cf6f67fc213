#include "node/secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <sodium.h>

namespace zswarm::node {
namespace {

Unexpected<Error> bad(const std::string& path, const std::string& why) {
  return fail(Error{Errc::bad_option, "secret file " + path + ": " + why});
}

std::string octal(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

// 4 KiB is far more than 64 hex digits and some whitespace.
constexpr std::size_t kMaxFileBytes = 4096;

}  // namespace

Result<discovery::ClusterSecret, Error> read_secret_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return bad(path, std::strerror(errno));
  struct stat st {};
  std::string text(kMaxFileBytes + 1, '\0');
  ssize_t n = -1;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) == 0 &&
      (st.st_uid == ::geteuid() || st.st_uid == 0))
    n = ::read(fd, text.data(), text.size());
  ::close(fd);
  if (!S_ISREG(st.st_mode)) return bad(path, "not a regular file");
  if (st.st_mode & 077)
    return bad(path, "mode " + octal(st.st_mode) + " lets group or others at it; chmod 600 " + path);
  if (st.st_uid != ::geteuid() && st.st_uid != 0)
    return bad(path, "owned by uid " + std::to_string(st.st_uid) + ", not by this user");
  if (n < 0) return bad(path, std::strerror(errno));
  if (static_cast<std::size_t>(n) > kMaxFileBytes) return bad(path, "larger than a secret file can be");
  text.resize(static_cast<std::size_t>(n));
  auto first = text.find_first_not_of(" \t\r\n");
  auto last = text.find_last_not_of(" \t\r\n");
  std::string hex = first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
  discovery::ClusterSecret s{};
  std::size_t bin_len = 0;
  if (hex.size() != 2 * s.size() ||
      sodium_hex2bin(s.data(), s.size(), hex.data(), hex.size(), nullptr, &bin_len, nullptr) != 0 ||
      bin_len != s.size())
    return bad(path, "expected 64 hex digits (write one with `zswarm keygen FILE`)");
  sodium_memzero(text.data(), text.size());
  sodium_memzero(hex.data(), hex.size());
  return s;
}

Result<void, Error> write_new_secret_file(const std::string& path) {
  if (sodium_init() < 0) return bad(path, "libsodium failed to initialise");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return bad(path, errno == EEXIST ? "exists already (never overwritten)" : std::strerror(errno));
  discovery::ClusterSecret s{};
  randombytes_buf(s.data(), s.size());
  char hex[2 * sizeof s + 1];
  sodium_bin2hex(hex, sizeof hex, s.data(), s.size());
  std::string line = std::string(hex) + "\n";
  sodium_memzero(s.data(), s.size());
  bool ok = ::fchmod(fd, 0600) == 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  sodium_memzero(line.data(), line.size());
  sodium_memzero(hex, sizeof hex);
  if (!ok) {
    ::unlink(path.c_str());
    return bad(path, std::strerror(err));
  }
  return {};
}

}  // namespace zswarm::node
