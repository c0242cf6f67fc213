// Tracker: cluster-unique names (swarm's tracker for zswarm). It keeps this
// node's full replica of the registry, places each name on its owner on the
// consistent-hash ring of live members, and moves names when the topology
// changes:
//   register  goes to the name's ring owner, which serialises concurrent
//             registrations, starts the worker under its supervisor and
//             publishes the entry;
//   nodedown  the dead node's names restart from their args on their new
//             ring owners (state is lost, as in swarm);
//   nodeup    names whose ring owner becomes the newcomer are offered to it
//             with their state (begin_handoff: state / restart / ignore);
//   leave     every local name moves with its state before the goodbye.
// Replication: deltas on the PUB, a full snapshot over the direct channel
// when a peer comes up or a sequence gap shows a loss, concurrent versions
// resolved by the registry (the loser is told and stopped), and a periodic
// digest that lets tombstones be collected once everyone has seen them.
//
// Its state is split by what changes together: Requests (requests in
// flight), Resync (whose replica this node still needs), SnapshotServer
// (replicas being served), HandoffAssembler (incoming offers in parts); the replica, the ring and the outgoing
// handoffs stay here, as the name-service face that ties them together.
//
// Not thread-safe: lives on the node's event loop, which never waits for a
// worker: init, handoff and conflict answers arrive on pool threads and are
// posted to the loop through `post`; meanwhile the name is "starting" or
// "moving" and holds its messages.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "discovery/cluster.hpp"
#include "registry/hash_ring.hpp"
#include "names/clock_retirement.hpp"
#include "names/handoff_assembler.hpp"
#include "names/requests.hpp"
#include "names/resync.hpp"
#include "names/snapshot_server.hpp"
#include "registry/registry.hpp"
#include "workers/supervisor.hpp"
#include "zswarm/error.hpp"
#include "zswarm/registered_name.hpp"
#include "zswarm/result.hpp"

namespace zswarm::names {

struct TrackerOptions {
  registry::PlacementFilter placement;
  std::chrono::milliseconds handoff_timeout{3000};
  std::chrono::milliseconds request_timeout{5000};
  std::chrono::milliseconds reconcile_interval{1000};
  std::chrono::milliseconds digest_interval{2000};
  // How long a new node waits before it treats the owner of a name as dead
  // merely because it has never heard of it (beacons may still be on the way).
  std::chrono::milliseconds discovery_grace{3000};
  // Largest send/call payload or reply that fits one bus frame (the node
  // sets it from max_frame_bytes); larger ones fail with too_large.
  std::size_t max_message_bytes = (1u << 20) - (64u << 10);
  // Incoming handoff state: per name, and all partial offers together.
  std::size_t max_handoff_state_bytes = 64u << 20;
  std::size_t max_assembling_bytes = 256u << 20;
  // At most one snapshot answer per peer in this interval.
  std::chrono::milliseconds snapshot_interval{1000};
  // Static quorum (0: off, swarm's behaviour). While fewer than `quorum`
  // members are alive on this node's side (itself included), it parks the
  // names it runs (their handoff state kept here) and starts none; once
  // quorum is back it resumes them, or offers their state to the copy the
  // other side runs. A side that keeps quorum restarts a down member's
  // names only `quorum_margin` after it went down, so that the minority has
  // parked them first (protocol.md §8.9).
  std::size_t quorum = 0;
  std::chrono::milliseconds quorum_margin{2000};
  // When the ids of nodes gone for good leave the clocks (protocol.md §8.10).
  RetirementOptions retirement;
};

struct TrackerStats {
  uint64_t clock_ids = 0;          // a gauge: ids in this replica's summary (its digest)
  uint64_t clock_ids_retired = 0;  // folded into the retired floor so far
  uint64_t quarantine_sent = 0;    // notices to members back under a retired id
};

// A handoff state travels in slices of this size (one handoff_offer each).
inline constexpr std::size_t kHandoffSliceBytes = 256u << 10;

class Tracker {
 public:
  template <class T>
  using Done = std::function<void(Result<T, Error>)>;
  using Post = std::function<void(std::function<void()>)>;

  Tracker(const Clock& clock, discovery::Cluster& cluster, workers::Supervisor& supervisor, Post post,
          TrackerOptions opts);
  ~Tracker();

  // Cluster-wide operations; `done` runs on the loop thread, once.
  void register_name(const std::string& name, const std::string& plugin, const std::string& args,
                     Done<std::string> done);
  // Any thread, at any time: the REF from the local replica, no loop hop.
  Result<std::string, Error> whereis(const std::string& name) const;
  // Any thread: could a message for `name` be delivered (registered, or a
  // local unregistered worker), and does it fit a frame?
  Result<void, Error> check_send(const std::string& name, const std::string& message) const;
  void unregister_name(const std::string& name, Done<std::string> done);
  std::vector<RegisteredName> registered() const;
  void send(const std::string& name, std::string message, Done<std::string> done);
  void call(const std::string& name, const std::string& message, std::chrono::milliseconds timeout,
            Done<std::string> done);
  // The same to the one worker a REF names (protocol.md §5.2): delivered
  // while that worker runs, else not_found ("... is stale"); bad_args for a
  // text that is not a REF.
  void send_ref(const std::string& ref, std::string message, Done<std::string> done);
  void call_ref(const std::string& ref, const std::string& message, std::chrono::milliseconds timeout,
                Done<std::string> done);
  // Local workers: is `name` owned through the registry by this node?
  bool owns(const std::string& name) const;

  // Hands everything off, then calls done (at once if there is nobody to take it).
  void leave(std::function<void()> done);
  // Timeouts, anti-entropy, digests; the loop calls it after every wake-up.
  void tick();
  // When tick() next has something to do.
  Clock::time_point next_deadline() const;
  // A worker left the supervisor (posted from a pool thread).
  void on_worker_exit(const workers::ExitInfo& exit);
  // A worker cast to a name that is not local (posted from a pool thread).
  void route_cast(const std::string& to, const std::string& bytes);

  const registry::Registry& replica() const { return registry_; }
  TrackerStats stats() const;
  // Called once, on the loop, when a member says this node's id is retired
  // (the node must stop and start again under a new id); `by` names it.
  void on_quarantined(std::function<void(const std::string& by)> f) { on_quarantined_ = std::move(f); }

 private:
  // What deliver() hands a worker: a cast, a call, or the state a conflict's
  // losing copy offered (merged by the winner's merge_conflict).
  enum class Delivery : uint8_t { cast, call, merge };
  struct Buffered {  // a message for a name that is moving
    Delivery kind;
    std::string message;
    Done<std::string> done;
  };
  // Messages a moving name holds until it lands.
  static constexpr std::size_t kMaxBuffered = 100000;
  struct Handoff {
    std::string name;
    bus::NodeId target;
    registry::Entry entry;
    std::string kind;  // "state" or "restart"
    std::string state;
    Clock::time_point deadline;
    std::vector<Buffered> buffered;
    // Until the worker answered begin_handoff (on the pool) nothing is sent;
    // a target that goes away meanwhile is noted here and acted on then.
    bool prepared = false;
    std::optional<std::string> abandoned;
    bool late = false;  // the worker did not answer in time: messages no longer wait here
  };

  std::string self() const { return self_id_; }
  std::string ref(const registry::EntryView& e) const;
  // The stamp of the version that made its owner the owner: a new owner's
  // version is written after the old one was seen, so it is larger (§8.11).
  static uint64_t fencing_token(const registry::EntryView& e) { return e.clock().max(); }
  std::optional<bus::NodeId> ring_owner(const std::string& name) const;
  std::string member_name(const std::string& id) const;
  static std::string hex_prefix(const std::string& id);
  bool member_alive(const std::string& id) const;
  // Dead for placement: known down or left, or never heard of after the grace.
  bool owner_gone(const std::string& id) const;
  Result<void, Error> check_name(const std::string& name) const;

  // A call's answer, failed with timeout after `timeout` if none came.
  Done<std::string> with_deadline(std::chrono::milliseconds timeout, Done<std::string> done);
  // `from_peer`: it came over the bus, so it must name this node's run.
  void deliver_ref(const std::string& ref, Delivery kind, std::string message, bool from_peer, Done<std::string> done);
  void on_member(const discovery::MembershipEvent& e);
  void on_delta(const bus::Envelope& e);
  void on_sync_request(const bus::Envelope& e);
  void on_snapshot(const bus::Envelope& e);
  void on_digest(const bus::Envelope& e);
  void on_register_request(const bus::Envelope& e);
  void on_register_reply(const bus::Envelope& e);
  void on_unregister_request(const bus::Envelope& e);
  void on_unregister_reply(const bus::Envelope& e);
  void on_worker_cast(const bus::Envelope& e);
  void on_worker_call(const bus::Envelope& e);
  void on_worker_reply(const bus::Envelope& e);
  void on_conflict_state(const bus::Envelope& e);
  void on_handoff_offer(const bus::Envelope& e);
  void on_handoff_done(const bus::Envelope& e);
  void on_quarantine(const bus::Envelope& e);
  // A frame from a member whose id is retired here: it is told so (again)
  // and what it sent is not taken.
  bool refuse_retired(const bus::NodeId& sender);
  // Times the writers' ids no live member has; retires those whose time is up.
  void retire_writers();
  // Alive members this node counts (retired ids are not), itself included.
  std::vector<std::string> live_ids() const;

  using Started = std::function<void(const Result<registry::Entry, Error>&)>;
  // The owner's side of a registration: start, record, publish.
  void register_here(const std::string& name, const std::string& plugin, const std::string& args, const char* why,
                     Started done);
  // Starts the worker for `fields` (from `state`, or its args) on the pool;
  // once init is done, records the entry as this node's and publishes it,
  // then calls done on the loop. Nothing runs unregistered: the new worker
  // stops again if the entry cannot be recorded, if another live node took
  // the name meanwhile, or if this node began to leave. A second start of a
  // name already starting waits for the first and gets already_registered.
  void run_here(registry::Entry fields, std::optional<std::string> state, Started done);
  void started(const std::string& name, registry::Entry fields, workers::Result<uint64_t> id);
  // For a restart nobody waits on: logs a failure.
  Started log_restart(const std::string& name);
  void unregister_here(const std::string& name, Done<std::string> done);
  // Takes message by value: a received one moves through to the mailbox.
  void deliver(const std::string& name, Delivery kind, std::string message, int hops,
               Done<std::string> done);
  void apply_remote(const registry::Entry& incoming);
  // This node's copy of `name` lost to `winner` (a concurrent version, or
  // a takeover while it ran): it hears so, and its offered state goes to
  // the winner (protocol.md §8.6).
  void lose_conflict(const std::string& name, const registry::Entry& winner);
  // A copy's state, offered to wherever `name` runs now (its merge_conflict).
  // Kept and tried again until the winner's node answers that it merged it,
  // for kMergeTimeout: right after a heal the winner's link may not be up
  // yet, or its version may not have reached this node or that one. It
  // follows the name where it moves (a join handoff right after a heal is
  // common); it is dropped if the name is unregistered meanwhile.
  void merge_into_winner(const std::string& name, std::string state);
  void try_merge(uint64_t id);
  void drop_merge(uint64_t id);
  // Asks peer for its whole replica, or (owned) only the versions it owns.
  void request_sync(const bus::NodeId& peer, bool owned = false);
  // A peer went away: forget what was asked of it, and if it was to send
  // this node its first whole replica, ask another.
  void forget_sync(const bus::NodeId& peer);
  void publish(const registry::Entry& e);
  // Answered within `timeout` (0: request_timeout), or done gets timeout.
  void request(const bus::NodeId& target, bus::MessageType type, std::string body, Done<std::string> done,
               std::function<void()> retry = {}, std::chrono::milliseconds timeout = {});
  void complete_answer(const bus::Envelope& env);
  Result<std::string, Error> fit_reply(Result<std::string, Error> r) const;
  Result<void, Error> check_message(const std::string& message) const;
  void take_over(const bus::Envelope& env, const std::string& raw_entry, const std::string& kind,
                 std::string state);

  void topology_change(const std::string& why);
  void reconcile();
  void rebalance_to(const bus::NodeId& newcomer);
  void offer(const registry::Entry& e, const bus::NodeId& target, bool leaving);
  void send_offer(const std::string& name, bool leaving, Result<workers::Handoff, Error> h);
  void drop_handoff(const std::string& name);
  void finish_handoff(const std::string& name, bool ok, const std::string& why);
  void check_leave_done();

  // Static quorum (tracker_quorum.cpp).
  std::size_t live_members() const;
  bool below_quorum() const { return quorum_lost_; }
  // Compares the live members with the quorum; parks or resumes on a change.
  void check_quorum();
  // Every registered worker running here stops, its state kept in parked_.
  void park_all();
  void parked(const std::string& name, const registry::Entry& entry, Result<workers::Handoff, Error> h);
  // Each parked name runs here again, or its state goes to where it runs now.
  void resume_parked();
  // With a quorum: a down member's names wait quorum_margin before restarting.
  bool within_margin(const std::string& owner, Clock::time_point now) const;

  // A worker this node started for `name` runs only while the replica names
  // it (this node, that worker id): once another version wins, or the name
  // is gone, it stops, whichever path the news came by.
  void stop_if_not_named(const std::string& name);

  const Clock& clock_;
  discovery::Cluster& cluster_;
  workers::Supervisor& supervisor_;
  Post post_;
  TrackerOptions opts_;
  std::string self_id_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards posted callbacks

  registry::Registry registry_;
  registry::HashRing ring_;
  std::map<std::string, std::string> names_;  // member id -> "name@host", for REFs
  // State that changes together, each with its own class and tests:
  Requests requests_;    // requests in flight: ids, deadlines, re-routing
  Resync resync_;        // replication: peers whose snapshot this node still needs
  std::unordered_set<bus::NodeId> owned_only_;   // of those, the ones asked for their owned part only
  std::unordered_set<bus::NodeId> streams_live_; // peers whose PUB stream reaches this node
  std::optional<bus::NodeId> primary_;           // asked for this node's first whole replica
  bool whole_replica_ = false;                   // a whole replica has been merged here
  HandoffAssembler assembler_;  // handoff: incoming offers that come in parts
  SnapshotServer snapshots_{registry_};  // replication: replicas being served, a chunk a turn
  // Snapshot chunks received, merged one a turn so a big replica does not
  // stall the loop either.
  struct Chunk {
    bus::NodeId sender;
    std::string body;
    bool last;
  };
  std::deque<Chunk> chunks_in_;
  std::unordered_set<bus::NodeId> holed_;  // peers whose current pass lost a chunk here
  static constexpr std::size_t kMaxChunksIn = 64;  // at most 64 frames held
  // The most table room a peer's snapshot hint may reserve.
  static constexpr std::size_t kMaxReserve = 4u << 20;
  void merge_chunk();
  // What a peer sends after its snapshot (a handoff offer) must not overtake
  // the chunks still waiting here.
  void merge_chunks_from(const bus::NodeId& sender);
  std::unordered_map<bus::NodeId, Clock::time_point> snapshot_sent_;  // rate limit, per member
  std::unordered_map<bus::NodeId, Clock::time_point> hello_seen_;     // the same, for hellos
  struct Digest {
    registry::VectorClock clock;
    Clock::time_point at;  // when it came
  };
  std::unordered_map<bus::NodeId, Digest> last_digest_;  // each member's latest, as sent
  // The member's digest when this node first asked it for a whole replica
  // (not answered yet): once that replica is merged, it counts as seen.
  std::unordered_map<bus::NodeId, registry::VectorClock> asked_at_;

  // Names whose worker is starting on the pool (run_here): the version
  // stored when it began, later starts that wait, and messages held meanwhile.
  struct Starting {
    std::optional<registry::VectorClock> seen;
    Started done;
    std::vector<Started> waiters;
    std::vector<Buffered> buffered;
  };
  std::unordered_map<std::string, Starting> starting_;
  std::map<std::string, Handoff> handoffs_;      // names on their way out
  std::set<std::string> pinned_;                 // answered "ignore" to a join handoff
  struct PendingMerge {
    std::string name;
    std::string state;
    Clock::time_point next_try;
    Clock::time_point give_up;
    bool in_flight = false;
    bool retried = false;
  };
  std::map<uint64_t, PendingMerge> merges_;  // losing copies' states on their way to the winner
  uint64_t next_merge_ = 0;
  std::size_t merge_bytes_ = 0;  // the states in merges_
  static constexpr std::size_t kMaxPendingMerges = 100000;
  static constexpr std::chrono::seconds kMergeTimeout{30};
  static constexpr std::chrono::milliseconds kMergeRetry{250};
  static constexpr std::chrono::milliseconds kMergeAnswerTimeout{1000};
  std::unordered_map<std::string, uint64_t> running_here_;  // name -> worker id this node started for it
  std::function<void()> leave_done_;
  Clock::time_point leave_deadline_{};
  bool leaving_ = false;
  // Static quorum: lost now; names stopped for it, with their state; when
  // members went down here; when parked names may resume.
  struct Parked {
    registry::Entry entry;
    std::optional<std::string> state;
  };
  bool quorum_lost_ = false;
  std::set<std::string> parking_;          // asked to hand off their state, not answered yet
  std::map<std::string, Parked> parked_;
  std::unordered_map<std::string, Clock::time_point> down_at_;
  // Owners held down here that a version newer to this node still names:
  // at a heal, the other side's replica often arrives before the owner's
  // own frames, so its names wait discovery_grace for it to come up before
  // they restart from their args.
  std::unordered_map<std::string, Clock::time_point> claimed_at_;
  std::optional<Clock::time_point> resume_at_;
  static constexpr std::chrono::seconds kMaxResumeWait{2};
  ClockRetirement retirement_;
  TrackerStats stats_;
  std::function<void(const std::string&)> on_quarantined_;
  bool quarantined_ = false;
  Clock::time_point started_{};
  Clock::time_point next_housekeeping_{};
  Clock::time_point next_reconcile_{};
  Clock::time_point next_digest_{};
};

}  // namespace zswarm::names
