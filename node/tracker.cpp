#include "node/tracker.hpp"

#include <unordered_set>

#include <nlohmann/json.hpp>

namespace zswarm::node {

using bus::MessageType;
using discovery::MembershipEvent;
using Json = nlohmann::json;

namespace {

// Bodies of the tracker's messages: msgpack maps (docs/protocol.md).
std::string pack(const Json& j) {
  auto v = Json::to_msgpack(j);
  return {v.begin(), v.end()};
}

std::optional<Json> unpack(std::string_view body) {
  Json j = Json::from_msgpack(body.begin(), body.end(), true, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

Json bin(const std::string& s) { return Json::binary(std::vector<uint8_t>(s.begin(), s.end())); }

// Typed field access; nullopt when missing or of another type.
std::optional<std::string> text(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}
std::optional<std::string> bytes(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_binary()) return std::nullopt;
  const auto& b = it->get_binary();
  return std::string(b.begin(), b.end());
}
std::optional<bool> flag(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}
int64_t number(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

Error from(const workers::Error& e) { return Error{std::string(workers::error_name(e.code)), e.detail}; }

Json answer(const Result<std::string, Error>& r) {
  if (r.ok()) return Json{{"ok", true}, {"value", bin(*r)}};
  return Json{{"ok", false}, {"error", r.error().code}, {"detail", r.error().detail}};
}

Result<std::string, Error> read_answer(const std::string& body) {
  auto j = unpack(body);
  auto ok = j ? flag(*j, "ok") : std::nullopt;
  if (!ok) return fail(Error{"bad_message", "malformed answer"});
  if (*ok) return bytes(*j, "value").value_or("");
  return fail(Error{text(*j, "error").value_or("error"), text(*j, "detail").value_or("")});
}

constexpr int kMaxHops = 3;

}  // namespace

Tracker::Tracker(const Clock& clock, Cluster& cluster, workers::Supervisor& supervisor, Post post,
                 TrackerOptions opts)
    : clock_(clock),
      cluster_(cluster),
      supervisor_(supervisor),
      post_(std::move(post)),
      opts_(std::move(opts)),
      self_id_(cluster.options().self.to_string()),
      ring_(registry::HashRing::kDefaultVnodes, opts_.placement) {
  names_[self_id_] = cluster_.options().name;
  ring_.add_member(self_id_, cluster_.options().name);
  cluster_.on_member_event([this](const MembershipEvent& e) { on_member(e); });
  cluster_.on_gap([this](const bus::NodeId& peer, uint64_t) { request_sync(peer); });
  cluster_.on_message(MessageType::registry_delta, [this](const bus::Envelope& e) { on_delta(e); });
  cluster_.on_message(MessageType::sync_request, [this](const bus::Envelope& e) { on_sync_request(e); });
  cluster_.on_message(MessageType::sync_snapshot, [this](const bus::Envelope& e) { on_snapshot(e); });
  cluster_.on_message(MessageType::digest, [this](const bus::Envelope& e) { on_digest(e); });
  cluster_.on_message(MessageType::register_request, [this](const bus::Envelope& e) { on_register_request(e); });
  cluster_.on_message(MessageType::register_reply, [this](const bus::Envelope& e) { on_register_reply(e); });
  cluster_.on_message(MessageType::unregister_request, [this](const bus::Envelope& e) { on_unregister_request(e); });
  cluster_.on_message(MessageType::unregister_reply, [this](const bus::Envelope& e) { on_unregister_reply(e); });
  cluster_.on_message(MessageType::worker_cast, [this](const bus::Envelope& e) { on_worker_cast(e); });
  cluster_.on_message(MessageType::worker_call, [this](const bus::Envelope& e) { on_worker_call(e); });
  cluster_.on_message(MessageType::worker_reply, [this](const bus::Envelope& e) { on_worker_reply(e); });
  cluster_.on_message(MessageType::handoff_offer, [this](const bus::Envelope& e) { on_handoff_offer(e); });
  cluster_.on_message(MessageType::handoff_done, [this](const bus::Envelope& e) { on_handoff_done(e); });
  started_ = clock_.now();
  next_reconcile_ = clock_.now() + opts_.reconcile_interval;
  next_digest_ = clock_.now() + opts_.digest_interval;
}

Tracker::~Tracker() { *alive_ = false; }

// --- helpers -----------------------------------------------------------------

std::string Tracker::ref(const registry::Entry& e) const {
  return (e.owner_name.empty() ? member_name(e.owner) : e.owner_name) + "/" + std::to_string(e.worker);
}

std::string Tracker::member_name(const std::string& id) const {
  auto it = names_.find(id);
  return it == names_.end() ? id.substr(0, 8) : it->second;
}

bool Tracker::member_alive(const std::string& id) const {
  if (id == self_id_) return true;
  auto nid = bus::NodeId::from_string(id);
  if (!nid) return false;
  const auto* m = cluster_.membership().find(*nid);
  return m && (m->state == discovery::MemberState::alive || m->state == discovery::MemberState::suspect);
}

bool Tracker::owner_gone(const std::string& id) const {
  if (member_alive(id)) return false;
  // An owner we have never heard of may simply not be discovered yet (a
  // snapshot can arrive before the beacons of every member): only once this
  // node has had time to meet everyone is an unknown owner dead.
  auto nid = bus::NodeId::from_string(id);
  if (nid && cluster_.membership().find(*nid)) return true;  // known, and down or left
  return clock_.now() - started_ >= opts_.discovery_grace;
}

std::optional<bus::NodeId> Tracker::ring_owner(const std::string& name) const {
  auto o = ring_.owner(name);
  if (!o) return std::nullopt;
  return bus::NodeId::from_string(*o);
}

Result<void, Error> Tracker::check_name(const std::string& name) const {
  if (name.empty() || name.size() > registry::kMaxNameBytes)
    return fail(Error{"invalid_name", "a name has 1 to " + std::to_string(registry::kMaxNameBytes) + " bytes"});
  return {};
}

bool Tracker::owns(const std::string& name) const {
  const auto* e = registry_.lookup(name);
  return e && e->owner == self_id_;
}

void Tracker::publish(const registry::Entry& e) { cluster_.publish(MessageType::registry_delta, registry::encode(e)); }

void Tracker::request(const bus::NodeId& target, MessageType type, std::string body, Done<std::string> done,
                      std::function<void()> retry) {
  uint64_t corr = next_corr();
  if (!cluster_.send(target, type, std::move(body), corr)) {
    if (retry) return retry();
    return done(fail(Error{"node_down", "no channel to the node"}));
  }
  pending_[corr] = PendingRequest{clock_.now() + opts_.request_timeout, target, std::move(done), std::move(retry)};
}

void Tracker::complete(uint64_t corr, Result<std::string, Error> r) {
  auto it = pending_.find(corr);
  if (it == pending_.end()) return;  // late: it already timed out
  auto done = std::move(it->second.done);
  pending_.erase(it);
  done(std::move(r));
}

// --- registry operations -------------------------------------------------------

Result<std::string, Error> Tracker::whereis(const std::string& name) const {
  const auto* e = registry_.lookup(name);
  if (!e) return fail(Error{"not_found", name + " is not registered"});
  return ref(*e);
}

std::vector<RegisteredName> Tracker::registered() const {
  std::vector<RegisteredName> out;
  for (const auto* e : registry_.list()) out.push_back({e->name, ref(*e), member_name(e->owner), e->plugin});
  return out;  // list() is sorted by name
}

void Tracker::register_name(const std::string& name, const std::string& plugin, const std::string& args,
                            Done<std::string> done) {
  if (auto c = check_name(name); !c) return done(fail(c.error()));
  if (leaving_) return done(fail(Error{"node_leaving", "this node is leaving the cluster"}));
  cluster_.log().info("[tracker] registering {} as process started by {} with args [{}]", name, plugin, args);
  if (const auto* e = registry_.lookup(name)) {
    cluster_.log().info("[tracker] found {} already registered on {}", name, member_name(e->owner));
    return done(fail(Error{"already_registered", ref(*e)}));
  }
  auto owner = ring_owner(name);
  if (!owner) return done(fail(Error{"no_node_available", "no node is eligible to run " + name}));
  if (owner->to_string() == self_id_) {
    auto r = register_here(name, plugin, args, "starting");
    if (!r) return done(fail(r.error()));
    return done(ref(*r));
  }
  auto retry = [this, name, plugin, args, done, alive = alive_] {
    if (*alive) register_name(name, plugin, args, done);
  };
  request(*owner, MessageType::register_request, pack({{"name", name}, {"plugin", plugin}, {"args", bin(args)}}),
          [this, done](Result<std::string, Error> r) {
            if (!r) return done(fail(r.error()));
            // The answer carries the entry, so a whereis right after sees it.
            auto entry = registry::decode_entry(*r);
            if (!entry) return done(fail(Error{"bad_message", "malformed entry in answer"}));
            apply_remote(*entry);
            done(ref(*entry));
          },
          retry);
}

Result<registry::Entry, Error> Tracker::register_here(const std::string& name, const std::string& plugin,
                                                      const std::string& args, const char* why) {
  if (const auto* e = registry_.lookup(name); e && e->owner != self_id_ && !owner_gone(e->owner)) {
    cluster_.log().info("[tracker] found {} already registered on {}", name, member_name(e->owner));
    return fail(Error{"already_registered", ref(*e)});
  } else if (e && e->owner == self_id_) {
    return fail(Error{"already_registered", ref(*e)});
  }
  cluster_.log().info("[tracker] {} {} on {}", why, name, cluster_.options().name);
  auto id = supervisor_.start(workers::WorkerSpec{name, plugin, args, workers::RestartPolicy::permanent, {}});
  if (!id) {
    cluster_.log().warn("[tracker] could not start {} on {}: {}", name, cluster_.options().name,
                        workers::to_string(id.error()));
    return fail(from(id.error()));
  }
  registry::Entry fields;
  fields.name = name;
  fields.owner = self_id_;
  fields.owner_name = cluster_.options().name;
  fields.worker = *id;
  fields.plugin = plugin;
  fields.args = args;
  auto entry = registry_.put(std::move(fields), self_id_);
  if (!entry) {
    (void)supervisor_.stop(name);
    return fail(Error{"invalid_entry", std::string(registry::to_string(entry.error()))});
  }
  publish(*entry);
  cluster_.log().info("[tracker] started {} on {}", name, cluster_.options().name);
  return *entry;
}

void Tracker::on_register_request(const bus::Envelope& env) {
  auto j = unpack(env.body);
  auto name = j ? text(*j, "name") : std::nullopt;
  auto plugin = j ? text(*j, "plugin") : std::nullopt;
  auto args = j ? bytes(*j, "args") : std::nullopt;
  if (!name || !plugin || !args) return;
  Result<std::string, Error> r = fail(Error{"node_leaving", "the owner is leaving the cluster"});
  if (!leaving_) {
    cluster_.log().info("[tracker] registering {} as process started by {} with args [{}] (asked by {})", *name,
                        *plugin, *args, member_name(env.sender.to_string()));
    auto entry = register_here(*name, *plugin, *args, "starting");
    r = entry ? Result<std::string, Error>(registry::encode(*entry)) : fail(entry.error());
  }
  cluster_.send(env.sender, MessageType::register_reply, pack(answer(r)), env.corr);
}

void Tracker::on_register_reply(const bus::Envelope& env) { complete(env.corr, read_answer(env.body)); }

void Tracker::unregister_name(const std::string& name, Done<std::string> done) {
  const auto* e = registry_.lookup(name);
  if (!e) return done(fail(Error{"not_found", name + " is not registered"}));
  if (e->owner == self_id_) return unregister_here(name, std::move(done));
  auto owner = bus::NodeId::from_string(e->owner);
  if (!owner || !member_alive(e->owner))
    return done(fail(Error{"node_down", "the owner of " + name + " is down; it is moving"}));
  request(*owner, MessageType::unregister_request, pack({{"name", name}}), std::move(done));
}

void Tracker::unregister_here(const std::string& name, Done<std::string> done) {
  const auto* e = registry_.lookup(name);
  if (!e || e->owner != self_id_) return done(fail(Error{"not_found", name + " is not registered here"}));
  std::string r = ref(*e);
  (void)supervisor_.stop(name);
  if (auto tomb = registry_.remove(name, self_id_)) publish(*tomb);
  cluster_.log().info("[tracker] unregistered {} ({})", name, r);
  done(r);
}

void Tracker::on_unregister_request(const bus::Envelope& env) {
  auto j = unpack(env.body);
  auto name = j ? text(*j, "name") : std::nullopt;
  if (!name) return;
  unregister_here(*name, [this, sender = env.sender, corr = env.corr](Result<std::string, Error> r) {
    cluster_.send(sender, MessageType::unregister_reply, pack(answer(r)), corr);
  });
}

void Tracker::on_unregister_reply(const bus::Envelope& env) { complete(env.corr, read_answer(env.body)); }

// --- messages to names -------------------------------------------------------

void Tracker::send(const std::string& name, const std::string& message, Done<std::string> done) {
  deliver(name, false, message, 0, std::move(done));
}

void Tracker::call(const std::string& name, const std::string& message, std::chrono::milliseconds timeout,
                   Done<std::string> done) {
  // The deadline is the caller's: fail it here even if an answer is owed.
  uint64_t corr = next_corr();
  pending_[corr] = PendingRequest{clock_.now() + timeout, bus::NodeId(), std::move(done), {}};
  deliver(name, true, message, 0, [this, corr](Result<std::string, Error> r) { complete(corr, std::move(r)); });
}

void Tracker::deliver(const std::string& name, bool is_call, const std::string& message, int hops,
                      Done<std::string> done) {
  if (auto h = handoffs_.find(name); h != handoffs_.end()) {
    h->second.buffered.push_back({is_call, message, std::move(done)});  // delivered where it lands
    return;
  }
  const auto* e = registry_.lookup(name);
  bool local = (e && e->owner == self_id_) || (!e && supervisor_.info(name).has_value());
  if (!e && !local) return done(fail(Error{"not_found", name + " is not registered"}));
  if (local) {
    if (!is_call) {
      auto r = supervisor_.cast(name, message);
      return done(r ? Result<std::string, Error>(std::string()) : fail(from(r.error())));
    }
    supervisor_.call(name, message, [post = post_, alive = alive_, done](workers::Result<std::string> r) {
      Result<std::string, Error> out = r ? Result<std::string, Error>(*r) : fail(from(r.error()));
      post([alive, done, out = std::move(out)]() mutable {
        if (*alive) done(std::move(out));
      });
    });
    return;
  }
  if (hops >= kMaxHops) return done(fail(Error{"not_found", name + ": routing did not converge"}));
  auto owner = bus::NodeId::from_string(e->owner);
  if (!owner || !member_alive(e->owner)) {
    // Its node is down and the name is about to restart elsewhere: retry soon.
    return done(fail(Error{"node_down", "the owner of " + name + " is down; it is moving"}));
  }
  Json body{{"name", name}, {"message", bin(message)}, {"hops", hops + 1}};
  if (!is_call) {
    if (!cluster_.send(*owner, MessageType::worker_cast, pack(body)))
      return done(fail(Error{"node_down", "no channel to " + member_name(e->owner)}));
    return done(std::string());
  }
  request(*owner, MessageType::worker_call, pack(body), std::move(done));
}

void Tracker::on_worker_cast(const bus::Envelope& env) {
  auto j = unpack(env.body);
  auto name = j ? text(*j, "name") : std::nullopt;
  auto message = j ? bytes(*j, "message") : std::nullopt;
  if (!name || !message) return;
  deliver(*name, false, *message, static_cast<int>(number(*j, "hops")), [this, n = *name](Result<std::string, Error> r) {
    if (!r) cluster_.log().debug("[tracker] dropped a message for {}: {}", n, r.error().code);
  });
}

void Tracker::on_worker_call(const bus::Envelope& env) {
  auto j = unpack(env.body);
  auto name = j ? text(*j, "name") : std::nullopt;
  auto message = j ? bytes(*j, "message") : std::nullopt;
  if (!name || !message) return;
  deliver(*name, true, *message, static_cast<int>(number(*j, "hops")),
          [this, sender = env.sender, corr = env.corr](Result<std::string, Error> r) {
            cluster_.send(sender, MessageType::worker_reply, pack(answer(r)), corr);
          });
}

void Tracker::on_worker_reply(const bus::Envelope& env) { complete(env.corr, read_answer(env.body)); }

void Tracker::route_cast(const std::string& to, const std::string& bytes_) {
  deliver(to, false, bytes_, 0, [](Result<std::string, Error>) {});
}

// --- replication ----------------------------------------------------------------

void Tracker::apply_remote(const registry::Entry& incoming) {
  auto r = registry_.apply(incoming);
  switch (r.kind) {
    case registry::ApplyKind::conflict:
      if (r.loser && r.loser->owner == self_id_ && !r.loser->tombstone) {
        auto local = supervisor_.info(r.loser->name);
        if (local && local->id == r.loser->worker) {
          cluster_.log().warn("[tracker] conflict on {}: keeping {}, stopping {}", r.loser->name, ref(*r.winner),
                              ref(*r.loser));
          (void)supervisor_.resolve_conflict(r.loser->name, ref(*r.winner));
        }
      }
      break;
    case registry::ApplyKind::updated: {
      const auto& prev = *r.previous;
      const auto* now = registry_.find(prev.name);
      bool moved_away = prev.owner == self_id_ && !prev.tombstone && now && (now->tombstone || now->owner != self_id_);
      if (moved_away && !handoffs_.count(prev.name)) stop_local_duplicate(prev.name, prev.worker, "taken over elsewhere");
      break;
    }
    default:
      break;
  }
}

void Tracker::stop_local_duplicate(const std::string& name, uint64_t worker, const std::string& why) {
  auto local = supervisor_.info(name);
  if (!local || local->id != worker) return;
  cluster_.log().warn("[tracker] stopping local {} ({})", name, why);
  (void)supervisor_.stop(name);
}

void Tracker::on_delta(const bus::Envelope& env) {
  auto entry = registry::decode_entry(env.body);
  if (!entry) {
    cluster_.log().warn("[tracker] dropped a malformed registry delta from {}", member_name(env.sender.to_string()));
    return;
  }
  apply_remote(*entry);
}

void Tracker::on_sync_request(const bus::Envelope& env) {
  cluster_.send(env.sender, MessageType::sync_snapshot, registry::encode_snapshot(registry_.snapshot()), env.corr);
  // The peer knows us now (it asked), and the snapshot goes first on this
  // channel: a good moment to hand it the names it now owns.
  rebalance_to(env.sender);
}

void Tracker::on_snapshot(const bus::Envelope& env) {
  auto entries = registry::decode_snapshot(env.body);
  if (!entries) {
    cluster_.log().warn("[tracker] dropped a malformed snapshot from {}", member_name(env.sender.to_string()));
    return;
  }
  out_of_sync_.erase(env.sender);
  for (const auto& e : *entries) apply_remote(e);
  reconcile();
}

void Tracker::on_digest(const bus::Envelope& env) {
  auto clock = registry::decode_vector_clock(env.body);
  if (!clock) return;
  registry_.note_seen(env.sender.to_string(), *clock);
  // Anti-entropy: the peer has seen versions we have not (a lost delta, or a
  // lost resync request): fetch its replica. At most once a second per peer.
  if (!registry_.summary().dominates(*clock)) request_sync(env.sender);
}

void Tracker::request_sync(const bus::NodeId& peer) {
  out_of_sync_.insert(peer);  // until its snapshot arrives: requests can be lost too
  auto now = clock_.now();
  auto& last = last_sync_[peer];
  if (last.time_since_epoch().count() != 0 && now - last < std::chrono::seconds(1)) return;
  last = now;
  cluster_.send(peer, MessageType::sync_request, {});
}

// --- topology ---------------------------------------------------------------------

void Tracker::on_member(const MembershipEvent& ev) {
  const auto& m = ev.member;
  std::string id = m.id.to_string();
  switch (ev.kind) {
    case MembershipEvent::up:
      pinned_.clear();  // "ignore" held for the old topology; ask again
      names_[id] = m.name;
      ring_.add_member(id, m.name);
      last_sync_.erase(m.id);
      request_sync(m.id);
      break;
    case MembershipEvent::down:
    case MembershipEvent::left: {
      ring_.remove_member(id);
      bool down = ev.kind == MembershipEvent::down;
      if (down)
        for (const auto* e : registry_.entries_owned_by(id))
          if (!e->tombstone)
            cluster_.log().info("[tracker] lost connection to {} ({}) on {}, node is down", e->name, ref(*e), m.name);
      // Requests waiting on it: re-route or fail now rather than at their deadline.
      std::vector<uint64_t> stuck;
      for (auto& [corr, p] : pending_)
        if (p.target == m.id) stuck.push_back(corr);
      for (uint64_t corr : stuck) {
        auto p = std::move(pending_[corr]);
        pending_.erase(corr);
        if (p.retry) p.retry();
        else p.done(fail(Error{"node_down", m.name + " went down"}));
      }
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
  // Runs every second on every node: one unsorted pass, owners looked up in a set.
  std::unordered_set<std::string> alive{self_id_};
  for (const auto& id : cluster_.membership().alive()) alive.insert(id.to_string());
  std::vector<registry::Entry> orphans;
  registry_.for_each_live([&](const registry::Entry& e) {
    if (!alive.count(e.owner) && owner_gone(e.owner)) orphans.push_back(e);
  });
  for (const auto& e : orphans) {
    auto owner = ring_owner(e.name);
    if (!owner || owner->to_string() != self_id_) continue;  // its new owner restarts it
    cluster_.log().info("[tracker] restarting {} on {}", e.name, cluster_.options().name);
    auto r = register_here(e.name, e.plugin, e.args, "starting");
    if (!r) cluster_.log().error("[tracker] could not restart {}: {} {}", e.name, r.error().code, r.error().detail);
  }
}

void Tracker::rebalance_to(const bus::NodeId& newcomer) {
  if (leaving_) return;
  std::string nid = newcomer.to_string();
  if (!ring_.contains(nid)) return;
  std::vector<registry::Entry> moving;
  for (const auto* e : registry_.entries_owned_by(self_id_)) {
    if (e->tombstone || handoffs_.count(e->name) || pinned_.count(e->name)) continue;
    auto owner = ring_.owner(e->name);
    if (owner && *owner == nid) moving.push_back(*e);
  }
  for (const auto& e : moving) offer(e, newcomer, false);
}

void Tracker::offer(const registry::Entry& e, const bus::NodeId& target, bool leaving) {
  auto h = supervisor_.begin_handoff(e.name);
  if (!h) {
    cluster_.log().warn("[tracker] cannot hand off {}: {}", e.name, workers::to_string(h.error()));
    return;
  }
  std::string kind = h->kind == workers::HandoffKind::state ? "state" : "restart";
  if (h->kind == workers::HandoffKind::ignore) {
    if (!leaving) {
      pinned_.insert(e.name);
      cluster_.log().info("[tracker] {} stays on {} (handoff ignored)", e.name, cluster_.options().name);
      return;
    }
    (void)supervisor_.stop(e.name);  // it cannot stay on a node that leaves
  }
  cluster_.log().info("[tracker] handing off {} to {} ({})", e.name, member_name(target.to_string()), kind);
  Handoff ho{e.name, target, e, kind, h->bytes, clock_.now() + opts_.handoff_timeout, {}};
  uint64_t corr = next_corr();
  handoffs_[e.name] = std::move(ho);
  pending_[corr] = PendingRequest{clock_.now() + opts_.handoff_timeout, target,
                                  [this, name = e.name](Result<std::string, Error> r) {
                                    if (r) {
                                      if (auto entry = registry::decode_entry(*r)) apply_remote(*entry);
                                    }
                                    finish_handoff(name, r.ok(), r ? "" : r.error().code + " " + r.error().detail);
                                  },
                                  {}};
  Json body{{"entry", bin(registry::encode(e))}, {"kind", kind}, {"state", bin(h->bytes)}};
  cluster_.send(target, MessageType::handoff_offer, pack(body), corr);
}

void Tracker::on_handoff_offer(const bus::Envelope& env) {
  auto j = unpack(env.body);
  auto raw = j ? bytes(*j, "entry") : std::nullopt;
  auto kind = j ? text(*j, "kind") : std::nullopt;
  auto state = j ? bytes(*j, "state") : std::nullopt;
  if (!raw || !kind || !state) return;
  auto entry = registry::decode_entry(*raw);
  if (!entry) return;
  auto reply = [&](Result<std::string, Error> r) {
    cluster_.send(env.sender, MessageType::handoff_done, pack(answer(r)), env.corr);
  };
  if (leaving_) return reply(fail(Error{"node_leaving", "cannot take over while leaving"}));
  registry_.apply(*entry);  // its clock, so our version supersedes it
  std::optional<std::string> st;
  if (*kind == "state") st = *state;
  auto id = supervisor_.start(
      workers::WorkerSpec{entry->name, entry->plugin, entry->args, workers::RestartPolicy::permanent, st});
  if (!id) return reply(fail(from(id.error())));
  registry::Entry fields = *entry;
  fields.owner = self_id_;
  fields.owner_name = cluster_.options().name;
  fields.worker = *id;
  auto stored = registry_.put(std::move(fields), self_id_);
  if (!stored) {
    (void)supervisor_.stop(entry->name);
    return reply(fail(Error{"invalid_entry", std::string(registry::to_string(stored.error()))}));
  }
  publish(*stored);
  cluster_.log().info("[tracker] took over {} from {} ({}); started {} on {}", entry->name,
                      member_name(env.sender.to_string()), *kind, entry->name, cluster_.options().name);
  reply(registry::encode(*stored));
}

void Tracker::on_handoff_done(const bus::Envelope& env) { complete(env.corr, read_answer(env.body)); }

void Tracker::finish_handoff(const std::string& name, bool ok, const std::string& why) {
  auto it = handoffs_.find(name);
  if (it == handoffs_.end()) return;
  Handoff h = std::move(it->second);
  handoffs_.erase(it);
  if (ok) {
    cluster_.log().info("[tracker] handed off {} to {}", name, member_name(h.target.to_string()));
  } else if (!leaving_) {
    // Not taken: it must not be lost, so it runs here again (from its args).
    cluster_.log().warn("[tracker] handoff of {} failed ({}); restarting it on {}", name, why,
                        cluster_.options().name);
    auto id = supervisor_.start(workers::WorkerSpec{name, h.entry.plugin, h.entry.args,
                                                    workers::RestartPolicy::permanent, {}});
    if (id) {
      registry::Entry fields = h.entry;
      fields.worker = *id;
      if (auto e = registry_.put(std::move(fields), self_id_)) publish(*e);
    }
  } else {
    cluster_.log().warn("[tracker] handoff of {} failed ({}); its new owner will restart it", name, why);
  }
  for (auto& b : h.buffered) deliver(name, b.is_call, b.message, 0, std::move(b.done));
  check_leave_done();
}

void Tracker::leave(std::function<void()> done) {
  leaving_ = true;
  leave_done_ = std::move(done);
  leave_deadline_ = clock_.now() + opts_.handoff_timeout;
  ring_.remove_member(self_id_);
  std::vector<registry::Entry> mine;
  for (const auto* e : registry_.entries_owned_by(self_id_))
    if (!e->tombstone && !handoffs_.count(e->name)) mine.push_back(*e);
  for (const auto& e : mine) {
    auto target = ring_owner(e.name);
    if (!target) {
      cluster_.log().info("[tracker] no node left to take {}; stopping it", e.name);
      (void)supervisor_.stop(e.name);
      continue;
    }
    offer(e, *target, true);
  }
  check_leave_done();
}

void Tracker::check_leave_done() {
  if (!leaving_ || !leave_done_) return;
  if (!handoffs_.empty() && clock_.now() < leave_deadline_) return;
  auto done = std::move(leave_done_);
  leave_done_ = nullptr;
  done();
}

void Tracker::on_worker_exit(const workers::ExitInfo& exit) {
  using R = workers::ExitReason;
  if (exit.reason == R::handoff || exit.reason == R::conflict || exit.reason == R::stopped) return;
  const auto* e = registry_.lookup(exit.name);
  if (!e || e->owner != self_id_ || e->worker != exit.id) return;
  cluster_.log().warn("[tracker] {} exited ({}{}{}); unregistering it", exit.name,
                      workers::exit_reason_name(exit.reason), exit.detail.empty() ? "" : ": ", exit.detail);
  if (auto tomb = registry_.remove(exit.name, self_id_)) publish(*tomb);
}

void Tracker::tick() {
  auto now = clock_.now();
  std::vector<uint64_t> expired;
  for (auto& [corr, p] : pending_)
    if (now >= p.deadline) expired.push_back(corr);
  for (uint64_t corr : expired) complete(corr, fail(Error{"timeout", "no answer in time"}));
  check_leave_done();
  for (const auto& peer : std::vector<bus::NodeId>(out_of_sync_.begin(), out_of_sync_.end())) {
    const auto* m = cluster_.membership().find(peer);
    if (!m || m->state == discovery::MemberState::down || m->state == discovery::MemberState::left)
      out_of_sync_.erase(peer);
    else
      request_sync(peer);
  }
  if (now >= next_reconcile_) {
    next_reconcile_ = now + opts_.reconcile_interval;
    reconcile();
  }
  if (now >= next_digest_) {
    next_digest_ = now + opts_.digest_interval;
    cluster_.publish(MessageType::digest, registry::encode(registry_.summary()));
    std::vector<std::string> live{self_id_};
    for (const auto& id : cluster_.membership().alive()) live.push_back(id.to_string());
    registry_.collect_garbage(live, self_id_);
  }
}

}  // namespace zswarm::node
