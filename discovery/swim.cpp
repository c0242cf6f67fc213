#include "discovery/swim.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace zswarm::discovery {

using bus::MessageType;

namespace {
constexpr std::size_t kPiggyback = 8;      // updates per gossip message riding on a probe
constexpr std::size_t kMaxQueued = 256;    // updates waiting to be gossiped
constexpr std::size_t kMaxRelays = 64;     // indirect probes made for others at once
constexpr unsigned kRetransmitMult = 4;    // each update rides on 4 * ceil(log10(N + 1)) messages
constexpr auto kLinkGrace = std::chrono::seconds(5);  // how long an unlinked member is not suspected

bool live(const Member& m) { return m.state == MemberState::alive || m.state == MemberState::suspect; }
}  // namespace

Swim::Swim(const Clock& clock, Membership& members, bus::NodeId self, uint64_t incarnation,
           FailureDetectorOptions opts, std::function<uint64_t()> random, Send send, Publish publish,
           Linked linked)
    : clock_(clock),
      members_(members),
      self_(self),
      incarnation_(incarnation),
      opts_(opts),
      random_(std::move(random)),
      send_(std::move(send)),
      publish_(std::move(publish)),
      linked_(std::move(linked)) {
  next_probe_ = clock_.now() + opts_.probe_interval;
  silent_since_ = clock_.now();
}

uint64_t Swim::random() { return random_ ? random_() : std::random_device{}(); }

std::string Swim::name_of(const bus::NodeId& id) const {
  const Member* m = members_.find_any(id);
  return m ? m->name : id.short_string();
}

void Swim::adjust_health(int delta) {
  int s = static_cast<int>(score_) + delta;
  score_ = static_cast<unsigned>(std::clamp(s, 0, static_cast<int>(opts_.awareness_max)));
}

// --- probing ---------------------------------------------------------------

std::optional<bus::NodeId> Swim::next_target() {
  for (int rounds = 0; rounds < 2; ++rounds) {
    while (next_in_order_ < order_.size()) {
      const bus::NodeId id = order_[next_in_order_++];
      const Member* m = members_.find(id);
      if (m && live(*m)) return id;
    }
    // A new round, in a new order: every member is probed once per round.
    order_ = members_.alive();
    for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[random() % i]);
    next_in_order_ = 0;
    if (order_.empty()) return std::nullopt;
  }
  return std::nullopt;
}

void Swim::send_probe(const bus::NodeId& to, uint64_t corr) {
  ++stats_.probes;
  send_(to, MessageType::probe, {}, corr);
  piggyback(to);
}

void Swim::start_probe(const bus::NodeId& id) {
  const Member* m = members_.find(id);
  if (!m || !live(*m)) return;
  for (const auto& [corr, p] : probes_)
    if (p.target == id) return;  // one probe of a member at a time
  auto now = clock_.now();
  uint64_t corr = random();
  Probe p;
  p.target = id;
  p.incarnation = m->incarnation;
  p.start = now;
  p.direct_deadline = now + scaled(opts_.probe_timeout);
  p.end = now + scaled(opts_.probe_interval);
  probes_[corr] = p;
  send_probe(id, corr);
}

void Swim::probe_now(const bus::NodeId& id) { start_probe(id); }

void Swim::go_indirect(uint64_t corr, Probe& p) {
  p.indirect = true;
  std::vector<bus::NodeId> pool;
  for (const auto& id : members_.alive())
    if (id != p.target) pool.push_back(id);
  for (std::size_t i = pool.size(); i > 1; --i) std::swap(pool[i - 1], pool[random() % i]);
  if (pool.size() > opts_.indirect_probes) pool.resize(opts_.indirect_probes);
  const std::string body = encode_probe_request({p.target, p.incarnation});
  for (const auto& h : pool) {
    if (!send_(h, MessageType::probe_request, body, corr)) continue;
    ++stats_.probe_requests;
    piggyback(h);
    p.helpers.push_back(h);
  }
}

void Swim::probe_failed(const Probe& p, MembershipEvents& out) {
  const Member* m = members_.find(p.target);
  // Our direct channel to it never came up (its side did not know our key
  // yet when we dialled, and the redial backs off): the silence says nothing
  // of the member, for a while.
  if (m && linked_ && !linked_(p.target) && clock_.now() - m->state_since < kLinkGrace) {
    ++stats_.probes_unlinked;
    return;
  }
  ++stats_.probes_failed;
  if (p.nacks == 0 && silent_since_ <= p.start) ++silent_failures_;
  // Lifeguard: helpers that did not even nack mean the fault may be ours.
  // With no helpers, a failed probe is the only health signal there is. A
  // nack that came in time proves our own path works: the silent helpers
  // are then as cut off as the target (the far side of a partition), and
  // this node is not the slow one. Cut off from everyone, it says nothing
  // of our health either.
  if (!isolated_ && p.nacks == 0) adjust_health(p.helpers.empty() ? 1 : static_cast<int>(p.helpers.size()));
  if (!m || !live(*m) || m->incarnation != p.incarnation) return;
  raise_suspicion(*m, self_, m->counter, out);
}

void Swim::on_probe(const bus::NodeId& from, uint64_t corr) {
  if (send_(from, MessageType::probe_ack, {}, corr)) piggyback(from);
}

void Swim::on_ack(const bus::NodeId& from, uint64_t corr) {
  if (auto r = relays_.find(corr); r != relays_.end()) {
    if (r->second.target != from) return;
    send_(r->second.requester, MessageType::probe_ack, {}, r->second.their_corr);
    relays_.erase(r);
    return;
  }
  auto it = probes_.find(corr);
  if (it == probes_.end()) return;  // late, or the answer to a joining member's probe
  const Probe& p = it->second;
  if (from != p.target && std::find(p.helpers.begin(), p.helpers.end(), from) == p.helpers.end()) return;
  adjust_health(-1);
  const bus::NodeId target = p.target;
  probes_.erase(it);
  // It answers, yet we hold it suspect: tell it, so that it refutes. (The
  // gossip about it may have run out while we could not reach it.)
  auto s = suspicions_.find(target);
  const Member* m = members_.find(target);
  if (s != suspicions_.end() && m && m->state == MemberState::suspect)
    send_(target, MessageType::gossip,
          encode_updates({{UpdateKind::suspect, target, m->incarnation, s->second.counter, s->second.accusers.front()}}), 0);
}

void Swim::on_nack(const bus::NodeId& from, uint64_t corr) {
  auto it = probes_.find(corr);
  if (it == probes_.end()) return;
  auto& h = it->second.helpers;
  if (std::find(h.begin(), h.end(), from) == h.end()) return;
  ++it->second.nacks;
  ++stats_.nacks_received;
}

void Swim::on_probe_request(const bus::NodeId& from, uint64_t corr, const ProbeRequest& r) {
  if (r.target == self_) {  // we are the target: a direct answer is the best proof
    if (r.incarnation == incarnation_) on_probe(from, corr);
    return;
  }
  const Member* m = members_.find(r.target);
  if (!m || !live(*m) || m->incarnation != r.incarnation || relays_.size() >= kMaxRelays) {
    ++stats_.requests_refused;
    if (send_(from, MessageType::probe_nack, {}, corr)) ++stats_.nacks_sent;
    return;
  }
  uint64_t mine = random();
  // The nack must reach the requester before its interval ends.
  relays_[mine] = {from, corr, r.target, clock_.now() + scaled(opts_.probe_timeout) * 4 / 5};
  ++stats_.probes_relayed;
  send_probe(r.target, mine);
}

// --- suspicion -------------------------------------------------------------

Clock::time_point Swim::suspicion_deadline(const Suspicion& s) const {
  // Lifeguard: from max with no confirmation down to min with k of them,
  // on a log scale (independent confirmations are strong evidence).
  // With too few members to confirm it (memberlist's rule), min at once.
  const std::size_t others = members_.alive_count();  // the suspect and the other members
  const double k = others < opts_.indirect_probes + 1 ? 0.0 : static_cast<double>(opts_.indirect_probes);
  const double c = static_cast<double>(s.accusers.size() - 1);
  const double frac = k == 0 ? 1.0 : std::min(1.0, std::log(c + 1) / std::log(k + 1));
  auto lo = std::chrono::duration_cast<Clock::duration>(opts_.suspicion_min);
  auto hi = std::max(lo, std::chrono::duration_cast<Clock::duration>(opts_.suspicion_max));
  auto timeout = hi - std::chrono::duration_cast<Clock::duration>((hi - lo) * frac);
  // Lifeguard: a node that was slow when the suspicion began waits longer
  // before it accuses (the scale is fixed then: a suspect that keeps failing
  // our probes must not push its own deadline out). Cut off, no refutation
  // can reach us, and we are not slow: the shortest wait.
  if (isolated_) return s.start + lo;
  return s.start + std::max(lo, timeout) * s.scale;
}

void Swim::raise_suspicion(const Member& m, const bus::NodeId& accuser, uint64_t counter, MembershipEvents& out) {
  const bus::NodeId id = m.id;
  const bool mine = accuser == self_;
  const Update u{UpdateKind::suspect, id, m.incarnation, counter, accuser};
  auto it = suspicions_.find(id);
  if (m.state == MemberState::alive || it == suspicions_.end() || counter > it->second.counter) {
    suspicions_[id] = {clock_.now(), counter, {accuser}, score_ + 1};
    members_.set_counter(id, counter);
    members_.suspect(id, mine ? std::string("no answer to a probe, direct or indirect")
                              : "suspected by " + name_of(accuser), out);
    if (mine) {
      ++stats_.suspicions;
      tell_all(u);
    } else {
      enqueue(u);
      // See for ourselves: a failure here confirms it, and the probe carries
      // the news to the suspect. About k + 1 members do (not all N - 2: a
      // suspect that is only slow must not be swamped with probes).
      const std::size_t peers = members_.alive_count();
      if (peers <= opts_.indirect_probes + 2 || random() % (peers - 1) < opts_.indirect_probes + 1) start_probe(id);
    }
    return;
  }
  Suspicion& s = it->second;
  if (std::find(s.accusers.begin(), s.accusers.end(), accuser) != s.accusers.end()) return;
  s.accusers.push_back(accuser);
  // Confirmations beyond k no longer shorten anyone's timer: not worth a broadcast.
  if (mine && s.accusers.size() <= opts_.indirect_probes + 1) {
    ++stats_.suspicions;
    tell_all(u);
  } else if (!mine) {
    enqueue(u);
  }
}

void Swim::refute(uint64_t counter) {
  counter_ = counter + 1;
  last_announced_ = clock_.now();
  ++stats_.refutations;
  adjust_health(1);  // Lifeguard: being suspected hints that we are the slow one
  tell_all({UpdateKind::alive, self_, incarnation_, counter_, self_});
}

void Swim::announce_down(const bus::NodeId& id) {
  const Member* m = members_.find_any(id);
  if (m) {
    const Update u{UpdateKind::gone, id, m->incarnation, m->counter, self_};
    enqueue(u);  // probes carry it anyway: that costs no message
    const auto spread = std::chrono::duration_cast<Clock::duration>(kGoneSpread).count();
    pending_gone_[id] = {clock_.now() + Clock::duration(static_cast<Clock::duration::rep>(random() % spread)), u};
  }
  forget(id);
}

void Swim::forget(const bus::NodeId& id) {
  suspicions_.erase(id);
  for (auto it = probes_.begin(); it != probes_.end();) it = it->second.target == id ? probes_.erase(it) : std::next(it);
  for (auto it = relays_.begin(); it != relays_.end();) it = it->second.target == id ? relays_.erase(it) : std::next(it);
}

void Swim::on_updates(const bus::NodeId& from, const std::vector<Update>& updates, MembershipEvents& out) {
  for (const Update& u : updates) {
    ++stats_.updates_received;
    apply(from, u, out);
  }
}

void Swim::apply(const bus::NodeId& from, const Update& u, MembershipEvents& out) {
  if (u.kind == UpdateKind::gone && from != self_ && pending_gone_.erase(u.id)) ++stats_.gone_suppressed;
  if (u.id == self_) {
    if (u.incarnation != incarnation_ || u.kind == UpdateKind::alive) return;
    if (u.counter >= counter_) {
      refute(u.counter);
    } else if (clock_.now() - last_announced_ >= opts_.probe_interval) {
      // Accused under a counter we already refuted: the accuser missed our
      // refutation (it had us down meanwhile). Tell everyone the current one.
      last_announced_ = clock_.now();
      tell_all({UpdateKind::alive, self_, incarnation_, counter_, self_});
    }
    return;
  }
  const Member* m = members_.find(u.id);
  if (!m || m->state == MemberState::left || m->incarnation != u.incarnation ||
      (u.counter < m->counter && u.kind != UpdateKind::gone)) {
    ++stats_.updates_ignored;  // another run, not (or no longer) a member, or old news
    return;
  }
  const bool newer = u.counter > m->counter;
  if (m->state == MemberState::down) {
    // A down member that refuted its down: remember the counter (older downs
    // still in flight are then old news) and probe it again.
    if (u.kind == UpdateKind::alive && newer) {
      members_.set_counter(u.id, u.counter);
      members_.revive(u.id, out);
      enqueue(u);
    } else {
      ++stats_.updates_ignored;
    }
    return;
  }
  switch (u.kind) {
    case UpdateKind::alive:
      if (!newer) return;  // nothing new
      members_.set_counter(u.id, u.counter);
      suspicions_.erase(u.id);
      members_.refute(u.id, out);
      enqueue(u);
      return;
    case UpdateKind::suspect:
      if (u.from == self_) return;  // our own suspicion, back through gossip
      raise_suspicion(*m, u.from, u.counter, out);
      return;
    case UpdateKind::gone:
      // Proof, not a verdict: a process that refused is dead whatever its
      // counter (a restart is another id), and no stale view can make one.
      suspicions_.erase(u.id);
      enqueue(u);
      members_.declare_down(u.id, std::string(kSeenGoneReason).append(name_of(u.from)).append(")"), out);
      return;
    case UpdateKind::down:
      // Only a member suspected here goes down on another's word. Of one
      // alive here it is a strong suspicion: it may be stale (its sender was
      // cut off, and is back), and the member gets the chance to refute.
      if (m->state == MemberState::alive) {
        if (u.from != self_) raise_suspicion(*m, u.from, u.counter, out);
        return;
      }
      // Not relayed: a verdict kept in queues outlives its cause (a node cut
      // off, then back), and every member that holds the suspicion reaches
      // its own verdict anyway. The declarer's own PUB spreads it.
      members_.set_counter(u.id, u.counter);
      suspicions_.erase(u.id);
      members_.declare_down(u.id, "declared down by " + name_of(u.from), out);
      return;
  }
}

void Swim::on_up(const bus::NodeId& id) {
  // Back up here: what this node said or relayed against it is stale now.
  queue_.erase(std::remove_if(queue_.begin(), queue_.end(),
                              [&](const Queued& q) { return q.update.id == id && q.update.kind != UpdateKind::alive; }),
               queue_.end());
  suspicions_.erase(id);
}

// --- gossip ----------------------------------------------------------------

void Swim::enqueue(const Update& u) {
  // Newer news about a member replaces older; a confirmation from another accuser is news too.
  queue_.erase(std::remove_if(queue_.begin(), queue_.end(),
                              [&](const Queued& q) {
                                return q.update.id == u.id &&
                                       (q.update.counter < u.counter || q.update.incarnation != u.incarnation ||
                                        (q.update.kind == u.kind && q.update.from == u.from) ||
                                        (u.kind != UpdateKind::suspect && q.update.kind == UpdateKind::suspect));
                              }),
               queue_.end());
  if (queue_.size() >= kMaxQueued) {
    auto most = std::max_element(queue_.begin(), queue_.end(),
                                 [](const Queued& a, const Queued& b) { return a.sent < b.sent; });
    queue_.erase(most);
  }
  queue_.push_back({u, 0});
}

void Swim::tell_all(const Update& u) {
  enqueue(u);
  publish_(MessageType::gossip, encode_updates({u}));
}

void Swim::piggyback(const bus::NodeId& to) {
  if (queue_.empty()) return;
  std::size_t n = members_.alive_count() + 1;
  unsigned limit = kRetransmitMult * static_cast<unsigned>(std::ceil(std::log10(static_cast<double>(n) + 1)));
  // The least-sent first: fresh news spreads before old news is repeated.
  std::stable_sort(queue_.begin(), queue_.end(), [](const Queued& a, const Queued& b) { return a.sent < b.sent; });
  std::vector<Update> batch;
  for (auto& q : queue_) {
    if (batch.size() == kPiggyback) break;
    batch.push_back(q.update);
    ++q.sent;
  }
  queue_.erase(std::remove_if(queue_.begin(), queue_.end(), [&](const Queued& q) { return q.sent >= limit; }),
               queue_.end());
  send_(to, MessageType::gossip, encode_updates(batch), 0);
}

// --- time ------------------------------------------------------------------

void Swim::update_isolation(Clock::time_point now) {
  // Woken well after our own deadline: this node was not scheduled, so the
  // silence before now proves nothing (frames may wait in its sockets).
  const auto slack = std::chrono::duration_cast<Clock::duration>(opts_.probe_interval) / 2;
  if (due_ != Clock::time_point{} && due_ < now - slack) {
    silent_since_ = std::max(silent_since_, now);
    silent_failures_ = 0;
  }
  const bool was = isolated_;
  isolated_ = members_.alive_count() > 0 && silent_failures_ >= 1 &&
              now - silent_since_ >= opts_.probe_interval * kIsolatedAfter;
  if (!isolated_ || was) return;
  ++stats_.isolations;
  // Alone: find out about every member now, at the unstretched pace, rather
  // than one a (stretched) interval. A member that answers ends it.
  next_probe_ = std::min(next_probe_, now + opts_.probe_interval);
  for (const auto& id : members_.alive())
    if (!suspicions_.count(id)) start_probe(id);
}

void Swim::tick(MembershipEvents& out) {
  auto now = clock_.now();
  update_isolation(now);
  for (auto it = probes_.begin(); it != probes_.end();) {
    Probe& p = it->second;
    if (!p.indirect && now >= p.direct_deadline && now < p.end) go_indirect(it->first, p);
    if (now >= p.end) {
      Probe failed = std::move(p);
      it = probes_.erase(it);
      probe_failed(failed, out);
      continue;
    }
    ++it;
  }
  for (auto it = relays_.begin(); it != relays_.end();) {
    if (now < it->second.nack_at) {
      ++it;
      continue;
    }
    if (send_(it->second.requester, MessageType::probe_nack, {}, it->second.their_corr)) ++stats_.nacks_sent;
    it = relays_.erase(it);
  }
  for (auto it = suspicions_.begin(); it != suspicions_.end();) {
    if (now < suspicion_deadline(it->second)) {
      ++it;
      continue;
    }
    const bus::NodeId id = it->first;
    const Suspicion s = it->second;
    it = suspicions_.erase(it);
    const Member* m = members_.find(id);
    if (!m || m->state != MemberState::suspect) continue;
    publish_(MessageType::gossip, encode_updates({{UpdateKind::down, id, m->incarnation, s.counter, self_}}));
    members_.declare_down(id,
                          "no refutation " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                 now - s.start).count()) +
                              " ms after its suspicion (" + std::to_string(s.accusers.size()) + " accusers)",
                          out);
  }
  for (auto it = pending_gone_.begin(); it != pending_gone_.end();) {
    if (now < it->second.due) {
      ++it;
      continue;
    }
    ++stats_.gone_published;
    publish_(MessageType::gossip, encode_updates({it->second.update}));
    it = pending_gone_.erase(it);
  }
  if (now >= next_probe_) {
    if (auto target = next_target()) start_probe(*target);
    next_probe_ = now + scaled(opts_.probe_interval);
  }
  // (A deadline already past, such as a probe ended by this very tick's
  // events, is due now, not late.)
  due_ = std::max(next_deadline(), now);
}

Clock::time_point Swim::next_deadline() const {
  auto next = Clock::time_point::max();
  // The next probe goes at the first turn of the loop after next_probe_;
  // the loop need only wake for it a fifth of an interval later. Most
  // often another message wakes it first (about 40 a second), which saves a
  // wake-up of its own for most probes (docs/scaling.md §2).
  if (members_.alive_count() > 0) next = next_probe_ + scaled(opts_.probe_interval) / 5;
  for (const auto& [id, g] : pending_gone_) next = std::min(next, g.due);
  for (const auto& [corr, p] : probes_) next = std::min(next, p.indirect ? p.end : p.direct_deadline);
  for (const auto& [corr, r] : relays_) next = std::min(next, r.nack_at);
  for (const auto& [id, s] : suspicions_) next = std::min(next, suspicion_deadline(s));
  return next;
}

}  // namespace zswarm::discovery
