// ClockRetirement: when the id of a writer that is gone leaves every vector
// clock (Registry::retire), and which retired ids stay quarantined.
//
// Every start of a node is a new id, and each id that ever wrote stays in
// the clocks of what it wrote and in every replica's summary (the digest).
// An id that no live member has is timed from when this node first saw it
// absent:
//   left        the node said goodbye:                  left_after (short)
//   superseded  a live member has its name (a restart): left_after
//   down        down, or never heard of (a joiner):     down_after (long)
// and is retired when its time is up. A retired id is quarantined for
// `remember`: a node that comes back under it is refused and told to
// restart with a new id (protocol.md §8.10); after that the id is forgotten.
//
// Not thread-safe: lives on the node's event loop with the Tracker.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "registry/vector_clock.hpp"
#include "zswarm/clock.hpp"

namespace zswarm::names {

enum class Absence : uint8_t {
  left,        // it said goodbye
  superseded,  // a newer run of its name is a member, or no other member names it any more
  down,        // down, or never heard of
};

struct RetirementOptions {
  std::chrono::milliseconds left_after{std::chrono::seconds(10)};
  std::chrono::milliseconds down_after{std::chrono::hours(1)};
  // How long a retired id stays quarantined (at least down_after, so that a
  // node cut off for longer than down_after is still refused when it heals).
  std::chrono::milliseconds remember{std::chrono::hours(24)};
};

class ClockRetirement {
 public:
  explicit ClockRetirement(RetirementOptions opts) : opts_(opts) {}

  // What this node knows of a writer's id now: nullopt while a live member
  // has it. A stronger reason (left after down) shortens its wait.
  void observe(const std::string& id, std::optional<Absence> absence, Clock::time_point now);
  // observe() for every writer in a replica's summary but `self` and the
  // retired floor; `absence` tells why an id is absent (nullopt: alive).
  // `others`: the latest digest of every other live member, when this node
  // has one from each, the oldest of them received at `others_since`. An
  // absent id that none of them names, although each was sent after this
  // node already saw the id absent, was retired by them all: it waits only
  // left_after, whatever `absence` says. That is how a node that joined
  // after the id went (and so never knew it) lets it go as soon as the
  // others did. (A digest older than that may simply predate the id's
  // first write, as for a member that has just joined.)
  void observe_writers(const registry::VectorClock& summary, std::string_view self, Clock::time_point now,
                       const std::function<std::optional<Absence>(const std::string&)>& absence,
                       const std::vector<const registry::VectorClock*>* others = nullptr,
                       Clock::time_point others_since = {});
  // Ids whose wait is over: the caller retires them now. They are
  // quarantined from then on.
  std::vector<std::string> take_due(Clock::time_point now);
  // Quarantined ids older than `remember`: the caller forgets them.
  std::vector<std::string> take_expired(Clock::time_point now);
  bool quarantined(const std::string& id) const { return retired_.count(id) > 0; }
  std::size_t waiting() const { return absent_.size(); }
  std::size_t quarantined_count() const { return retired_.size(); }
  const RetirementOptions& options() const { return opts_; }

 private:
  struct Absent {
    Clock::time_point since;
    Absence why;
  };
  RetirementOptions opts_;
  std::unordered_map<std::string, Absent> absent_;
  std::unordered_map<std::string, Clock::time_point> retired_;  // id -> when
};

}  // namespace zswarm::names
