#include "bus/zmq_transport.hpp"

#include <atomic>
#include <cstring>

namespace zswarm::bus {
namespace {

uint16_t bound_port(zmq::socket_t& s) {
  std::string ep = s.get(zmq::sockopt::last_endpoint);
  return static_cast<uint16_t>(std::stoi(ep.substr(ep.rfind(':') + 1)));
}

std::string tcp(const std::string& host, uint16_t port) {
  return "tcp://" + host + ":" + (port ? std::to_string(port) : std::string("*"));
}

std::atomic<uint64_t> monitor_serial{0};

}  // namespace

ZmqTransport::ZmqTransport(zmq::context_t& ctx, Reactor& reactor, ZmqTransportOptions opts)
    : ctx_(ctx),
      reactor_(reactor),
      opts_(std::move(opts)),
      pub_(ctx, zmq::socket_type::pub),
      router_(ctx, zmq::socket_type::router),
      sub_(ctx, zmq::socket_type::sub),
      monitor_(ctx, zmq::socket_type::pair) {
  pub_.set(zmq::sockopt::linger, 500);  // lets a goodbye out on close
  pub_.set(zmq::sockopt::sndhwm, opts_.send_hwm);
  pub_.bind(tcp(opts_.bind_host, opts_.pub_port));
  pub_port_ = bound_port(pub_);

  router_.set(zmq::sockopt::linger, 0);
  router_.set(zmq::sockopt::rcvhwm, opts_.send_hwm);
  // After a partition the peer's old TCP connection may still look open here
  // (no FIN or RST got through); its new DEALER, with the same routing id,
  // must take over rather than be ignored as a duplicate.
  router_.set(zmq::sockopt::router_handover, true);
  router_.bind(tcp(opts_.bind_host, opts_.router_port));
  router_port_ = bound_port(router_);

  sub_.set(zmq::sockopt::linger, 0);
  sub_.set(zmq::sockopt::rcvhwm, opts_.send_hwm);
  sub_.set(zmq::sockopt::reconnect_ivl, 100);
  sub_.set(zmq::sockopt::subscribe, "");

  std::string mon = "inproc://zswarm-sub-monitor-" + std::to_string(monitor_serial++);
  if (zmq_socket_monitor(sub_.handle(), mon.c_str(), ZMQ_EVENT_DISCONNECTED) != 0)
    throw zmq::error_t();
  monitor_.connect(mon);

  reactor_.add(sub_, [this] { on_sub(); });
  reactor_.add(router_, [this] { on_router(); });
  reactor_.add(monitor_, [this] { on_monitor(); });
}

ZmqTransport::~ZmqTransport() {
  reactor_.remove(sub_);
  reactor_.remove(router_);
  reactor_.remove(monitor_);
  zmq_socket_monitor(sub_.handle(), nullptr, 0);
}

void ZmqTransport::connect(const NodeId& peer, const PeerEndpoint& at) {
  if (peers_.count(peer)) return;
  Peer p;
  p.pub_endpoint = tcp(at.host, at.pub_port);
  p.dealer = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
  p.dealer->set(zmq::sockopt::linger, 0);
  p.dealer->set(zmq::sockopt::sndhwm, opts_.send_hwm);
  p.dealer->set(zmq::sockopt::reconnect_ivl, 100);
  p.dealer->set(zmq::sockopt::routing_id, zmq::buffer(opts_.self.bytes()));
  p.dealer->connect(tcp(at.host, at.router_port));
  sub_.connect(p.pub_endpoint);
  by_pub_endpoint_[p.pub_endpoint] = peer;
  peers_.emplace(peer, std::move(p));
}

void ZmqTransport::disconnect(const NodeId& peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  try {
    sub_.disconnect(it->second.pub_endpoint);
  } catch (const zmq::error_t&) {
    // Already gone (ENOENT): nothing to undo.
  }
  by_pub_endpoint_.erase(it->second.pub_endpoint);
  peers_.erase(it);
}

void ZmqTransport::publish(std::string_view frame) {
  (void)pub_.send(zmq::buffer(frame.data(), frame.size()), zmq::send_flags::dontwait);
}

bool ZmqTransport::send(const NodeId& peer, std::string_view frame) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return false;
  auto sent = it->second.dealer->send(zmq::buffer(frame.data(), frame.size()),
                                      zmq::send_flags::dontwait);
  return sent.has_value();
}

void ZmqTransport::on_sub() {
  zmq::message_t msg;
  while (sub_.recv(msg, zmq::recv_flags::dontwait)) {
    if (receiver_) receiver_(Inbound{Inbound::published, NodeId(), msg.to_string()});
  }
}

void ZmqTransport::on_router() {
  zmq::message_t from, msg;
  while (router_.recv(from, zmq::recv_flags::dontwait)) {
    // A DEALER sends one frame, so ROUTER gives [routing id, frame]; anything
    // else is a foreign client and its extra frames are drained and dropped.
    bool more = from.more();
    std::string frame;
    while (more) {
      if (!router_.recv(msg, zmq::recv_flags::dontwait)) break;
      more = msg.more();
      frame = msg.to_string();
    }
    // A peer that did not identify itself gets the nil id; the receiver rejects it.
    auto id = NodeId::from_bytes(from.to_string_view());
    if (receiver_) receiver_(Inbound{Inbound::direct, id.value_or(NodeId()), std::move(frame)});
  }
}

void ZmqTransport::on_monitor() {
  zmq::message_t event, endpoint;
  while (monitor_.recv(event, zmq::recv_flags::dontwait)) {
    if (!event.more() || !monitor_.recv(endpoint, zmq::recv_flags::dontwait)) continue;
    uint16_t kind = 0;
    if (event.size() >= 2) std::memcpy(&kind, event.data(), 2);
    if (kind != ZMQ_EVENT_DISCONNECTED) continue;
    auto it = by_pub_endpoint_.find(endpoint.to_string());
    if (it != by_pub_endpoint_.end() && receiver_)
      receiver_(Inbound{Inbound::link_down, it->second, {}});
  }
}

}  // namespace zswarm::bus
