// SourceLimit: a token bucket per source address, for datagrams that cost
// work before they can be judged (beacons). A bounded number of sources is
// tracked; idle ones (full buckets) make room for new ones at most once a
// second, and a new source finds no room until then.
// Not thread-safe: owned by the node's event loop.
#pragma once

#include <chrono>
#include <string>
#include <unordered_map>

#include "zswarm/clock.hpp"

namespace zswarm::discovery {

class SourceLimit {
 public:
  struct Options {
    double per_second = 100;
    double burst = 200;
    std::size_t max_sources = 1024;
  };
  explicit SourceLimit(Options o) : o_(o) {}

  // True if `source` may be served now (it spends one token).
  bool admit(const std::string& source, Clock::time_point now) {
    auto it = buckets_.find(source);
    if (it == buckets_.end()) {
      if (buckets_.size() >= o_.max_sources && !make_room(now)) return false;
      it = buckets_.emplace(source, Bucket{o_.burst, now}).first;
    }
    Bucket& b = it->second;
    b.tokens = std::min(o_.burst, b.tokens + o_.per_second * std::chrono::duration<double>(now - b.at).count());
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
  std::size_t sources() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point at;
  };
  bool make_room(Clock::time_point now) {
    if (now < last_sweep_ + std::chrono::seconds(1)) return false;
    last_sweep_ = now;
    std::erase_if(buckets_, [&](const auto& kv) {
      return kv.second.tokens + o_.per_second * std::chrono::duration<double>(now - kv.second.at).count() >= o_.burst;
    });
    return buckets_.size() < o_.max_sources;
  }

  Options o_;
  std::unordered_map<std::string, Bucket> buckets_;
  Clock::time_point last_sweep_ = Clock::time_point::min();
};

}  // namespace zswarm::discovery
