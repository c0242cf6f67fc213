// DnsResolver: the A records of one name (a Kubernetes headless service, a
// round-robin name), looked up at once and then every interval on a thread
// of its own, because getaddrinfo blocks for as long as the resolver takes.
// Each outcome goes to `deliver` on that thread; the node posts it to its
// loop. Destruction stops the thread and waits for a lookup in progress.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "port/mutex.hpp"

namespace zswarm::node {

// Addresses a lookup may give the node: beacons go to each, every interval.
inline constexpr std::size_t kMaxDnsAddresses = 256;

struct DnsOutcome {
  std::vector<std::string> addresses;  // dotted IPv4, sorted, unique
  std::size_t dropped = 0;             // addresses over kMaxDnsAddresses, not used
  std::string error;                   // empty: the lookup answered
};

// Sorted and without duplicates, at most `max` of them (the lowest): the same
// set whatever order the answer came in. Pure.
DnsOutcome dns_address_set(std::vector<std::string> ips, std::size_t max = kMaxDnsAddresses);

// One blocking lookup of NAME's IPv4 addresses (getaddrinfo, AF_INET).
DnsOutcome resolve_ipv4(const std::string& name);

class DnsResolver {
 public:
  using Deliver = std::function<void(DnsOutcome)>;
  // `lookup` is resolve_ipv4 unless a test gives another.
  DnsResolver(std::string name, std::chrono::milliseconds interval, Deliver deliver,
              std::function<DnsOutcome(const std::string&)> lookup = resolve_ipv4);
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;
  ~DnsResolver();

 private:
  void run();

  const std::string name_;
  const std::chrono::milliseconds interval_;
  const Deliver deliver_;
  const std::function<DnsOutcome(const std::string&)> lookup_;
  port::Mutex mu_;
  port::CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace zswarm::node
