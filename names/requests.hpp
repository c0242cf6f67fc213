// Requests: the name service's requests in flight to other nodes, by
// correlation id (the envelope's corr). Each has a deadline, the node it went
// to, what to do with the answer, and optionally how to re-route it when that
// node goes away (a register_request follows the ring). Every request ends
// exactly once: answered, timed out, or failed/re-routed with its node.
//
// Not thread-safe: lives on the node's event loop with the Tracker.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

#include "bus/node_id.hpp"
#include "zswarm/clock.hpp"
#include "zswarm/error.hpp"
#include "zswarm/result.hpp"

namespace zswarm::names {

class Requests {
 public:
  using Done = std::function<void(Result<std::string, Error>)>;
  using Retry = std::function<void()>;

  // A fresh correlation id (1, 2, 3, ... for this node's life).
  uint64_t next_id() { return ++last_id_; }
  // Waits for the answer to `corr` until `deadline`. `target` may be the nil
  // id for a request that no node failure should end early.
  void add(uint64_t corr, const bus::NodeId& target, Clock::time_point deadline, Done done, Retry retry = {});
  // The answer: runs done once. False if nothing waits (late or unknown).
  bool complete(uint64_t corr, Result<std::string, Error> r);
  // Fails every request past its deadline with timeout; returns how many.
  std::size_t expire(Clock::time_point now);
  // `target` went away: re-routes the requests that have a retry, fails the
  // others with node_down (detail `why`); returns how many ended here.
  std::size_t target_gone(const bus::NodeId& target, const std::string& why);
  std::size_t size() const { return pending_.size(); }

 private:
  struct Pending {
    Clock::time_point deadline;
    bus::NodeId target;
    Done done;
    Retry retry;
  };
  uint64_t last_id_ = 0;
  std::unordered_map<uint64_t, Pending> pending_;
};

}  // namespace zswarm::names
