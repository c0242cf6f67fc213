#include "bus/sequence_tracker.hpp"

namespace zswarm::bus {

SeqVerdict SequenceTracker::observe(const NodeId& sender, uint64_t incarnation, uint64_t seq) {
  auto it = streams_.find(sender);
  if (it == streams_.end() || incarnation > it->second.incarnation) {
    streams_[sender] = Stream{incarnation, seq};
    return {SeqVerdict::first};
  }
  Stream& s = it->second;
  if (incarnation < s.incarnation || seq <= s.last) return {SeqVerdict::stale};
  uint64_t missed = seq - s.last - 1;
  s.last = seq;
  if (missed == 0) return {SeqVerdict::in_order};
  ++gaps_;
  missed_ += missed;
  return {SeqVerdict::gap, missed};
}

}  // namespace zswarm::bus
