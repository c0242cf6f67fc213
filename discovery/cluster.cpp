#include "discovery/cluster.hpp"

#include <random>

namespace zswarm::discovery {

using bus::MessageType;

namespace {
bool has_empty_body(MessageType t) {
  return t == MessageType::heartbeat || t == MessageType::goodbye || t == MessageType::probe ||
         t == MessageType::probe_ack || t == MessageType::sync_request;
}
}  // namespace
using discovery::MembershipEvent;

Cluster::Cluster(const Clock& clock, bus::Transport& transport, ClusterOptions opts, BeaconSender beacons,
                 std::shared_ptr<spdlog::logger> log)
    : clock_(clock),
      transport_(transport),
      opts_(std::move(opts)),
      beacons_(std::move(beacons)),
      log_(std::move(log)),
      membership_(clock, opts_.self, opts_.detector) {
  transport_.set_receiver([this](bus::Inbound&& in) { on_inbound(std::move(in)); });
  on_message(MessageType::heartbeat, [](const bus::Envelope&) {});
  on_message(MessageType::goodbye, [this](const bus::Envelope& e) {
    discovery::MembershipEvents ev;
    membership_.on_goodbye(e.sender, ev);
    act(ev);
  });
  on_message(MessageType::probe, [this](const bus::Envelope& e) {
    send(e.sender, MessageType::probe_ack, {}, e.corr);
  });
  on_message(MessageType::probe_ack, [](const bus::Envelope&) {});
}

void Cluster::start() {
  log_->info("[discovery] node {} ({}) incarnation {} in cluster '{}'", opts_.name, opts_.self.short_string(),
             opts_.incarnation, opts_.cluster);
  send_beacon(false);
  next_heartbeat_ = clock_.now();
  tick();
}

void Cluster::send_beacon(bool leaving) {
  discovery::Beacon b;
  b.id = opts_.self;
  b.incarnation = opts_.incarnation;
  b.pub_port = opts_.pub_port;
  b.router_port = opts_.router_port;
  b.leaving = leaving;
  b.observer = opts_.observer;
  b.cluster = opts_.cluster;
  b.name = opts_.name;
  beacons_(discovery::encode(b));
  ++stats_.beacons_sent;
  next_beacon_ = clock_.now() + opts_.beacon_interval;
}

void Cluster::reject(const char* what, std::string_view why) {
  // Counted always, logged at most once a second: garbage must not flood the log.
  auto now = clock_.now();
  if (now - last_reject_log_ >= std::chrono::seconds(1)) {
    last_reject_log_ = now;
    log_->warn("[bus] dropped {}: {} (rejected so far: {} beacons, {} frames)", what, why,
               stats_.beacons_bad_version + stats_.beacons_garbage, stats_.frames_rejected);
  }
}

void Cluster::reject_body(const bus::Envelope& e, std::string_view why) {
  ++stats_.bodies_rejected;
  auto now = clock_.now();
  if (now - last_body_log_ < std::chrono::seconds(1)) return;
  last_body_log_ = now;
  const auto* m = membership_.find(e.sender);
  log_->warn("[bus] dropped a {} from {}: {} ({} bodies rejected so far)", bus::to_string(e.type),
             m ? m->name : e.sender.short_string(), why, stats_.bodies_rejected);
}

void Cluster::on_datagram(std::string_view bytes, const std::string& source_ip) {
  auto parsed = discovery::parse(bytes);
  if (!parsed) {
    if (parsed.error() == discovery::BeaconError::bad_version) ++stats_.beacons_bad_version;
    else ++stats_.beacons_garbage;
    reject("beacon", discovery::to_string(parsed.error()));
    return;
  }
  const discovery::Beacon& b = *parsed;
  if (b.id == opts_.self) {
    ++stats_.beacons_self;
    return;
  }
  if (b.cluster != opts_.cluster) {
    ++stats_.beacons_other_cluster;  // a neighbour cluster: expected, not logged
    return;
  }
  ++stats_.beacons_received;
  discovery::MembershipEvents ev;
  membership_.on_beacon(b, source_ip, ev);
  bool newcomer = false;
  for (const auto& e : ev) newcomer |= e.kind == MembershipEvent::up;
  act(ev);
  // Answer a newcomer at once, so it need not wait for our next interval.
  if (newcomer && !leaving_) send_beacon(false);
}

void Cluster::on_inbound(bus::Inbound&& in) {
  discovery::MembershipEvents ev;
  if (in.kind == bus::Inbound::link_down) {
    membership_.on_link_down(in.peer, ev);
    act(ev);
    return;
  }
  ++stats_.frames_received;
  auto decoded = bus::decode(in.frame);
  if (!decoded) {
    ++stats_.frames_rejected;
    reject("frame", bus::to_string(decoded.error()));
    return;
  }
  bus::Envelope& e = *decoded;
  if (in.kind == bus::Inbound::direct && in.peer != e.sender) {
    ++stats_.frames_rejected;  // the channel says one sender, the frame another
    reject("frame", "sender does not match its connection");
    return;
  }
  const discovery::Member* m = membership_.find(e.sender);
  if (!m || m->incarnation != e.incarnation) {
    ++stats_.frames_unknown_sender;  // not (yet) a member: its beacon will come
    return;
  }
  if (in.kind == bus::Inbound::published) {
    auto v = sequences_.observe(e.sender, e.incarnation, e.seq);
    if (v.kind == bus::SeqVerdict::stale) {
      ++stats_.frames_stale;
      return;
    }
    if (v.kind == bus::SeqVerdict::gap) {
      ++stats_.sequence_gaps;
      log_->debug("[bus] missed {} messages from {}", v.missed, m->name);
      for (auto& o : gap_observers_) o(e.sender, v.missed);
    }
  }
  membership_.on_heard(e.sender, ev);
  act(ev);
  if (!e.body.empty() && has_empty_body(e.type)) return reject_body(e, "this message has an empty body");
  if (bus::to_string(e.type).empty()) {
    ++stats_.frames_unknown_type;  // a newer peer's message: its sequence number still counted
    return;
  }
  auto t = static_cast<std::size_t>(e.type);
  if (handlers_[t]) handlers_[t](e);
}

void Cluster::act(discovery::MembershipEvents& events) {
  for (const MembershipEvent& e : events) {
    const auto& m = e.member;
    switch (e.kind) {
      case MembershipEvent::up:
        transport_.connect(m.id, m.endpoint);
        log_->info("[membership] nodeup {} ({} pub {} router {}, incarnation {})", m.name, m.endpoint.host,
                   m.endpoint.pub_port, m.endpoint.router_port, m.incarnation);
        break;
      case MembershipEvent::suspect:
        log_->info("[membership] suspect {} ({})", m.name, e.reason);
        ++stats_.probes_sent;
        send(m.id, MessageType::probe, {}, opts_.random ? opts_.random() : std::random_device{}());
        break;
      case MembershipEvent::recovered:
        log_->info("[membership] alive {} ({})", m.name, e.reason);
        break;
      case MembershipEvent::down:
        transport_.disconnect(m.id);
        sequences_.forget(m.id);
        log_->info("[membership] nodedown {} ({})", m.name, e.reason);
        break;
      case MembershipEvent::left:
        transport_.disconnect(m.id);
        sequences_.forget(m.id);
        log_->info("[membership] left {}", m.name);
        break;
    }
    for (auto& o : member_observers_) o(e);
  }
  events.clear();
}

void Cluster::tick() {
  auto now = clock_.now();
  transport_.tick(now);
  if (leaving_) return;
  if (now >= next_heartbeat_) {
    publish(MessageType::heartbeat, {});
    next_heartbeat_ = now + opts_.detector.heartbeat_interval;
  }
  if (now >= next_beacon_) send_beacon(false);
  discovery::MembershipEvents ev;
  membership_.tick(ev);
  act(ev);
}

void Cluster::leave() {
  if (leaving_) return;
  leaving_ = true;
  publish(MessageType::goodbye, {});
  send_beacon(true);
  log_->info("[membership] leaving cluster '{}'", opts_.cluster);
}

Clock::time_point Cluster::next_deadline() const {
  auto next = std::min(next_heartbeat_, next_beacon_);
  // The failure detector needs a look at least every 50 ms to stay prompt.
  return std::min(next, clock_.now() + std::chrono::milliseconds(50));
}

void Cluster::on_message(MessageType t, Handler h) { handlers_[static_cast<std::size_t>(t)] = std::move(h); }

void Cluster::publish(MessageType t, std::string body) {
  bus::Envelope e;
  e.type = t;
  e.sender = opts_.self;
  e.incarnation = opts_.incarnation;
  e.seq = next_seq_++;
  e.body = std::move(body);
  transport_.publish(bus::encode(e));
}

bool Cluster::send(const bus::NodeId& peer, MessageType t, std::string body, uint64_t corr) {
  bus::Envelope e;
  e.type = t;
  e.sender = opts_.self;
  e.incarnation = opts_.incarnation;
  e.corr = corr;
  e.body = std::move(body);
  return transport_.send(peer, bus::encode(e));
}

}  // namespace zswarm::discovery
