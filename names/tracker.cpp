// The tracker's registry side: register, unregister, messages to names,
// replication. Topology changes and handoff are in tracker_handoff.cpp.
#include "names/tracker.hpp"

#include <algorithm>
#include <unordered_set>

#include "names/ref.hpp"
#include "names/tracker_wire.hpp"

namespace zswarm::names {

using bus::MessageType;
using discovery::MembershipEvent;

namespace {
constexpr int kMaxHops = 3;
}  // namespace


Tracker::Tracker(const Clock& clock, discovery::Cluster& cluster, workers::Supervisor& supervisor, Post post,
                 TrackerOptions opts)
    : clock_(clock),
      cluster_(cluster),
      supervisor_(supervisor),
      post_(std::move(post)),
      opts_(std::move(opts)),
      self_id_(cluster.options().self.bytes()),
      ring_(registry::HashRing::kDefaultVnodes, opts_.placement),
      assembler_({opts_.max_handoff_state_bytes, opts_.max_assembling_bytes}),
      quorum_lost_(opts_.quorum > 1),  // alone at start: quorum comes with the members
      retirement_(opts_.retirement) {
  names_[self_id_] = cluster_.options().name;
  if (!cluster_.options().observer) ring_.add_member(self_id_, cluster_.options().name);  // an observer owns nothing
  cluster_.on_member_event([this](const MembershipEvent& e) { on_member(e); });
  cluster_.on_gap([this](const bus::NodeId& peer, uint64_t) { request_sync(peer); });
  // Once a peer's PUB reaches this node, what it published before the link
  // was up (lost without a gap) is asked for: a snapshot built after that,
  // plus the deltas that follow, miss nothing. What a node publishes is what
  // it writes, i.e. the versions it owns: from one peer (the first) this node
  // takes the whole replica once, from every other only that owned part.
  cluster_.on_stream_start([this](const bus::NodeId& peer) {
    streams_live_.insert(peer);
    resync_.reset(peer);  // even if it was asked a moment ago, before the link was live
    if (!whole_replica_ && (!primary_ || *primary_ == peer)) {
      primary_ = peer;
      return request_sync(peer);
    }
    request_sync(peer, /*owned=*/true);
  });
  using Handler = void (Tracker::*)(const bus::Envelope&);
  static constexpr std::pair<MessageType, Handler> kHandlers[] = {
      {MessageType::registry_delta, &Tracker::on_delta},
      {MessageType::sync_request, &Tracker::on_sync_request},
      {MessageType::sync_snapshot, &Tracker::on_snapshot},
      {MessageType::digest, &Tracker::on_digest},
      {MessageType::register_request, &Tracker::on_register_request},
      {MessageType::register_reply, &Tracker::on_register_reply},
      {MessageType::unregister_request, &Tracker::on_unregister_request},
      {MessageType::unregister_reply, &Tracker::on_unregister_reply},
      {MessageType::worker_cast, &Tracker::on_worker_cast},
      {MessageType::worker_call, &Tracker::on_worker_call},
      {MessageType::worker_reply, &Tracker::on_worker_reply},
      {MessageType::handoff_offer, &Tracker::on_handoff_offer},
      {MessageType::handoff_done, &Tracker::on_handoff_done},
      {MessageType::conflict_state, &Tracker::on_conflict_state},
      {MessageType::quarantine, &Tracker::on_quarantine},
  };
  for (auto [type, handler] : kHandlers)
    cluster_.on_message(type, [this, handler = handler](const bus::Envelope& e) { (this->*handler)(e); });
  started_ = clock_.now();
  next_reconcile_ = clock_.now() + opts_.reconcile_interval;
  next_digest_ = clock_.now() + opts_.digest_interval;
}

Tracker::~Tracker() { *alive_ = false; }

// --- helpers -----------------------------------------------------------------

std::string Tracker::ref(const registry::EntryView& e) const {
  return format_ref(e.owner_name.empty() ? member_name(e.owner) : e.owner_name, e.owner, e.worker);
}

// Ids are raw bytes: a stranger is shown by its first 4, in hex (a REF's RUN).
std::string Tracker::hex_prefix(const std::string& id) { return run_of(id); }

std::string Tracker::member_name(const std::string& id) const {
  auto it = names_.find(id);
  return it != names_.end() ? it->second : hex_prefix(id);
}

bool Tracker::member_alive(const std::string& id) const {
  if (id == self_id_) return true;
  if (registry_.is_retired(id)) return false;  // quarantined: it must come back under a new id
  auto nid = bus::NodeId::from_bytes(id);
  if (!nid) return false;
  const auto* m = cluster_.membership().find(*nid);
  return m && (m->state == discovery::MemberState::alive || m->state == discovery::MemberState::suspect);
}

bool Tracker::owner_gone(const std::string& id) const {
  if (member_alive(id)) return false;
  // An owner we have never heard of may simply not be discovered yet (a
  // snapshot can arrive before the beacons of every member): only once this
  // node has had time to meet everyone is an unknown owner dead.
  auto nid = bus::NodeId::from_bytes(id);
  if (nid && cluster_.membership().find(*nid)) return true;  // known, and down or left
  return clock_.now() - started_ >= opts_.discovery_grace;
}

std::optional<bus::NodeId> Tracker::ring_owner(const std::string& name) const {
  auto o = ring_.owner(name);
  if (!o) return std::nullopt;
  return bus::NodeId::from_bytes(*o);
}

Result<void, Error> Tracker::check_name(const std::string& name) const {
  if (name.empty() || name.size() > registry::kMaxNameBytes)
    return fail(Error{Errc::invalid_name, "a name has 1 to " + std::to_string(registry::kMaxNameBytes) + " bytes"});
  return {};
}

bool Tracker::owns(const std::string& name) const {
  auto e = registry_.lookup(name);
  return e && e->owner == self_id_;
}

// Only versions this node owns are published (put and remove by their
// owner): the owned part of a snapshot (protocol.md 5.6) relies on it.
void Tracker::publish(const registry::Entry& e) { cluster_.publish(MessageType::registry_delta, registry::encode(e)); }

void Tracker::request(const bus::NodeId& target, MessageType type, std::string body, Done<std::string> done,
                      std::function<void()> retry, std::chrono::milliseconds timeout) {
  uint64_t corr = requests_.next_id();
  if (!cluster_.send(target, type, std::move(body), corr)) {
    // Never re-route inline: the ring may pick the same node again, and a
    // full queue would recurse. A retry is for a node that goes away.
    return done(fail(Error{Errc::node_down, "no channel to the node (gone, or its queue is full)"}));
  }
  requests_.add(corr, target, clock_.now() + (timeout.count() > 0 ? timeout : opts_.request_timeout), std::move(done),
                std::move(retry));
}

void Tracker::complete_answer(const bus::Envelope& env) {
  auto r = wire::decode_answer(env.body, cluster_.unknown_fields());
  if (!r && r.error().code == Errc::bad_message) cluster_.reject_body(env, r.error().detail);
  requests_.complete(env.corr, std::move(r));  // a late answer finds nothing waiting
}

Result<void, Error> Tracker::check_message(const std::string& message) const {
  if (message.size() <= opts_.max_message_bytes) return {};
  return fail(Error{Errc::too_large, "a message has at most " + std::to_string(opts_.max_message_bytes) +
                                     " bytes (max_frame_bytes less 64 KiB); this one has " +
                                     std::to_string(message.size())});
}

Result<std::string, Error> Tracker::fit_reply(Result<std::string, Error> r) const {
  if (!r) return r;
  if (auto fits = check_message(*r); !fits) return fail(Error{Errc::too_large, "the worker's reply: " + fits.error().detail});
  return r;
}

namespace {
// hops is a u64 on the wire; anything past the limit is simply "too many".
int hop_count(uint64_t hops) { return static_cast<int>(std::min<uint64_t>(hops, 1000)); }
}  // namespace

// --- registry operations -------------------------------------------------------

Result<std::string, Error> Tracker::whereis(const std::string& name) const {
  auto at = registry_.locate(name);
  if (!at) return fail(Error{Errc::not_found, name + " is not registered"});
  // owner_name is always set by zswarmd; names_ belongs to the loop, so the
  // fallback is the id itself.
  return format_ref(at->owner_name.empty() ? hex_prefix(at->owner) : at->owner_name, at->owner, at->worker);
}

Result<void, Error> Tracker::check_send(const std::string& name, const std::string& message) const {
  if (auto fits = check_message(message); !fits) return fits;
  if (!registry_.contains(name) && !supervisor_.info(name))
    return fail(Error{Errc::not_found, name + " is not registered"});
  return {};
}

std::vector<RegisteredName> Tracker::registered() const {
  std::vector<RegisteredName> out;
  for (const auto& e : registry_.list())
    out.push_back({e.name, ref(e), member_name(e.owner), e.plugin, fencing_token(e)});
  return out;  // list() is sorted by name
}

void Tracker::register_name(const std::string& name, const std::string& plugin, const std::string& args,
                            Done<std::string> done) {
  if (auto c = check_name(name); !c) return done(fail(c.error()));
  // What an Entry may hold, checked before anything starts or travels.
  if (plugin.empty() || plugin.size() > registry::kMaxPluginBytes)
    return done(fail(Error{Errc::invalid_name, "a plugin name has 1 to " + std::to_string(registry::kMaxPluginBytes) + " bytes"}));
  if (args.size() > registry::kMaxArgsBytes)
    return done(fail(Error{Errc::too_large, "args have at most " + std::to_string(registry::kMaxArgsBytes) + " bytes"}));
  if (leaving_) return done(fail(Error{Errc::node_leaving, "this node is leaving the cluster"}));
  if (quorum_lost_)
    return done(fail(Error{Errc::no_quorum, std::to_string(live_members()) + " of " + std::to_string(opts_.quorum) +
                                                " members alive on this side"}));
  cluster_.log().info("[tracker] registering {} as process started by {} with args [{}]", name, plugin, args);
  if (auto e = registry_.lookup(name)) {
    cluster_.log().info("[tracker] found {} already registered on {}", name, member_name(e->owner));
    return done(fail(Error{Errc::already_registered, ref(*e)}));
  }
  auto owner = ring_owner(name);
  if (!owner) return done(fail(Error{Errc::no_node_available, "no node is eligible to run " + name}));
  if (owner->bytes() == self_id_) {
    return register_here(name, plugin, args, "starting", [this, done](const Result<registry::Entry, Error>& r) {
      done(r ? Result<std::string, Error>(ref(*r)) : fail(r.error()));
    });
  }
  auto retry = [this, name, plugin, args, done, alive = alive_] {
    if (*alive) register_name(name, plugin, args, done);
  };
  request(*owner, MessageType::register_request, wire::encode(wire::RegisterRequest{name, plugin, args}),
          [this, done](Result<std::string, Error> r) {
            if (!r) return done(fail(r.error()));
            // The answer carries the entry, so a whereis right after sees it.
            auto entry = registry::decode_entry(*r, cluster_.unknown_fields());
            if (!entry) return done(fail(Error{Errc::bad_message, "malformed entry in answer"}));
            apply_remote(*entry);
            done(ref(*entry));
          },
          retry);
}

void Tracker::register_here(const std::string& name, const std::string& plugin, const std::string& args,
                            const char* why, Started done) {
  if (auto e = registry_.lookup(name); e && e->owner != self_id_ && !owner_gone(e->owner)) {
    cluster_.log().info("[tracker] found {} already registered on {}", name, member_name(e->owner));
    return done(fail(Error{Errc::already_registered, ref(*e)}));
  } else if (e && e->owner == self_id_) {
    return done(fail(Error{Errc::already_registered, ref(*e)}));
  }
  cluster_.log().info("[tracker] {} {} on {}", why, name, cluster_.options().name);
  registry::Entry fields;
  fields.name = name;
  fields.plugin = plugin;
  fields.args = args;
  run_here(std::move(fields), std::nullopt, std::move(done));
}

void Tracker::run_here(registry::Entry fields, std::optional<std::string> state, Started done) {
  if (quorum_lost_) {
    // A failed handoff's restart, say: it waits with its state for quorum.
    std::string name = fields.name;
    parked_[name] = Parked{std::move(fields), std::move(state)};
    return done(fail(Error{Errc::no_quorum, name + " is parked until this side has quorum"}));
  }
  if (auto it = starting_.find(fields.name); it != starting_.end()) {
    it->second.waiters.push_back(std::move(done));
    return;
  }
  Starting& s = starting_[fields.name];
  if (auto stored = registry_.find(fields.name)) s.seen = stored->clock();
  s.done = std::move(done);
  // init runs on the pool; its answer comes back through the loop, maybe
  // after this tracker is gone.
  std::string name = fields.name;
  workers::WorkerSpec spec{name, fields.plugin, fields.args, workers::RestartPolicy::permanent, std::move(state)};
  supervisor_.start_async(std::move(spec), [post = post_, alive = alive_, this, name,
                                            fields = std::move(fields)](workers::Result<uint64_t> id) mutable {
    post([this, alive, name, fields = std::move(fields), id = std::move(id)]() mutable {
      if (*alive) started(name, std::move(fields), std::move(id));
    });
  });
}

void Tracker::started(const std::string& name, registry::Entry fields, workers::Result<uint64_t> id) {
  auto node = starting_.extract(name);
  if (node.empty()) return;
  Starting& s = node.mapped();
  auto finish = [&](const Result<registry::Entry, Error>& r) {
    if (s.done) s.done(r);
    for (auto& w : s.waiters)
      w(r ? Result<registry::Entry, Error>(fail(Error{Errc::already_registered, ref(*r)})) : fail(r.error()));
    // Held messages go where the name now is (here, or its winner).
    for (auto& b : s.buffered) deliver(name, b.kind, std::move(b.message), 0, std::move(b.done));
    check_leave_done();
  };
  if (!id) {
    cluster_.log().warn("[tracker] could not start {} on {}: {}", name, cluster_.options().name,
                        id.error().to_string());
    return finish(fail(id.error()));
  }
  auto stop_new = [&] {
    if (auto local = supervisor_.info(name); local && local->id == *id) (void)supervisor_.stop_async(name);
  };
  if (leaving_) {
    stop_new();
    return finish(fail(Error{Errc::node_leaving, "this node began to leave while " + name + " started"}));
  }
  // Another live node took the name while init ran: it keeps it.
  auto now = registry_.find(name);
  const bool changed = now && (!s.seen || now->clock() != *s.seen);
  if (changed && !now->tombstone && now->owner != self_id_ && !owner_gone(now->owner)) {
    cluster_.log().info("[tracker] {} was registered on {} while it started here; stopping it here", name,
                        member_name(now->owner));
    stop_new();
    return finish(fail(Error{Errc::already_registered, ref(*now)}));
  }
  fields.owner = self_id_;
  fields.owner_name = cluster_.options().name;
  fields.worker = *id;
  auto entry = registry_.put(std::move(fields), self_id_);
  if (!entry) {
    stop_new();  // unrecorded, it must not run
    return finish(fail(Error{Errc::invalid_entry, std::string(registry::to_string(entry.error()))}));
  }
  running_here_[entry->name] = entry->worker;
  (void)supervisor_.set_fencing_token(name, *id, fencing_token(*entry));
  publish(*entry);
  cluster_.log().info("[tracker] started {} on {}", name, cluster_.options().name);
  finish(*entry);
}

Tracker::Started Tracker::log_restart(const std::string& name) {
  return [this, name](const Result<registry::Entry, Error>& r) {
    if (!r) cluster_.log().error("[tracker] could not restart {}: {} {}", name, r.error().name(), r.error().detail);
  };
}

void Tracker::on_register_request(const bus::Envelope& env) {
  auto req = wire::decode_register_request(env.body, cluster_.unknown_fields());
  if (!req) return cluster_.reject_body(env, registry::to_string(req.error()));
  Result<std::string, Error> r = fail(Error{Errc::node_leaving, "the owner is leaving the cluster"});
  // Only the ring owner keeps a registration: another node forwards it there
  // (the asker's view of the ring was not this node's), at most kMaxHops - 1
  // times, then answers not_owner with the owner it would have asked.
  if (quorum_lost_)
    r = fail(Error{Errc::no_quorum, std::to_string(live_members()) + " of " + std::to_string(opts_.quorum) +
                                        " members alive on the owner's side"});
  auto owner = ring_owner(req->name);
  if (!leaving_ && !quorum_lost_ && owner && owner->bytes() != self_id_) {
    auto reply = [this, sender = env.sender, corr = env.corr](Result<std::string, Error> answer) {
      cluster_.send(sender, MessageType::register_reply, wire::encode_answer(answer), corr);
    };
    if (req->hops >= static_cast<uint64_t>(kMaxHops - 1))  // not hops + 1: a hostile hops must not wrap
      return reply(fail(Error{Errc::not_owner, member_name(owner->bytes())}));
    cluster_.log().info("[tracker] forwarding the registration of {} to its ring owner {} (asked by {})", req->name,
                        member_name(owner->bytes()), member_name(env.sender.bytes()));
    auto fwd = *req;
    ++fwd.hops;
    return request(*owner, MessageType::register_request, wire::encode(fwd),
                   [this, reply](Result<std::string, Error> answer) {
                     if (answer)
                       if (auto entry = registry::decode_entry(*answer, cluster_.unknown_fields())) apply_remote(*entry);
                     reply(std::move(answer));
                   });
  }
  if (!leaving_ && !quorum_lost_) {
    cluster_.log().info("[tracker] registering {} as process started by {} with args [{}] (asked by {})", req->name,
                        req->plugin, req->args, member_name(env.sender.bytes()));
    return register_here(req->name, req->plugin, req->args, "starting",
                         [this, sender = env.sender, corr = env.corr](const Result<registry::Entry, Error>& entry) {
                           auto answer = entry ? Result<std::string, Error>(registry::encode(*entry)) : fail(entry.error());
                           cluster_.send(sender, MessageType::register_reply, wire::encode_answer(answer), corr);
                         });
  }
  cluster_.send(env.sender, MessageType::register_reply, wire::encode_answer(r), env.corr);
}

void Tracker::on_register_reply(const bus::Envelope& env) { complete_answer(env); }

void Tracker::unregister_name(const std::string& name, Done<std::string> done) {
  auto e = registry_.lookup(name);
  if (!e) return done(fail(Error{Errc::not_found, name + " is not registered"}));
  if (e->owner == self_id_) return unregister_here(name, std::move(done));
  auto owner = bus::NodeId::from_bytes(e->owner);
  if (!owner || !member_alive(e->owner))
    return done(fail(Error{Errc::node_down, "the owner of " + name + " is down; it is moving"}));
  request(*owner, MessageType::unregister_request, wire::encode(wire::UnregisterRequest{name}), std::move(done));
}

void Tracker::unregister_here(const std::string& name, Done<std::string> done) {
  auto e = registry_.lookup(name);
  if (!e || e->owner != self_id_) return done(fail(Error{Errc::not_found, name + " is not registered here"}));
  std::string r = ref(*e);
  (void)supervisor_.stop_async(name);
  if (auto tomb = registry_.remove(name, self_id_)) publish(*tomb);
  cluster_.log().info("[tracker] unregistered {} ({})", name, r);
  done(r);
}

void Tracker::on_unregister_request(const bus::Envelope& env) {
  auto req = wire::decode_unregister_request(env.body, cluster_.unknown_fields());
  if (!req) return cluster_.reject_body(env, registry::to_string(req.error()));
  unregister_here(req->name, [this, sender = env.sender, corr = env.corr](Result<std::string, Error> r) {
    cluster_.send(sender, MessageType::unregister_reply, wire::encode_answer(r), corr);
  });
}

void Tracker::on_unregister_reply(const bus::Envelope& env) { complete_answer(env); }

// --- messages to names -------------------------------------------------------

void Tracker::send(const std::string& name, std::string message, Done<std::string> done) {
  if (auto fits = check_message(message); !fits) return done(fail(fits.error()));
  deliver(name, Delivery::cast, std::move(message), 0, std::move(done));
}

void Tracker::call(const std::string& name, const std::string& message, std::chrono::milliseconds timeout,
                   Done<std::string> done) {
  if (auto fits = check_message(message); !fits) return done(fail(fits.error()));
  deliver(name, Delivery::call, message, 0, with_deadline(timeout, std::move(done)));
}

void Tracker::send_ref(const std::string& ref, std::string message, Done<std::string> done) {
  if (auto fits = check_message(message); !fits) return done(fail(fits.error()));
  deliver_ref(ref, Delivery::cast, std::move(message), false, std::move(done));
}

void Tracker::call_ref(const std::string& ref, const std::string& message, std::chrono::milliseconds timeout,
                       Done<std::string> done) {
  if (auto fits = check_message(message); !fits) return done(fail(fits.error()));
  deliver_ref(ref, Delivery::call, message, false, with_deadline(timeout, std::move(done)));
}

// The deadline is the caller's: fail it here even if an answer is owed.
Tracker::Done<std::string> Tracker::with_deadline(std::chrono::milliseconds timeout, Done<std::string> done) {
  timeout = std::clamp(timeout, std::chrono::milliseconds(1), std::chrono::milliseconds(std::chrono::hours(24)));
  uint64_t corr = requests_.next_id();
  requests_.add(corr, bus::NodeId(), clock_.now() + timeout, std::move(done));
  return [this, corr](Result<std::string, Error> r) { requests_.complete(corr, std::move(r)); };
}

// A REF names one worker of one run of one node (protocol.md §5.2, §8.7):
// it is delivered there or nowhere. Nothing is buffered or forwarded, since a
// worker that moved is another worker, with another REF.
void Tracker::deliver_ref(const std::string& text, Delivery kind, std::string message, bool from_peer,
                          Done<std::string> done) {
  auto r = parse_ref(text);
  if (!r) return done(fail(Error{Errc::bad_args, "'" + text + "' is not a REF (name@host/RUN.ID)"}));
  auto stale = [text](const std::string& why) { return fail(Error{Errc::not_found, text + " is stale: " + why}); };
  if (r->node == cluster_.options().name && r->run == run_of(self_id_)) {
    auto gone = [stale, r]() { return stale("worker " + std::to_string(r->worker) + " no longer runs on " + r->node); };
    if (kind == Delivery::cast) {
      auto c = supervisor_.cast(r->worker, std::move(message));
      return done(c ? Result<std::string, Error>(std::string()) : gone());
    }
    supervisor_.call(r->worker, std::move(message),
                     [post = post_, alive = alive_, done, gone](workers::Result<std::string> res) {
                       Result<std::string, Error> out = res ? Result<std::string, Error>(*res)
                                                        : res.error().code == Errc::not_found ? gone()
                                                                                               : fail(res.error());
                       post([alive, done, out = std::move(out)]() mutable {
                         if (*alive) done(std::move(out));
                       });
                     });
    return;
  }
  if (from_peer) return done(stale("it names another run than this node's"));
  std::optional<bus::NodeId> owner;
  for (const auto& [id, name] : names_)
    if (name == r->node && run_of(id) == r->run && member_alive(id)) owner = bus::NodeId::from_bytes(id);
  if (!owner) return done(stale("no live member " + r->node + " runs as " + r->run + " (it restarted, left or is down)"));
  std::string body = wire::encode_worker_ref_message(text, message, 1);
  if (kind == Delivery::cast) {
    if (!cluster_.send(*owner, MessageType::worker_cast, std::move(body)))
      return done(fail(Error{Errc::node_down, "no channel to " + r->node}));
    return done(std::string());
  }
  request(*owner, MessageType::worker_call, std::move(body), std::move(done));
}

void Tracker::deliver(const std::string& name, Delivery kind, std::string message, int hops,
                      Done<std::string> done) {
  // A name moving away, or starting here, holds its messages until it lands.
  std::vector<Buffered>* hold = nullptr;
  if (auto h = handoffs_.find(name); h != handoffs_.end() && !h->second.late) hold = &h->second.buffered;
  else if (auto s = starting_.find(name); s != starting_.end()) hold = &s->second.buffered;
  if (hold) {
    if (hold->size() >= kMaxBuffered)
      return done(fail(Error{Errc::node_down, name + " is moving and holds too many messages; try again"}));
    hold->push_back({kind, std::move(message), std::move(done)});
    return;
  }
  if (parked_.count(name) || parking_.count(name))
    return done(fail(Error{Errc::no_quorum, name + " is parked: this side of a split has no quorum"}));
  auto e = registry_.lookup(name);
  bool local = (e && e->owner == self_id_) || (!e && supervisor_.info(name).has_value());
  if (!e && !local) return done(fail(Error{Errc::not_found, name + " is not registered"}));
  if (local) {
    if (kind == Delivery::cast) {
      auto r = supervisor_.cast(name, std::move(message));
      return done(r ? Result<std::string, Error>(std::string()) : fail(r.error()));
    }
    if (kind == Delivery::merge) {
      supervisor_.merge_conflict_async(name, std::move(message), [post = post_, alive = alive_, done](workers::Result<void> r) {
        Result<std::string, Error> out = r ? Result<std::string, Error>(std::string()) : fail(r.error());
        post([alive, done, out = std::move(out)]() mutable {
          if (*alive) done(std::move(out));
        });
      });
      return;
    }
    supervisor_.call(name, std::move(message), [post = post_, alive = alive_, done](workers::Result<std::string> r) {
      Result<std::string, Error> out = r ? Result<std::string, Error>(*r) : fail(r.error());
      post([alive, done, out = std::move(out)]() mutable {
        if (*alive) done(std::move(out));
      });
    });
    return;
  }
  if (hops >= kMaxHops) return done(fail(Error{Errc::not_found, name + ": routing did not converge"}));
  auto owner = bus::NodeId::from_bytes(e->owner);
  if (!owner || !member_alive(e->owner)) {
    // Its node is down and the name is about to restart elsewhere: retry soon.
    return done(fail(Error{Errc::node_down, "the owner of " + name + " is down; it is moving"}));
  }
  std::string body = wire::encode_worker_message(name, message, static_cast<uint64_t>(hops) + 1);
  if (kind == Delivery::cast) {
    if (!cluster_.send(*owner, MessageType::worker_cast, std::move(body)))
      return done(fail(Error{Errc::node_down, "no channel to " + member_name(e->owner)}));
    return done(std::string());
  }
  if (kind == Delivery::call) return request(*owner, MessageType::worker_call, std::move(body), std::move(done));
  // A merge is answered too (worker_reply), so that its sender can try
  // again; soon, since a node that still holds the sender down drops it.
  request(*owner, MessageType::conflict_state, std::move(body), std::move(done), {}, kMergeAnswerTimeout);
}

void Tracker::on_worker_cast(const bus::Envelope& env) {
  auto m = wire::decode_worker_message(env.body, cluster_.unknown_fields());
  if (!m) return cluster_.reject_body(env, registry::to_string(m.error()));
  if (!m->ref.empty())
    return deliver_ref(m->ref, Delivery::cast, std::move(m->message), true, [this](Result<std::string, Error> r) {
      if (!r) cluster_.log().debug("[tracker] dropped a message: {}", r.error().to_string());
    });
  // The error names the name; capturing it would cost an allocation a message.
  deliver(m->name, Delivery::cast, std::move(m->message), hop_count(m->hops), [this](Result<std::string, Error> r) {
    if (!r) cluster_.log().debug("[tracker] dropped a message: {}", r.error().to_string());
  });
}

void Tracker::on_worker_call(const bus::Envelope& env) {
  auto m = wire::decode_worker_message(env.body, cluster_.unknown_fields());
  if (!m) return cluster_.reject_body(env, registry::to_string(m.error()));
  auto answer = [this, sender = env.sender, corr = env.corr](Result<std::string, Error> r) {
    cluster_.send(sender, MessageType::worker_reply, wire::encode_answer(fit_reply(std::move(r))), corr);
  };
  if (!m->ref.empty()) return deliver_ref(m->ref, Delivery::call, std::move(m->message), true, std::move(answer));
  deliver(m->name, Delivery::call, std::move(m->message), hop_count(m->hops), std::move(answer));
}

void Tracker::on_worker_reply(const bus::Envelope& env) { complete_answer(env); }

void Tracker::on_conflict_state(const bus::Envelope& env) {
  auto m = wire::decode_worker_message(env.body, cluster_.unknown_fields());
  if (!m) return cluster_.reject_body(env, registry::to_string(m.error()));
  if (!m->ref.empty()) return cluster_.reject_body(env, "invalid_value at conflict_state.ref");
  // The sender keeps the state until it hears the merge is done (corr 0:
  // a sender that does not wait for an answer).
  deliver(m->name, Delivery::merge, std::move(m->message), hop_count(m->hops),
          [this, sender = env.sender, corr = env.corr](Result<std::string, Error> r) {
            if (corr != 0) cluster_.send(sender, MessageType::worker_reply, wire::encode_answer(r), corr);
          });
}

void Tracker::route_cast(const std::string& to, const std::string& bytes) {
  if (auto fits = check_message(bytes); !fits) {
    cluster_.log().warn("[tracker] dropped a worker's message to {}: {}", to, fits.error().detail);
    return;
  }
  deliver(to, Delivery::cast, bytes, 0, [](Result<std::string, Error>) {});
}

// --- replication ----------------------------------------------------------------

void Tracker::apply_remote(const registry::Entry& incoming) {
  // Whether the version stored now names this node's running copy: an
  // update that names another owner is then a takeover while it ran (the
  // other side of a partition restarted it), which is a conflict too.
  std::optional<uint64_t> ours;
  if (auto it = running_here_.find(incoming.name); it != running_here_.end() && !handoffs_.count(incoming.name)) {
    auto e = registry_.lookup(incoming.name);
    if (e && e->owner == self_id_ && e->worker == it->second) ours = it->second;
  }
  auto r = registry_.apply(incoming);
  if (r.kind != registry::ApplyKind::stale && !incoming.tombstone && incoming.owner != self_id_ &&
      !member_alive(incoming.owner) && (r.kind != registry::ApplyKind::conflict || r.winner->owner == incoming.owner))
    claimed_at_[incoming.owner] = clock_.now();
  if (r.kind == registry::ApplyKind::conflict && r.loser && r.loser->owner == self_id_ && !r.loser->tombstone) {
    auto local = supervisor_.info(r.loser->name);
    if (local && local->id == r.loser->worker) lose_conflict(r.loser->name, *r.winner);
  } else if (r.kind == registry::ApplyKind::updated && ours && !incoming.tombstone && incoming.owner != self_id_) {
    auto local = supervisor_.info(incoming.name);
    if (local && local->id == *ours) lose_conflict(incoming.name, incoming);
  }
  stop_if_not_named(incoming.name);
}

void Tracker::merge_into_winner(const std::string& name, std::string state) {
  if (auto fits = check_message(state); !fits) {
    cluster_.log().warn("[tracker] the state of {}'s losing copy is dropped: {}", name, fits.error().detail);
    return;
  }
  // Bounded like the handoff states that wait here (max_assembling_bytes).
  if (merges_.size() >= kMaxPendingMerges || merge_bytes_ + state.size() > opts_.max_assembling_bytes) {
    cluster_.log().warn("[tracker] the state of {}'s losing copy is dropped: {} states ({} bytes) wait already", name,
                        merges_.size(), merge_bytes_);
    return;
  }
  const auto now = clock_.now();
  const uint64_t id = ++next_merge_;
  merge_bytes_ += state.size();
  merges_.emplace(id, PendingMerge{name, std::move(state), now, now + kMergeTimeout});
  try_merge(id);
}

void Tracker::drop_merge(uint64_t id) {
  auto it = merges_.find(id);
  if (it == merges_.end()) return;
  merge_bytes_ -= it->second.state.size();
  merges_.erase(it);
}

void Tracker::try_merge(uint64_t id) {
  auto it = merges_.find(id);
  if (it == merges_.end() || it->second.in_flight) return;
  if (auto now_named = registry_.find(it->second.name); now_named && now_named->tombstone) {
    cluster_.log().info("[tracker] the state of {}'s losing copy is dropped: the name was unregistered", it->second.name);
    return drop_merge(id);
  }
  it->second.in_flight = true;
  deliver(it->second.name, Delivery::merge, it->second.state, 0, [this, id, alive = alive_](Result<std::string, Error> r) {
    if (!*alive) return;
    auto p = merges_.find(id);
    if (p == merges_.end()) return;
    if (r) return drop_merge(id);
    // Where the name runs is not settled yet (moving, restarting, its node
    // not linked or down): try again. Anything else is the worker's answer.
    const auto code = r.error().code;
    const bool unsettled =
        code == Errc::node_down || code == Errc::not_found || code == Errc::timeout || code == Errc::stopped;
    if (!unsettled || clock_.now() >= p->second.give_up) {
      cluster_.log().warn("[tracker] the state of {}'s losing copy was not merged: {}", p->second.name,
                          r.error().to_string());
      return drop_merge(id);
    }
    if (!p->second.retried)
      cluster_.log().info("[tracker] the state of {}'s losing copy waits for the winner: {}", p->second.name,
                          r.error().to_string());
    p->second.retried = true;
    p->second.in_flight = false;
    p->second.next_try = clock_.now() + kMergeRetry;
  });
}

void Tracker::lose_conflict(const std::string& name, const registry::Entry& winner) {
  auto local = supervisor_.info(name);
  cluster_.log().warn("[tracker] conflict on {}: keeping {}, stopping {}/{}", name, ref(winner), cluster_.options().name,
                      local ? local->id : 0);
  // The name is free at once; the loser hears of its loss on the pool, and
  // what it offers goes to wherever the name runs then.
  supervisor_.resolve_conflict_async(
      name, ref(winner), [this, post = post_, alive = alive_, name](workers::Result<workers::ConflictState> r) {
        if (!r || !r->offered) return;
        post([this, alive, name, state = std::move(r->state)]() mutable {
          if (*alive) merge_into_winner(name, std::move(state));
        });
      });
}

void Tracker::stop_if_not_named(const std::string& name) {
  auto it = running_here_.find(name);
  if (it == running_here_.end() || handoffs_.count(name)) return;
  auto e = registry_.lookup(name);
  if (e && e->owner == self_id_ && e->worker == it->second) return;
  const uint64_t id = it->second;
  running_here_.erase(it);
  auto local = supervisor_.info(name);
  if (!local || local->id != id) return;  // gone already (handed off, stopped, exited)
  // Another copy runs it now: this one lost, and its state goes there.
  if (e && e->owner != self_id_) return lose_conflict(name, e->entry());
  cluster_.log().warn("[tracker] stopping local {} ({}/{}): the replica names {}", name, cluster_.options().name, id,
                      e ? ref(*e) : std::string("no one"));
  (void)supervisor_.stop_async(name);
}

void Tracker::on_delta(const bus::Envelope& env) {
  if (refuse_retired(env.sender)) return;
  auto entry = registry::decode_entry(env.body, cluster_.unknown_fields());
  if (!entry) return cluster_.reject_body(env, registry::to_string(entry.error()));
  apply_remote(*entry);
}

void Tracker::on_sync_request(const bus::Envelope& env) {
  auto req = wire::decode_sync_request(env.body, cluster_.unknown_fields());
  if (!req) return cluster_.reject_body(env, registry::to_string(req.error()));
  // At most one answer of each form per peer per second: a peer that asks in
  // a loop must not make this node queue copy after copy (an honest one asks
  // again).
  auto now = clock_.now();
  auto& answered = req->snapshot ? snapshot_sent_ : hello_seen_;
  auto [last, first] = answered.try_emplace(env.sender, now);
  if (!first) {
    if (now - last->second < opts_.snapshot_interval) return;
    last->second = now;
  }
  // The peer knows us now (it asked): a good moment to hand it the names it
  // now owns. A snapshot goes first on this channel, in chunks that fit a
  // frame, one a turn (tick); corr is 1 while more follow, so the last one
  // (corr 0) tells the peer it has everything. The offers follow it, so a
  // peer back from a partition resolves conflicts before any handoff.
  if (!req->snapshot) return rebalance_to(env.sender);
  snapshots_.start(env.sender, req->owned ? std::optional<std::string>(self_id_) : std::nullopt);
}

void Tracker::on_snapshot(const bus::Envelope& env) {
  if (refuse_retired(env.sender)) return;
  if (chunks_in_.size() >= kMaxChunksIn) {
    // This pass has a hole now: its last chunk must not count as "in sync"
    // (a dropped last chunk never ends it). The peer stays owed and is asked again.
    if (env.corr != 0) holed_.insert(env.sender);
    return cluster_.reject_body(env, "too many snapshot chunks waiting to be merged");
  }
  resync_.progress(env.sender, clock_.now());
  // corr: about how many entries this chunk and the rest of the pass hold.
  // Room for them now (they are mostly new to a joiner, mostly known to a
  // peer back from a partition) spares the loop rehashing the whole table
  // in the middle of the merge.
  const std::size_t stored = registry_.size() + registry_.tombstones();
  const std::size_t coming = static_cast<std::size_t>(std::min<uint64_t>(env.corr, kMaxReserve));
  registry_.reserve(std::max(stored, coming) + std::max(stored, coming) / 8);
  chunks_in_.push_back({env.sender, std::string(env.body), env.corr == 0});
}

void Tracker::merge_chunks_from(const bus::NodeId& sender) {
  while (std::any_of(chunks_in_.begin(), chunks_in_.end(), [&](const Chunk& c) { return c.sender == sender; }))
    merge_chunk();
}

void Tracker::merge_chunk() {
  Chunk c = std::move(chunks_in_.front());
  chunks_in_.pop_front();
  auto entries = registry::decode_snapshot(c.body, cluster_.unknown_fields());
  if (!entries) {
    bus::Envelope env;
    env.sender = c.sender;
    env.type = MessageType::sync_snapshot;
    env.body = c.body;
    cluster_.reject_body(env, registry::to_string(entries.error()));
    if (!c.last) holed_.insert(c.sender);
    return;
  }
  for (const auto& e : *entries) apply_remote(e);
  if (!c.last) return;  // more chunks follow
  if (holed_.erase(c.sender)) return;  // a chunk of this pass was lost: still owed, asked again
  resync_.synced(c.sender);
  if (auto asked = asked_at_.find(c.sender); asked != asked_at_.end()) {
    if (!owned_only_.count(c.sender)) registry_.cover(asked->second);
    asked_at_.erase(asked);
  }
  if (!owned_only_.erase(c.sender)) whole_replica_ = true;
  reconcile();
}

void Tracker::on_digest(const bus::Envelope& env) {
  if (refuse_retired(env.sender)) return;
  auto clock = registry::decode_vector_clock(env.body);
  if (!clock) return cluster_.reject_body(env, registry::to_string(clock.error()));
  registry_.note_seen(env.sender.bytes(), *clock);
  last_digest_[env.sender] = {*clock, clock_.now()};
  // Anti-entropy: the peer has seen versions we have not (a lost delta, or a
  // lost resync request): fetch its replica. At most once a second per peer.
  if (!registry_.covers(*clock)) request_sync(env.sender);
}

bool Tracker::refuse_retired(const bus::NodeId& sender) {
  if (!registry_.is_retired(sender.bytes())) return false;
  ++stats_.quarantine_sent;
  const auto side = live_ids();
  cluster_.send(sender, MessageType::quarantine,
                wire::encode(wire::Quarantine{sender.bytes(), side.size(), *std::min_element(side.begin(), side.end())}));
  return true;
}

void Tracker::on_quarantine(const bus::Envelope& env) {
  auto q = wire::decode_quarantine(env.body, cluster_.unknown_fields());
  if (!q) return cluster_.reject_body(env, registry::to_string(q.error()));
  // Only a member this node holds alive may say so, and only of this node.
  const auto* m = cluster_.membership().find(env.sender);
  const bool alive = m && (m->state == discovery::MemberState::alive || m->state == discovery::MemberState::suspect);
  if (q->id != self_id_ || !alive || quarantined_) return;
  if (registry_.is_retired(env.sender.bytes())) {
    // Each side of a long partition retired the other: the smaller side
    // stops (on a tie, the side without the smallest id), as a majority
    // split-brain rule would pick; the other side's notices are ignored.
    const auto side = live_ids();
    const auto lowest = *std::min_element(side.begin(), side.end());
    if (q->members < side.size() || (q->members == side.size() && !(q->lowest < lowest))) return;
  }
  quarantined_ = true;
  cluster_.log().error(
      "[tracker] quarantined by {}: this node's id was retired from the cluster's clocks (it was gone longer "
      "than retire_down_after_ms, or a newer run of its name took its place); it stops, and must start again "
      "to rejoin under a new id",
      member_name(env.sender.bytes()));
  if (on_quarantined_) on_quarantined_(member_name(env.sender.bytes()));
}

std::vector<std::string> Tracker::live_ids() const {
  std::vector<std::string> live{self_id_};
  for (const auto& id : cluster_.membership().alive())
    if (!registry_.is_retired(id.bytes())) live.push_back(id.bytes());
  return live;
}

void Tracker::retire_writers() {
  const auto now = clock_.now();
  std::erase_if(claimed_at_, [&](const auto& kv) { return now - kv.second >= opts_.discovery_grace; });
  const auto live = live_ids();
  std::unordered_set<std::string> live_names;
  for (const auto& id : live) live_names.insert(member_name(id));
  std::vector<const registry::VectorClock*> others;
  bool others_complete = true;
  auto others_since = Clock::time_point::max();
  for (const auto& id : live) {
    if (id == self_id_) continue;
    auto nid = bus::NodeId::from_bytes(id);
    auto d = nid ? last_digest_.find(*nid) : last_digest_.end();
    if (d == last_digest_.end()) {
      others_complete = false;
    } else {
      others.push_back(&d->second.clock);
      others_since = std::min(others_since, d->second.at);
    }
  }
  retirement_.observe_writers(registry_.summary(), self_id_, now, [&](const std::string& id) -> std::optional<Absence> {
    if (std::find(live.begin(), live.end(), id) != live.end()) return std::nullopt;
    auto nid = bus::NodeId::from_bytes(id);
    const auto* m = nid ? cluster_.membership().find(*nid) : nullptr;
    if (m && m->state == discovery::MemberState::left) return Absence::left;
    if (auto name = names_.find(id); name != names_.end() && live_names.count(name->second)) return Absence::superseded;
    return Absence::down;  // down, or never heard of
  }, others_complete ? &others : nullptr, others_since);
  if (auto due = retirement_.take_due(now); !due.empty()) {
    const auto folded = registry_.retire(due);
    stats_.clock_ids_retired += due.size();
    std::string who;
    for (const auto& id : due) {
      who += (who.empty() ? "" : ", ") + member_name(id);
      names_.erase(id);
    }
    cluster_.log().info("[tracker] retired {} gone writers from the clocks ({}): {} stored versions folded", due.size(),
                        who, folded);
  }
  if (auto expired = retirement_.take_expired(now); !expired.empty()) registry_.forget_retired(expired);
}

TrackerStats Tracker::stats() const {
  TrackerStats s = stats_;
  s.clock_ids = registry_.summary().size();
  return s;
}

void Tracker::request_sync(const bus::NodeId& peer, bool owned) {
  // A whole replica, once wanted, is not narrowed to a part until it came.
  if (owned && resync_.is_owed(peer) && !owned_only_.count(peer)) owned = false;
  if (owned) owned_only_.insert(peer);
  else owned_only_.erase(peer);
  const bool first = !resync_.is_owed(peer);  // no pass from before this one can answer it
  if (!resync_.want(peer, clock_.now())) return;
  cluster_.send(peer, MessageType::sync_request, wire::encode(wire::SyncRequest{true, owned}));
  // The replica it sends is made after this: it holds all that digest names.
  if (auto d = last_digest_.find(peer); first && !owned && d != last_digest_.end())
    asked_at_.try_emplace(peer, d->second.clock);
}

void Tracker::on_worker_exit(const workers::ExitInfo& exit) {
  using R = workers::ExitReason;
  if (exit.reason == R::handoff || exit.reason == R::conflict || exit.reason == R::stopped) return;
  auto e = registry_.lookup(exit.name);
  if (!e || e->owner != self_id_ || e->worker != exit.id) return;
  cluster_.log().warn("[tracker] {} exited ({}{}{}); unregistering it", exit.name,
                      workers::exit_reason_name(exit.reason), exit.detail.empty() ? "" : ": ", exit.detail);
  if (auto tomb = registry_.remove(exit.name, self_id_)) publish(*tomb);
}

void Tracker::forget_sync(const bus::NodeId& peer) {
  asked_at_.erase(peer);
  streams_live_.erase(peer);
  holed_.erase(peer);
  owned_only_.erase(peer);
  resync_.forget(peer);
  if (whole_replica_ || !primary_ || *primary_ != peer) return;
  primary_.reset();
  // Another live stream gives the whole replica instead (or the next to start).
  if (!streams_live_.empty()) {
    primary_ = *streams_live_.begin();
    request_sync(*primary_);
  }
}

Clock::time_point Tracker::next_deadline() const {
  auto next = std::min(next_reconcile_, next_digest_);
  // Requests, partial handoffs, owed snapshots, a leave and handoffs whose
  // worker has not answered yet are looked at on the 10 ms housekeeping
  // cadence while there are any.
  bool preparing = false;
  for (const auto& [name, h] : handoffs_) preparing |= !h.prepared && !h.abandoned;
  if (requests_.size() > 0 || assembler_.partial() > 0 || resync_.owes_any() || leaving_ || preparing ||
      !merges_.empty())
    next = std::min(next, std::max(next_housekeeping_, clock_.now()));
  // A chunk to merge or to pack goes next turn; a refused one after a pause.
  if (!chunks_in_.empty() || (snapshots_.busy() && !snapshots_.blocked())) next = clock_.now();
  else if (snapshots_.busy()) next = std::min(next, clock_.now() + std::chrono::milliseconds(5));
  if (resume_at_) next = std::min(next, *resume_at_);
  return next;
}

void Tracker::tick() {
  auto now = clock_.now();
  // Replicas in and out, a chunk a turn each.
  if (!chunks_in_.empty()) merge_chunk();
  if (snapshots_.busy()) {
    auto served = snapshots_.step([this](const bus::NodeId& peer, const std::string& chunk, uint64_t more) {
      return cluster_.send(peer, MessageType::sync_snapshot, chunk, more);
    });
    for (const auto& peer : served) rebalance_to(peer);
  }
  if (resume_at_ && !quorum_lost_ && (now >= *resume_at_ || !resync_.owes_any())) resume_parked();
  if (now >= next_reconcile_) {
    next_reconcile_ = now + opts_.reconcile_interval;
    reconcile();
  }
  if (now >= next_digest_) {
    next_digest_ = now + std::chrono::duration_cast<Clock::duration>(opts_.digest_interval) *
                             static_cast<Clock::duration::rep>(discovery::stretch_for(
                                 cluster_.membership().alive_count() + 1, discovery::kDigestsPerInterval));
    retire_writers();
    cluster_.publish(MessageType::digest, registry::encode(registry_.summary()));
    registry_.collect_garbage(live_ids(), self_id_);
  }
  // The loop calls tick() after every wake-up, i.e. after every frame; the
  // scans below are O(pending), so they run on a 10 ms cadence, not per frame.
  if (now < next_housekeeping_) return;
  next_housekeeping_ = now + std::chrono::milliseconds(10);
  // A worker that does not answer its handoff in time keeps its name: the
  // offer is not sent (send_offer restarts it here if it stopped meanwhile).
  std::vector<std::string> late;
  for (auto& [name, h] : handoffs_)
    if (!h.prepared && !h.abandoned && now >= h.deadline) {
      h.abandoned = "the worker did not answer begin_handoff in time";
      h.late = true;
      late.push_back(name);
    }
  std::vector<uint64_t> due_merges;
  for (const auto& [id, p] : merges_)
    if (!p.in_flight && now >= p.next_try) due_merges.push_back(id);
  for (auto id : due_merges) try_merge(id);
  // Their messages wait no longer: they go to the worker, behind its handoff.
  for (const auto& name : late) {
    auto buffered = std::move(handoffs_[name].buffered);
    handoffs_[name].buffered.clear();
    for (auto& b : buffered) deliver(name, b.kind, std::move(b.message), 0, std::move(b.done));
  }
  requests_.expire(now);
  check_leave_done();
  for (const auto& sender : assembler_.expire(now))
    cluster_.log().warn("[tracker] dropped a partial handoff from {}: its parts stopped coming",
                        member_name(sender.bytes()));
  for (const auto& peer : resync_.owed()) {
    const auto* m = cluster_.membership().find(peer);
    if (!m || m->state == discovery::MemberState::down || m->state == discovery::MemberState::left)
      resync_.forget(peer);
    else
      request_sync(peer, owned_only_.count(peer) > 0);
  }
}

}  // namespace zswarm::names
