// Membership: the table of cluster members and the failure detector.
//
// States: joining -> alive -> suspect -> down, or -> left on a goodbye. A
// beacon only says "I exist": its sender is `joining` (unconfirmed, seen by
// no one above) until a bus frame from it arrives, and is dropped silently
// if none comes within `join_timeout`. Who is suspect or down is decided by
// the SWIM detector (discovery/swim.hpp), which calls suspect(), refute()
// and declare_down(). A member whose process is proven gone (its port
// refused a connection after its link broke) is down at once. A beacon, a
// frame or a refutation of a down member (a healed partition) has it probed
// again; only the answer to that probe brings it back up (on_answer).
// A name held by a live member is never taken over: a restart under that
// name (a new id) waits until the old one is down. Down and left entries
// expire after `down_expiry`.
//
// Every input returns the events it caused; the caller acts on them
// (connect, probe, log). Time comes only from the injected clock.
// Not thread-safe: owned by the node's event loop.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "bus/envelope.hpp"
#include "bus/node_id.hpp"
#include "bus/transport.hpp"
#include "discovery/beacon.hpp"
#include "zswarm/clock.hpp"

namespace zswarm::discovery {

enum class MemberState { joining, alive, suspect, down, left };
std::string_view to_string(MemberState s);

struct Member {
  bus::NodeId id;
  std::string name;  // "name@host"
  uint64_t incarnation = 0;
  bus::PeerEndpoint endpoint;
  MemberState state = MemberState::alive;
  bool observer = false;  // never placed on the ring, never offered a handoff
  bus::VersionRange protocol = bus::kSpoken;  // the wire versions it speaks (its beacon)
  uint64_t counter = 0;  // its SWIM refutation counter: only the member raises it
  Clock::time_point last_heard{};
  Clock::time_point state_since{};
  // Unconfirmed (joining, or down and beaconing again) until this instant: a
  // frame before it confirms, none drops it. Zero when not waiting.
  Clock::time_point confirm_by{};
};

struct MembershipEvent {
  enum Kind {
    discovered,  // a beacon of a new (or down) member: connect and probe it, nothing more
    dropped,     // unconfirmed and silent: disconnect (it was never up)
    up,         // confirmed by its first frame: a new member, or one back from down
    suspect,    // a probe failed (here or elsewhere): it has a while to refute
    recovered,  // a suspect refuted
    down,       // declared dead: disconnect, fail over its work
    left,       // said goodbye: disconnect, its work was handed off
  } kind;
  Member member;
  std::string reason;
};
using MembershipEvents = std::vector<MembershipEvent>;

// The reason of a down caused by on_peer_gone (logged with nodedown).
inline constexpr std::string_view kPeerGoneReason = "connection refused: the process is gone";
inline constexpr std::string_view kSeenGoneReason = "its process is gone (seen by ";
// A down with proof that the process is gone (its port refused), here or at
// another member; any other down is for silence, which a heal can end.
inline bool proven_gone(std::string_view reason) {
  return reason == kPeerGoneReason || reason.substr(0, kSeenGoneReason.size()) == kSeenGoneReason;
}

// SWIM with Lifeguard (docs/protocol.md §6.5). Every member of a cluster
// should use the same values.
struct FailureDetectorOptions {
  // PUB heartbeats only carry the stream position now (gap detection).
  std::chrono::milliseconds heartbeat_interval{3000};
  std::chrono::milliseconds probe_interval{100};  // one member probed per interval
  std::chrono::milliseconds probe_timeout{50};    // then k others are asked to probe it
  unsigned indirect_probes = 3;                   // k
  // A suspect has this long to refute: the max with no confirmation, the
  // min once `indirect_probes` other members confirmed the suspicion.
  std::chrono::milliseconds suspicion_min{200};
  std::chrono::milliseconds suspicion_max{1000};
  // Lifeguard's local health: a node that misses answers scales its own
  // probe interval and probe timeout by (score + 1),
  // score 0..awareness_max. 0 turns it off.
  unsigned awareness_max = 8;
  std::chrono::milliseconds join_timeout{1500};  // a beaconed node's first frame
};

// What a beacon may add to the table (issue 11: no input may corrupt it).
struct MembershipLimits {
  std::string self_name;  // a beacon of another id under this name is a conflict
  // Unix ms now; an incarnation (a start time) further ahead is refused. Empty: no check.
  std::function<int64_t()> wall_ms;
  std::chrono::milliseconds max_clock_skew{std::chrono::minutes(10)};
  std::size_t max_unconfirmed = 64;
  std::chrono::milliseconds down_expiry{std::chrono::hours(1)};
};

// What on_beacon did with a beacon (all but `accepted` are refusals to count).
enum class BeaconVerdict { accepted, future_incarnation, own_name, name_in_use, endpoint_in_use, too_many_unconfirmed };
std::string_view to_string(BeaconVerdict v);

class Membership {
 public:
  Membership(const Clock& clock, bus::NodeId self, FailureDetectorOptions opts, MembershipLimits limits = {});

  // A beacon of our cluster from another node; `source_ip` is where it came from.
  BeaconVerdict on_beacon(const Beacon& b, const std::string& source_ip, MembershipEvents& out);
  // Any frame from the member (heartbeat, probe answer, data); the first
  // confirms a joining one, and has a down one probed again. It does not
  // clear a suspicion: only the member's refutation does, so every node
  // clears it alike.
  void on_heard(const bus::NodeId& id, MembershipEvents& out);
  // A frame sent after our probe of an unconfirmed member (the probe's ack,
  // or one on the PUB link dialled with it): confirms it, down ones too.
  void on_answer(const bus::NodeId& id, MembershipEvents& out);
  // The detector's verdicts (alive <-> suspect -> down); no-ops in any other state.
  void suspect(const bus::NodeId& id, std::string reason, MembershipEvents& out);
  void refute(const bus::NodeId& id, MembershipEvents& out);
  void declare_down(const bus::NodeId& id, std::string reason, MembershipEvents& out);
  void set_counter(const bus::NodeId& id, uint64_t counter);
  // A down member refuted its down (a higher counter, through gossip): probe
  // it again at its known endpoint, as a beacon would have it; the answer
  // brings it back up.
  void revive(const bus::NodeId& id, MembershipEvents& out);
  // Its process is gone (the transport's peer_gone): alive or suspect -> down
  // now; anything else is left as it is.
  void on_peer_gone(const bus::NodeId& id, MembershipEvents& out);
  void on_goodbye(const bus::NodeId& id, MembershipEvents& out);
  // Advances the failure detector to clock.now().
  void tick(MembershipEvents& out);
  // When tick() next may change a state (max() when no one can change).
  Clock::time_point next_deadline() const;

  // Confirmed members only (joining ones are no one's business above discovery/).
  const Member* find(const bus::NodeId& id) const;
  // Joining ones too: whose frames to accept.
  const Member* find_any(const bus::NodeId& id) const;
  const Member* find_by_name(const std::string& name) const;
  std::vector<Member> members() const;  // confirmed, sorted by name
  // Every entry's bus host, joining ones too, sorted and unique: where unicast
  // beacons go (seeds, dns). A node that beaconed to us waits for our beacon
  // before its key is accepted, so it needs one before it is confirmed.
  std::vector<std::string> hosts() const;
  std::vector<bus::NodeId> alive() const;  // alive and suspect: still owners of their work
  // alive().size(), kept as states change: the loop asks at every turn.
  std::size_t alive_count() const { return live_count_; }
  std::size_t unconfirmed() const;  // joining, or down and waiting for a frame
  uint64_t expired() const { return expired_; }  // down or left entries forgotten so far
  const FailureDetectorOptions& options() const { return opts_; }

 private:
  void set_state(Member& m, MemberState s, MembershipEvent::Kind k, std::string reason,
                 MembershipEvents& out);

  const Clock& clock_;
  bus::NodeId self_;
  bool live_name(const std::string& name) const;
  // Another connected member (live or unconfirmed) listens there: connecting
  // twice to one endpoint, then dropping the copy, would cut the real link.
  bool endpoint_taken(const bus::NodeId& by, const bus::PeerEndpoint& at) const;
  // The first frame of an unconfirmed member: older entries of its name go.
  void confirm(Member& m, std::string reason, MembershipEvents& out);
  // A down member that shows signs of life: connect and probe it again (a
  // `discovered` event); the answer confirms it.
  void reprobe(Member& m, const char* reason, MembershipEvents& out);

  FailureDetectorOptions opts_;
  MembershipLimits limits_;
  std::unordered_map<bus::NodeId, Member> members_;
  std::size_t live_count_ = 0;  // alive or suspect; only set_state() changes a state, and only non-live ones are erased
  // next_deadline(), until a confirm_by, state or state_since changes.
  mutable std::optional<Clock::time_point> deadline_;
  uint64_t expired_ = 0;
};

// A message every node sends to all members each interval costs each
// receiver N-1 of them: stretch its interval by this factor, so that a node
// receives at most `per_interval` of them, whatever N is (members counts
// this node). memberlist stretches its push-pull interval the same way.
inline std::size_t stretch_for(std::size_t members, std::size_t per_interval) {
  return members <= per_interval ? 1 : (members + per_interval - 1) / per_interval;
}
// Beacons a node receives per beacon interval from a formed cluster. A
// newcomer is answered at once all the same, and each side of a healed
// partition hears the other's beacons at the sum of their rates.
inline constexpr std::size_t kBeaconsPerInterval = 8;
// ... once no member was discovered, came up, went down, left or was
// dropped for this long: while a cluster forms or churns, a beacon lost to
// a busy receiver is made up for at the next unstretched interval.
inline constexpr auto kStillBeforeStretch = std::chrono::seconds(10);
// Digests (and heartbeats, which stand in for them) a node receives per
// digest interval: how late the loss of a member's last published frame,
// or a replica's divergence, may be noticed grows past 8 members. Each
// digest costs a receiver a wake-up of two threads and a CURVE decryption.
inline constexpr std::size_t kDigestsPerInterval = 8;

}  // namespace zswarm::discovery
