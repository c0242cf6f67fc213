#include "names/snapshot_server.hpp"

#include <algorithm>
#include <limits>

namespace zswarm::names {

void SnapshotServer::start(const bus::NodeId& peer, std::optional<std::string> owner) {
  auto it = streams_.find(peer);
  if (it != streams_.end() && !it->second.owner && owner) return;  // the whole pass holds the part
  Stream s;
  s.owner = std::move(owner);
  streams_[peer] = std::move(s);
}

std::vector<bus::NodeId> SnapshotServer::step(const Send& send) {
  blocked_ = false;
  std::vector<bus::NodeId> finished;
  for (auto& item : streams_) {  // not a structured binding: clang 14 cannot capture one
    const bus::NodeId& peer = item.first;
    Stream& s = item.second;
    if (s.pending.empty() && !s.scanned) {
      // The chunk closes by size here, not inside the chunker, so it never
      // splits what one step packs.
      registry::SnapshotChunker chunker(std::numeric_limits<std::size_t>::max());
      // The hint: what is stored and not yet packed (a part's size is not
      // known ahead: 1, "more follow").
      const std::size_t stored = registry_.size() + registry_.tombstones();
      const std::uint64_t rest = s.owner ? 1 : std::max<std::size_t>(1, stored > s.packed ? stored - s.packed : 1);
      std::size_t looked = 0;
      s.scanned = !registry_.scan(s.cursor, [&](const registry::EntryView& e) {
        if (!s.owner || e.owner == *s.owner) {
          chunker.add(e);
          ++s.packed;
        }
        return chunker.bytes() < registry::kSnapshotChunkBytes && chunker.count() < kChunkEntries &&
               ++looked < kScanPerStep;
      });
      if (chunker.count() > 0 || s.scanned)  // a part's step may find nothing: no empty chunk mid-pass
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
