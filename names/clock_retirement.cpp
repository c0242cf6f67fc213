#include "names/clock_retirement.hpp"

#include <algorithm>

namespace zswarm::names {

void ClockRetirement::observe(const std::string& id, std::optional<Absence> absence, Clock::time_point now) {
  if (!absence) {
    absent_.erase(id);
    return;
  }
  if (retired_.count(id)) return;
  auto [it, fresh] = absent_.try_emplace(id, Absent{now, *absence});
  // left and superseded are proof the id is over; down only a guess.
  if (!fresh && *absence != Absence::down) it->second.why = *absence;
}

void ClockRetirement::observe_writers(const registry::VectorClock& summary, std::string_view self,
                                      Clock::time_point now,
                                      const std::function<std::optional<Absence>(const std::string&)>& absence,
                                      const std::vector<const registry::VectorClock*>* others,
                                      Clock::time_point others_since) {
  for (const auto& [id, counter] : summary.entries()) {
    if (id == registry::VectorClock::kRetired || id == self) continue;
    auto why = absence(id);
    auto seen = absent_.find(id);
    if (why == Absence::down && others && !others->empty() && seen != absent_.end() && seen->second.since < others_since &&
        std::none_of(others->begin(), others->end(), [&](const registry::VectorClock* d) { return d->get(id) > 0; }))
      why = Absence::superseded;
    observe(id, why, now);
  }
}

std::vector<std::string> ClockRetirement::take_due(Clock::time_point now) {
  std::vector<std::string> due;
  for (auto it = absent_.begin(); it != absent_.end();) {
    const auto wait = it->second.why == Absence::down ? opts_.down_after : opts_.left_after;
    if (now - it->second.since < wait) {
      ++it;
      continue;
    }
    due.push_back(it->first);
    retired_[it->first] = now;
    it = absent_.erase(it);
  }
  std::sort(due.begin(), due.end());
  return due;
}

std::vector<std::string> ClockRetirement::take_expired(Clock::time_point now) {
  const auto keep = std::max(opts_.remember, opts_.down_after);
  std::vector<std::string> expired;
  for (auto it = retired_.begin(); it != retired_.end();) {
    if (now - it->second < keep) {
      ++it;
      continue;
    }
    expired.push_back(it->first);
    it = retired_.erase(it);
  }
  std::sort(expired.begin(), expired.end());
  return expired;
}

}  // namespace zswarm::names
