// SequenceTracker: follows each sender's PUB stream position. PUB/SUB drops
// silently (slow joiner, high-water mark), so every PUB message carries the
// sender's incarnation and a sequence number; a jump tells the receiver it
// missed something and must resync over the direct channel.
// Not thread-safe: owned by the node's event loop.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "bus/node_id.hpp"

namespace zswarm::bus {

struct SeqVerdict {
  enum Kind {
    first,      // first message heard from this sender incarnation
    in_order,   // exactly the next one
    gap,        // some were missed: `missed` of them, before this one
    stale,      // a duplicate or older than what was seen: drop it
  } kind;
  uint64_t missed = 0;
};

class SequenceTracker {
 public:
  // Records (sender, incarnation, seq). A newer incarnation restarts the
  // stream; an older one is stale.
  SeqVerdict observe(const NodeId& sender, uint64_t incarnation, uint64_t seq);
  void forget(const NodeId& sender) { streams_.erase(sender); }
  uint64_t gaps() const { return gaps_; }
  uint64_t missed() const { return missed_; }

 private:
  struct Stream {
    uint64_t incarnation;
    uint64_t last;
  };
  std::unordered_map<NodeId, Stream> streams_;
  uint64_t gaps_ = 0;
  uint64_t missed_ = 0;
};

}  // namespace zswarm::bus
