// The tracker's topology side: membership changes, failover (reconcile),
// and handoff on join and on leave. See tracker.hpp for the whole story.
#include <unordered_set>

#include "names/tracker.hpp"
#include "names/tracker_wire.hpp"

namespace zswarm::names {

using bus::MessageType;
using discovery::MembershipEvent;

// --- topology ---------------------------------------------------------------------

void Tracker::on_member(const MembershipEvent& ev) {
  const auto& m = ev.member;
  std::string id = m.id.bytes();
  switch (ev.kind) {
    case MembershipEvent::up:
    {
      if (registry_.is_retired(id)) {
        // Back after its id left the clocks: it owns nothing here, and is
        // told to start again under a new id (protocol.md §8.10).
        cluster_.log().warn("[tracker] {} is back under an id retired from the clocks: not a member for names; "
                            "telling it to restart under a new id", m.name);
        refuse_retired(m.id);
        break;
      }
      pinned_.clear();  // "ignore" held for the old topology; ask again
      const bool back = names_.count(id) > 0;  // reachable again (a healed partition), not new
      names_[id] = m.name;
      down_at_.erase(id);
      claimed_at_.erase(id);
      if (!m.observer) ring_.add_member(id, m.name);  // observers read; never owners, never handoff targets
      resync_.reset(m.id);
      if (back) {
        // Both sides may run the same names: merge replicas first (conflicts
        // resolve there); the handoffs follow the snapshot.
        request_sync(m.id);
      } else {
        // A newcomer holds nothing we lack: a hello now makes it hand over
        // the names this node now owns; its replica once its PUB reaches us.
        cluster_.send(m.id, MessageType::sync_request, wire::encode(wire::SyncRequest{false}));
      }
      check_quorum();
      break;
    }
    case MembershipEvent::down:
    case MembershipEvent::left: {
      ring_.remove_member(id);
      bool down = ev.kind == MembershipEvent::down;
      if (down) down_at_[id] = clock_.now();
      check_quorum();  // before the failover below: a minority starts nothing
      if (down)
        for (const auto& e : registry_.entries_owned_by(id))
          if (!e.tombstone)
            cluster_.log().info("[tracker] lost connection to {} ({}) on {}, node is down", e.name, ref(e), m.name);
      // Requests waiting on it: re-route or fail now rather than at their deadline.
      requests_.target_gone(m.id, m.name + " went down");
      snapshot_sent_.erase(m.id);
      snapshots_.forget(m.id);
      forget_sync(m.id);
      hello_seen_.erase(m.id);
      last_digest_.erase(m.id);
      std::vector<std::string> outgoing;
      for (auto& [name, h] : handoffs_)
        if (h.target == m.id) outgoing.push_back(name);
      for (const auto& name : outgoing) finish_handoff(name, false, m.name + " went away");
      if (down) cluster_.log().info("[tracker] nodedown {}", m.name);
      topology_change((down ? "nodedown for " : "left for ") + m.name);
      break;
    }
    default:
      break;
  }
}

void Tracker::topology_change(const std::string& why) {
  cluster_.log().info("[tracker] topology change ({})", why);
  reconcile();
  cluster_.log().info("[tracker] topology change complete");
}

void Tracker::reconcile() {
  if (leaving_) return;
  // A backstop for the check on every applied version.
  std::vector<std::string> started;
  for (const auto& [name, id] : running_here_) started.push_back(name);
  for (const auto& name : started) stop_if_not_named(name);
  if (quorum_lost_) return park_all();  // a name that finished starting since
  // Runs every second on every node: one unsorted pass, owners looked up in a set.
  std::unordered_set<std::string> alive{self_id_};
  for (const auto& id : cluster_.membership().alive()) alive.insert(id.bytes());
  std::vector<registry::Entry> orphans;
  registry_.for_each_live([&](const registry::EntryView& e) {
    if (!alive.count(e.owner) && owner_gone(e.owner)) orphans.push_back(e.entry());
  });
  const auto now = clock_.now();
  for (const auto& e : orphans) {
    auto owner = ring_owner(e.name);
    if (!owner || owner->bytes() != self_id_) continue;  // its new owner restarts it
    if (starting_.count(e.name)) continue;
    if (within_margin(e.owner, now)) {
      // The other side, without quorum, may still be parking it.
      next_reconcile_ = std::min(next_reconcile_, down_at_[e.owner] + opts_.quorum_margin);
      continue;
    }
    if (auto claim = claimed_at_.find(e.owner); claim != claimed_at_.end()) {
      if (now - claim->second < opts_.discovery_grace) {
        next_reconcile_ = std::min(next_reconcile_, claim->second + opts_.discovery_grace);
        continue;
      }
      claimed_at_.erase(claim);
    }
    cluster_.log().info("[tracker] restarting {} on {}", e.name, cluster_.options().name);
    register_here(e.name, e.plugin, e.args, "starting", log_restart(e.name));
  }
}

void Tracker::rebalance_to(const bus::NodeId& newcomer) {
  if (leaving_) return;
  std::string nid = newcomer.bytes();
  if (!ring_.contains(nid)) return;
  std::vector<registry::Entry> moving;
  for (const auto& e : registry_.entries_owned_by(self_id_)) {
    if (e.tombstone || handoffs_.count(e.name) || pinned_.count(e.name)) continue;
    auto owner = ring_.owner(e.name);
    if (owner && *owner == nid) moving.push_back(e.entry());
  }
  for (const auto& e : moving) offer(e, newcomer, false);
}

void Tracker::offer(const registry::Entry& e, const bus::NodeId& target, bool leaving) {
  // The worker answers in its mailbox order, on the pool; the loop goes on,
  // and messages for the name wait in the record meanwhile.
  Handoff ho;
  ho.name = e.name;
  ho.target = target;
  ho.entry = e;
  // The worker answers after what is already in its mailbox: a join offer
  // gives it the handoff time and a worker's synchronous grace (5 s) on
  // top; a leaving node waits no longer than its leave does.
  ho.deadline = clock_.now() + opts_.handoff_timeout + (leaving ? Clock::duration{} : std::chrono::seconds(5));
  handoffs_[e.name] = std::move(ho);
  // The answer comes on a pool thread, maybe after this tracker is gone:
  // it touches nothing of it but through the posted task.
  supervisor_.begin_handoff_async(
      e.name, [post = post_, alive = alive_, this, name = e.name, leaving](Result<workers::Handoff, Error> h) {
        post([this, alive, name, leaving, h = std::move(h)] {
          if (*alive) send_offer(name, leaving, h);
        });
      });
}

void Tracker::drop_handoff(const std::string& name) {
  auto it = handoffs_.find(name);
  if (it == handoffs_.end()) return;
  auto buffered = std::move(it->second.buffered);
  handoffs_.erase(it);
  for (auto& b : buffered) deliver(name, b.kind, std::move(b.message), 0, std::move(b.done));
  check_leave_done();
}

void Tracker::send_offer(const std::string& name, bool leaving, Result<workers::Handoff, Error> h) {
  auto it = handoffs_.find(name);
  if (it == handoffs_.end()) return;
  Handoff& ho = it->second;
  const registry::Entry e = ho.entry;
  const bus::NodeId target = ho.target;
  leaving = leaving || leaving_;  // a join offer may be answered after this node began to leave
  const bool still_running = !h || h->kind == workers::HandoffKind::ignore;
  // Unregistered or moved meanwhile: nothing to hand off, and a worker still
  // running here for it must stop.
  auto now_stored = registry_.lookup(name);
  if (!now_stored || now_stored->owner != self_id_ || now_stored->worker != e.worker) {
    // Another copy won meanwhile (a heal): the state this worker handed over
    // goes to it, as a losing copy's would.
    const bool handed = h && h->kind == workers::HandoffKind::state;
    cluster_.log().info("[tracker] not handing off {}: no longer registered here{}", name,
                        handed && now_stored ? "; merging its state into " + ref(*now_stored) : "");
    std::optional<std::string> state;
    if (handed && now_stored) state = std::move(h->bytes);
    drop_handoff(name);
    if (state) merge_into_winner(name, std::move(*state));
    return stop_if_not_named(name);
  }
  if (ho.abandoned) {
    if (still_running) {
      if (leaving_) (void)supervisor_.stop_async(name);  // it cannot stay on a node that leaves
      return drop_handoff(name);
    }
    // The worker stopped for the handoff, and its state is in hand.
    auto owner = leaving_ ? ring_owner(name) : std::nullopt;
    if (!owner || !member_alive(owner->bytes())) {
      if (!leaving_) {
        cluster_.log().warn("[tracker] handoff of {} failed ({}); restarting it on {}", name, *ho.abandoned,
                            cluster_.options().name);
        std::optional<std::string> st;
        if (h->kind == workers::HandoffKind::state) st = h->bytes;
        run_here(e, std::move(st), log_restart(name));
      }
      return drop_handoff(name);
    }
    // Leaving: the name goes to its owner now, state and all.
    ho.abandoned.reset();
    ho.target = *owner;
    return send_offer(name, true, std::move(h));
  }
  if (!h) {
    cluster_.log().warn("[tracker] cannot hand off {}: {}", name, h.error().to_string());
    if (leaving) (void)supervisor_.stop_async(name);  // its new owner restarts it after the goodbye
    return drop_handoff(name);
  }
  std::string kind = h->kind == workers::HandoffKind::state ? "state" : "restart";
  if (h->kind == workers::HandoffKind::ignore) {
    if (!leaving) {
      pinned_.insert(name);
      cluster_.log().info("[tracker] {} stays on {} (handoff ignored)", name, cluster_.options().name);
      return drop_handoff(name);
    }
    (void)supervisor_.stop_async(name);  // it cannot stay on a node that leaves
  }
  cluster_.log().info("[tracker] handing off {} to {} ({})", name, member_name(target.bytes()), kind);
  ho.kind = kind;
  ho.state = std::move(h->bytes);
  ho.prepared = true;
  ho.deadline = clock_.now() + opts_.handoff_timeout;
  uint64_t corr = requests_.next_id();
  requests_.add(corr, target, clock_.now() + opts_.handoff_timeout, [this, name](Result<std::string, Error> r) {
    if (r) {
      if (auto entry = registry::decode_entry(*r, cluster_.unknown_fields())) apply_remote(*entry);
    }
    finish_handoff(name, r.ok(), r ? "" : r.error().to_string());
  });
  // A large state goes in slices, each one frame, all with this corr.
  wire::HandoffOffer part{registry::encode(e), kind, {}, 0, 1};
  const std::string& state = ho.state;
  part.parts = std::max<uint64_t>(1, (state.size() + kHandoffSliceBytes - 1) / kHandoffSliceBytes);
  if (part.parts > wire::kMaxHandoffParts) {
    part.parts = 1;  // cannot travel: let the taker restart it from its args
    part.kind = "restart";
    cluster_.log().warn("[tracker] the state of {} ({} bytes) is too large to hand off; {} restarts it from its args",
                        e.name, state.size(), member_name(target.bytes()));
  }
  bool queued = true;
  for (; queued && part.part < part.parts; ++part.part) {
    part.state = part.kind == "state" ? state.substr(part.part * kHandoffSliceBytes, kHandoffSliceBytes) : "";
    queued = cluster_.send(target, MessageType::handoff_offer, wire::encode(part), corr);
  }
  // Its queue is full (or it went): the name runs here again, with its state.
  if (!queued) requests_.complete(corr, fail(Error{Errc::node_down, "the offer could not be queued"}));
}

void Tracker::on_handoff_offer(const bus::Envelope& env) {
  merge_chunks_from(env.sender);
  auto offer = wire::decode_handoff_offer(env.body, cluster_.unknown_fields());
  if (!offer) return cluster_.reject_body(env, registry::to_string(offer.error()));
  auto whole = assembler_.add(env.sender, env.corr, std::move(offer).value(), clock_.now() + opts_.handoff_timeout);
  if (!whole) {
    if (whole.error().code == Errc::bad_message) cluster_.reject_body(env, whole.error().detail);
    cluster_.send(env.sender, MessageType::handoff_done, wire::encode_answer(fail(whole.error())), env.corr);
    return;
  }
  if (!*whole) return;  // more parts to come
  auto& w = **whole;
  take_over(env, w.entry, w.kind, std::move(w.state));
}

void Tracker::take_over(const bus::Envelope& env, const std::string& raw_entry, const std::string& kind,
                        std::string state) {
  auto entry = registry::decode_entry(raw_entry, cluster_.unknown_fields());
  if (!entry) return cluster_.reject_body(env, registry::to_string(entry.error()));
  auto reply = [this, sender = env.sender, corr = env.corr](Result<std::string, Error> r) {
    cluster_.send(sender, MessageType::handoff_done, wire::encode_answer(r), corr);
  };
  if (leaving_) return reply(fail(Error{Errc::node_leaving, "cannot take over while leaving"}));
  if (quorum_lost_) return reply(fail(Error{Errc::no_quorum, "cannot take over without quorum"}));
  // Its clock, so our version supersedes it. Through apply_remote: an older
  // copy of the name still running here (this node's side of a healed
  // partition) loses to it as a takeover, and its state merges into the
  // worker started below, instead of blocking that start (already_started).
  apply_remote(*entry);
  // A newer copy of the name runs (or is starting) here already: a healed
  // partition met this handoff. The offered copy is the older one, so its
  // state merges into ours rather than being dropped with a failed start.
  const std::string& name = entry->name;
  auto here = registry_.lookup(name);
  auto running = running_here_.find(name);
  const bool runs_here = here && here->owner == self_id_ && running != running_here_.end() &&
                         running->second == here->worker;
  if (runs_here || starting_.count(name)) {
    cluster_.log().info("[tracker] {} offered {} from {}, which runs here already; merging its state", name, kind,
                        member_name(env.sender.bytes()));
    if (kind == "state") merge_into_winner(name, std::move(state));
    if (runs_here) return reply(registry::encode(here->entry()));
    return reply(fail(Error{Errc::already_registered, name + " is starting here; its state was taken"}));
  }
  std::optional<std::string> st;
  if (kind == "state") st = std::move(state);
  run_here(*entry, std::move(st), [this, reply, kind, from = member_name(env.sender.bytes())](
                                      const Result<registry::Entry, Error>& stored) {
    if (!stored) return reply(fail(stored.error()));
    cluster_.log().info("[tracker] took over {} from {} ({}); started {} on {}", stored->name, from, kind,
                        stored->name, cluster_.options().name);
    reply(registry::encode(*stored));
  });
}

void Tracker::on_handoff_done(const bus::Envelope& env) { complete_answer(env); }

void Tracker::finish_handoff(const std::string& name, bool ok, const std::string& why) {
  auto it = handoffs_.find(name);
  if (it == handoffs_.end()) return;
  if (!it->second.prepared) {
    it->second.abandoned = why;  // the worker's answer decides (send_offer)
    return;
  }
  Handoff h = std::move(it->second);
  handoffs_.erase(it);
  if (ok) {
    cluster_.log().info("[tracker] handed off {} to {}", name, member_name(h.target.bytes()));
  } else if (!leaving_) {
    // Not taken: it must not be lost, so it runs here again (with its state).
    cluster_.log().warn("[tracker] handoff of {} failed ({}); restarting it on {}", name, why,
                        cluster_.options().name);
    std::optional<std::string> st;
    if (h.kind == "state") st = std::move(h.state);  // what the worker handed over is not lost
    run_here(h.entry, std::move(st), log_restart(name));
  } else {
    cluster_.log().warn("[tracker] handoff of {} failed ({}); its new owner will restart it", name, why);
  }
  for (auto& b : h.buffered) deliver(name, b.kind, std::move(b.message), 0, std::move(b.done));
  check_leave_done();
}

void Tracker::leave(std::function<void()> done) {
  leaving_ = true;
  leave_done_ = std::move(done);
  leave_deadline_ = clock_.now() + opts_.handoff_timeout;
  ring_.remove_member(self_id_);
  std::vector<registry::Entry> mine;
  for (const auto& e : registry_.entries_owned_by(self_id_))
    if (!e.tombstone && !handoffs_.count(e.name)) mine.push_back(e.entry());
  for (const auto& e : mine) {
    auto target = ring_owner(e.name);
    if (!target) {
      cluster_.log().info("[tracker] no node left to take {}; stopping it", e.name);
      (void)supervisor_.stop_async(e.name);
      continue;
    }
    offer(e, *target, true);
  }
  check_leave_done();
}

void Tracker::check_leave_done() {
  if (!leaving_ || !leave_done_) return;
  if ((!handoffs_.empty() || !starting_.empty()) && clock_.now() < leave_deadline_) return;
  // Workers that never answered must not run on after the goodbye; their
  // names restart on their new owners.
  for (const auto& [name, h] : handoffs_)
    if (!h.prepared) (void)supervisor_.stop_async(name);
  auto done = std::move(leave_done_);
  leave_done_ = nullptr;
  done();
}

}  // namespace zswarm::names
