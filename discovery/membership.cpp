#include "discovery/membership.hpp"

#include <algorithm>

namespace zswarm::discovery {

std::string_view to_string(MemberState s) {
  switch (s) {
    case MemberState::alive: return "alive";
    case MemberState::suspect: return "suspect";
    case MemberState::down: return "down";
    case MemberState::left: return "left";
  }
  return "?";
}

Membership::Membership(const Clock& clock, bus::NodeId self, FailureDetectorOptions opts)
    : clock_(clock), self_(self), opts_(opts) {}

void Membership::set_state(Member& m, MemberState s, MembershipEvent::Kind k, std::string reason,
                           MembershipEvents& out) {
  m.state = s;
  m.state_since = clock_.now();
  out.push_back({k, m, std::move(reason)});
}

void Membership::on_beacon(const Beacon& b, const std::string& source_ip, MembershipEvents& out) {
  if (b.id == self_) return;
  if (b.leaving) {
    on_goodbye(b.id, out);
    return;
  }
  auto now = clock_.now();
  auto it = members_.find(b.id);
  if (it != members_.end()) {
    Member& m = it->second;
    if (m.state == MemberState::left) return;  // a goodbye is final for an incarnation
    m.last_heard = now;
    if (m.state == MemberState::down) {
      m.endpoint = {source_ip, b.pub_port, b.router_port, b.curve_key};
      set_state(m, MemberState::alive, MembershipEvent::up, "reachable again", out);
    } else if (m.state == MemberState::suspect) {
      set_state(m, MemberState::alive, MembershipEvent::recovered, "beacon", out);
    }
    return;
  }
  // Same name, other id: a restart (higher incarnation) or a stale beacon.
  for (auto old = members_.begin(); old != members_.end(); ++old) {
    if (old->second.name != b.name) continue;
    if (old->second.incarnation >= b.incarnation) return;  // old news, or a name clash
    Member gone = old->second;
    members_.erase(old);
    if (gone.state == MemberState::alive || gone.state == MemberState::suspect) {
      gone.state = MemberState::down;
      out.push_back({MembershipEvent::down, gone, "restarted as a new incarnation"});
    }
    break;
  }
  Member m;
  m.id = b.id;
  m.name = b.name;
  m.incarnation = b.incarnation;
  m.endpoint = {source_ip, b.pub_port, b.router_port, b.curve_key};
  m.observer = b.observer;
  m.protocol = b.protocol;
  m.last_heard = now;
  auto& stored = members_.emplace(b.id, std::move(m)).first->second;
  set_state(stored, MemberState::alive, MembershipEvent::up, "beacon", out);
}

void Membership::on_heard(const bus::NodeId& id, MembershipEvents& out) {
  auto it = members_.find(id);
  if (it == members_.end()) return;
  Member& m = it->second;
  if (m.state == MemberState::down || m.state == MemberState::left) return;  // only a beacon revives
  m.last_heard = clock_.now();
  if (m.state == MemberState::suspect) set_state(m, MemberState::alive, MembershipEvent::recovered, "answered", out);
}

void Membership::on_link_down(const bus::NodeId& id, MembershipEvents& out) {
  auto it = members_.find(id);
  if (it == members_.end() || it->second.state != MemberState::alive) return;
  set_state(it->second, MemberState::suspect, MembershipEvent::suspect, "connection lost", out);
}

void Membership::on_goodbye(const bus::NodeId& id, MembershipEvents& out) {
  auto it = members_.find(id);
  if (it == members_.end()) return;
  Member& m = it->second;
  if (m.state == MemberState::left) return;
  set_state(m, MemberState::left, MembershipEvent::left, "goodbye", out);
}

Clock::time_point Membership::next_deadline() const {
  // tick() compares with '>': one clock tick past each limit.
  constexpr auto kPast = Clock::duration(1);
  auto next = Clock::time_point::max();
  for (const auto& [id, m] : members_) {
    if (m.state == MemberState::alive) next = std::min(next, m.last_heard + opts_.suspect_after + kPast);
    if (m.state == MemberState::suspect)
      next = std::min(next, std::max(m.state_since, m.last_heard) + opts_.probe_timeout + kPast);
  }
  return next;
}

void Membership::tick(MembershipEvents& out) {
  auto now = clock_.now();
  for (auto& [id, m] : members_) {
    if (m.state == MemberState::alive && now - m.last_heard > opts_.suspect_after) {
      set_state(m, MemberState::suspect, MembershipEvent::suspect, "no heartbeat", out);
    } else if (m.state == MemberState::suspect && now - m.state_since > opts_.probe_timeout &&
               now - m.last_heard > opts_.probe_timeout) {
      set_state(m, MemberState::down, MembershipEvent::down, "no answer to probe", out);
    }
  }
}

const Member* Membership::find(const bus::NodeId& id) const {
  auto it = members_.find(id);
  return it == members_.end() ? nullptr : &it->second;
}

const Member* Membership::find_by_name(const std::string& name) const {
  const Member* best = nullptr;
  for (const auto& [id, m] : members_)
    if (m.name == name && (!best || m.incarnation > best->incarnation)) best = &m;
  return best;
}

std::vector<Member> Membership::members() const {
  std::vector<Member> v;
  v.reserve(members_.size());
  for (const auto& [id, m] : members_) v.push_back(m);
  std::sort(v.begin(), v.end(), [](const Member& a, const Member& b) {
    return a.name != b.name ? a.name < b.name : a.incarnation < b.incarnation;
  });
  return v;
}

std::vector<bus::NodeId> Membership::alive() const {
  std::vector<bus::NodeId> v;
  for (const auto& [id, m] : members_)
    if (m.state == MemberState::alive || m.state == MemberState::suspect) v.push_back(id);
  return v;
}

}  // namespace zswarm::discovery
