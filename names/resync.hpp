// Resync: which peers this node still needs a whole replica from, and when
// it may ask again. A sync_request can be lost like any frame, so a peer
// stays "owed" until the last chunk of its snapshot arrives, and is asked
// again on every tick, at most once per interval without a chunk from it.
//
// Not thread-safe: lives on the node's event loop with the Tracker.
#pragma once

#include <chrono>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "bus/node_id.hpp"
#include "zswarm/clock.hpp"

namespace zswarm::names {

class Resync {
 public:
  explicit Resync(std::chrono::milliseconds min_interval = std::chrono::seconds(1)) : interval_(min_interval) {}

  // The peer's replica is needed (a sequence gap, a digest that shows more,
  // a new member). True when a sync_request should go out now.
  bool want(const bus::NodeId& peer, Clock::time_point now);
  // A member (re)appeared: its first request need not wait for the interval.
  void reset(const bus::NodeId& peer) { last_asked_.erase(peer); }
  // A chunk of its snapshot arrived: the pass is alive, so asking again
  // (which would restart it) waits another interval.
  void progress(const bus::NodeId& peer, Clock::time_point now) {
    if (owed_.count(peer)) last_asked_[peer] = now;
  }
  // The last chunk of its snapshot arrived.
  void synced(const bus::NodeId& peer) { owed_.erase(peer); }
  // It is down or left: nothing more to ask.
  void forget(const bus::NodeId& peer);
  std::vector<bus::NodeId> owed() const { return {owed_.begin(), owed_.end()}; }
  bool is_owed(const bus::NodeId& peer) const { return owed_.count(peer) != 0; }
  bool owes_any() const { return !owed_.empty(); }

 private:
  std::chrono::milliseconds interval_;
  std::unordered_map<bus::NodeId, Clock::time_point> last_asked_;
  std::unordered_set<bus::NodeId> owed_;
};

}  // namespace zswarm::names
