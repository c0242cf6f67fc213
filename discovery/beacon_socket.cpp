#include "discovery/beacon_socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

namespace zswarm::discovery {
namespace {

std::string ip_text(in_addr a) {
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

struct IfaceAddr {
  in_addr addr, mask, broadcast;
};

std::optional<IfaceAddr> find_interface(const std::string& name) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  std::optional<IfaceAddr> found;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || name != i->ifa_name) continue;
    IfaceAddr a;
    a.addr = reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr;
    a.mask = reinterpret_cast<sockaddr_in*>(i->ifa_netmask)->sin_addr;
    a.broadcast.s_addr = a.addr.s_addr | ~a.mask.s_addr;
    found = a;
    break;
  }
  freeifaddrs(list);
  return found;
}

std::optional<sockaddr_in> resolve(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res) return std::nullopt;
  sockaddr_in out = *reinterpret_cast<sockaddr_in*>(res->ai_addr);
  out.sin_port = htons(port);
  freeaddrinfo(res);
  return out;
}

}  // namespace

std::optional<std::string> default_route_interface(std::string_view table) {
  std::optional<std::string> best;
  unsigned long best_metric = 0;
  bool header = true;
  while (!table.empty()) {
    auto nl = table.find('\n');
    std::string line(table.substr(0, nl));
    table.remove_prefix(nl == std::string_view::npos ? table.size() : nl + 1);
    if (header) {  // "Iface Destination Gateway Flags RefCnt Use Metric Mask ..."
      header = false;
      continue;
    }
    // Fields are whitespace-separated; hex for addresses and flags.
    std::vector<std::string> f;
    std::size_t i = 0;
    while (i < line.size() && f.size() < 8) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      std::size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
      if (j > i) f.emplace_back(line.substr(i, j - i));
      i = j;
    }
    if (f.size() < 8 || f[1] != "00000000" || f[7] != "00000000") continue;
    char* end = nullptr;
    unsigned long flags = std::strtoul(f[3].c_str(), &end, 16);
    if (*end || !(flags & 0x1)) continue;  // RTF_UP
    unsigned long metric = std::strtoul(f[6].c_str(), &end, 10);
    if (*end) continue;
    if (!best || metric < best_metric) {
      best = f[0];
      best_metric = metric;
    }
  }
  return best;
}

namespace {
Unexpected<Error> bind_failed(std::string detail) { return fail(Error{Errc::bind_failed, "discovery: " + detail}); }
}  // namespace

Result<BeaconSocket, Error> BeaconSocket::open(const Scope& scope) {
  BeaconSocket s;
  s.scope_ = scope;
  ip_mreq m{};
  bool multicast = scope.seeds.empty() && scope.dns.empty() && !scope.multicast_group.empty();
  if (multicast && (inet_pton(AF_INET, scope.multicast_group.c_str(), &m.imr_multiaddr) != 1 ||
                    (ntohl(m.imr_multiaddr.s_addr) >> 28) != 0xe))
    return bind_failed("multicast group '" + scope.multicast_group + "' is not an IPv4 multicast address");
  std::string ifname = scope.interface;
  if (multicast && ifname.empty()) {
    // Multicast on loopback reaches no other host: take the default route's
    // interface, and refuse rather than silently stay on this host.
    std::string table;
    if (FILE* f = std::fopen("/proc/net/route", "re")) {
      char buf[4096];
      std::size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) table.append(buf, n);
      std::fclose(f);
    }
    auto picked = default_route_interface(table);
    if (!picked)
      return bind_failed("--multicast " + scope.multicast_group +
                         " without --interface needs an IPv4 default route to pick the interface from, and there "
                         "is none: give --interface IFACE");
    ifname = *picked;
    s.picked_interface_ = ifname;
  }
  IfaceAddr iface{};
  if (ifname.empty()) {
    inet_pton(AF_INET, "127.0.0.1", &iface.addr);
    inet_pton(AF_INET, "255.0.0.0", &iface.mask);
    inet_pton(AF_INET, "127.255.255.255", &iface.broadcast);
  } else {
    auto found = find_interface(ifname);
    if (!found)
      return bind_failed("interface '" + ifname + "'" + (s.picked_interface_.empty() ? "" : " (of the default route)") +
                         " not found or has no IPv4 address");
    iface = *found;
  }
  s.bind_address_ = ip_text(iface.addr);
  s.net_.s_addr = iface.addr.s_addr & iface.mask.s_addr;
  s.mask_ = iface.mask;

  s.fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd_ < 0) return bind_failed(std::string("socket: ") + std::strerror(errno));
  int on = 1;
  setsockopt(s.fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  setsockopt(s.fd_, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  setsockopt(s.fd_, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_port = htons(scope.port);
  any.sin_addr.s_addr = htonl(INADDR_ANY);
  if (::bind(s.fd_, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0)
    return bind_failed("bind UDP port " + std::to_string(scope.port) + ": " + std::strerror(errno));

  if (!scope.seeds.empty()) {
    s.net_.s_addr = 0;  // seeds may be anywhere the operator listed
    s.mask_.s_addr = 0;
    bool all_loopback = true;
    for (const std::string& seed : scope.seeds) {
      auto colon = seed.rfind(':');
      std::string host = colon == std::string::npos ? seed : seed.substr(0, colon);
      uint16_t port = scope.port;
      if (colon != std::string::npos) {
        char* end = nullptr;
        long p = std::strtol(seed.c_str() + colon + 1, &end, 10);
        if (*end || p <= 0 || p > 65535) return bind_failed("seed '" + seed + "': bad port");
        port = static_cast<uint16_t>(p);
      }
      auto addr = resolve(host, port);
      if (!addr) return bind_failed("seed '" + seed + "': cannot resolve host");
      all_loopback &= (ntohl(addr->sin_addr.s_addr) >> 24) == 127;
      s.targets_.push_back(*addr);
    }
    // Seeds on other hosts must reach our bus: without --interface, listen on
    // every interface; seeds all on loopback keep the bus on loopback.
    if (scope.interface.empty() && !all_loopback) s.bind_address_ = "0.0.0.0";
  } else if (!scope.dns.empty()) {
    // The addresses come with each send(); they may be anywhere the name points.
    s.net_.s_addr = 0;
    s.mask_.s_addr = 0;
    if (scope.interface.empty()) s.bind_address_ = "0.0.0.0";
  } else if (multicast) {
    m.imr_interface = iface.addr;
    if (setsockopt(s.fd_, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) != 0)
      return bind_failed("join multicast group " + scope.multicast_group + ": " + std::strerror(errno));
    setsockopt(s.fd_, IPPROTO_IP, IP_MULTICAST_IF, &iface.addr, sizeof iface.addr);
    unsigned char ttl = 1, loop = 1;  // one hop: discovery stays on the LAN
    setsockopt(s.fd_, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
    setsockopt(s.fd_, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop);
    sockaddr_in g{};
    g.sin_family = AF_INET;
    g.sin_port = htons(scope.port);
    g.sin_addr = m.imr_multiaddr;
    s.targets_.push_back(g);
  } else {
    sockaddr_in b{};
    b.sin_family = AF_INET;
    b.sin_port = htons(scope.port);
    b.sin_addr = iface.broadcast;
    s.targets_.push_back(b);
  }
  return s;
}

BeaconSocket::BeaconSocket(BeaconSocket&& o) noexcept
    : fd_(o.fd_), scope_(std::move(o.scope_)), picked_interface_(std::move(o.picked_interface_)),
      bind_address_(std::move(o.bind_address_)),
      targets_(std::move(o.targets_)), net_(o.net_), mask_(o.mask_), out_of_scope_(o.out_of_scope_) {
  o.fd_ = -1;
}

BeaconSocket& BeaconSocket::operator=(BeaconSocket&& o) noexcept {
  if (this != &o) {
    this->~BeaconSocket();
    new (this) BeaconSocket(std::move(o));
  }
  return *this;
}

BeaconSocket::~BeaconSocket() {
  if (fd_ >= 0) ::close(fd_);
}

std::string BeaconSocket::describe() const {
  std::string kind = !scope_.seeds.empty()             ? "seeds"
                     : !scope_.dns.empty()             ? "dns"
                     : !scope_.multicast_group.empty() ? "multicast"
                                                       : "broadcast";
  std::string out = kind;
  if (!scope_.dns.empty()) out.append(" ").append(scope_.dns).append(":").append(std::to_string(scope_.port));
  // Appended piece by piece: `" " + std::string&&` trips GCC 12's -Wrestrict (a false positive).
  for (const auto& t : targets_) {
    out += ' ';
    out += ip_text(t.sin_addr);
    out += ':';
    out += std::to_string(ntohs(t.sin_port));
  }
  if (!picked_interface_.empty()) out.append(" on ").append(picked_interface_).append(" (default route)");
  return out;
}

void BeaconSocket::send_to(const sockaddr_in& to, std::string_view datagram) {
  // Best effort, like any beacon: a lost one is repeated next interval.
  (void)::sendto(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT,
                 reinterpret_cast<const sockaddr*>(&to), sizeof to);
}

void BeaconSocket::send(std::string_view datagram, const std::vector<std::string>& extra_hosts) {
  for (const auto& t : targets_) send_to(t, datagram);
  if (scope_.seeds.empty() && scope_.dns.empty()) return;
  for (const std::string& host : extra_hosts) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(scope_.port);
    if (inet_pton(AF_INET, host.c_str(), &to.sin_addr) == 1) send_to(to, datagram);
  }
}

bool BeaconSocket::in_scope(const sockaddr_in& from) const {
  return (from.sin_addr.s_addr & mask_.s_addr) == net_.s_addr;
}

std::optional<Datagram> BeaconSocket::receive() {
  char buf[2048];
  for (;;) {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(fd_, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return std::nullopt;
    if (!in_scope(from)) {
      ++out_of_scope_;
      continue;
    }
    return Datagram{std::string(buf, static_cast<std::size_t>(n)), ip_text(from.sin_addr), ntohs(from.sin_port)};
  }
}

}  // namespace zswarm::discovery
