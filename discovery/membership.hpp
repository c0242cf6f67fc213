// Membership: the table of cluster members and the failure detector.
//
// States: alive -> suspect -> down, or -> left on a goodbye. A member is
// suspected when nothing was heard from it for `suspect_after` or when its
// TCP link broke; a suspect is probed over the direct channel and declared
// down if nothing arrives within `probe_timeout`. Hearing anything from a
// suspect makes it alive again; a beacon from a down member (a healed
// partition) brings it back up. A node restarted under the same name comes
// with a higher incarnation and replaces its old self, which goes down.
//
// Every input returns the events it caused; the caller acts on them
// (connect, probe, log). Time comes only from the injected clock.
// Not thread-safe: owned by the node's event loop.
#pragma once

#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

#include "bus/envelope.hpp"
#include "bus/node_id.hpp"
#include "bus/transport.hpp"
#include "discovery/beacon.hpp"
#include "zswarm/clock.hpp"

namespace zswarm::discovery {

enum class MemberState { alive, suspect, down, left };
std::string_view to_string(MemberState s);

struct Member {
  bus::NodeId id;
  std::string name;  // "name@host"
  uint64_t incarnation = 0;
  bus::PeerEndpoint endpoint;
  MemberState state = MemberState::alive;
  bool observer = false;  // never placed on the ring, never offered a handoff
  bus::VersionRange protocol = bus::kSpoken;  // the wire versions it speaks (its beacon)
  Clock::time_point last_heard{};
  Clock::time_point state_since{};
};

struct MembershipEvent {
  enum Kind {
    up,         // a new member (or one back from down): connect to it
    suspect,    // silent or link broken: probe it
    recovered,  // a suspect answered
    down,       // declared dead: disconnect, fail over its work
    left,       // said goodbye: disconnect, its work was handed off
  } kind;
  Member member;
  std::string reason;
};
using MembershipEvents = std::vector<MembershipEvent>;

struct FailureDetectorOptions {
  std::chrono::milliseconds heartbeat_interval{200};
  std::chrono::milliseconds suspect_after{1000};
  std::chrono::milliseconds probe_timeout{500};
};

class Membership {
 public:
  Membership(const Clock& clock, bus::NodeId self, FailureDetectorOptions opts);

  // A beacon of our cluster from another node; `source_ip` is where it came from.
  void on_beacon(const Beacon& b, const std::string& source_ip, MembershipEvents& out);
  // Any frame from the member (heartbeat, probe answer, data).
  void on_heard(const bus::NodeId& id, MembershipEvents& out);
  void on_link_down(const bus::NodeId& id, MembershipEvents& out);
  void on_goodbye(const bus::NodeId& id, MembershipEvents& out);
  // Advances the failure detector to clock.now().
  void tick(MembershipEvents& out);
  // When tick() next may change a state (max() when no one can change).
  Clock::time_point next_deadline() const;

  const Member* find(const bus::NodeId& id) const;
  const Member* find_by_name(const std::string& name) const;
  std::vector<Member> members() const;  // sorted by name
  std::vector<bus::NodeId> alive() const;  // alive and suspect: still owners of their work
  const FailureDetectorOptions& options() const { return opts_; }

 private:
  void set_state(Member& m, MemberState s, MembershipEvent::Kind k, std::string reason,
                 MembershipEvents& out);

  const Clock& clock_;
  bus::NodeId self_;
  FailureDetectorOptions opts_;
  std::unordered_map<bus::NodeId, Member> members_;
};

}  // namespace zswarm::discovery
