// SnapshotServer: the replica a peer asked for (sync_request), served a chunk
// per loop turn straight from the registry's table, so a 100k-name snapshot
// never stalls the loop (and never needs a copy of the table). A chunk the
// bus refuses (the peer's queue is full) is offered again next turn.
//
// Not thread-safe: lives on the node's event loop with the Tracker.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bus/node_id.hpp"
#include "registry/registry.hpp"

namespace zswarm::names {

class SnapshotServer {
 public:
  // Sends one chunk with `more`: 0 on the last chunk of the pass, else about
  // how many entries this chunk and the rest of the pass hold (at least 1).
  // False = not taken.
  using Send = std::function<bool(const bus::NodeId& peer, const std::string& chunk, std::uint64_t more)>;

  explicit SnapshotServer(const registry::Registry& registry) : registry_(registry) {}

  // Serves peer a pass over the whole table, or with `owner` only the
  // versions that name owner (what that node wrote). A pass already under
  // way starts again from the top (the peer asked again: it may have lost a
  // chunk), unless it is a whole one and this asks for a part.
  void start(const bus::NodeId& peer, std::optional<std::string> owner = std::nullopt);
  void forget(const bus::NodeId& peer) { streams_.erase(peer); }
  bool busy() const { return !streams_.empty(); }
  // Did the last step leave a refused chunk behind (worth a short wait)?
  bool blocked() const { return blocked_; }
  // One chunk for every peer being served; returns the peers whose last
  // chunk the bus has taken in this step.
  std::vector<bus::NodeId> step(const Send& send);

  // Entries packed per chunk: below the hard limit, with room for the rest
  // of the hash bucket that crosses it.
  static constexpr std::size_t kChunkEntries = registry::kMaxSnapshotEntries - 256;
  // Entries a step looks at for a part, packed or not: bounds the turn.
  static constexpr std::size_t kScanPerStep = 4 * kChunkEntries;

 private:
  struct Stream {
    registry::Registry::ScanCursor cursor;
    bool scanned = false;            // the pass is packed; what is left is in `pending`
    // Packed, not yet taken by the bus: each with the entries stored then
    // that had not been packed before it.
    std::deque<std::pair<std::string, std::uint64_t>> pending;
    std::size_t packed = 0;  // entries packed so far
    std::optional<std::string> owner;  // a part: only versions this owner wrote
  };
  const registry::Registry& registry_;
  std::unordered_map<bus::NodeId, Stream> streams_;
  bool blocked_ = false;
};

}  // namespace zswarm::names
