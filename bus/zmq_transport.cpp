#include "bus/zmq_transport.hpp"

#include "bus/zap.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <system_error>
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
      router_monitor_(ctx, zmq::socket_type::pair),
      pub_monitor_(ctx, zmq::socket_type::pair),
      zap_(ctx, zmq::socket_type::rep) {
  const auto max_frame = static_cast<int64_t>(opts_.max_frame_bytes);
  if (curve()) {
    // Bound before any CURVE server exists, so no handshake ever goes unjudged.
    zap_.set(zmq::sockopt::linger, 0);
    zap_.bind("inproc://zeromq.zap.01");
    for (zmq::socket_t* s : {&pub_, &router_}) {
      s->set(zmq::sockopt::curve_server, true);
      s->set(zmq::sockopt::curve_secretkey, zmq::buffer(opts_.curve_secret));
      s->set(zmq::sockopt::zap_domain, std::string(kZapDomain));
    }
  }
  pub_.set(zmq::sockopt::linger, 500);  // lets a goodbye out on close
  pub_.set(zmq::sockopt::sndhwm, opts_.send_hwm);
  pub_.set(zmq::sockopt::maxmsgsize, int64_t{1024});  // it only ever reads subscriptions
  pub_.bind(tcp(opts_.bind_host, opts_.pub_port));
  pub_port_ = bound_port(pub_);

  router_.set(zmq::sockopt::linger, 0);
  router_.set(zmq::sockopt::rcvhwm, opts_.receive_hwm);
  router_.set(zmq::sockopt::maxmsgsize, max_frame);
  // Without CURVE the routing id is the sender's node id, and after a
  // partition the peer's old TCP connection may still look open here (no FIN
  // or RST got through): its new DEALER must take over rather than be
  // ignored as a duplicate. With CURVE, identity is the User-Id and DEALERs
  // keep libzmq's random routing ids, so no connection can take another's.
  router_.set(zmq::sockopt::router_handover, !curve());
  router_.bind(tcp(opts_.bind_host, opts_.router_port));
  router_port_ = bound_port(router_);

  monitor(router_, router_monitor_, ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | kHandshakeFailed);
  monitor(pub_, pub_monitor_, kHandshakeFailed);

  reactor_.add(router_, [this] { on_router(); });
  reactor_.add(router_monitor_, [this] { on_router_monitor(); });
  reactor_.add(pub_monitor_, [this] { on_pub_monitor(); });
  if (curve()) reactor_.add(zap_, [this] { on_zap(); });
  if (curve() && opts_.datagrams) open_datagrams();
}

void ZmqTransport::open_datagrams() {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(opts_.probe_port);
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw zmq::error_t();
  socklen_t len = sizeof a;
  if (::inet_pton(AF_INET, opts_.bind_host.c_str(), &a.sin_addr) != 1 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    const int err = errno ? errno : EINVAL;
    ::close(fd);
    errno = err;
    throw zmq::error_t();
  }
  udp_ = fd;
  probe_port_ = ntohs(a.sin_port);
  datagram_salt_ = new_datagram_salt();
  reactor_.add_fd(udp_, [this] { on_datagrams(); });
}

Result<std::unique_ptr<ZmqTransport>, Error> ZmqTransport::open(zmq::context_t& ctx, Reactor& reactor,
                                                                ZmqTransportOptions opts) {
  const std::string where = opts.bind_host;
  if (!opts.curve_secret.empty() && (opts.curve_secret.size() != 32 || opts.curve_public.size() != 32))
    return fail(Error{Errc::bad_option, "CURVE keys must be 32 bytes each"});
  try {
    return std::unique_ptr<ZmqTransport>(new ZmqTransport(ctx, reactor, std::move(opts)));
  } catch (const zmq::error_t& e) {
    return fail(Error{Errc::bind_failed, "bus on " + where + ": " + e.what()});
  }
}

ZmqTransport::~ZmqTransport() {
  for (auto& [id, p] : peers_) close(*p);
  reactor_.remove(router_);
  reactor_.remove(router_monitor_);
  reactor_.remove(pub_monitor_);
  reactor_.remove(zap_);
  zmq_socket_monitor(router_.handle(), nullptr, 0);
  zmq_socket_monitor(pub_.handle(), nullptr, 0);
  if (udp_ >= 0) {
    reactor_.remove_fd(udp_);
    ::close(udp_);
  }
}

void ZmqTransport::set_curve_client(zmq::socket_t& s, const std::string& server_key) {
  s.set(zmq::sockopt::curve_serverkey, zmq::buffer(server_key));
  s.set(zmq::sockopt::curve_publickey, zmq::buffer(opts_.curve_public));
  s.set(zmq::sockopt::curve_secretkey, zmq::buffer(opts_.curve_secret));
}

void ZmqTransport::connect(const NodeId& peer, const PeerEndpoint& at) {
  if (peers_.count(peer)) return;
  // A CURVE bus only talks to peers whose key it knows.
  if (curve() && at.curve_key.size() != 32) return;
  try {
    open_peer(peer, at);
  } catch (const zmq::error_t& e) {
    // Out of sockets or descriptors: the peer stays unconnected (a joining
    // one is dropped, unconfirmed); the node goes on with the others.
    ++stats_.connect_failures;
    if (opts_.warn) opts_.warn("[bus] cannot connect to " + at.host + ": " + e.what());
  }
}

void ZmqTransport::open_peer(const NodeId& peer, const PeerEndpoint& at) {
  auto p = std::make_unique<Peer>();
  p->id = peer;
  p->pub_endpoint = tcp(at.host, at.pub_port);
  p->curve_key = at.curve_key;
  p->probe_port = at.probe_port;
  p->probe_to.sin_family = AF_INET;
  p->probe_to.sin_port = htons(at.probe_port);
  if (::inet_pton(AF_INET, at.host.c_str(), &p->probe_to.sin_addr) != 1) p->probe_port = 0;  // not IPv4: no datagrams
  if (udp_ >= 0) p->has_key = datagram_key(opts_.curve_secret, at.curve_key, p->datagram_key);
  p->dealer = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
  p->dealer->set(zmq::sockopt::linger, 0);
  p->dealer->set(zmq::sockopt::sndhwm, opts_.send_hwm);
  // A DEALER is never read: whatever a peer pushes back into it stays small.
  p->dealer->set(zmq::sockopt::rcvhwm, 1);
  p->dealer->set(zmq::sockopt::maxmsgsize, int64_t{1024});
  p->dealer->set(zmq::sockopt::reconnect_ivl, 100);
  if (curve()) set_curve_client(*p->dealer, at.curve_key);
  else p->dealer->set(zmq::sockopt::routing_id, zmq::buffer(opts_.self.bytes()));
  p->router_endpoint = tcp(at.host, at.router_port);
  p->router_host = at.host;
  p->router_port = at.router_port;
  p->dealer_monitor = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::pair);
  monitor(*p->dealer, *p->dealer_monitor, ZMQ_EVENT_HANDSHAKE_SUCCEEDED | kHandshakeFailed);
  p->dealer->connect(p->router_endpoint);

  p->sub = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::sub);
  p->sub->set(zmq::sockopt::linger, 0);
  p->sub->set(zmq::sockopt::rcvhwm, opts_.receive_hwm);
  p->sub->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(opts_.max_frame_bytes));
  p->sub->set(zmq::sockopt::reconnect_ivl, 100);
  p->sub->set(zmq::sockopt::subscribe, "");
  if (curve()) set_curve_client(*p->sub, at.curve_key);
  p->sub_monitor = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::pair);
  monitor(*p->sub, *p->sub_monitor, ZMQ_EVENT_DISCONNECTED | kHandshakeFailed);
  p->sub->connect(p->pub_endpoint);

  Peer& ref = *p;
  reactor_.add(*ref.sub, [this, &ref] { on_sub(ref); });
  reactor_.add(*ref.sub_monitor, [this, &ref] { on_sub_monitor(ref); });
  reactor_.add(*ref.dealer_monitor, [this, &ref] { on_dealer_monitor(ref); });
  peers_.emplace(peer, std::move(p));
  admit(peer, at.curve_key);
}

void ZmqTransport::admit(const NodeId& peer, const std::string& key) {
  if (curve() && key.size() == 32) admitted_.try_emplace(key, peer);  // the first id to announce a key keeps it
}

void ZmqTransport::close(Peer& p) {
  p.closed = true;
  end_gone_check(p);
  reactor_.remove(*p.sub);
  reactor_.remove(*p.sub_monitor);
  reactor_.remove(*p.dealer_monitor);
  zmq_socket_monitor(p.sub->handle(), nullptr, 0);
  zmq_socket_monitor(p.dealer->handle(), nullptr, 0);
  std::erase_if(admitted_, [&](const auto& kv) { return kv.second == p.id; });
}

void ZmqTransport::disconnect(const NodeId& peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  close(*it->second);
  // One of its handlers may be running now (a goodbye read from its SUB):
  // its sockets are closed at the next tick, not under it.
  closed_.push_back(std::move(it->second));
  peers_.erase(it);
}

void ZmqTransport::tick(Clock::time_point) {
  closed_.clear();
  const auto now = Steady::now();
  // Called at every turn of the loop: an idle bus must not cost O(peers).
  if (now < next_due_) return;
  next_due_ = Steady::time_point::max();
  auto due = [&](Steady::time_point t) {
    if (t != Steady::time_point{}) next_due_ = std::min(next_due_, t);
  };
  auto redial = [&](zmq::socket_t& s, const std::string& endpoint, Steady::time_point& when) {
    if (when == Steady::time_point{} || now < when) return;
    when = {};
    try {
      s.disconnect(endpoint);
    } catch (const zmq::error_t&) {
      // The session already ended: nothing to undo.
    }
    s.connect(endpoint);
    reactor_.touch(s);
  };
  try {
    for (auto& [id, p] : peers_) {
      redial(*p->sub, p->pub_endpoint, p->redial_sub);
      redial(*p->dealer, p->router_endpoint, p->redial_dealer);
      // No answer in time: silence, which proves nothing (the probe decides).
      if (p->gone_fd >= 0 && now >= p->gone_by) end_gone_check(*p);
      due(p->redial_sub);
      due(p->redial_dealer);
      if (p->gone_fd >= 0) due(p->gone_by);
    }
  } catch (...) {
    next_due_ = {};  // the peers after this one are due still
    throw;
  }
}

bool ZmqTransport::start_gone_check(Peer& p) {
  if (p.gone_fd >= 0) return false;  // one in flight per peer
  p.gone_dials = 0;
  p.gone_by = Steady::now() + opts_.gone_check_timeout;
  next_due_ = std::min(next_due_, p.gone_by);
  return dial_gone_check(p);
}

bool ZmqTransport::dial_gone_check(Peer& p) {
  ++p.gone_dials;
  p.gone_connected = false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(p.router_port);
  if (p.router_port == 0 || ::inet_pton(AF_INET, p.router_host.c_str(), &a.sin_addr) != 1) return false;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;  // out of fds: the probe still decides
  uint32_t wait_for = EPOLLOUT;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) {
    p.gone_connected = true;
    wait_for = EPOLLIN;
  } else if (errno != EINPROGRESS) {
    const int err = errno;
    ::close(fd);
    return err == ECONNREFUSED;
  }
  try {
    reactor_.add_fd(fd, [this, &p] { on_gone_check(p); }, wait_for);
  } catch (const std::system_error&) {
    ::close(fd);
    return false;
  }
  p.gone_fd = fd;
  return false;
}

void ZmqTransport::on_gone_check(Peer& p) {
  bool closed_early = false;  // accepted, then closed before a byte came
  if (!p.gone_connected) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(p.gone_fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err == 0) {
      // Connected. A listening libzmq sends its greeting at once: wait for it.
      const int fd = p.gone_fd;
      reactor_.remove_fd(fd);
      try {
        reactor_.add_fd(fd, [this, &p] { on_gone_check(p); }, EPOLLIN);
      } catch (const std::system_error&) {
        p.gone_fd = fd;
        end_gone_check(p);
        return;
      }
      p.gone_connected = true;
      return;
    }
    if (err == ECONNREFUSED) {
      end_gone_check(p);  // before the receiver, which may disconnect the peer
      report_gone(p);
      return;
    }
    closed_early = err == ECONNRESET || err == EPIPE;
  } else {
    char byte;
    const ssize_t n = ::recv(p.gone_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    closed_early = n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE));
  }
  end_gone_check(p);
  // A greeting: alive. Closed before one: a dying process's listener may
  // still have taken the connect (a kill -9 closes its fds one by one), so
  // dial again: now a refusal is proof.
  if (closed_early && p.gone_dials < kGoneDials && dial_gone_check(p)) report_gone(p);
}

void ZmqTransport::report_gone(Peer& p) {
  ++stats_.peers_refused;
  if (receiver_) receiver_(Inbound{Inbound::peer_gone, p.id, {}});
}

void ZmqTransport::end_gone_check(Peer& p) {
  if (p.gone_fd < 0) return;
  reactor_.remove_fd(p.gone_fd);
  ::close(p.gone_fd);
  p.gone_fd = -1;
}

ZmqTransport::Steady::time_point ZmqTransport::redial_time(Peer& p) {
  // 100 ms, doubling to 1.6 s: an admission usually follows within a beacon round trip.
  auto wait = std::chrono::milliseconds(100) * (1 << std::min(p.refusals++, 4));
  return Steady::now() + wait;
}

void ZmqTransport::on_dealer_monitor(Peer& p) {
  while (!p.closed) {
    auto ev = read_event(*p.dealer_monitor);
    if (!ev) break;
    if (ev->kind & ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
      p.linked = true;
      continue;
    }
    ++stats_.handshakes_failed;
    note("[bus] handshake failed with " + ev->endpoint + "; dialling again");
    if (p.redial_dealer == Steady::time_point{}) p.redial_dealer = redial_time(p);
    next_due_ = std::min(next_due_, p.redial_dealer);
  }
}

bool ZmqTransport::linked(const NodeId& peer) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && it->second->linked;
}

void ZmqTransport::publish(std::string_view frame) {
  (void)pub_.send(zmq::buffer(frame.data(), frame.size()), zmq::send_flags::dontwait);
}

bool ZmqTransport::send(const NodeId& peer, std::string_view frame) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return false;
  auto sent = it->second->dealer->send(zmq::buffer(frame.data(), frame.size()), zmq::send_flags::dontwait);
  return sent.has_value();
}

bool ZmqTransport::datagrams_to(const NodeId& peer) const {
  auto it = peers_.find(peer);
  return udp_ >= 0 && it != peers_.end() && it->second->has_key && it->second->probe_port != 0;
}

bool ZmqTransport::send_datagram(const NodeId& peer, std::string_view frame) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return false;
  Peer& p = *it->second;
  if (udp_ >= 0 && p.has_key && p.probe_port != 0 && frame.size() <= kMaxDatagramFrame) {
    const std::string d = seal_datagram(p.datagram_key, opts_.curve_public, datagram_salt_, ++datagram_counter_, frame);
    if (::sendto(udp_, d.data(), d.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&p.probe_to),
                 sizeof p.probe_to) == static_cast<ssize_t>(d.size())) {
      ++stats_.datagrams_sent;
      return true;
    }
  }
  if (udp_ >= 0) ++stats_.datagrams_by_tcp;
  return send(peer, frame);
}

void ZmqTransport::on_datagrams() {
  // A bounded batch per call: the reactor calls again while more wait.
  char buf[kMaxDatagramSize + 1];
  for (int i = 0; i < 64; ++i) {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const ssize_t n = ::recvfrom(udp_, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return;
    const std::string_view d(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf));
    auto refuse = [&](std::string_view why) {
      ++stats_.datagrams_refused;
      if (!opts_.warn || std::chrono::steady_clock::now() - last_note_ < std::chrono::seconds(1)) return;
      char ip[INET_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip);
      note(std::string("[bus] datagram from ") + ip + ":" + std::to_string(ntohs(from.sin_port)) + " refused: " +
           std::string(why));
    };
    if (static_cast<std::size_t>(n) > kMaxDatagramSize) {
      refuse(to_string(DatagramError::too_long));
      continue;
    }
    auto h = parse_datagram(d);
    if (!h) {
      refuse(to_string(h.error()));
      continue;
    }
    auto who = admitted_.find(h->sender_key);
    auto peer = who == admitted_.end() ? peers_.end() : peers_.find(who->second);
    if (peer == peers_.end() || !peer->second->has_key) {
      refuse("not from a member");
      continue;
    }
    Peer& p = *peer->second;
    auto frame = open_datagram(p.datagram_key, d);
    if (!frame) {
      refuse(to_string(frame.error()));
      continue;
    }
    if (!p.replay.accept(h->counter)) {
      refuse("replayed");
      continue;
    }
    ++stats_.datagrams_received;
    if (receiver_) receiver_(Inbound{Inbound::direct, p.id, std::move(*frame)});
  }
}

void ZmqTransport::on_sub(Peer& p) {
  zmq::message_t msg;
  while (!p.closed && p.sub->recv(msg, zmq::recv_flags::dontwait)) {
    p.refusals = 0;  // the peer knows our key now
    if (receiver_) receiver_(Inbound{Inbound::published, p.id, msg.to_string()});
  }
}

void ZmqTransport::on_router() {
  zmq::message_t from, msg;
  while (router_.recv(from, zmq::recv_flags::dontwait)) {
    // A DEALER sends one frame, so ROUTER gives [routing id, frame]; anything
    // else is a foreign client and its extra frames are drained and dropped.
    bool more = from.more();
    std::string frame;
    const char* user = nullptr;
    while (more) {
      if (!router_.recv(msg, zmq::recv_flags::dontwait)) break;
      more = msg.more();
      frame = msg.to_string();
      user = zmq_msg_gets(msg.handle(), "User-Id");
    }
    std::optional<NodeId> id;
    if (curve()) {
      id = user ? NodeId::from_string(user) : std::nullopt;
      if (!id) {
        ++stats_.frames_unauthenticated;
        continue;
      }
    } else {
      // A peer that did not identify itself gets the nil id; the receiver rejects it.
      id = NodeId::from_bytes(from.to_string_view());
      if (!id) id = NodeId();
    }
    if (receiver_) receiver_(Inbound{Inbound::direct, *id, std::move(frame)});
  }
}

void ZmqTransport::on_zap() {
  std::vector<std::string> request;
  zmq::message_t part;
  while (zap_.recv(part, zmq::recv_flags::dontwait)) {
    // A request is small; more than a handful of frames is not libzmq's.
    if (request.size() < 16) request.push_back(part.to_string());
    if (part.more()) continue;
    auto reply = zap_decide(request, [this](std::string_view key) -> std::optional<std::string> {
      auto it = admitted_.find(key);
      if (it == admitted_.end()) return std::nullopt;
      return it->second.to_string();
    });
    request.clear();
    // REP must answer before it reads again; a request too broken to answer gets a refusal.
    if (!reply) reply = ZapReply{{}, "400", "malformed request", {}};
    if (reply->status_code != "200") {
      ++stats_.keys_refused;
      note("[bus] refused a connection: " + reply->status_text);
    }
    auto frames = reply->frames();
    for (std::size_t i = 0; i < frames.size(); ++i)
      (void)zap_.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

void ZmqTransport::note(const std::string& what) {
  auto now = std::chrono::steady_clock::now();
  if (!opts_.warn || now - last_note_ < std::chrono::seconds(1)) return;
  last_note_ = now;
  opts_.warn(what + " (connections dropped so far: " + std::to_string(stats_.connections_dropped) +
             ", handshakes failed: " + std::to_string(stats_.handshakes_failed) +
             ", datagrams refused: " + std::to_string(stats_.datagrams_refused) + ")");
}

void ZmqTransport::on_sub_monitor(Peer& p) {
  while (!p.closed) {
    auto ev = read_event(*p.sub_monitor);
    if (!ev) break;
    if (ev->kind & kHandshakeFailed) {
      ++stats_.handshakes_failed;
      note("[bus] handshake failed with " + ev->endpoint + "; dialling again");
      if (p.redial_sub == Steady::time_point{}) p.redial_sub = redial_time(p);
      next_due_ = std::min(next_due_, p.redial_sub);
      continue;
    }
    if (ev->kind != ZMQ_EVENT_DISCONNECTED) continue;
    ++stats_.connections_dropped;
    if (p.redial_sub != Steady::time_point{}) continue;  // the end of a refused handshake: redialled at tick
    note("[bus] lost the link to " + p.id.short_string() + "'s PUB at " + ev->endpoint +
         " (it closed, or sent a frame over max_frame_bytes = " + std::to_string(opts_.max_frame_bytes) +
         "); reconnecting");
    // After a protocol error (such as a frame over the limit) libzmq never
    // retries a connecting session: open the link again. Membership decides
    // whether the peer is gone (link_down starts a probe).
    try {
      p.sub->disconnect(ev->endpoint);
    } catch (const zmq::error_t&) {
      // The session already ended: nothing to undo.
    }
    try {
      p.sub->connect(ev->endpoint);
      ++stats_.links_reopened;
    } catch (const zmq::error_t& e) {
      note("[bus] could not reopen " + ev->endpoint + ": " + e.what());
    }
    reactor_.touch(*p.sub);
    // Is the process gone, or only the link? Its ROUTER port tells.
    const bool refused = start_gone_check(p);
    if (receiver_) receiver_(Inbound{Inbound::link_down, p.id, {}});
    if (refused && !p.closed) report_gone(p);
  }
}
void ZmqTransport::on_pub_monitor() {
  while (auto ev = read_event(pub_monitor_)) {
    ++stats_.handshakes_failed;
    note("[bus] a subscriber's handshake failed on the PUB at " + ev->endpoint);
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
