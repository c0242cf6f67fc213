// zswarm::Node — the embeddable C++ API of a zswarm node. A Node discovers
// its peers and keeps the membership table; registers names cluster-wide
// (each runs exactly once, as a worker plugin on its ring owner), finds them
// and sends or calls them wherever they run; runs local workers under its
// supervisor; and serves its local control socket. zswarmd is a thin shell
// around it.
//
// Thread-safety: every public method may be called from any thread; calls
// are carried out on the node's own event-loop thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "zswarm/clock.hpp"
#include "zswarm/env.hpp"
#include "zswarm/error.hpp"
#include "zswarm/export.h"
#include "zswarm/registered_name.hpp"
#include "zswarm/result.hpp"


namespace zswarm {

inline constexpr std::size_t kDefaultMaxFrameBytes = 1u << 20;
inline constexpr std::size_t kMinFrameBytes = 1u << 20;    // an Entry with its largest args fits
inline constexpr std::size_t kMaxFrameBytes = 256u << 20;

struct NodeOptions {
  std::string name;                 // short name: "a"
  std::string host;                 // empty: this machine's hostname
  std::string cluster = "zswarm";   // nodes of other clusters are ignored
  // Discovery scope: loopback unless one of these says otherwise.
  std::string interface;
  std::string multicast;
  std::vector<std::string> seeds;   // "host:port"
  // DNS discovery: unicast beacons to every A record of this name (at most
  // 256), looked up at start and every dns_interval on a thread of the node.
  std::string dns;
  std::chrono::milliseconds dns_interval{5000};
  uint16_t beacon_port = 45670;
  std::chrono::milliseconds beacon_interval{1000};
  // Bus: 0 picks a free port, announced in the beacon.
  uint16_t pub_port = 0;
  uint16_t router_port = 0;
  // With a cluster secret, SWIM's probes go as sealed UDP datagrams to this
  // port (0: a free one, announced in the beacon).
  uint16_t probe_port = 0;
  // Failure detection: SWIM with Lifeguard (docs/protocol.md §6.5). Each
  // probe_interval one member is probed; no ack within probe_timeout, and
  // indirect_probes others probe it too; no ack within the interval, and it
  // is suspected. A suspect has suspicion_max (down to suspicion_min with
  // more independent accusers) to refute before it is declared down. A slow
  // node stretches its probe interval and timeout by up to (awareness_max +
  // 1); 0 turns that off.
  std::chrono::milliseconds heartbeat_interval{3000};  // the PUB stream position only (digests carry it too)
  std::chrono::milliseconds probe_interval{100};
  std::chrono::milliseconds probe_timeout{50};
  unsigned indirect_probes = 3;
  std::chrono::milliseconds suspicion_min{200};
  std::chrono::milliseconds suspicion_max{1000};
  unsigned awareness_max = 8;
  // What a beacon may do (docs/protocol.md §6.3): an incarnation (a start
  // time) further ahead of this node's clock is refused; at most
  // max_unconfirmed beaconed nodes wait for their first frame; down and left
  // members are forgotten after down_expiry; each source address may send
  // beacon_rate beacons a second (bursts of twice as many).
  std::chrono::milliseconds max_clock_skew{std::chrono::minutes(10)};
  std::size_t max_unconfirmed = 64;
  std::chrono::milliseconds down_expiry{std::chrono::hours(1)};
  uint32_t beacon_rate = 100;
  // Local control socket: <control_dir>/<cluster>/<name>.sock
  std::string control_dir;          // empty: default_control_dir()
  // Empty: the socket is this user's only (directories 0700, socket 0600).
  // A group name: its members may use it too (0750 and 0660, that group).
  std::string control_group;
  // An observer (a monitor, a dashboard) reads the cluster, membership and
  // the whole registry, but is never placed on the ring: it owns no names and
  // is never offered a handoff.
  bool observer = false;
  bool control_socket = true;       // false: none (an embedder using only this API; a simulation)
  std::vector<std::string> plugin_path;  // searched before the default plugin directories
  // Placement (like swarm's node whitelist / blacklist): glob patterns on
  // node names; a node is eligible to own names if it matches some allow
  // pattern (or allow is empty) and no deny pattern.
  std::vector<std::string> placement_allow;
  std::vector<std::string> placement_deny;
  std::chrono::milliseconds handoff_timeout{3000};
  // Static quorum (0: off). A side of a split with fewer live members than
  // `quorum` (itself included) runs none of its names, parking them until
  // quorum is back; quorum_majority takes expected_members / 2 + 1 instead.
  // The side that keeps quorum restarts a down member's names quorum_margin
  // after it went down. A quorum q is useful up to 2q - 1 members
  // (docs/operations.md §4.5).
  std::size_t quorum = 0;
  bool quorum_majority = false;
  std::size_t expected_members = 0;
  std::chrono::milliseconds quorum_margin{2000};
  // Vector clocks keep one pair per node id that wrote, and each start is a
  // new id: the id of a node that left, or whose name a newer run took,
  // leaves the clocks retire_left_after after this node saw it go; the id of
  // a node down (or never heard of) after retire_down_after. A node that
  // comes back under a retired id is told to restart (docs/protocol.md §8.10).
  std::chrono::milliseconds retire_left_after{10000};
  std::chrono::milliseconds retire_down_after{std::chrono::hours(1)};
  // The cluster secret (docs/security.md): a file `zswarm keygen` wrote. With
  // it, beacons are sealed (MAC, replay counter) and every bus link is CURVE,
  // open only to members. previous_secret_file is also accepted while a
  // cluster rotates to a new secret (a missing previous file: none). Without a secret a node refuses a scope
  // beyond loopback (interface, multicast, dns, or a seed off this host) unless
  // `insecure` says that is meant.
  std::string secret_file;
  std::string previous_secret_file;
  bool insecure = false;
  // Input bounds. A bus or control frame over max_frame_bytes is refused by
  // libzmq, which drops the connection that sent it (counted in
  // connections_dropped; an honest peer reconnects). Each inbound connection
  // queues at most receive_hwm frames, so it can hold at most
  // receive_hwm * max_frame_bytes (default 128 MiB). Use the same
  // max_frame_bytes on every node of a cluster.
  std::size_t max_frame_bytes = kDefaultMaxFrameBytes;
  int receive_hwm = 128;
  // Messages Node::send may hold before it waits (see send).
  std::size_t send_queue_size = 65536;
  std::string log_level = "info";   // trace, debug, info, warn, error, off
  // Names registered once the node has met its peers (from [[register]] in
  // the config file): {name, plugin, args}.
  struct Registration {
    std::string name, plugin, args;
  };
  std::vector<Registration> register_at_start;
};

// $ZSWARM_RUNTIME_DIR, else $XDG_RUNTIME_DIR/zswarm, else
// /run/user/<uid>/zswarm (each runtime dir only if it is a directory of this
// user), else /tmp/zswarm-<uid>. The node checks whatever it uses before it
// binds (docs/operations.md 1.3).
ZSWARM_API std::string default_control_dir();
// The control socket's path for a node.
ZSWARM_API std::string control_socket_path(const std::string& control_dir, const std::string& cluster,
                                           const std::string& name);

// Counters since the node started (docs/operations.md §5.5 says what a
// rising value means).
struct NodeStats {
  uint64_t beacons_sent = 0;
  uint64_t beacons_received = 0;
  uint64_t beacons_other_cluster = 0;
  uint64_t beacons_bad_version = 0;
  uint64_t beacons_garbage = 0;
  // Refused by the cluster secret (docs/security.md §6): no seal, another
  // secret, a forged MAC, a replayed counter; and on a node without a
  // secret, sealed beacons.
  uint64_t beacons_unsealed = 0;
  uint64_t beacons_wrong_secret = 0;
  uint64_t beacons_bad_mac = 0;
  uint64_t beacons_replayed = 0;
  uint64_t beacons_sealed_ignored = 0;
  // CURVE connections whose key no member announced, and direct frames
  // without a member's authenticated identity.
  uint64_t keys_refused = 0;
  uint64_t frames_unauthenticated = 0;
  // Dropped peers whose bus port then refused a connection: declared down
  // at once (their process is gone).
  uint64_t peers_refused = 0;
  // Sealed UDP datagrams (SWIM's probes, with a secret): sent, taken,
  // refused (malformed, from no member, not opening, replayed), and those
  // that went on the TCP channel instead (too large, or a member without
  // a probe port).
  uint64_t datagrams_sent = 0;
  uint64_t datagrams_received = 0;
  uint64_t datagrams_refused = 0;
  uint64_t datagrams_by_tcp = 0;
  // --dns: lookups that failed (the last good addresses stay in use), and
  // how many addresses the last good answer gave.
  uint64_t dns_failures = 0;
  uint64_t dns_addresses = 0;
  uint64_t frames_received = 0;
  uint64_t frames_rejected = 0;
  uint64_t bodies_rejected = 0;
  uint64_t frames_unknown_type = 0;
  uint64_t frames_unknown_sender = 0;
  uint64_t connections_dropped = 0;
  uint64_t handshakes_failed = 0;
  uint64_t links_reopened = 0;
  uint64_t sequence_gaps = 0;
  // The SWIM detector (docs/protocol.md §6.5): probes sent (one an interval,
  // and out of turn), indirect probes asked of others, probes that got no
  // ack at all, suspicions this node raised, refutations of suspicions about
  // itself, times it heard no member at all while its loop ran on time (cut
  // off), and its Lifeguard local health score (a gauge; 0 is healthy).
  uint64_t probes_sent = 0;
  uint64_t probe_requests_sent = 0;
  uint64_t probes_failed = 0;
  uint64_t suspicions_raised = 0;
  uint64_t refutations = 0;
  uint64_t isolations = 0;
  // Proofs that a member's process is gone (its port refused) this node told
  // all, and those it kept to itself because another member's came first.
  uint64_t gone_published = 0;
  uint64_t gone_suppressed = 0;
  uint64_t health_score = 0;
  // Beacons refused (docs/operations.md §5.5), and the members they named.
  uint64_t beacons_rate_limited = 0;
  uint64_t beacons_future_incarnation = 0;
  uint64_t beacons_name_conflict = 0;
  uint64_t beacons_name_in_use = 0;
  uint64_t beacons_endpoint_in_use = 0;
  uint64_t beacons_placement_mismatch = 0;
  uint64_t beacons_unconfirmed_full = 0;
  uint64_t members_unconfirmed_dropped = 0;
  uint64_t members_expired = 0;
  uint64_t members_unconfirmed = 0;  // a gauge: beaconed nodes waiting for their first frame now
  // A member's PUB in a version this node does not speak (the moment before
  // a later node heard this one and fell back to a common version).
  uint64_t frames_bad_version = 0;
  // A later version's additions this node skipped: message fields, map
  // keys, beacon extensions and flags (message types: frames_unknown_type).
  uint64_t fields_unknown = 0;
  // Batching: messages travel several to a frame.
  uint64_t messages_received = 0;
  uint64_t frames_sent = 0;
  uint64_t messages_sent = 0;
  uint64_t frames_unsent = 0;  // a peer's send queue was full: kept, and sent once it has room
  uint64_t frames_expired = 0;  // such a frame still refused after 1 s: dropped
  // Node::send: messages it refused with would_block (its queue was full),
  // and accepted messages whose delivery failed later (owner gone, moving).
  uint64_t sends_refused = 0;
  uint64_t sends_failed = 0;
  // Turns of the node's event loop: each a poll that returned (a socket, a
  // post or a timer). An idle node turns for its heartbeats and little else.
  uint64_t loop_wakeups = 0;
  // Messages the loop found late, by its once-a-second check of every socket
  // rather than at once: a fault of zswarm's own, which should stay 0.
  uint64_t loop_missed_signals = 0;
  // Vector clocks (docs/protocol.md §8.10): the ids in this node's summary
  // now (a gauge: its digest's pairs), the ids of gone writers it has
  // folded away so far, and notices sent to members back under such an id.
  uint64_t clock_ids = 0;
  uint64_t clock_ids_retired = 0;
  uint64_t quarantine_sent = 0;
};

struct NodeInfo {
  std::string name;  // "a@host"
  std::string id;    // 32 hex digits
  std::string cluster;
  uint64_t incarnation = 0;
  std::string bind_address;
  uint16_t pub_port = 0;
  uint16_t router_port = 0;
  uint16_t probe_port = 0;  // 0: no datagrams (no secret)
  std::string discovery;  // e.g. "broadcast 127.255.255.255:45670"
  std::string control_endpoint;
  std::size_t max_frame_bytes = 0;
  NodeStats stats;
  bool secure = false;  // a cluster secret: sealed beacons, CURVE on the bus
};

struct MemberInfo {
  std::string name;
  std::string id;
  std::string state;  // alive, suspect, down, left
  std::string address;
  uint64_t incarnation = 0;
  int64_t last_heard_ms = 0;  // age of the last frame heard; 0 for self
  bool self = false;
  bool observer = false;  // reads the cluster, owns no names
  int wire_version = 0;   // the protocol version spoken with it (this build's highest for self)
};


// A worker under this node's supervisor.
struct LocalWorker {
  std::string name;
  uint64_t id = 0;
  std::string plugin;
  std::string policy;  // permanent, transient, temporary
  std::string state;   // starting, running, restarting
  uint32_t restarts = 0;
  uint32_t mailbox_depth = 0;
  bool registered = false;  // owned through the cluster registry
};

class ZSWARM_API Node {
 public:
  // Binds everything and starts the event loop; errors name what failed.
  // Time, randomness, the loop's thread, the bus and the beacon come from
  // `env` (nullptr: Env::Default()), which must outlive the node.
  static Result<std::unique_ptr<Node>, Error> start(NodeOptions opts, Env* env = Env::Default());
  // Stops without a goodbye (peers will see this node go down).
  virtual ~Node();

  virtual NodeInfo info() const = 0;
  // Every member this node knows, itself included.
  virtual std::vector<MemberInfo> members() const = 0;
  // Hands every registered worker off to its new owner, says goodbye (peers
  // mark this node left at once), and stops. Returns at once; see wait().
  virtual void leave() = 0;
  // Blocks until the node stopped (after leave(), a `leave` command, or a
  // quarantine).
  virtual void wait() = 0;
  virtual bool stopped() const = 0;
  // It stopped because a member said its id was retired from the cluster's
  // clocks (gone longer than retire_down_after): start a new Node to rejoin.
  virtual bool quarantined() const = 0;

  // --- the cluster-wide registry (the owner of a name is its ring owner) ---
  // Starts `plugin` for `name` somewhere in the cluster, exactly once.
  // Returns the REF; already_registered carries the existing REF as detail.
  virtual Result<std::string, Error> register_name(const std::string& name, const std::string& plugin,
                                                   const std::string& args = {}) = 0;
  // From the local replica, without asking anyone, on the caller's thread.
  virtual Result<std::string, Error> whereis(const std::string& name) const = 0;
  virtual Result<void, Error> unregister_name(const std::string& name) = 0;
  virtual std::vector<RegisteredName> registered() const = 0;
  // Registers many names in one go: one hop to the loop, and the requests to
  // each owner share frames. One result per name, in the order given;
  // waits at most `deadline` in all (then the ones still out say timeout).
  using Registrations = std::vector<NodeOptions::Registration>;
  virtual std::vector<Result<std::string, Error>> register_names(
      const Registrations& names, std::chrono::milliseconds deadline = std::chrono::seconds(30)) = 0;
  // Delivers `message` to the worker of `name`, wherever it runs: a cast,
  // at most once, in order per sending thread and name (docs/operations.md,
  // "Delivery"). It returns once the message is in the node's send queue;
  // not_found and too_large are known at once, a failure later (the owner
  // died) only in the node's counters. When the queue (send_queue_size
  // messages) is full it waits for room up to `max_wait`, then fails with
  // would_block: 0 never waits. An accepted message can still be lost on
  // the way (docs/operations.md 4.4 says when); sends_failed counts those
  // this node knows of.
  virtual Result<void, Error> send(const std::string& name, const std::string& message,
                                   std::chrono::milliseconds max_wait) = 0;
  Result<void, Error> send(const std::string& name, const std::string& message) {
    return send(name, message, std::chrono::seconds(5));
  }
  // As send, and waits for the worker's reply.
  virtual Result<std::string, Error> call(const std::string& name, const std::string& message,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(5)) = 0;

  // To the one worker a REF names (`name@host/RUN.ID`, protocol.md §5.2),
  // not to a name: delivered while that worker runs, and never forwarded. A
  // REF whose worker stopped or moved, or whose node restarted, answers
  // not_found ("... is stale"): a REF is never current again. bad_args: the
  // text is not a REF. send_ref returns once the message is on its way.
  virtual Result<void, Error> send_ref(const std::string& ref, const std::string& message) = 0;
  virtual Result<std::string, Error> call_ref(const std::string& ref, const std::string& message,
                                              std::chrono::milliseconds timeout = std::chrono::seconds(5)) = 0;

  // --- the same, asynchronous: they return at once, and `done` runs once,
  // on the node's loop thread (so it must not block; it may call the
  // asynchronous forms again). A stopped node answers `stopped`. ---
  template <class T>
  using Done = std::function<void(Result<T, Error>)>;
  virtual void register_name_async(const std::string& name, const std::string& plugin, const std::string& args,
                                   Done<std::string> done) = 0;
  using BatchDone = std::function<void(std::vector<Result<std::string, Error>>)>;
  virtual void register_names_async(Registrations names, BatchDone done) = 0;
  // `done` gets the REF of the worker that was stopped.
  virtual void unregister_name_async(const std::string& name, Done<std::string> done) = 0;
  // `done` gets an empty string once the message is on its way.
  virtual void send_async(const std::string& name, const std::string& message, Done<std::string> done) = 0;
  virtual void call_async(const std::string& name, const std::string& message, std::chrono::milliseconds timeout,
                          Done<std::string> done) = 0;
  virtual void send_ref_async(const std::string& ref, const std::string& message, Done<std::string> done) = 0;
  virtual void call_ref_async(const std::string& ref, const std::string& message, std::chrono::milliseconds timeout,
                              Done<std::string> done) = 0;

  // --- this node's supervisor only ---
  virtual std::vector<LocalWorker> workers() const = 0;
  // A worker that is not in the registry; policy: permanent, transient, temporary.
  virtual Result<uint64_t, Error> start_local(const std::string& name, const std::string& plugin,
                                              const std::string& args = {},
                                              const std::string& policy = "permanent") = 0;
  virtual Result<void, Error> stop_local(const std::string& name) = 0;
  // The same without waiting, for code on the loop thread (the control
  // socket): init runs on the supervisor's pool, and a stopped worker ends
  // after the callback it may be in (its name is free at once). `done` runs
  // once, on the loop thread.
  virtual void start_local_async(const std::string& name, const std::string& plugin, const std::string& args,
                                 const std::string& policy, Done<uint64_t> done) = 0;
  virtual void stop_local_async(const std::string& name, Done<void> done) = 0;

  // Reads secret_file and previous_secret_file again (zswarmd does on
  // SIGHUP): beacons are sealed with the new secret from now on, and either
  // one is accepted. Fails, keeping the old secrets, if a file is unusable or
  // the node started without a secret (CURVE cannot be turned on live).
  virtual Result<void, Error> reload_secrets() = 0;
};

}  // namespace zswarm
