// The tracker's static quorum (protocol.md §8.9). Off by default, as in
// swarm. With quorum q, a node whose side of a split has fewer than q live
// members (itself included) parks the names it runs: each worker hands its
// state over as for a handoff and stops, and nothing starts on that side.
// Once q members are back, each parked name runs here again with its state,
// or, if the other side restarted it meanwhile, its state is merged into
// that copy (merge_conflict). The side that keeps quorum restarts a down
// member's names only quorum_margin after the member went down, so that
// the minority has parked them first: a name never runs on both sides.
#include "names/tracker.hpp"

namespace zswarm::names {

std::size_t Tracker::live_members() const { return live_ids().size(); }

void Tracker::check_quorum() {
  if (opts_.quorum == 0) return;
  const std::size_t live = live_members();
  if (!quorum_lost_ && live < opts_.quorum) {
    quorum_lost_ = true;
    resume_at_.reset();
    cluster_.log().warn("[tracker] quorum lost: {} of {} members alive on this side; parking the names {} runs",
                        live, opts_.quorum, cluster_.options().name);
    park_all();
  } else if (quorum_lost_ && live >= opts_.quorum) {
    quorum_lost_ = false;
    // The replicas of the members that are back merge first (tick resumes
    // once no snapshot is owed, or after kMaxResumeWait), so that a parked
    // name finds out whether the other side runs it now.
    resume_at_ = clock_.now() + std::min<Clock::duration>(opts_.quorum_margin, kMaxResumeWait);
    cluster_.log().warn("[tracker] quorum back: {} of {} members alive; {} parked names resume once the replicas merged",
                        live, opts_.quorum, parked_.size() + parking_.size());
  }
}

void Tracker::park_all() {
  std::vector<registry::Entry> mine;
  for (const auto& [name, id] : running_here_) {
    if (parking_.count(name) || handoffs_.count(name)) continue;
    auto e = registry_.lookup(name);
    if (e && e->owner == self_id_ && e->worker == id) mine.push_back(e->entry());
  }
  for (auto& e : mine) {
    parking_.insert(e.name);
    // The worker answers after its mailbox, on the pool; messages to the
    // name fail with no_quorum from now on.
    supervisor_.begin_handoff_async(e.name, [post = post_, alive = alive_, this, e](Result<workers::Handoff, Error> h) {
      post([this, alive, e, h = std::move(h)]() mutable {
        if (*alive) parked(e.name, e, std::move(h));
      });
    });
  }
}

void Tracker::parked(const std::string& name, const registry::Entry& entry, Result<workers::Handoff, Error> h) {
  parking_.erase(name);
  running_here_.erase(name);
  Parked p{entry, std::nullopt};
  if (!h) {
    cluster_.log().warn("[tracker] parking {}: {}; stopped without its state", name, h.error().to_string());
    (void)supervisor_.stop_async(name);
  } else if (h->kind == workers::HandoffKind::ignore) {
    // It must not run on a side without quorum, whatever it prefers.
    cluster_.log().warn("[tracker] parking {}: its handoff said ignore; stopped without its state", name);
    (void)supervisor_.stop_async(name);
  } else {
    if (h->kind == workers::HandoffKind::state) p.state = std::move(h->bytes);
    cluster_.log().info("[tracker] parked {} ({}): no quorum", name, p.state ? "with its state" : "restarts from its args");
  }
  parked_[name] = std::move(p);
  if (!quorum_lost_ && !resume_at_) resume_parked();  // quorum came back before the worker answered
}

void Tracker::resume_parked() {
  resume_at_.reset();
  auto parked = std::move(parked_);
  parked_.clear();
  for (auto& [name, p] : parked) {
    auto e = registry_.lookup(name);
    if (!e) {
      cluster_.log().info("[tracker] parked {} was unregistered meanwhile; dropped", name);
      continue;
    }
    if (e->owner == self_id_ && e->worker == p.entry.worker) {
      cluster_.log().info("[tracker] resuming {} on {} (quorum back)", name, cluster_.options().name);
      run_here(p.entry, std::move(p.state), log_restart(name));
      continue;
    }
    // The other side restarted it: what this copy counted merges there.
    cluster_.log().info("[tracker] {} runs as {} now; {}", name, ref(*e),
                        p.state ? "offering it the parked state" : "the parked copy had no state");
    if (p.state) merge_into_winner(name, std::move(*p.state));
  }
}

bool Tracker::within_margin(const std::string& owner, Clock::time_point now) const {
  if (opts_.quorum == 0) return false;
  auto it = down_at_.find(owner);
  return it != down_at_.end() && now - it->second < opts_.quorum_margin;
}

}  // namespace zswarm::names
