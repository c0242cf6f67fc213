// Gossip: the bodies of the SWIM failure detector's messages (docs/protocol.md
// §5.0): membership updates that ride on probes and their answers, and the
// indirect probe request. Each update says what one node believes of one
// member's run (id + incarnation), ordered by that member's refutation
// counter, which only the member itself raises.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bus/node_id.hpp"
#include "zswarm/result.hpp"

namespace zswarm::discovery {

// gone: down with proof (its port refused a connection after its link
// broke: the process is dead), taken at once by every receiver.
enum class UpdateKind : uint8_t { alive = 0, suspect = 1, down = 2, gone = 3 };
std::string_view to_string(UpdateKind k);

struct Update {
  UpdateKind kind = UpdateKind::alive;
  bus::NodeId id;            // the member the update is about
  uint64_t incarnation = 0;  // its run: updates about another run are ignored
  uint64_t counter = 0;      // its refutation counter
  bus::NodeId from;          // who suspects or declares it down (the member itself for alive)
  friend bool operator==(const Update&, const Update&) = default;
};

// At most this many updates in one gossip message (a receiver refuses more).
inline constexpr std::size_t kMaxUpdates = 64;

enum class GossipError { not_msgpack, bad_shape, bad_field, too_many };
std::string_view to_string(GossipError e);

// Precondition: 1..kMaxUpdates updates.
std::string encode_updates(const std::vector<Update>& updates);
Result<std::vector<Update>, GossipError> decode_updates(std::string_view body);

// probe_request: "probe `target` (of this incarnation) for me".
struct ProbeRequest {
  bus::NodeId target;
  uint64_t incarnation = 0;
  friend bool operator==(const ProbeRequest&, const ProbeRequest&) = default;
};
std::string encode_probe_request(const ProbeRequest& r);
Result<ProbeRequest, GossipError> decode_probe_request(std::string_view body);

}  // namespace zswarm::discovery
