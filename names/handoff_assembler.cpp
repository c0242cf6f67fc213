#include "names/handoff_assembler.hpp"

namespace zswarm::names {

void HandoffAssembler::drop(std::map<Key, Partial>::iterator it) {
  bytes_ -= cost(it->second);
  partial_.erase(it);
}

std::size_t HandoffAssembler::partial_from(const bus::NodeId& sender) const {
  std::size_t n = 0;
  for (auto it = partial_.lower_bound({sender, 0}); it != partial_.end() && it->first.first == sender; ++it) ++n;
  return n;
}

Result<std::optional<HandoffAssembler::Whole>, Error> HandoffAssembler::add(const bus::NodeId& sender, uint64_t corr,
                                                                           wire::HandoffOffer part,
                                                                           Clock::time_point deadline) {
  if (part.parts == 1) return std::optional<Whole>(Whole{std::move(part.entry), std::move(part.kind), std::move(part.state)});
  const Key key{sender, corr};
  auto it = partial_.find(key);
  if (part.part == 0 && it == partial_.end()) {
    const std::size_t first_cost = part.entry.size() + part.kind.size();
    if (partial_from(sender) >= limits_.max_partial_per_sender || bytes_ + first_cost > limits_.max_total_bytes)
      return fail(Error{Errc::too_large, "too many partial handoff offers at once"});
    it = partial_.emplace(key, Partial{std::move(part.entry), std::move(part.kind), {}, part.parts, 0, deadline}).first;
    bytes_ += first_cost;
  }
  if (it == partial_.end() || part.part != it->second.next || part.parts != it->second.parts) {
    if (it != partial_.end()) drop(it);
    return fail(Error{Errc::bad_message, "handoff_offer part out of order"});
  }
  Partial& p = it->second;
  if (p.state.size() + part.state.size() > limits_.max_state_bytes ||
      bytes_ + part.state.size() > limits_.max_total_bytes) {
    drop(it);
    return fail(Error{Errc::too_large, "handoff state over max_handoff_state_bytes, or too many at once"});
  }
  p.state += part.state;
  bytes_ += part.state.size();
  p.deadline = deadline;  // the parts still come: give the next one its time
  if (++p.next < p.parts) return std::optional<Whole>();
  bytes_ -= cost(p);
  Whole whole{std::move(p.entry), std::move(p.kind), std::move(p.state)};
  partial_.erase(it);
  return std::optional<Whole>(std::move(whole));
}

std::vector<bus::NodeId> HandoffAssembler::expire(Clock::time_point now) {
  std::vector<bus::NodeId> senders;
  for (auto it = partial_.begin(); it != partial_.end();) {
    auto next = std::next(it);
    if (now >= it->second.deadline) {
      senders.push_back(it->first.first);
      drop(it);
    }
    it = next;
  }
  return senders;
}

}  // namespace zswarm::names
