#include "discovery/cluster.hpp"

#include "bus/datagram.hpp"

#include <random>

namespace zswarm::discovery {

using bus::MessageType;

namespace {
// After a member comes up, heartbeats go every kFastHeartbeat for
// kFastHeartbeats: a few, not a burst (a cluster forming at once has a
// member coming up all the time).
constexpr auto kFastHeartbeat = std::chrono::milliseconds(250);
constexpr auto kFastHeartbeats = std::chrono::milliseconds(600);
// After a member goes down for silence (a partition, a lost host), beacons
// go every kFastBeacon for kFastBeacons: when the partition heals, each side
// finds the other within a quarter second, not at its next 1 s beacon.
constexpr auto kFastBeacon = std::chrono::milliseconds(250);
constexpr auto kFastBeacons = std::chrono::seconds(30);

bool has_empty_body(MessageType t) {
  return t == MessageType::heartbeat || t == MessageType::goodbye || t == MessageType::probe ||
         t == MessageType::probe_ack || t == MessageType::probe_nack;
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
      membership_(clock, opts_.self, opts_.detector,
                  {opts_.name, opts_.wall_ms, opts_.max_clock_skew, opts_.max_unconfirmed, opts_.down_expiry}),
      swim_(clock, membership_, opts_.self, opts_.incarnation, opts_.detector, opts_.random,
            [this](const bus::NodeId& to, MessageType t, std::string_view body, uint64_t corr) {
              if (t == MessageType::probe) ++stats_.probes_sent;
              return send_probe(to, t, body, corr);
            },
            [this](MessageType t, std::string_view body) { publish(t, body); },
            [this](const bus::NodeId& peer) { return transport_.linked(peer); }),
      beacon_limit_({double(opts_.beacon_rate), 2.0 * opts_.beacon_rate, opts_.max_beacon_sources}),
      pub_version_(opts_.protocol.min),
      pub_out_(pub_version_, opts_.self, opts_.incarnation) {
  transport_.set_receiver([this](bus::Inbound&& in) { on_inbound(std::move(in)); });
  on_message(MessageType::heartbeat, [](const bus::Envelope&) {});
  on_message(MessageType::goodbye, [this](const bus::Envelope& e) {
    discovery::MembershipEvents ev;
    membership_.on_goodbye(e.sender, ev);
    act(ev);
  });
  for (auto t : {MessageType::probe, MessageType::probe_ack, MessageType::probe_nack, MessageType::probe_request,
                 MessageType::gossip})
    on_message(t, [this](const bus::Envelope& e) { on_swim_message(e); });
}

void Cluster::on_swim_message(const bus::Envelope& e) {
  const discovery::Member* m = membership_.find(e.sender);
  if (m && m->state == MemberState::down && m->confirm_by != Clock::time_point{} && e.type == MessageType::probe) {
    // We probe it too: each of two nodes that hold the other down needs the
    // other's answer to bring it back.
    send_unconfirmed(*m, MessageType::probe_ack, e.corr);
    return;
  }
  if (!m || (m->state != MemberState::alive && m->state != MemberState::suspect)) return;
  discovery::MembershipEvents ev;
  switch (e.type) {
    case MessageType::probe: swim_.on_probe(e.sender, e.corr); break;
    case MessageType::probe_ack: swim_.on_ack(e.sender, e.corr); break;
    case MessageType::probe_nack: swim_.on_nack(e.sender, e.corr); break;
    case MessageType::probe_request: {
      auto r = discovery::decode_probe_request(e.body);
      if (!r) return reject_body(e, discovery::to_string(r.error()));
      swim_.on_probe_request(e.sender, e.corr, *r);
      break;
    }
    case MessageType::gossip: {
      auto updates = discovery::decode_updates(e.body);
      if (!updates) return reject_body(e, discovery::to_string(updates.error()));
      swim_.on_updates(e.sender, *updates, ev);
      break;
    }
    default: break;
  }
  act(ev);
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
  b.protocol = opts_.protocol;
  b.placement = opts_.placement;
  if (opts_.seal) {
    b.curve_key = opts_.curve_key;
    b.probe_port = opts_.probe_port;  // datagrams are sealed with the CURVE keys
    beacons_(opts_.seal->seal(std::move(b)));
  } else {
    beacons_(discovery::encode(b));
  }
  ++stats_.beacons_sent;
  const auto now = clock_.now();
  // While members come and go, a lost beacon must be made up for soon: the
  // interval stretches only once the membership has been still for a while.
  const auto stretch = now - membership_changed_ < discovery::kStillBeforeStretch
                           ? 1
                           : discovery::stretch_for(membership_.alive_count() + 1, discovery::kBeaconsPerInterval);
  const auto interval = now < fast_beacons_until_ ? std::min<Clock::duration>(opts_.beacon_interval, kFastBeacon)
                                                  : Clock::duration(opts_.beacon_interval);
  next_beacon_ = now + interval * static_cast<Clock::duration::rep>(stretch);
}

void Cluster::reject(const char* what, std::string_view why) {
  // Counted always, logged at most once a second: garbage must not flood the log.
  auto now = clock_.now();
  if (now - last_reject_log_ >= std::chrono::seconds(1)) {
    last_reject_log_ = now;
    log_->warn("[bus] dropped {}: {} (rejected so far: {} beacons, {} frames)", what, why,
               stats_.beacons_bad_version + stats_.beacons_garbage + stats_.beacons_rate_limited +
                   stats_.beacons_future_incarnation + stats_.beacons_name_conflict + stats_.beacons_endpoint_in_use +
                   stats_.beacons_unconfirmed_full + stats_.beacons_unsealed + stats_.beacons_wrong_secret +
                   stats_.beacons_bad_mac + stats_.beacons_replayed + stats_.beacons_sealed_ignored,
               stats_.frames_rejected);
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

bool Cluster::admit_beacon(const std::string& source_ip) {
  if (beacon_limit_.admit(source_ip, clock_.now())) return true;
  ++stats_.beacons_rate_limited;
  if (clock_.now() - last_reject_log_ >= std::chrono::seconds(1))  // no string built per datagram of a flood
    reject("beacons", std::string("over the rate limit of ").append(source_ip));
  return false;
}

void Cluster::refuse_beacon(discovery::BeaconVerdict v, const discovery::Beacon& b) {
  switch (v) {
    case discovery::BeaconVerdict::accepted: return;
    case discovery::BeaconVerdict::future_incarnation: ++stats_.beacons_future_incarnation; break;
    case discovery::BeaconVerdict::own_name: ++stats_.beacons_name_conflict; break;
    case discovery::BeaconVerdict::name_in_use: ++stats_.beacons_name_in_use; return;  // a restart waits: normal
    case discovery::BeaconVerdict::endpoint_in_use: ++stats_.beacons_endpoint_in_use; break;
    case discovery::BeaconVerdict::too_many_unconfirmed: ++stats_.beacons_unconfirmed_full; break;
  }
  reject("beacon", std::string(discovery::to_string(v)).append(" (").append(b.name).append(" ").append(
                       b.id.short_string()).append(")"));
}

void Cluster::on_datagram(std::string_view bytes, const std::string& source_ip) {
  if (!admit_beacon(source_ip)) return;
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
  if (bus::common_version(opts_.protocol, b.protocol) == 0) {
    ++stats_.beacons_bad_version;  // no wire version in common: it cannot be a member
    reject("beacon", "no protocol version in common with " + b.name);
    return;
  }
  if (!admit_seal(bytes, b, source_ip)) return;
  if (b.placement != opts_.placement) {
    // It would compute other owners for the same names: both would run some.
    ++stats_.beacons_placement_mismatch;
    if (placement_warned_.insert(b.id).second)
      log_->error("[discovery] refusing {} ({}): its placement settings (placement_allow, placement_deny, quorum) "
                  "differ from this node's, so the two would disagree on where names run; give every node the same",
                  b.name, source_ip);
    return;
  }
  // A later version's extensions: nothing this build reads yet.
  stats_.fields_unknown += b.extensions.size() + (b.later_flags ? 1 : 0);
  ++stats_.beacons_received;
  discovery::MembershipEvents ev;
  const auto verdict = membership_.on_beacon(b, source_ip, ev);
  if (verdict == discovery::BeaconVerdict::accepted) swim_.heard();  // someone can reach us
  refuse_beacon(verdict, b);
  bool newcomer = false;
  for (const auto& e : ev) newcomer |= e.kind == MembershipEvent::discovered;
  act(ev);
  // Answer a newcomer at once, so it need not wait for our next interval.
  if (newcomer && !leaving_) send_beacon(false);
}

bool Cluster::admit_seal(std::string_view bytes, const discovery::Beacon& b, const std::string& source_ip) {
  if (!opts_.seal) {
    if (b.mac.empty()) return true;
    ++stats_.beacons_sealed_ignored;
    reject("beacon", "sealed with a cluster secret, and this node has none (" + b.name + " at " + source_ip + ")");
    return false;
  }
  auto verdict = opts_.seal->open(bytes, b);
  switch (verdict) {
    case SealVerdict::ok: return true;
    case SealVerdict::unsealed: ++stats_.beacons_unsealed; break;
    case SealVerdict::unknown_key: ++stats_.beacons_wrong_secret; break;
    case SealVerdict::bad_mac: ++stats_.beacons_bad_mac; break;
    case SealVerdict::replayed: ++stats_.beacons_replayed; break;
  }
  reject("beacon", std::string(to_string(verdict)) + " (" + b.name + " at " + source_ip + ")");
  return false;
}

void Cluster::on_inbound(bus::Inbound&& in) {
  discovery::MembershipEvents ev;
  if (in.kind == bus::Inbound::link_down) {
    swim_.probe_now(in.peer);  // a broken link is a hint, not a verdict
    return;
  }
  if (in.kind == bus::Inbound::peer_gone) {
    membership_.on_peer_gone(in.peer, ev);
    if (!ev.empty()) swim_.announce_down(in.peer);  // proof: everyone may act on it at once
    act(ev);
    return;
  }
  ++stats_.frames_received;
  auto decoded = bus::decode_frame(in.frame, opts_.protocol);
  if (!decoded && decoded.error() == bus::DecodeError::bad_version) {
    ++stats_.frames_bad_version;
    return;
  }
  if (!decoded) {
    ++stats_.frames_rejected;
    reject("frame", bus::to_string(decoded.error()));
    return;
  }
  stats_.fields_unknown += decoded->fields_skipped;
  const bus::Envelope& first = decoded->messages.front();
  // A direct frame always says who sent it; a published one does when its
  // transport keeps a link per peer.
  if (in.kind == bus::Inbound::direct ? in.peer != first.sender : !in.peer.nil() && in.peer != first.sender) {
    ++stats_.frames_rejected;  // the channel says one sender, the frame another
    reject("frame", "sender does not match its connection");
    return;
  }
  stats_.messages_received += decoded->messages.size();
  // Each message as if it had come alone, in order; a handler may change
  // membership (a goodbye), so the sender is looked up for every one.
  for (const bus::Envelope& e : decoded->messages) {
    const discovery::Member* m = membership_.find_any(e.sender);  // an unconfirmed one's frame confirms it
    if (!m || m->incarnation != e.incarnation) {
      ++stats_.frames_unknown_sender;  // not (yet) a member: its beacon will come
      return;
    }
    handle(e, in.kind, *m);
  }
}

void Cluster::handle(const bus::Envelope& e, bus::Inbound::Kind kind, const discovery::Member& m) {
  discovery::MembershipEvents ev;
  if (m.confirm_by != Clock::time_point{}) {
    // Up before anyone sees its stream start.
    if (m.state != MemberState::down || answers_reprobe(e, kind)) membership_.on_answer(e.sender, ev);
    act(ev);
  }
  if (kind == bus::Inbound::published) {
    auto v = sequences_.observe(e.sender, e.incarnation, e.seq);
    if (v.kind == bus::SeqVerdict::stale) {
      ++stats_.frames_stale;
      return;
    }
    if (v.kind == bus::SeqVerdict::first)
      for (auto& o : stream_observers_) o(e.sender);
    if (v.kind == bus::SeqVerdict::gap) {
      ++stats_.sequence_gaps;
      log_->debug("[bus] missed {} messages from {}", v.missed, m.name);
      for (auto& o : gap_observers_) o(e.sender, v.missed);
    }
  }
  membership_.on_heard(e.sender, ev);
  swim_.heard();
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
  if (!events.empty()) update_pub_version();
  for (const MembershipEvent& e : events) {
    const auto& m = e.member;
    if (e.kind != MembershipEvent::suspect && e.kind != MembershipEvent::recovered) membership_changed_ = clock_.now();
    switch (e.kind) {
      case MembershipEvent::discovered:
        transport_.connect(m.id, m.endpoint);
        probe_unconfirmed(m);
        log_->debug("[membership] discovered {} ({} pub {} router {}, incarnation {}): waiting for a frame", m.name,
                    m.endpoint.host, m.endpoint.pub_port, m.endpoint.router_port, m.incarnation);
        break;
      case MembershipEvent::dropped:
        reprobes_.erase(m.id);
        swim_.forget(m.id);
        direct_out_.erase(m.id);
        transport_.disconnect(m.id);
        sequences_.forget(m.id);
        ++stats_.members_unconfirmed_dropped;
        log_->debug("[membership] dropped unconfirmed {} ({})", m.name, e.reason);
        break;
      case MembershipEvent::up:
        reprobes_.erase(m.id);
        swim_.on_up(m.id);
        transport_.connect(m.id, m.endpoint);
        fast_heartbeats_until_ = clock_.now() + kFastHeartbeats;
        next_heartbeat_ = std::min(next_heartbeat_, clock_.now() + std::chrono::milliseconds(100));
        log_->info("[membership] nodeup {} ({} pub {} router {}, incarnation {})", m.name, m.endpoint.host,
                   m.endpoint.pub_port, m.endpoint.router_port, m.incarnation);
        break;
      case MembershipEvent::suspect:
        log_->info("[membership] suspect {} ({})", m.name, e.reason);
        break;
      case MembershipEvent::recovered:
        log_->info("[membership] alive {} ({})", m.name, e.reason);
        break;
      case MembershipEvent::down:
        swim_.forget(m.id);
        direct_out_.erase(m.id);
        transport_.disconnect(m.id);
        sequences_.forget(m.id);
        log_->info("[membership] nodedown {} ({})", m.name, e.reason);
        if (!discovery::proven_gone(e.reason)) {  // it may be behind a partition that heals
          fast_beacons_until_ = clock_.now() + kFastBeacons;
          next_beacon_ = std::min(next_beacon_, clock_.now() + kFastBeacon);
        }
        break;
      case MembershipEvent::left:
        reprobes_.erase(m.id);
        swim_.forget(m.id);
        direct_out_.erase(m.id);
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
    auto interval = std::chrono::duration_cast<Clock::duration>(opts_.detector.heartbeat_interval) *
                    static_cast<Clock::duration::rep>(discovery::stretch_for(membership_.alive_count() + 1,
                                                                   discovery::kDigestsPerInterval));
    if (now < fast_heartbeats_until_) {
      publish(MessageType::heartbeat, {});
      next_heartbeat_ = now + std::min<Clock::duration>(interval, kFastHeartbeat);
    } else if (now - last_published_ < interval) {
      next_heartbeat_ = last_published_ + interval;  // a digest or a delta told our position already
    } else {
      publish(MessageType::heartbeat, {});
      next_heartbeat_ = now + interval;
    }
  }
  if (now >= next_beacon_) send_beacon(false);
  discovery::MembershipEvents ev;
  membership_.tick(ev);
  const bool was_isolated = swim_.isolated();
  swim_.tick(ev);
  if (swim_.isolated() != was_isolated) {
    if (swim_.isolated())
      log_->warn("[membership] heard no member for {} ms: cut off from the cluster? Silent members are down after "
                 "suspicion_min_ms",
                 opts_.detector.probe_interval.count() * discovery::Swim::kIsolatedAfter);
    else
      log_->info("[membership] hearing members again");
  }
  stats_.members_expired = membership_.expired();
  act(ev);
}

void Cluster::probe_unconfirmed(const discovery::Member& m) {
  // Its answer (or a heartbeat on its PUB) is the frame that confirms it.
  uint64_t corr = opts_.random ? opts_.random() : std::random_device{}();
  if (m.state == MemberState::down) reprobes_[m.id] = corr;
  send_unconfirmed(m, MessageType::probe, corr);
}

void Cluster::send_unconfirmed(const discovery::Member& m, MessageType t, uint64_t corr) {
  // Not through send(): it refuses anyone not up.
  uint8_t version = bus::common_version(opts_.protocol, m.protocol);
  if (version == 0) return;
  bus::FrameBuilder frame(version, opts_.self, opts_.incarnation);
  frame.add(t, 0, corr, {});
  ++stats_.messages_sent;
  const std::string f = frame.take();
  // Both ways: the datagram needs no handshake, so it lands as soon as the
  // member took our beacon (the CURVE link may still be refused and backing
  // off, past join_timeout when many join at once); the link's copy is not
  // lost. The second answer is ignored (its probe is already answered).
  if (transport_.send(m.id, f)) ++stats_.frames_sent;
  if (transport_.datagrams_to(m.id) && transport_.send_datagram(m.id, f)) ++stats_.frames_sent;
}

bool Cluster::answers_reprobe(const bus::Envelope& e, bus::Inbound::Kind kind) const {
  // A direct frame may come on a link it dialled before it died: a dead
  // process's TCP stack resends it after a heal. Our PUB link was dialled
  // with the probe, so what comes on it was written after.
  if (kind == bus::Inbound::published) return true;
  auto r = reprobes_.find(e.sender);
  return e.type == MessageType::probe_ack && r != reprobes_.end() && r->second == e.corr;
}

void Cluster::leave() {
  if (leaving_) return;
  leaving_ = true;
  publish(MessageType::goodbye, {});
  flush();  // the loop may not turn again
  send_beacon(true);
  log_->info("[membership] leaving cluster '{}'", opts_.cluster);
}

Clock::time_point Cluster::next_deadline() const {
  if (leaving_) return Clock::time_point::max();
  auto next = std::min({next_heartbeat_, next_beacon_, membership_.next_deadline(), swim_.next_deadline()});
  // A frame a full queue refused is offered again soon, not only at the next heartbeat.
  for (const auto& peer : pending_out_) {
    auto it = direct_out_.find(peer);
    if (it != direct_out_.end() && !it->second.stuck.empty())
      return std::min(next, clock_.now() + std::chrono::milliseconds(5));
  }
  return next;
}

void Cluster::on_message(MessageType t, Handler h) { handlers_[static_cast<std::size_t>(t)] = std::move(h); }

void Cluster::publish(MessageType t, std::string_view body) {
  uint64_t seq = next_seq_++;
  last_published_ = clock_.now();
  if (pub_out_.messages() > 0 &&
      (pub_out_.bytes() + body.size() > bus::kBatchBytes || pub_out_.messages() >= bus::kBatchMessages))
    flush_pub();
  pub_out_.add(t, seq, 0, body);
  if (!opts_.batch || pub_out_.bytes() > bus::kBatchBytes) flush_pub();
}

Cluster::Outbox* Cluster::outbox(const bus::NodeId& peer) {
  uint8_t version = version_for(peer);
  if (version == 0) return nullptr;
  auto it = direct_out_.find(peer);
  if (it == direct_out_.end()) {
    bus::FrameBuilder b(version, opts_.self, opts_.incarnation);
    it = direct_out_.emplace(peer, Outbox{b, b, {}}).first;
  }
  Outbox& out = it->second;
  if (!out.listed) {
    out.listed = true;
    pending_out_.push_back(peer);
  }
  return &out;
}

bool Cluster::send_probe(const bus::NodeId& peer, MessageType t, std::string_view body, uint64_t corr) {
  Outbox* out = outbox(peer);
  if (!out) return false;
  // bytes() leaves out the array headers: a message's own fields take at most 20 more.
  constexpr std::size_t kSlack = 32;
  if (out->probes.messages() > 0 && out->probes.bytes() + body.size() + kSlack > bus::kMaxDatagramFrame)
    flush_probes(peer, *out);
  out->probes.add(t, 0, corr, body);
  if (!opts_.batch) flush_probes(peer, *out);
  return true;
}

void Cluster::flush_probes(const bus::NodeId& peer, Outbox& out) {
  if (out.probes.messages() == 0) return;
  stats_.messages_sent += out.probes.messages();
  // Too large for one datagram, or a peer without a probe port: the transport sends it by TCP.
  // Not kept when refused: lost like a datagram, and SWIM's timeouts cover it.
  if (transport_.send_datagram(peer, out.probes.take())) ++stats_.frames_sent;
}

bool Cluster::send(const bus::NodeId& peer, MessageType t, std::string_view body, uint64_t corr) {
  Outbox* found = outbox(peer);
  if (!found) return false;
  Outbox& out = *found;
  // Its queue is full: refuse now, so the caller can fail fast. False means
  // the message was not taken; once it is in the batch it goes out.
  if (!out.stuck.empty() && !flush_to(peer, out)) return false;
  if (out.batch.messages() > 0 &&
      (out.batch.bytes() + body.size() > bus::kBatchBytes || out.batch.messages() >= bus::kBatchMessages)) {
    flush_to(peer, out);
    if (!out.stuck.empty()) return false;
  }
  out.batch.add(t, 0, corr, body);
  if (!opts_.batch || out.batch.bytes() > bus::kBatchBytes) flush_to(peer, out);
  return true;
}

void Cluster::flush_pub() {
  if (pub_out_.messages() == 0) return;
  stats_.messages_sent += pub_out_.messages();
  ++stats_.frames_sent;
  transport_.publish(pub_out_.take());
}

bool Cluster::flush_to(const bus::NodeId& peer, Outbox& out) {
  flush_probes(peer, out);
  if (!out.stuck.empty()) {
    if (clock_.now() - out.stuck_since > kMaxStuck) {
      out.stuck.clear();  // too late to be of use: its requests time out
      ++stats_.frames_expired;
    } else if (!transport_.send(peer, out.stuck)) {
      return false;
    } else {
      out.stuck.clear();
      ++stats_.frames_sent;
    }
  }
  if (out.batch.messages() == 0) return true;
  std::size_t n = out.batch.messages();
  stats_.messages_sent += n;
  std::string frame = out.batch.take();
  if (transport_.send(peer, frame)) {
    ++stats_.frames_sent;
    return true;
  }
  // Kept, not dropped: it goes first once the peer's queue has room (or is
  // dropped with the outbox when the peer goes down).
  ++stats_.frames_unsent;
  out.stuck = std::move(frame);
  out.stuck_since = clock_.now();
  return true;
}

void Cluster::flush() {
  flush_pub();
  // Only the stuck stay listed (an erased outbox's id is dropped here).
  std::size_t kept = 0;
  for (std::size_t i = 0; i < pending_out_.size(); ++i) {
    auto it = direct_out_.find(pending_out_[i]);
    if (it == direct_out_.end()) continue;
    Outbox& out = it->second;
    flush_to(it->first, out);
    if (out.stuck.empty() && out.batch.messages() == 0) out.listed = false;
    else pending_out_[kept++] = pending_out_[i];
  }
  pending_out_.resize(kept);
}

uint8_t Cluster::version_for(const bus::NodeId& peer) const {
  const discovery::Member* m = membership_.find(peer);
  if (!m || (m->state != MemberState::alive && m->state != MemberState::suspect)) return 0;
  return bus::common_version(opts_.protocol, m->protocol);
}

void Cluster::update_pub_version() {
  // The PUB reaches everyone: it speaks the highest version in every
  // member's range (and the lowest it knows while it knows no one). Ranges
  // with nothing in common: the lowest pairwise version, which the members
  // of the older ranges read.
  bus::VersionRange all = opts_.protocol;
  uint8_t lowest = 0;
  for (const auto& m : membership_.members())
    if (m.state == MemberState::alive || m.state == MemberState::suspect) {
      all = {std::max(all.min, m.protocol.min), std::min(all.max, m.protocol.max)};
      uint8_t pair = bus::common_version(opts_.protocol, m.protocol);
      lowest = lowest ? std::min(lowest, pair) : pair;
    }
  uint8_t v = all.min <= all.max ? all.max : lowest;
  if (lowest == 0) v = opts_.protocol.min;
  if (v == pub_version_) return;
  flush_pub();
  pub_version_ = v;
  pub_out_ = bus::FrameBuilder(v, opts_.self, opts_.incarnation);
}

}  // namespace zswarm::discovery
