#include "names/snapshot_server.hpp"

#include <algorithm>
#include <limits>

namespace zswarm::names {

void SnapshotServer::start(const bus::NodeId& peer) { streams_[peer] = Stream{}; }

std::vector<bus::NodeId> SnapshotServer::step(const Send& send) {
  blocked_ = false;
  std::vector<bus::NodeId> finished;
  for (auto& [peer, s] : streams_) {
    if (s.pending.empty() && !s.scanned) {
      // The chunk closes by size here, not inside the chunker, so it never
      // splits what one step packs.
      registry::SnapshotChunker chunker(std::numeric_limits<std::size_t>::max());
      const std::size_t stored = registry_.size() + registry_.tombstones();
      const std::uint64_t rest = std::max<std::size_t>(1, stored > s.packed ? stored - s.packed : 1);
      s.scanned = !registry_.scan(s.cursor, [&](const registry::EntryView& e) {
        chunker.add(e);
        ++s.packed;
        return chunker.bytes() < registry::kSnapshotChunkBytes && chunker.count() < kChunkEntries;
      });
      for (auto& c : chunker.finish()) s.pending.emplace_back(std::move(c), rest);
    }
    while (!s.pending.empty()) {
      const bool last = s.scanned && s.pending.size() == 1;
      if (!send(peer, s.pending.front().first, last ? 0 : s.pending.front().second)) {
        blocked_ = true;
        break;
      }
      s.pending.pop_front();
    }
    if (s.scanned && s.pending.empty()) finished.push_back(peer);
  }
  for (const auto& peer : finished) streams_.erase(peer);
  return finished;
}

}  // namespace zswarm::names
