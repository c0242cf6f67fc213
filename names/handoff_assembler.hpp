// HandoffAssembler: joins the parts of incoming handoff offers whose state
// is larger than one frame (docs/protocol.md §5.11). Parts of one offer share
// the sender and the corr and must come in order; the state of one offer and
// of all partial offers together are bounded, and offers whose parts stop
// coming are dropped after their deadline.
//
// Not thread-safe: lives on the node's event loop with the Tracker.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bus/node_id.hpp"
#include "names/tracker_wire.hpp"
#include "zswarm/clock.hpp"
#include "zswarm/error.hpp"
#include "zswarm/result.hpp"

namespace zswarm::names {

class HandoffAssembler {
 public:
  struct Limits {
    std::size_t max_state_bytes = 64u << 20;  // one offer
    std::size_t max_total_bytes = 256u << 20;  // every partial offer together, entries included
    std::size_t max_partial_per_sender = 4;    // offers one peer may have half sent
  };
  // A whole offer, once its last part is in.
  struct Whole {
    std::string entry, kind, state;
  };

  explicit HandoffAssembler(Limits limits) : limits_(limits) {}

  // Takes one part. nullopt while parts are missing; the whole offer after
  // the last one; an error (bad_message: out of order; too_large: a bound)
  // drops what was gathered for that offer. A one-part offer is whole at once.
  Result<std::optional<Whole>, Error> add(const bus::NodeId& sender, uint64_t corr, wire::HandoffOffer part,
                                          Clock::time_point deadline);
  // Drops partial offers whose next part did not come by its deadline (each
  // part moves it on); returns their senders.
  std::vector<bus::NodeId> expire(Clock::time_point now);
  std::size_t partial() const { return partial_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  struct Partial {
    std::string entry, kind, state;
    uint64_t parts = 1, next = 0;
    Clock::time_point deadline;
  };
  using Key = std::pair<bus::NodeId, uint64_t>;
  void drop(std::map<Key, Partial>::iterator it);

  Limits limits_;
  static std::size_t cost(const Partial& p) { return p.entry.size() + p.kind.size() + p.state.size(); }
  std::size_t partial_from(const bus::NodeId& sender) const;

  std::map<Key, Partial> partial_;
  std::size_t bytes_ = 0;  // cost() of every partial offer
};

}  // namespace zswarm::names
