#include "registry/hash_ring.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

#include "registry/hash.hpp"

namespace zswarm::registry {

HashRing::HashRing(std::uint32_t vnodes, PlacementFilter filter)
    : vnodes_(std::max<std::uint32_t>(vnodes, 1)), filter_(std::move(filter)) {}

bool HashRing::add_member(std::string_view id, std::string_view name) {
  auto it = std::lower_bound(members_.begin(), members_.end(), id,
                             [](const Member& m, std::string_view key) { return m.id < key; });
  const auto at = static_cast<std::uint32_t>(it - members_.begin());
  if (it != members_.end() && it->id == id) {
    if (it->name == name) return false;
    drop_points(at, false);
    it->name = std::string(name);
  } else {
    members_.insert(it, Member{std::string(id), std::string(name), false});
    shift_owners(at, +1);
  }
  add_points(at);
  return true;
}

bool HashRing::remove_member(std::string_view id) {
  auto it = std::lower_bound(members_.begin(), members_.end(), id,
                             [](const Member& m, std::string_view key) { return m.id < key; });
  if (it == members_.end() || it->id != id) return false;
  drop_points(static_cast<std::uint32_t>(it - members_.begin()), true);
  members_.erase(it);
  return true;
}

void HashRing::shift_owners(std::uint32_t from, int by) {
  for (auto& o : owners_)
    if (o >= from) o = static_cast<std::uint32_t>(static_cast<int>(o) + by);
}

void HashRing::drop_points(std::uint32_t member, bool erased) {
  std::size_t k = 0;
  for (std::size_t i = 0; i < points_.size(); ++i) {
    if (owners_[i] == member) continue;
    points_[k] = points_[i];
    owners_[k] = erased && owners_[i] > member ? owners_[i] - 1 : owners_[i];
    ++k;
  }
  points_.resize(k);
  owners_.resize(k);
}

void HashRing::add_points(std::uint32_t member) {
  Member& m = members_[member];
  m.eligible = filter_.eligible(m.name);
  if (!m.eligible) return;
  std::vector<std::uint64_t> mine(vnodes_);
  for (std::uint32_t v = 0; v < vnodes_; ++v) mine[v] = hash64(m.name, v);
  std::sort(mine.begin(), mine.end());
  // Merged in the order rebuild() sorts by, (hash, member): the same ring
  // as a rebuild from scratch, at O(points) instead of O(points log points).
  std::vector<std::uint64_t> points;
  std::vector<std::uint32_t> owners;
  points.reserve(points_.size() + mine.size());
  owners.reserve(points_.size() + mine.size());
  std::size_t i = 0, j = 0;
  while (i < points_.size() || j < mine.size()) {
    const bool theirs = j == mine.size() ||
                        (i < points_.size() && std::tie(points_[i], owners_[i]) < std::tie(mine[j], member));
    points.push_back(theirs ? points_[i] : mine[j]);
    owners.push_back(theirs ? owners_[i++] : (++j, member));
  }
  points_ = std::move(points);
  owners_ = std::move(owners);
}

void HashRing::set_filter(PlacementFilter filter) {
  filter_ = std::move(filter);
  rebuild();
}

void HashRing::rebuild() {
  struct Point {
    std::uint64_t hash;
    std::uint32_t member;
  };
  std::vector<Point> points;
  points.reserve(members_.size() * vnodes_);
  for (std::uint32_t m = 0; m < members_.size(); ++m) {
    Member& member = members_[m];
    member.eligible = filter_.eligible(member.name);
    if (!member.eligible) continue;
    for (std::uint32_t v = 0; v < vnodes_; ++v) {
      points.push_back({hash64(member.name, v), m});  // by name: stable across restarts
    }
  }
  // Ties (a 64-bit collision) break on member id, which members_ is sorted
  // by: the ring is the same on every node whatever the insertion order.
  std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) {
    return std::tie(a.hash, a.member) < std::tie(b.hash, b.member);
  });
  points_.clear();
  owners_.clear();
  points_.reserve(points.size());
  owners_.reserve(points.size());
  for (const Point& p : points) {
    points_.push_back(p.hash);
    owners_.push_back(p.member);
  }
}

std::optional<std::string_view> HashRing::owner(std::string_view name) const {
  if (points_.empty()) return std::nullopt;
  const std::uint64_t h = hash64(name);
  auto it = std::lower_bound(points_.begin(), points_.end(), h);
  const std::size_t i = it == points_.end() ? 0 : static_cast<std::size_t>(it - points_.begin());
  return std::string_view(members_[owners_[i]].id);
}

const HashRing::Member* HashRing::find(std::string_view id) const {
  auto it = std::lower_bound(members_.begin(), members_.end(), id,
                             [](const Member& m, std::string_view key) { return m.id < key; });
  return it != members_.end() && it->id == id ? &*it : nullptr;
}

bool HashRing::contains(std::string_view id) const { return find(id) != nullptr; }

bool HashRing::eligible(std::string_view id) const {
  const Member* m = find(id);
  return m != nullptr && m->eligible;
}

std::size_t HashRing::eligible_count() const {
  return static_cast<std::size_t>(
      std::count_if(members_.begin(), members_.end(), [](const Member& m) { return m.eligible; }));
}

}  // namespace zswarm::registry
