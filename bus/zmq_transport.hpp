// ZmqTransport: the real transport. Binds one PUB and one ROUTER (port 0
// picks a free port; read it back with pub_port()/router_port()), keeps one
// SUB connected to every peer's PUB and one DEALER per peer towards its
// ROUTER. A monitor on the SUB turns a broken TCP connection (a killed peer)
// into a link_down event at once, so failure detection need not wait for
// missed heartbeats in that case.
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
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include <zmq.hpp>

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
  int send_hwm = 100000;  // deep queues: a registry burst must not be dropped at source
  std::size_t max_frame_bytes = 1u << 20;
  int receive_hwm = 128;
  // A dropped connection or a failed handshake, as one line of text; the
  // transport calls it at most once a second (the counters see every one).
  std::function<void(const std::string&)> warn;
};

struct ZmqTransportStats {
  uint64_t connections_dropped = 0;  // closed by the peer, or a frame over max_frame_bytes, or bad ZMTP
  uint64_t handshakes_failed = 0;    // not ZMTP, or the wrong mechanism
  uint64_t links_reopened = 0;       // SUB links to live peers connected anew after a drop
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

  void connect(const NodeId& peer, const PeerEndpoint& at) override;
  void disconnect(const NodeId& peer) override;
  void publish(std::string_view frame) override;
  bool send(const NodeId& peer, std::string_view frame) override;
  void set_receiver(Receiver r) override { receiver_ = std::move(r); }
  const ZmqTransportStats& stats() const { return stats_; }

 private:
  void on_sub();
  void on_router();
  void on_monitor();
  void on_router_monitor();
  void note(const std::string& what);
  ZmqTransport(zmq::context_t& ctx, Reactor& reactor, ZmqTransportOptions opts);  // throws zmq::error_t

  struct Peer {
    std::string pub_endpoint;
    std::unique_ptr<zmq::socket_t> dealer;
  };

  zmq::context_t& ctx_;
  Reactor& reactor_;
  ZmqTransportOptions opts_;
  zmq::socket_t pub_;
  zmq::socket_t router_;
  zmq::socket_t sub_;
  zmq::socket_t monitor_;
  zmq::socket_t router_monitor_;
  uint16_t pub_port_ = 0;
  uint16_t router_port_ = 0;
  std::unordered_map<NodeId, Peer> peers_;
  std::map<std::string, NodeId> by_pub_endpoint_;
  std::unordered_map<int, std::string> inbound_;  // ROUTER connection fd -> "ip:port"
  Receiver receiver_;
  ZmqTransportStats stats_;
  std::chrono::steady_clock::time_point last_note_{};
};

}  // namespace zswarm::bus
