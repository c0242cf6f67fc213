// Cluster: this node's view of, and voice in, the cluster. It turns beacons
// into members, keeps the failure detector fed (heartbeats out, frames in,
// probes), numbers every PUB frame and checks everyone else's numbering, and
// hands decoded messages to whoever registered for their type.
//
// It owns no sockets and reads no clock of its own: the transport, the
// beacon sender and the clock are injected, so the whole state machine runs
// deterministically over a MemoryNetwork in tests.
// Not thread-safe: owned by the node's event loop.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <string>

#include <spdlog/logger.h>

#include "bus/envelope.hpp"
#include "bus/sequence_tracker.hpp"
#include "bus/transport.hpp"
#include "discovery/beacon.hpp"
#include "discovery/beacon_seal.hpp"
#include "discovery/membership.hpp"
#include "discovery/source_limit.hpp"
#include "discovery/swim.hpp"
#include "zswarm/clock.hpp"

namespace zswarm::discovery {

struct ClusterOptions {
  bus::NodeId self;
  std::string name;     // "a@host"
  std::string cluster;
  uint64_t incarnation = 0;
  bool observer = false;  // announced in the beacon: reads, owns no names
  uint16_t pub_port = 0;
  uint16_t router_port = 0;
  uint16_t probe_port = 0;  // sealed datagrams (with a secret); 0: none
  std::chrono::milliseconds beacon_interval{1000};
  // placement_fingerprint() of this node's settings; a beacon with another is refused.
  std::string placement;
  // The wire versions this node speaks (a later build's test fixture says more).
  bus::VersionRange protocol = bus::kSpoken;
  // Batching: publish() and send() queue, and flush() sends what is queued,
  // several messages to one peer in one frame. Off: every message goes at once.
  bool batch = false;
  discovery::FailureDetectorOptions detector;
  // With a cluster secret: seals our beacons and opens everyone's; beacons
  // without a valid seal are dropped. Null: an insecure cluster, whose
  // nodes ignore sealed beacons (they could not speak CURVE to the sender).
  std::shared_ptr<BeaconSeal> seal;
  std::string curve_key;  // our CURVE public key, announced in sealed beacons
  // Random bits for probe numbers (the node passes its Env's); empty: std::random_device.
  std::function<uint64_t()> random;
  // What beacons may do (issue 11). The wall clock (Unix ms) judges
  // incarnations; empty: no skew check.
  std::function<int64_t()> wall_ms;
  std::chrono::milliseconds max_clock_skew{std::chrono::minutes(10)};
  std::size_t max_unconfirmed = 64;
  std::chrono::milliseconds down_expiry{std::chrono::hours(1)};
  // Beacons per second from one source address (a burst of twice as many),
  // checked before anything else; at most max_beacon_sources are tracked.
  uint32_t beacon_rate = 100;
  std::size_t max_beacon_sources = 1024;
};

struct ClusterStats {
  uint64_t beacons_sent = 0;
  uint64_t beacons_received = 0;
  uint64_t beacons_self = 0;
  uint64_t beacons_other_cluster = 0;
  uint64_t beacons_bad_version = 0;
  uint64_t beacons_garbage = 0;
  // Beacons a cluster secret refused (docs/security.md): without a seal,
  // sealed with another secret, forged, or replayed; and, on a node without
  // a secret, sealed ones.
  uint64_t beacons_unsealed = 0;
  uint64_t beacons_wrong_secret = 0;
  uint64_t beacons_bad_mac = 0;
  uint64_t beacons_replayed = 0;
  uint64_t beacons_sealed_ignored = 0;
  uint64_t frames_received = 0;
  uint64_t frames_rejected = 0;  // malformed
  // In a version this node does not speak: a later node's PUB in the moment
  // before it heard this node's beacon (and dropped to a common version).
  uint64_t frames_bad_version = 0;
  uint64_t bodies_rejected = 0;  // a known type whose body broke its schema or a limit
  uint64_t frames_unknown_type = 0;  // a later version's message type: skipped
  uint64_t fields_unknown = 0;       // a later version's fields (frame, message, body): skipped
  uint64_t messages_received = 0;    // messages in the frames received
  uint64_t frames_sent = 0;
  uint64_t messages_sent = 0;
  uint64_t frames_unsent = 0;        // a peer's queue was full: kept, sent first once it has room
  uint64_t frames_expired = 0;       // such a frame still refused after kMaxStuck: dropped
  uint64_t frames_unknown_sender = 0;
  uint64_t frames_stale = 0;
  uint64_t sequence_gaps = 0;
  uint64_t probes_sent = 0;  // SWIM probes and the probes of joining members
  // Beacons refused before or after parsing (issue 11).
  uint64_t beacons_rate_limited = 0;       // over its source's rate: not even parsed
  uint64_t beacons_future_incarnation = 0;  // incarnation beyond our clock + max_clock_skew
  uint64_t beacons_name_conflict = 0;       // another id under this node's own name
  uint64_t beacons_name_in_use = 0;         // another id under a live member's name: it waits
  uint64_t beacons_endpoint_in_use = 0;     // a new id at the address and port of another member
  uint64_t beacons_placement_mismatch = 0;  // placement settings other than ours: refused
  uint64_t beacons_unconfirmed_full = 0;    // max_unconfirmed members already wait for a frame
  uint64_t members_unconfirmed_dropped = 0;  // beaconed, never sent a frame
  uint64_t members_expired = 0;              // down or left for down_expiry: forgotten
};

class Cluster {
 public:
  using BeaconSender = std::function<void(const std::string& datagram)>;
  using Handler = std::function<void(const bus::Envelope&)>;
  using MemberObserver = std::function<void(const discovery::MembershipEvent&)>;
  using GapObserver = std::function<void(const bus::NodeId& peer, uint64_t missed)>;

  Cluster(const Clock& clock, bus::Transport& transport, ClusterOptions opts, BeaconSender beacons,
          std::shared_ptr<spdlog::logger> log);

  // Sends the first beacon at once (discovery must not wait an interval).
  void start();
  // A datagram from the beacon socket, with its source address.
  void on_datagram(std::string_view bytes, const std::string& source_ip);
  // Heartbeats, beacons, failure detection: call at least every few ms.
  void tick();
  // Says goodbye on the beacon and the bus.
  void leave();
  // When tick() next has something to do.
  Clock::time_point next_deadline() const;

  // Messages by type, for the layers above (registry, workers).
  void on_message(bus::MessageType t, Handler h);
  void on_member_event(MemberObserver o) { member_observers_.push_back(std::move(o)); }
  void on_gap(GapObserver o) { gap_observers_.push_back(std::move(o)); }
  // The first published message heard from a member's incarnation (or after
  // it was down): this node's SUB link to it is live from here on.
  using LinkObserver = std::function<void(const bus::NodeId& peer)>;
  void on_stream_start(LinkObserver o) { stream_observers_.push_back(std::move(o)); }
  // To every member. With batching, it goes out at the next flush().
  void publish(bus::MessageType t, std::string_view body);
  // To one member; false if it is not one (alive or suspect), or its queue is
  // full (a frame it refused is kept and sent first once there is room).
  bool send(const bus::NodeId& peer, bus::MessageType t, std::string_view body, uint64_t corr = 0);
  // Sends every queued batch; the node calls it at the end of each wake-up.
  void flush();
  // The wire version spoken to `peer` (0: not a member), and on the PUB.
  uint8_t version_for(const bus::NodeId& peer) const;
  uint8_t pub_version() const { return pub_version_; }
  // Where a layer above counts the unknown fields it skips in a body it
  // decodes (the decoders' unknown_fields argument).
  uint64_t* unknown_fields() { return &stats_.fields_unknown; }
  // A handler's verdict on a body it could not use: counted, and logged
  // (rate-limited) with the sender and the reason. The message is dropped.
  void reject_body(const bus::Envelope& e, std::string_view why);

  const discovery::Membership& membership() const { return membership_; }
  const discovery::Swim& detector() const { return swim_; }
  const ClusterOptions& options() const { return opts_; }
  const ClusterStats& stats() const { return stats_; }
  spdlog::logger& log() { return *log_; }

 private:
  void on_inbound(bus::Inbound&& in);
  void act(discovery::MembershipEvents& events);
  void send_beacon(bool leaving);
  // With a secret: whether `b` (parsed from `bytes`) is sealed by one; counts and logs a refusal.
  bool admit_seal(std::string_view bytes, const discovery::Beacon& b, const std::string& source_ip);
  void reject(const char* what, std::string_view why);
  // False (and counted) when the source is over its beacon rate.
  bool admit_beacon(const std::string& source_ip);
  void refuse_beacon(discovery::BeaconVerdict v, const discovery::Beacon& b);
  // The probe that asks an unconfirmed member for its first frame.
  void probe_unconfirmed(const discovery::Member& m);
  // A message with an empty body to a member send() refuses (not yet, or no longer, up).
  void send_unconfirmed(const discovery::Member& m, bus::MessageType t, uint64_t corr);
  // Whether `e` from a down member being probed again can only have been
  // sent after that probe: its ack, or any frame on the PUB link we dialled.
  bool answers_reprobe(const bus::Envelope& e, bus::Inbound::Kind kind) const;
  void handle(const bus::Envelope& e, bus::Inbound::Kind kind, const discovery::Member& m);
  // The SWIM messages: answered only for live members, and a probe from a
  // down member that we probe again.
  void on_swim_message(const bus::Envelope& e);
  void update_pub_version();
  void flush_pub();
  // What is on its way to one peer: the batch being built, and a frame its
  // full queue did not take yet (sent first, before anything else goes).
  struct Outbox {
    bus::FrameBuilder batch;
    bus::FrameBuilder probes;  // SWIM's messages: one datagram (bus/datagram.hpp), sent first
    std::string stuck;
    Clock::time_point stuck_since{};
    bool listed = false;  // in pending_out_
  };
  // A refused frame older than this is dropped, not sent late: the requests
  // in it have given up (or soon will), and a late handoff offer could start
  // a name its sender already restarted.
  static constexpr auto kMaxStuck = std::chrono::seconds(1);
  // False while the peer's queue still refuses the stuck frame.
  bool flush_to(const bus::NodeId& peer, Outbox& out);
  // The peer's outbox, made and listed for the next flush; null if the peer is not up.
  Outbox* outbox(const bus::NodeId& peer);
  // SWIM's sends: batched into datagrams, not into the TCP batch. A lost
  // probe costs a retry; a late one (behind a registry burst) costs a false suspicion.
  bool send_probe(const bus::NodeId& peer, bus::MessageType t, std::string_view body, uint64_t corr);
  void flush_probes(const bus::NodeId& peer, Outbox& out);

  const Clock& clock_;
  bus::Transport& transport_;
  ClusterOptions opts_;
  BeaconSender beacons_;
  std::shared_ptr<spdlog::logger> log_;
  discovery::Membership membership_;
  discovery::Swim swim_;
  discovery::SourceLimit beacon_limit_;
  bus::SequenceTracker sequences_;
  ClusterStats stats_;
  uint64_t next_seq_ = 1;
  uint8_t pub_version_;
  bus::FrameBuilder pub_out_;
  std::unordered_map<bus::NodeId, Outbox> direct_out_;
  // The outboxes with a batch or a stuck frame: flush() and next_deadline()
  // run at every turn of the loop and must not cost O(peers).
  std::vector<bus::NodeId> pending_out_;
  Clock::time_point next_beacon_{};
  Clock::time_point next_heartbeat_{};
  Clock::time_point last_published_{};  // any message on the PUB carries the stream position
  // After a member comes up, a heartbeat goes 100 ms later and a few more
  // follow soon: its SUB sees our stream start (and asks for our replica)
  // soon, even if it subscribed just after a frame went out.
  Clock::time_point fast_heartbeats_until_{};
  Clock::time_point fast_beacons_until_{};  // a member went down for silence: beacon often
  Clock::time_point membership_changed_{};  // last discovered, up, down, left or dropped member
  Clock::time_point last_reject_log_{};
  // The corr of our probe of each down member probed again: only its ack
  // (or a frame on its PUB) brings the member back.
  std::unordered_map<bus::NodeId, uint64_t> reprobes_;
  std::unordered_set<bus::NodeId> placement_warned_;  // refused for other placement settings: logged once each
  Clock::time_point last_body_log_{};
  std::array<Handler, 256> handlers_{};
  std::vector<MemberObserver> member_observers_;
  std::vector<GapObserver> gap_observers_;
  std::vector<LinkObserver> stream_observers_;
  bool leaving_ = false;
};

}  // namespace zswarm::discovery
