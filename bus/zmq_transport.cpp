#include "bus/zmq_transport.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <optional>

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

constexpr int kHandshakeFailed =
    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

// Starts a monitor for `events` on `s` and connects `pair` to it.
void monitor(zmq::socket_t& s, zmq::socket_t& pair, int events) {
  std::string ep = "inproc://zswarm-monitor-" + std::to_string(monitor_serial++);
  if (zmq_socket_monitor(s.handle(), ep.c_str(), events) != 0) throw zmq::error_t();
  pair.connect(ep);
}

// One monitor event: [u16 event, u32 value] then the endpoint.
struct Event {
  uint16_t kind = 0;
  uint32_t value = 0;
  std::string endpoint;
};
std::optional<Event> read_event(zmq::socket_t& pair) {
  zmq::message_t head, endpoint;
  if (!pair.recv(head, zmq::recv_flags::dontwait)) return std::nullopt;
  Event e;
  if (head.more() && pair.recv(endpoint, zmq::recv_flags::dontwait)) e.endpoint = endpoint.to_string();
  if (head.size() >= 6) {
    std::memcpy(&e.kind, head.data(), 2);
    std::memcpy(&e.value, static_cast<const char*>(head.data()) + 2, 4);
  }
  return e;
}

std::string peer_address(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0 || a.sin_family != AF_INET) return "?";
  char ip[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
  return std::string(ip) + ":" + std::to_string(ntohs(a.sin_port));
}

}  // namespace

ZmqTransport::ZmqTransport(zmq::context_t& ctx, Reactor& reactor, ZmqTransportOptions opts)
    : ctx_(ctx),
      reactor_(reactor),
      opts_(std::move(opts)),
      pub_(ctx, zmq::socket_type::pub),
      router_(ctx, zmq::socket_type::router),
      sub_(ctx, zmq::socket_type::sub),
      monitor_(ctx, zmq::socket_type::pair),
      router_monitor_(ctx, zmq::socket_type::pair) {
  const auto max_frame = static_cast<int64_t>(opts_.max_frame_bytes);
  pub_.set(zmq::sockopt::linger, 500);  // lets a goodbye out on close
  pub_.set(zmq::sockopt::sndhwm, opts_.send_hwm);
  pub_.set(zmq::sockopt::maxmsgsize, int64_t{1024});  // it only ever reads subscriptions
  pub_.bind(tcp(opts_.bind_host, opts_.pub_port));
  pub_port_ = bound_port(pub_);

  router_.set(zmq::sockopt::linger, 0);
  router_.set(zmq::sockopt::rcvhwm, opts_.receive_hwm);
  router_.set(zmq::sockopt::maxmsgsize, max_frame);
  // After a partition the peer's old TCP connection may still look open here
  // (no FIN or RST got through); its new DEALER, with the same routing id,
  // must take over rather than be ignored as a duplicate.
  router_.set(zmq::sockopt::router_handover, true);
  router_.bind(tcp(opts_.bind_host, opts_.router_port));
  router_port_ = bound_port(router_);

  sub_.set(zmq::sockopt::linger, 0);
  sub_.set(zmq::sockopt::rcvhwm, opts_.receive_hwm);
  sub_.set(zmq::sockopt::maxmsgsize, max_frame);
  sub_.set(zmq::sockopt::reconnect_ivl, 100);
  sub_.set(zmq::sockopt::subscribe, "");

  monitor(sub_, monitor_, ZMQ_EVENT_DISCONNECTED | kHandshakeFailed);
  monitor(router_, router_monitor_, ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | kHandshakeFailed);

  reactor_.add(sub_, [this] { on_sub(); });
  reactor_.add(router_, [this] { on_router(); });
  reactor_.add(monitor_, [this] { on_monitor(); });
  reactor_.add(router_monitor_, [this] { on_router_monitor(); });
}

Result<std::unique_ptr<ZmqTransport>, Error> ZmqTransport::open(zmq::context_t& ctx, Reactor& reactor,
                                                                ZmqTransportOptions opts) {
  const std::string where = opts.bind_host;
  try {
    return std::unique_ptr<ZmqTransport>(new ZmqTransport(ctx, reactor, std::move(opts)));
  } catch (const zmq::error_t& e) {
    return fail(Error{Errc::bind_failed, "bus on " + where + ": " + e.what()});
  }
}

ZmqTransport::~ZmqTransport() {
  reactor_.remove(sub_);
  reactor_.remove(router_);
  reactor_.remove(monitor_);
  reactor_.remove(router_monitor_);
  zmq_socket_monitor(sub_.handle(), nullptr, 0);
  zmq_socket_monitor(router_.handle(), nullptr, 0);
}

void ZmqTransport::connect(const NodeId& peer, const PeerEndpoint& at) {
  if (peers_.count(peer)) return;
  Peer p;
  p.pub_endpoint = tcp(at.host, at.pub_port);
  p.dealer = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
  p.dealer->set(zmq::sockopt::linger, 0);
  p.dealer->set(zmq::sockopt::sndhwm, opts_.send_hwm);
  // A DEALER is never read: whatever a peer pushes back into it stays small.
  p.dealer->set(zmq::sockopt::rcvhwm, 1);
  p.dealer->set(zmq::sockopt::maxmsgsize, int64_t{1024});
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

void ZmqTransport::note(const std::string& what) {
  auto now = std::chrono::steady_clock::now();
  if (!opts_.warn || now - last_note_ < std::chrono::seconds(1)) return;
  last_note_ = now;
  opts_.warn(what + " (connections dropped so far: " + std::to_string(stats_.connections_dropped) +
             ", handshakes failed: " + std::to_string(stats_.handshakes_failed) + ")");
}

void ZmqTransport::on_monitor() {
  while (auto ev = read_event(monitor_)) {
    if (ev->kind & kHandshakeFailed) {
      ++stats_.handshakes_failed;
      note("[bus] handshake failed with " + ev->endpoint);
      continue;
    }
    if (ev->kind != ZMQ_EVENT_DISCONNECTED) continue;
    ++stats_.connections_dropped;
    auto it = by_pub_endpoint_.find(ev->endpoint);
    if (it == by_pub_endpoint_.end()) continue;
    note("[bus] lost the link to " + it->second.short_string() + "'s PUB at " + ev->endpoint +
         " (it closed, or sent a frame over max_frame_bytes = " + std::to_string(opts_.max_frame_bytes) +
         "); reconnecting");
    // After a protocol error (such as a frame over the limit) libzmq never
    // retries a connecting session: open the link again. Membership decides
    // whether the peer is gone (link_down starts a probe).
    try {
      sub_.disconnect(ev->endpoint);
    } catch (const zmq::error_t&) {
      // The session already ended: nothing to undo.
    }
    try {
      sub_.connect(ev->endpoint);
      ++stats_.links_reopened;
    } catch (const zmq::error_t& e) {
      note("[bus] could not reopen " + ev->endpoint + ": " + e.what());
    }
    if (receiver_) receiver_(Inbound{Inbound::link_down, it->second, {}});
  }
}

void ZmqTransport::on_router_monitor() {
  while (auto ev = read_event(router_monitor_)) {
    const int fd = static_cast<int>(ev->value);
    if (ev->kind == ZMQ_EVENT_ACCEPTED) {
      if (inbound_.size() < 65536) inbound_[fd] = peer_address(fd);
    } else if (ev->kind & kHandshakeFailed) {
      ++stats_.handshakes_failed;
      auto it = inbound_.find(fd);
      note("[bus] handshake failed with " + (it == inbound_.end() ? std::string("?") : it->second));
    } else if (ev->kind == ZMQ_EVENT_DISCONNECTED) {
      ++stats_.connections_dropped;
      auto it = inbound_.find(fd);
      std::string from = it == inbound_.end() ? "?" : it->second;
      if (it != inbound_.end()) inbound_.erase(it);
      note("[bus] dropped the direct connection from " + from +
           " (it closed, or sent a frame over max_frame_bytes = " + std::to_string(opts_.max_frame_bytes) + ")");
    }
  }
}

}  // namespace zswarm::bus
