#include "registry/vector_clock.hpp"

#include <algorithm>

#include "registry/wire_util.hpp"

namespace zswarm::registry {

namespace {

using Pair = std::pair<std::string, VectorClock::Counter>;

// First pair whose id is not less than node.
auto find_slot(std::vector<Pair>& v, std::string_view node) {
  return std::lower_bound(v.begin(), v.end(), node,
                          [](const Pair& p, std::string_view id) { return p.first < id; });
}

}  // namespace

std::string_view to_string(Order order) {
  switch (order) {
    case Order::before: return "before";
    case Order::after: return "after";
    case Order::equal: return "equal";
    case Order::concurrent: return "concurrent";
  }
  return "unknown";
}

VectorClock::VectorClock(std::initializer_list<std::pair<std::string, Counter>> init) {
  for (const auto& [id, counter] : init) {
    if (counter == 0) continue;
    auto it = find_slot(entries_, id);
    if (it != entries_.end() && it->first == id) {
      it->second = std::max(it->second, std::min(counter, kMaxCounter));
    } else {
      entries_.insert(it, {id, std::min(counter, kMaxCounter)});
    }
  }
}

VectorClock::Counter VectorClock::get(std::string_view node) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), node,
                             [](const Pair& p, std::string_view id) { return p.first < id; });
  return it != entries_.end() && it->first == node ? it->second : 0;
}

void VectorClock::increment(std::string_view node) { increment(node, 0); }

void VectorClock::increment(std::string_view node, Counter dot) {
  auto it = find_slot(entries_, node);
  if (it == entries_.end() || it->first != node) {
    it = entries_.insert(it, {std::string(node), 0});
  }
  const Counter next = it->second < kMaxCounter ? it->second + 1 : kMaxCounter;
  it->second = std::min(std::max(next, dot), kMaxCounter);
}

void VectorClock::raise(std::string_view node, Counter counter) {
  if (counter == 0) return;
  auto it = find_slot(entries_, node);
  if (it == entries_.end() || it->first != node) it = entries_.insert(it, {std::string(node), 0});
  it->second = std::max(it->second, std::min(counter, kMaxCounter));
}

void VectorClock::drop(std::string_view node) {
  auto it = find_slot(entries_, node);
  if (it != entries_.end() && it->first == node) entries_.erase(it);
}

void VectorClock::merge(const VectorClock& other) {
  // In place: merging a version's small clock into a replica summary is the
  // hot case, and an id this clock lacks is rare, so no buffer is rebuilt.
  auto hint = entries_.begin();
  for (const auto& [id, counter] : other.entries_) {
    hint = std::lower_bound(hint, entries_.end(), id,
                            [](const Pair& p, const std::string& key) { return p.first < key; });
    if (hint != entries_.end() && hint->first == id) {
      hint->second = std::max(hint->second, counter);
    } else {
      hint = entries_.insert(hint, {id, counter});
    }
  }
}

Order VectorClock::compare(const VectorClock& other) const {
  auto read = [](const Pair& p) { return std::pair<std::string_view, Counter>(p.first, p.second); };
  return detail::compare_dots(entries_, other.entries_, read, read);
}

bool VectorClock::dominates(const VectorClock& other) const {
  const Order o = compare(other);
  return o == Order::after || o == Order::equal;
}

VectorClock::Counter VectorClock::sum() const {
  Counter total = 0;
  for (const auto& [id, counter] : entries_) total += counter;
  return total;
}

VectorClock::Counter VectorClock::max() const {
  Counter top = 0;
  for (const auto& [id, counter] : entries_) top = std::max(top, counter);
  return top;
}

VectorClock merge(VectorClock a, const VectorClock& b) {
  a.merge(b);
  return a;
}

void pack(msgpack::packer<msgpack::sbuffer>& packer, const VectorClock& clock) {
  packer.pack_array(static_cast<std::uint32_t>(clock.entries().size()));
  for (const auto& [id, counter] : clock.entries()) detail::pack_dot(packer, id, counter);
}

void detail::pack_dot(msgpack::packer<msgpack::sbuffer>& packer, std::string_view id, VectorClock::Counter counter) {
  packer.pack_array(2);
  packer.pack_bin(static_cast<std::uint32_t>(id.size()));
  packer.pack_bin_body(id.data(), static_cast<std::uint32_t>(id.size()));
  packer.pack_uint64(counter);
}

std::string encode(const VectorClock& clock) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  pack(packer, clock);
  return std::string(buffer.data(), buffer.size());
}

Result<VectorClock, DecodeError> vector_clock_from_object(const msgpack::object& object) {
  using detail::error;
  if (object.type != msgpack::type::ARRAY) return error(DecodeErrc::wrong_type, "clock");
  const auto& array = object.via.array;
  if (array.size > VectorClock::kMaxEntries) return error(DecodeErrc::too_large, "clock");
  VectorClock clock;
  clock.entries_.reserve(array.size);
  for (std::uint32_t i = 0; i < array.size; ++i) {
    const msgpack::object& pair = array.ptr[i];
    if (pair.type != msgpack::type::ARRAY || pair.via.array.size != 2) {
      return error(DecodeErrc::wrong_type, "clock.pair");
    }
    auto id = detail::read_bin(pair.via.array.ptr[0], VectorClock::kMaxIdBytes, "clock.id");
    if (!id) return fail(id.error());
    auto counter = detail::read_uint(pair.via.array.ptr[1], "clock.counter");
    if (!counter) return fail(counter.error());
    if (id->empty()) return error(DecodeErrc::invalid_value, "clock.id");
    if (*counter == 0 || *counter > VectorClock::kMaxCounter) {
      return error(DecodeErrc::invalid_value, "clock.counter");
    }
    // Canonical form only: strictly ascending ids (this also rules out repeats).
    if (!clock.entries_.empty() && !(clock.entries_.back().first < *id)) {
      return error(DecodeErrc::duplicate, "clock.id");
    }
    clock.entries_.emplace_back(std::move(id).value(), *counter);
  }
  return clock;
}

Result<VectorClock, DecodeError> decode_vector_clock(std::string_view bytes) {
  auto handle = detail::unpack_one(bytes, 4, VectorClock::kMaxEntries);
  if (!handle) return fail(handle.error());
  return vector_clock_from_object(handle->get());
}

}  // namespace zswarm::registry
