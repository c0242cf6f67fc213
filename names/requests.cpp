#include "names/requests.hpp"

#include <vector>

namespace zswarm::names {

void Requests::add(uint64_t corr, const bus::NodeId& target, Clock::time_point deadline, Done done, Retry retry) {
  pending_[corr] = Pending{deadline, target, std::move(done), std::move(retry)};
}

bool Requests::complete(uint64_t corr, Result<std::string, Error> r) {
  auto it = pending_.find(corr);
  if (it == pending_.end()) return false;
  // Out of the table first: done() may start new requests.
  auto done = std::move(it->second.done);
  pending_.erase(it);
  done(std::move(r));
  return true;
}

std::size_t Requests::expire(Clock::time_point now) {
  std::vector<uint64_t> expired;
  for (const auto& [corr, p] : pending_)
    if (now >= p.deadline) expired.push_back(corr);
  for (uint64_t corr : expired) complete(corr, fail(Error{Errc::timeout, "no answer in time"}));
  return expired.size();
}

std::size_t Requests::target_gone(const bus::NodeId& target, const std::string& why) {
  if (target.nil()) return 0;
  std::vector<uint64_t> stuck;
  for (const auto& [corr, p] : pending_)
    if (p.target == target) stuck.push_back(corr);
  for (uint64_t corr : stuck) {
    auto p = std::move(pending_[corr]);
    pending_.erase(corr);
    if (p.retry) p.retry();
    else p.done(fail(Error{Errc::node_down, why}));
  }
  return stuck.size();
}

}  // namespace zswarm::names
