// ZmqTransport: the real transport. Binds one PUB and one ROUTER (port 0
// picks a free port; read it back with pub_port()/router_port()), keeps one
// SUB per peer connected to that peer's PUB (so each frame read says whose
// PUB it came from) and one DEALER per peer towards its ROUTER. A monitor on
// each SUB turns a broken TCP connection (a killed peer) into a link_down
// event at once, so failure detection need not wait for missed heartbeats.
// Then a raw non-blocking TCP connect() to the peer's ROUTER port (no ZMTP,
// no CURVE: libzmq hides ECONNREFUSED and just retries) tells a dead process
// from a lost one: a refusal is reported as peer_gone; the listener's ZMTP
// greeting (alive), a timeout or an unreachable host report nothing more. A
// connection closed before the greeting (a dying process's listener took
// it) is dialled again, up to kGoneDials times. One check per peer at most,
// its fd watched by the reactor and closed on every path.
//
// With CURVE keys (a cluster secret): every link is CURVE. The PUB and the
// ROUTER are servers whose ZAP handler (bus/zap.hpp) admits only the keys of
// peers connect() was given; each SUB and DEALER is a client that knows its
// peer's server key. A direct frame's sender is the User-Id its connection
// authenticated, never its routing id, so ROUTER_HANDOVER is off. Without
// keys the bus runs the NULL mechanism, as before.
//
// With CURVE keys the transport also binds a UDP port (probe_port()) for
// sealed datagrams (bus/datagram.hpp): send_datagram() seals a frame for a
// peer that announced its port, and falls back to the DEALER for one that
// did not or for a frame too large. A datagram is taken only from an
// admitted key, only if it opens, and each counter once.
//
// Input bounds: every socket has ZMQ_MAXMSGSIZE. libzmq answers a frame over
// it by dropping the connection that sent it (not just the frame); the
// monitors count every dropped connection, report it with the peer's
// address, and re-open a SUB link that libzmq would not retry on its own (a
// protocol error ends a connecting session for good). Each inbound
// connection queues at most receive_hwm frames: receive_hwm * max_frame_bytes
// bounds what one connection can make this node hold.
//
// Thread-safety: like Transport, owned by one thread.
#pragma once

#include <chrono>
#include <functional>
#include <vector>
#include <memory>
#include <string>
#include <unordered_map>

#include <netinet/in.h>

#include <zmq.hpp>

#include "bus/datagram.hpp"
#include "bus/reactor.hpp"
#include "bus/transport.hpp"
#include "zswarm/error.hpp"
#include "zswarm/result.hpp"

namespace zswarm::bus {

struct ZmqTransportOptions {
  NodeId self;
  std::string bind_host = "127.0.0.1";
  uint16_t pub_port = 0;
  uint16_t router_port = 0;
  uint16_t probe_port = 0;  // UDP, with CURVE only (0: any free port)
  bool datagrams = true;    // false: no UDP port, every frame on the DEALER
  int send_hwm = 100000;  // deep queues: a registry burst must not be dropped at source
  std::size_t max_frame_bytes = 1u << 20;
  int receive_hwm = 128;
  // This node's CURVE keypair (32 raw bytes each); empty: no CURVE.
  std::string curve_public;
  std::string curve_secret;
  // A dropped connection or a failed handshake, as one line of text; the
  // transport calls it at most once a second (the counters see every one).
  std::function<void(const std::string&)> warn;
  // How long the connect() after a link_down may take before it counts as
  // silence (a lost host): no longer than the failure detector's probe.
  std::chrono::milliseconds gone_check_timeout{500};
};

struct ZmqTransportStats {
  uint64_t connections_dropped = 0;  // closed by the peer, or a frame over max_frame_bytes, or bad ZMTP
  uint64_t handshakes_failed = 0;    // not ZMTP, or the wrong mechanism
  uint64_t connect_failures = 0;     // a peer's sockets could not be made (out of sockets or descriptors)
  uint64_t links_reopened = 0;       // SUB links to live peers connected anew after a drop
  uint64_t keys_refused = 0;         // ZAP: a CURVE key no member announced (or not CURVE at all)
  uint64_t frames_unauthenticated = 0;  // a direct frame without a member's User-Id: dropped
  uint64_t peers_refused = 0;  // a dropped peer's ROUTER port refused a connect(): peer_gone
  uint64_t datagrams_sent = 0;
  uint64_t datagrams_received = 0;   // opened, new, from a member: handed on
  uint64_t datagrams_refused = 0;    // malformed, from no member, not opening, or replayed
  uint64_t datagrams_by_tcp = 0;     // send_datagram() that went on the DEALER instead
};

class ZmqTransport final : public Transport {
 public:
  // Binds both sockets and registers them with the reactor. bind_failed
  // when a fixed port is taken or the address is not ours.
  static Result<std::unique_ptr<ZmqTransport>, Error> open(zmq::context_t& ctx, Reactor& reactor,
                                                           ZmqTransportOptions opts);
  ~ZmqTransport() override;

  uint16_t pub_port() const { return pub_port_; }
  uint16_t router_port() const { return router_port_; }
  uint16_t probe_port() const { return probe_port_; }  // 0: no datagrams

  void connect(const NodeId& peer, const PeerEndpoint& at) override;
  void disconnect(const NodeId& peer) override;
  void publish(std::string_view frame) override;
  bool send(const NodeId& peer, std::string_view frame) override;
  bool send_datagram(const NodeId& peer, std::string_view frame) override;
  bool datagrams_to(const NodeId& peer) const override;
  void set_receiver(Receiver r) override { receiver_ = std::move(r); }
  void tick(Clock::time_point now) override;
  bool linked(const NodeId& peer) const override;
  // Accepts CURVE connections from `key` as `peer` until disconnect(peer).
  // connect() does it too; a test harness may admit a peer it never dials.
  void admit(const NodeId& peer, const std::string& key);
  const ZmqTransportStats& stats() const { return stats_; }
  bool curve() const { return !opts_.curve_secret.empty(); }

 private:
  struct Peer;
  void open_peer(const NodeId& peer, const PeerEndpoint& at);  // throws zmq::error_t
  void on_sub(Peer& p);
  void on_router();
  void on_sub_monitor(Peer& p);
  void on_router_monitor();
  void on_pub_monitor();
  void on_zap();
  void open_datagrams();  // throws zmq::error_t, like the sockets' binds
  void on_datagrams();
  void set_curve_client(zmq::socket_t& s, const std::string& server_key);
  void note(const std::string& what);
  ZmqTransport(zmq::context_t& ctx, Reactor& reactor, ZmqTransportOptions opts);  // throws zmq::error_t

  using Steady = std::chrono::steady_clock;
  struct Peer {
    NodeId id;
    std::string pub_endpoint;
    std::string router_endpoint;
    std::string router_host;  // for the gone check: an IPv4 address as text
    uint16_t router_port = 0;
    std::string curve_key;
    // Its datagram port and the key sealed for it (has_key: computed).
    uint16_t probe_port = 0;
    sockaddr_in probe_to{};  // host and probe_port, parsed once
    DatagramKey datagram_key{};
    bool has_key = false;
    ReplayWindow replay;
    std::unique_ptr<zmq::socket_t> sub;
    std::unique_ptr<zmq::socket_t> sub_monitor;
    std::unique_ptr<zmq::socket_t> dealer;
    std::unique_ptr<zmq::socket_t> dealer_monitor;
    // libzmq ends a session for good after a refused handshake (the peer's
    // ZAP did not know our key yet): dial again then, backing off.
    Steady::time_point redial_sub{}, redial_dealer{};
    int refusals = 0;
    bool linked = false;  // the DEALER's handshake succeeded once
    bool closed = false;  // disconnected while one of its handlers ran
    // The connect() that asks whether its process is gone; -1: none in flight.
    int gone_fd = -1;
    bool gone_connected = false;  // connect() done: waiting for the greeting
    int gone_dials = 0;
    Steady::time_point gone_by{};
  };
  void close(Peer& p);
  // Starts the gone check; true if the port refused at once (loopback does).
  bool start_gone_check(Peer& p);
  bool dial_gone_check(Peer& p);  // one connect(); true if refused at once
  void on_gone_check(Peer& p);
  void report_gone(Peer& p);
  // Connects per check: a connect taken by a dying listener is tried again.
  static constexpr int kGoneDials = 5;
  void end_gone_check(Peer& p);
  void on_dealer_monitor(Peer& p);
  Steady::time_point redial_time(Peer& p);

  zmq::context_t& ctx_;
  Reactor& reactor_;
  ZmqTransportOptions opts_;
  zmq::socket_t pub_;
  zmq::socket_t router_;
  zmq::socket_t router_monitor_;
  zmq::socket_t pub_monitor_;  // handshakes that failed: outsiders trying to read
  zmq::socket_t zap_;  // REP on inproc://zeromq.zap.01, with CURVE only
  uint16_t pub_port_ = 0;
  uint16_t router_port_ = 0;
  int udp_ = -1;
  uint16_t probe_port_ = 0;
  uint64_t datagram_counter_ = 0;
  DatagramSalt datagram_salt_{};
  std::unordered_map<NodeId, std::unique_ptr<Peer>> peers_;
  // Peers disconnected inside one of their own handlers: freed at the next tick.
  std::vector<std::unique_ptr<Peer>> closed_;
  // The earliest redial or gone-check deadline: tick() does nothing before it.
  std::chrono::steady_clock::time_point next_due_{};
  // Looked up by a view (a datagram's sender key, a ZAP request's): no copy.
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view k) const { return std::hash<std::string_view>{}(k); }
  };
  std::unordered_map<std::string, NodeId, KeyHash, std::equal_to<>> admitted_;  // CURVE public key -> member
  std::unordered_map<int, std::string> inbound_;  // ROUTER connection fd -> "ip:port"
  Receiver receiver_;
  ZmqTransportStats stats_;
  std::chrono::steady_clock::time_point last_note_{};
};

}  // namespace zswarm::bus
