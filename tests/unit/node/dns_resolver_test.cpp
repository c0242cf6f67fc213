#include "node/dns_resolver.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "port/mutex.hpp"
#include "support/wait.hpp"

namespace zswarm::node {
namespace {

TEST(DnsAddressSet, SortedNumericallyUniqueAndBounded) {
  auto r = dns_address_set({"198.18.0.10", "198.18.0.9", "198.18.0.10", "127.255.0.1"});
  EXPECT_EQ(r.addresses, (std::vector<std::string>{"127.255.0.1", "198.18.0.9", "198.18.0.10"}));
  EXPECT_EQ(r.dropped, 0u);
  EXPECT_TRUE(r.error.empty());

  std::vector<std::string> many;
  for (int i = 300; i-- > 0;) many.push_back("198.18." + std::to_string(i / 256) + "." + std::to_string(i % 256));
  r = dns_address_set(many);
  ASSERT_EQ(r.addresses.size(), kMaxDnsAddresses);
  EXPECT_EQ(r.dropped, 300u - kMaxDnsAddresses);
  EXPECT_EQ(r.addresses.front(), "198.18.0.0");
  EXPECT_EQ(r.addresses.back(), "198.18.0.255");  // the lowest 256: the same set on every node
}

TEST(DnsResolver, LooksUpAtOnceThenEveryIntervalOffTheCallersThread) {
  port::Mutex mu;
  std::vector<DnsOutcome> got;
  std::atomic<int> lookups{0};
  auto caller = std::this_thread::get_id();
  std::atomic<bool> on_caller{false};
  {
    DnsResolver r(
        "peers", std::chrono::milliseconds(100),
        [&](DnsOutcome o) {
          if (std::this_thread::get_id() == caller) on_caller = true;
          port::MutexLock lock(mu);
          got.push_back(std::move(o));
        },
        [&](const std::string& name) {
          DnsOutcome o;
          if (++lookups == 2) o.error = "temporary failure";
          else o = dns_address_set({name == "peers" ? "198.18.0.1" : "0.0.0.0"});
          return o;
        });
    ASSERT_TRUE(testing::wait_until([&] {
      port::MutexLock lock(mu);
      return got.size() >= 3;
    }));
  }  // the destructor stops the thread: nothing is delivered after it
  const int seen = lookups.load();
  EXPECT_FALSE(on_caller);
  port::MutexLock lock(mu);
  EXPECT_LE(got.size(), static_cast<std::size_t>(seen));
  EXPECT_EQ(got[0].addresses, std::vector<std::string>{"198.18.0.1"});
  EXPECT_EQ(got[1].error, "temporary failure");
  EXPECT_EQ(got[2].addresses, std::vector<std::string>{"198.18.0.1"});
}

TEST(DnsResolver, StopsAtOnceWhileWaitingALongInterval) {
  std::atomic<int> delivered{0};
  auto t0 = std::chrono::steady_clock::now();
  {
    DnsResolver r("x", std::chrono::hours(1), [&](DnsOutcome) { ++delivered; },
                  [](const std::string&) { return dns_address_set({"198.18.0.1"}); });
    ASSERT_TRUE(testing::wait_until([&] { return delivered.load() == 1; }));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(delivered.load(), 1);
}

TEST(DnsResolver, ResolvesANumericNameWithoutAServer) {
  auto r = resolve_ipv4("198.18.0.7");
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.addresses, std::vector<std::string>{"198.18.0.7"});
}

}  // namespace
}  // namespace zswarm::node
