#include "node/dns_resolver.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

namespace zswarm::node {

DnsOutcome dns_address_set(std::vector<std::string> ips, std::size_t max) {
  // Numeric order, so that "the lowest" means the same on every node.
  auto key = [](const std::string& ip) {
    in_addr a{};
    inet_pton(AF_INET, ip.c_str(), &a);
    return ntohl(a.s_addr);
  };
  std::sort(ips.begin(), ips.end(), [&](const std::string& a, const std::string& b) { return key(a) < key(b); });
  ips.erase(std::unique(ips.begin(), ips.end()), ips.end());
  DnsOutcome out;
  if (ips.size() > max) {
    out.dropped = ips.size() - max;
    ips.resize(max);
  }
  out.addresses = std::move(ips);
  return out;
}

DnsOutcome resolve_ipv4(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;  // one entry per address, not one per socket type
  addrinfo* res = nullptr;
  int rc = getaddrinfo(name.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    DnsOutcome out;
    out.error = gai_strerror(rc);
    return out;
  }
  std::vector<std::string> ips;
  for (addrinfo* a = res; a; a = a->ai_next) {
    if (a->ai_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, buf, sizeof buf);
    ips.emplace_back(buf);
  }
  freeaddrinfo(res);
  return dns_address_set(std::move(ips));
}

DnsResolver::DnsResolver(std::string name, std::chrono::milliseconds interval, Deliver deliver,
                         std::function<DnsOutcome(const std::string&)> lookup)
    : name_(std::move(name)),
      interval_(interval),
      deliver_(std::move(deliver)),
      lookup_(std::move(lookup)),
      thread_([this] { run(); }) {}

DnsResolver::~DnsResolver() {
  {
    port::MutexLock lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void DnsResolver::run() {
  for (;;) {
    DnsOutcome r = lookup_(name_);
    {
      port::MutexLock lock(mu_);
      if (stop_) return;
    }
    deliver_(std::move(r));
    port::MutexLock lock(mu_);
    auto until = std::chrono::steady_clock::now() + interval_;
    while (!stop_ && std::chrono::steady_clock::now() < until) cv_.wait_for(mu_, until - std::chrono::steady_clock::now());
    if (stop_) return;
  }
}

}  // namespace zswarm::node
