#include "discovery/membership.hpp"

#include <algorithm>

namespace zswarm::discovery {

std::string_view to_string(MemberState s) {
  switch (s) {
    case MemberState::joining: return "joining";
    case MemberState::alive: return "alive";
    case MemberState::suspect: return "suspect";
    case MemberState::down: return "down";
    case MemberState::left: return "left";
  }
  return "?";
}

std::string_view to_string(BeaconVerdict v) {
  switch (v) {
    case BeaconVerdict::accepted: return "accepted";
    case BeaconVerdict::future_incarnation: return "incarnation too far in the future";
    case BeaconVerdict::own_name: return "another node claims this node's name";
    case BeaconVerdict::name_in_use: return "name held by a live member";
    case BeaconVerdict::endpoint_in_use: return "endpoint of another member";
    case BeaconVerdict::too_many_unconfirmed: return "too many unconfirmed members";
  }
  return "?";
}

namespace {
bool live(const Member& m) { return m.state == MemberState::alive || m.state == MemberState::suspect; }
}  // namespace

Membership::Membership(const Clock& clock, bus::NodeId self, FailureDetectorOptions opts, MembershipLimits limits)
    : clock_(clock), self_(self), opts_(opts), limits_(std::move(limits)) {}

void Membership::set_state(Member& m, MemberState s, MembershipEvent::Kind k, std::string reason,
                           MembershipEvents& out) {
  if (live(m)) --live_count_;
  m.state = s;
  if (live(m)) ++live_count_;
  m.state_since = clock_.now();
  deadline_.reset();
  out.push_back({k, m, std::move(reason)});
}

bool Membership::live_name(const std::string& name) const {
  for (const auto& [id, m] : members_)
    if (m.name == name && live(m)) return true;
  return false;
}

bool Membership::endpoint_taken(const bus::NodeId& by, const bus::PeerEndpoint& at) const {
  for (const auto& [id, m] : members_)
    if (id != by && (live(m) || m.confirm_by != Clock::time_point{}) && m.endpoint.host == at.host &&
        (m.endpoint.pub_port == at.pub_port || m.endpoint.router_port == at.router_port))
      return true;
  return false;
}

BeaconVerdict Membership::on_beacon(const Beacon& b, const std::string& source_ip, MembershipEvents& out) {
  if (b.id == self_) return BeaconVerdict::accepted;
  // An incarnation is a start time: one far ahead of our clock is forged (or
  // a clock gone wrong), and would outrank every honest restart.
  if (limits_.wall_ms) {
    auto skew = static_cast<uint64_t>(limits_.max_clock_skew.count());
    auto now_ms = static_cast<uint64_t>(std::max<int64_t>(0, limits_.wall_ms()));
    if (b.incarnation > now_ms + skew) return BeaconVerdict::future_incarnation;
  }
  if (b.leaving) {
    on_goodbye(b.id, out);
    return BeaconVerdict::accepted;
  }
  auto now = clock_.now();
  const auto confirm_by = now + opts_.join_timeout;
  auto it = members_.find(b.id);
  if (it != members_.end()) {
    Member& m = it->second;
    if (m.state == MemberState::left || m.state == MemberState::joining) return BeaconVerdict::accepted;
    if (m.state == MemberState::down) {
      // A healed partition, or a replay of a dead node's beacon: only its frames tell.
      if (m.confirm_by != Clock::time_point{}) return BeaconVerdict::accepted;
      if (unconfirmed() >= limits_.max_unconfirmed) return BeaconVerdict::too_many_unconfirmed;
      if (endpoint_taken(b.id, {source_ip, b.pub_port, b.router_port, {}})) return BeaconVerdict::endpoint_in_use;
      m.endpoint = {source_ip, b.pub_port, b.router_port, b.curve_key, b.probe_port};
      m.confirm_by = confirm_by;
      deadline_.reset();
      out.push_back({MembershipEvent::discovered, m, "beacon while down"});
      return BeaconVerdict::accepted;
    }
    // A beacon is no proof of life (anyone can send one): only frames refresh last_heard.
    return BeaconVerdict::accepted;
  }
  if (!limits_.self_name.empty() && b.name == limits_.self_name) return BeaconVerdict::own_name;
  // A live member keeps its name: a restart under it waits until the old one is down.
  if (live_name(b.name)) return BeaconVerdict::name_in_use;
  if (endpoint_taken(b.id, {source_ip, b.pub_port, b.router_port, {}})) return BeaconVerdict::endpoint_in_use;
  if (unconfirmed() >= limits_.max_unconfirmed) return BeaconVerdict::too_many_unconfirmed;
  Member m;
  m.id = b.id;
  m.name = b.name;
  m.incarnation = b.incarnation;
  m.endpoint = {source_ip, b.pub_port, b.router_port, b.curve_key, b.probe_port};
  m.observer = b.observer;
  m.protocol = b.protocol;
  m.state = MemberState::joining;
  m.state_since = now;
  m.confirm_by = confirm_by;
  deadline_.reset();
  auto& stored = members_.emplace(b.id, std::move(m)).first->second;
  out.push_back({MembershipEvent::discovered, stored, "beacon"});
  return BeaconVerdict::accepted;
}

void Membership::confirm(Member& m, std::string reason, MembershipEvents& out) {
  m.confirm_by = {};
  deadline_.reset();
  m.last_heard = clock_.now();
  // Whatever else claimed this name is history: an old run (down or left),
  // or another unconfirmed claimant.
  for (auto other = members_.begin(); other != members_.end();) {
    Member& o = other->second;
    if (&o == &m || o.name != m.name || live(o)) {
      ++other;
      continue;
    }
    if (o.confirm_by != Clock::time_point{}) out.push_back({MembershipEvent::dropped, o, "name taken by " + m.id.short_string()});
    other = members_.erase(other);
  }
  set_state(m, MemberState::alive, MembershipEvent::up, std::move(reason), out);
}

void Membership::on_heard(const bus::NodeId& id, MembershipEvents& out) {
  auto it = members_.find(id);
  if (it == members_.end()) return;
  Member& m = it->second;
  if (m.state == MemberState::joining) {
    // Another live member took the name meanwhile: this one must wait (and is dropped).
    if (!live_name(m.name)) confirm(m, "first frame", out);
    return;
  }
  if (m.state == MemberState::down) {
    // It still talks to us (we declared it down, it did not hear of it), or
    // its TCP stack resends what it wrote before it died (after a heal, even
    // seconds after the process exited). A hint like its beacon: probe it.
    // No such frame revives, however many follow: only the answer does.
    if (m.confirm_by == Clock::time_point{}) reprobe(m, "frame while down", out);
    return;
  }
  if (m.state == MemberState::left) return;
  m.last_heard = clock_.now();
}

void Membership::on_answer(const bus::NodeId& id, MembershipEvents& out) {
  auto it = members_.find(id);
  if (it == members_.end()) return;
  if (it->second.state == MemberState::down && it->second.confirm_by != Clock::time_point{})
    confirm(it->second, "reachable again", out);
  else
    on_heard(id, out);
}

void Membership::suspect(const bus::NodeId& id, std::string reason, MembershipEvents& out) {
  auto it = members_.find(id);
  if (it == members_.end() || it->second.state != MemberState::alive) return;
  set_state(it->second, MemberState::suspect, MembershipEvent::suspect, std::move(reason), out);
}

void Membership::refute(const bus::NodeId& id, MembershipEvents& out) {
  auto it = members_.find(id);
  if (it == members_.end() || it->second.state != MemberState::suspect) return;
  set_state(it->second, MemberState::alive, MembershipEvent::recovered, "refuted", out);
}

void Membership::declare_down(const bus::NodeId& id, std::string reason, MembershipEvents& out) {
  auto it = members_.find(id);
  if (it == members_.end() || !live(it->second)) return;
  set_state(it->second, MemberState::down, MembershipEvent::down, std::move(reason), out);
}

void Membership::revive(const bus::NodeId& id, MembershipEvents& out) {
  auto it = members_.find(id);
  if (it != members_.end() && it->second.state == MemberState::down && it->second.confirm_by == Clock::time_point{})
    reprobe(it->second, "refuted its down", out);
}

void Membership::reprobe(Member& m, const char* reason, MembershipEvents& out) {
  if (unconfirmed() >= limits_.max_unconfirmed) return;
  m.confirm_by = clock_.now() + opts_.join_timeout;
  deadline_.reset();
  out.push_back({MembershipEvent::discovered, m, reason});
}

void Membership::set_counter(const bus::NodeId& id, uint64_t counter) {
  auto it = members_.find(id);
  if (it != members_.end()) it->second.counter = std::max(it->second.counter, counter);
}

void Membership::on_peer_gone(const bus::NodeId& id, MembershipEvents& out) {
  declare_down(id, std::string(kPeerGoneReason), out);
}

void Membership::on_goodbye(const bus::NodeId& id, MembershipEvents& out) {
  auto it = members_.find(id);
  if (it == members_.end()) return;
  Member& m = it->second;
  if (m.state == MemberState::left) return;
  if (m.state == MemberState::joining) {  // never up: nothing to tell anyone
    out.push_back({MembershipEvent::dropped, m, "goodbye"});
    members_.erase(it);
    return;
  }
  m.confirm_by = {};
  deadline_.reset();
  set_state(m, MemberState::left, MembershipEvent::left, "goodbye", out);
}

Clock::time_point Membership::next_deadline() const {
  if (deadline_) return *deadline_;
  // tick() compares with '>': one clock tick past each limit.
  constexpr auto kPast = Clock::duration(1);
  auto next = Clock::time_point::max();
  for (const auto& [id, m] : members_) {
    if (m.confirm_by != Clock::time_point{}) next = std::min(next, m.confirm_by + kPast);
    if (m.state == MemberState::down || m.state == MemberState::left)
      next = std::min(next, m.state_since + limits_.down_expiry + kPast);
  }
  deadline_ = next;
  return next;
}

void Membership::tick(MembershipEvents& out) {
  auto now = clock_.now();
  // Called at every turn of the loop: nothing to do costs O(1), not O(members).
  if (now < next_deadline()) return;
  deadline_.reset();
  for (auto it = members_.begin(); it != members_.end();) {
    Member& m = it->second;
    if (m.confirm_by != Clock::time_point{} && now > m.confirm_by) {
      // Beaconed but never sent a frame: a fake, a replay, or unreachable.
      m.confirm_by = {};
      deadline_.reset();
      out.push_back({MembershipEvent::dropped, m, "no frame after its beacon"});
      if (m.state == MemberState::joining) {
        it = members_.erase(it);
        continue;
      }
    }
    if ((m.state == MemberState::down || m.state == MemberState::left) && m.confirm_by == Clock::time_point{} &&
        now - m.state_since > limits_.down_expiry) {
      it = members_.erase(it);  // its next beacon, if any, makes it a newcomer
      ++expired_;
      continue;
    }
    ++it;
  }
}

const Member* Membership::find(const bus::NodeId& id) const {
  auto it = members_.find(id);
  return it == members_.end() || it->second.state == MemberState::joining ? nullptr : &it->second;
}

const Member* Membership::find_any(const bus::NodeId& id) const {
  auto it = members_.find(id);
  return it == members_.end() ? nullptr : &it->second;
}

const Member* Membership::find_by_name(const std::string& name) const {
  const Member* best = nullptr;
  for (const auto& [id, m] : members_)
    if (m.name == name && m.state != MemberState::joining && (!best || m.incarnation > best->incarnation)) best = &m;
  return best;
}

std::vector<Member> Membership::members() const {
  std::vector<Member> v;
  v.reserve(members_.size());
  for (const auto& [id, m] : members_)
    if (m.state != MemberState::joining) v.push_back(m);
  std::sort(v.begin(), v.end(), [](const Member& a, const Member& b) {
    return a.name != b.name ? a.name < b.name : a.incarnation < b.incarnation;
  });
  return v;
}

std::vector<std::string> Membership::hosts() const {
  std::vector<std::string> v;
  v.reserve(members_.size());
  for (const auto& entry : members_) v.push_back(entry.second.endpoint.host);
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::vector<bus::NodeId> Membership::alive() const {
  std::vector<bus::NodeId> v;
  for (const auto& [id, m] : members_)
    if (live(m)) v.push_back(id);
  return v;
}

std::size_t Membership::unconfirmed() const {
  std::size_t n = 0;
  for (const auto& [id, m] : members_) n += m.confirm_by != Clock::time_point{};
  return n;
}

}  // namespace zswarm::discovery
