// Swim: the failure detector (SWIM, with Lifeguard's refinements; see
// docs/protocol.md §6.5). Each probe interval it probes one member, in a
// shuffled round-robin order. No answer within the probe timeout: it asks
// `indirect_probes` other members to probe that one too, and they answer
// with the target's ack or a nack. No ack by the end of the interval: the
// member is suspected, and the suspicion is published and gossiped. A
// suspect refutes by raising its own counter; one that does not refute in
// time is declared down by whoever's suspicion timer ends first.
//
// Lifeguard: a node that misses its own answers (acks, nacks) raises its
// local health score and stretches its intervals and timeouts by
// (score + 1), so a slow node backs off before it accuses others; and a
// suspicion ends sooner the more members confirmed it independently.
//
// Cut off: a node whose probe failed without a nack, and that has heard no
// member at all (no frame, no beacon) since that probe began and for
// kIsolatedAfter probe intervals while its own loop ran on time, is not slow
// but alone (a partition, a cable): missed answers then say nothing of its
// health, so it probes every member at once, neither stretches nor raises
// its score, and its suspicions end after suspicion_min. A late loop
// restarts that count, so a starved node never takes its own silence for
// isolation.
//
// Updates ride on the probes: every probe, ack and probe request carries a
// `gossip` message with the freshest few updates, each sent a bounded number
// of times. What this node itself decides (a suspicion, a down, a
// refutation) is also published at once on the PUB.
//
// Time comes only from the injected clock, and randomness from the injected
// source. Not thread-safe: owned by the node's event loop.
#pragma once

#include <functional>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bus/message_type.hpp"
#include "bus/node_id.hpp"
#include "discovery/gossip.hpp"
#include "discovery/membership.hpp"
#include "zswarm/clock.hpp"

namespace zswarm::discovery {

struct SwimStats {
  uint64_t probes = 0;             // direct probes sent (scheduled, out of turn, to confirm)
  uint64_t probe_requests = 0;     // indirect probes asked of others
  uint64_t probes_failed = 0;      // no ack, direct or indirect, within the interval
  uint64_t probes_unlinked = 0;    // no ack, but our channel to it never came up: no suspicion
  uint64_t probes_relayed = 0;     // indirect probes made for others
  uint64_t nacks_sent = 0;
  uint64_t nacks_received = 0;
  uint64_t suspicions = 0;         // raised by this node
  uint64_t refutations = 0;        // of suspicions about this node
  uint64_t updates_received = 0;
  uint64_t updates_ignored = 0;    // about unknown runs, or older than what we know
  uint64_t requests_refused = 0;   // probe requests over the cap, or about no live member
  uint64_t isolations = 0;         // times this node found itself cut off from every member
  uint64_t gone_published = 0;     // proofs of a dead process told to all
  uint64_t gone_suppressed = 0;    // not told: another member's proof of it came first
};

class Swim {
 public:
  using Send = std::function<bool(const bus::NodeId& to, bus::MessageType t, std::string_view body, uint64_t corr)>;
  using Publish = std::function<void(bus::MessageType t, std::string_view body)>;
  // Whether our direct channel to a member came up (bus::Transport::linked).
  using Linked = std::function<bool(const bus::NodeId&)>;

  Swim(const Clock& clock, Membership& members, bus::NodeId self, uint64_t incarnation, FailureDetectorOptions opts,
       std::function<uint64_t()> random, Send send, Publish publish, Linked linked = {});

  // Probes, timeouts and suspicions up to clock.now().
  void tick(MembershipEvents& out);
  Clock::time_point next_deadline() const;

  // What arrived from `from`, a live member.
  void on_probe(const bus::NodeId& from, uint64_t corr);
  void on_ack(const bus::NodeId& from, uint64_t corr);
  void on_nack(const bus::NodeId& from, uint64_t corr);
  void on_probe_request(const bus::NodeId& from, uint64_t corr, const ProbeRequest& r);
  void on_updates(const bus::NodeId& from, const std::vector<Update>& updates, MembershipEvents& out);
  // Its link broke: probe it now, out of turn.
  void probe_now(const bus::NodeId& id);
  // Declared down by this node on other evidence (its port refused): told to
  // all within kGoneSpread, unless another member's proof of it comes first.
  void announce_down(const bus::NodeId& id);
  // Every member linked to a killed process finds the refusal itself, at
  // about the same time: N-1 broadcasts of one proof would cost each node
  // N-1 messages per kill. Each waits a random part of this before it tells.
  static constexpr auto kGoneSpread = std::chrono::milliseconds(20);
  // A member that is gone from the live set: its probes and suspicion end.
  void forget(const bus::NodeId& id);
  // A member came up (new, or back from down): suspicions and downs of it
  // waiting in the gossip queue are dropped, not spread.
  void on_up(const bus::NodeId& id);

  // Any frame or beacon from a member, whatever its state: we are not cut off.
  void heard() {
    silent_since_ = clock_.now();
    silent_failures_ = 0;
  }
  // Cut off: see above.
  bool isolated() const { return isolated_; }
  static constexpr unsigned kIsolatedAfter = 3;

  unsigned health() const { return score_; }  // Lifeguard's local health score (0 = healthy)
  uint64_t counter() const { return counter_; }
  const SwimStats& stats() const { return stats_; }

 private:
  struct Probe {
    bus::NodeId target;
    uint64_t incarnation = 0;
    Clock::time_point start;
    Clock::time_point direct_deadline;
    Clock::time_point end;
    bool indirect = false;
    std::vector<bus::NodeId> helpers;
    unsigned nacks = 0;
  };
  struct Relay {  // an indirect probe made for another member
    bus::NodeId requester;
    uint64_t their_corr = 0;
    bus::NodeId target;
    Clock::time_point nack_at;
  };
  struct Suspicion {
    Clock::time_point start;
    uint64_t counter = 0;
    std::vector<bus::NodeId> accusers;  // distinct; the first raised it
    unsigned scale = 1;                 // health score + 1 when it began
  };
  struct Queued {
    Update update;
    unsigned sent = 0;
  };

  Clock::duration scaled(Clock::duration d) const { return isolated_ ? d : d * (score_ + 1); }
  void update_isolation(Clock::time_point now);
  void adjust_health(int delta);
  void start_probe(const bus::NodeId& id);
  void send_probe(const bus::NodeId& to, uint64_t corr);
  void go_indirect(uint64_t corr, Probe& p);
  void probe_failed(const Probe& p, MembershipEvents& out);
  std::optional<bus::NodeId> next_target();
  Clock::time_point suspicion_deadline(const Suspicion& s) const;
  void raise_suspicion(const Member& m, const bus::NodeId& accuser, uint64_t counter, MembershipEvents& out);
  void apply(const bus::NodeId& from, const Update& u, MembershipEvents& out);
  void refute(uint64_t counter);
  // Gossip: queued for the next probes, and (for this node's own verdicts) published now.
  void enqueue(const Update& u);
  void tell_all(const Update& u);
  void piggyback(const bus::NodeId& to);
  std::string name_of(const bus::NodeId& id) const;
  uint64_t random();

  const Clock& clock_;
  Membership& members_;
  bus::NodeId self_;
  uint64_t incarnation_;
  FailureDetectorOptions opts_;
  std::function<uint64_t()> random_;
  Send send_;
  Publish publish_;
  Linked linked_;

  uint64_t counter_ = 0;
  Clock::time_point last_announced_{};  // our last alive update (refutations are not repeated faster)
  unsigned score_ = 0;
  Clock::time_point silent_since_{};  // last heard a member, or last woke late
  unsigned silent_failures_ = 0;      // our probes since then that failed without a nack
  Clock::time_point due_{};           // when the loop should call tick() next
  bool isolated_ = false;
  Clock::time_point next_probe_{};
  std::vector<bus::NodeId> order_;  // this round's shuffled targets
  std::size_t next_in_order_ = 0;
  std::unordered_map<uint64_t, Probe> probes_;   // by corr
  std::unordered_map<uint64_t, Relay> relays_;   // by our corr to the target
  std::unordered_map<bus::NodeId, Suspicion> suspicions_;
  struct PendingGone {
    Clock::time_point due;
    Update update;
  };
  std::unordered_map<bus::NodeId, PendingGone> pending_gone_;  // announce_down's, until told
  std::vector<Queued> queue_;
  SwimStats stats_;
};

}  // namespace zswarm::discovery
