#include "names/resync.hpp"

namespace zswarm::names {

bool Resync::want(const bus::NodeId& peer, Clock::time_point now) {
  owed_.insert(peer);
  auto [it, first] = last_asked_.try_emplace(peer, now);
  if (!first) {
    if (now - it->second < interval_) return false;
    it->second = now;
  }
  return true;
}

void Resync::forget(const bus::NodeId& peer) {
  owed_.erase(peer);
  last_asked_.erase(peer);
}

}  // namespace zswarm::names
