// ZmqTransport: the real transport. Binds one PUB and one ROUTER (port 0
// picks a free port; read it back with pub_port()/router_port()), keeps one
// SUB connected to every peer's PUB and one DEALER per peer towards its
// ROUTER. A monitor on the SUB turns a broken TCP connection (a killed peer)
// into a link_down event at once, so failure detection need not wait for
// missed heartbeats in that case.
//
// Thread-safety: like Transport, owned by one thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include <zmq.hpp>

#include "bus/reactor.hpp"
#include "bus/transport.hpp"

namespace zswarm::bus {

struct ZmqTransportOptions {
  NodeId self;
  std::string bind_host = "127.0.0.1";
  uint16_t pub_port = 0;
  uint16_t router_port = 0;
  int send_hwm = 100000;  // deep queues: a registry burst must not be dropped at source
};

class ZmqTransport final : public Transport {
 public:
  // Binds both sockets; throws zmq::error_t when a fixed port is taken.
  ZmqTransport(zmq::context_t& ctx, Reactor& reactor, ZmqTransportOptions opts);
  ~ZmqTransport() override;

  uint16_t pub_port() const { return pub_port_; }
  uint16_t router_port() const { return router_port_; }

  void connect(const NodeId& peer, const PeerEndpoint& at) override;
  void disconnect(const NodeId& peer) override;
  void publish(std::string_view frame) override;
  bool send(const NodeId& peer, std::string_view frame) override;
  void set_receiver(Receiver r) override { receiver_ = std::move(r); }

 private:
  void on_sub();
  void on_router();
  void on_monitor();

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
  uint16_t pub_port_ = 0;
  uint16_t router_port_ = 0;
  std::unordered_map<NodeId, Peer> peers_;
  std::map<std::string, NodeId> by_pub_endpoint_;
  Receiver receiver_;
};

}  // namespace zswarm::bus
