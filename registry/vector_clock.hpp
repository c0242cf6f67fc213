// VectorClock: the causal version of a registry entry, one counter per node id
// (a node's 16 raw id bytes in zswarmd; treated as opaque bytes).
//
// A node bumps its own counter with a node-wide monotonic "dot" on every
// write, so a dot names one write uniquely, and the merge of every clock a
// replica has applied (its summary) tells what it has seen from each origin.
//
// Stored as a vector of (id, counter) pairs sorted by id with no zero
// counters: one canonical form, so equal clocks compare and encode equal, and
// compare/merge are one linear pass. Clocks stay small: one pair per node
// that wrote the name, and the ids of nodes gone for good are folded into
// one reserved id, kRetired, that keeps their largest counter (fold();
// protocol.md §5.4 and §8.10).
//
// Wire form: a msgpack array of [id (bin), counter (uint)] pairs, ids strictly
// ascending (byte order), counters in 1..kMaxCounter. Anything else is
// rejected by decode.
//
// A value type with no internal synchronisation: share const, copy to mutate.
#pragma once

#include <msgpack.hpp>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "registry/decode_error.hpp"
#include "zswarm/result.hpp"

namespace zswarm::registry {

enum class Order { before, after, equal, concurrent };
std::string_view to_string(Order order);

class VectorClock;
Result<VectorClock, DecodeError> vector_clock_from_object(const msgpack::object& object);

class VectorClock {
 public:
  using Counter = std::uint64_t;
  // 2^53 - 1: exact in every language's numbers, and 1024 of them sum
  // without overflowing 64 bits.
  static constexpr Counter kMaxCounter = (Counter{1} << 53) - 1;
  // Stands for every retired writer: one zero byte, which no node id
  // (16 bytes) is, and which sorts before them all.
  static constexpr std::string_view kRetired{"\0", 1};
  static constexpr std::size_t kMaxEntries = 1024;
  static constexpr std::size_t kMaxIdBytes = 256;

  VectorClock() = default;
  // For tests and literals; ids need not be sorted, zero counters are dropped,
  // a repeated id keeps the larger counter.
  VectorClock(std::initializer_list<std::pair<std::string, Counter>> init);

  // 0 when the node has no entry.
  Counter get(std::string_view node) const;
  // One more than the current value.
  void increment(std::string_view node);
  // Sets the node's counter to max(current + 1, dot): with a node-wide dot
  // counter every write gets a fresh, unique dot. Saturates at kMaxCounter.
  void increment(std::string_view node, Counter dot);
  // The node's counter becomes max(current, counter): a merge of one pair.
  void raise(std::string_view node, Counter counter);
  // Removes the node's pair, if any.
  void drop(std::string_view node);
  // Pointwise maximum (commutative, associative, idempotent).
  void merge(const VectorClock& other);

  // How *this relates to other: before means *this < other (other has seen
  // everything *this has, and more).
  Order compare(const VectorClock& other) const;
  // Every counter >= other's: compare() is after or equal.
  bool dominates(const VectorClock& other) const;
  // Sum of all counters; strictly grows along causality. Cannot overflow
  // within the limits above.
  Counter sum() const;
  // The largest counter (0 when empty): a Lamport stamp when every writer
  // draws its dots above every counter it has seen (Registry does), and
  // unchanged by fold(). Never smaller along causality.
  Counter max() const;
  // Moves the counters of every id for which retired(id) holds into
  // kRetired's pair (their maximum). Monotone: a clock that dominated
  // another still does once both are folded. Returns whether it changed.
  template <class Pred>
  bool fold(Pred retired) {
    Counter floor = 0;
    const auto gone = std::remove_if(entries_.begin(), entries_.end(), [&](const auto& p) {
      if (p.first == kRetired || !retired(std::string_view(p.first))) return false;
      floor = std::max(floor, p.second);
      return true;
    });
    if (gone == entries_.end()) return false;
    entries_.erase(gone, entries_.end());
    raise(kRetired, floor);
    return true;
  }

  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  const std::vector<std::pair<std::string, Counter>>& entries() const { return entries_; }

  friend bool operator==(const VectorClock&, const VectorClock&) = default;
  friend Result<VectorClock, DecodeError> vector_clock_from_object(const msgpack::object&);
  friend auto operator<=>(const VectorClock&, const VectorClock&) = default;

 private:
  std::vector<std::pair<std::string, Counter>> entries_;  // sorted by id
};

VectorClock merge(VectorClock a, const VectorClock& b);

namespace detail {
// VectorClock::compare over any two runs of dots sorted by id, each element
// read as (id, counter) through its projection: one linear pass.
template <class RangeA, class RangeB, class ProjA, class ProjB>
Order compare_dots(const RangeA& a_run, const RangeB& b_run, ProjA proj_a, ProjB proj_b) {
  bool less = false;     // some counter of a is below b's
  bool greater = false;  // some counter of a is above b's
  auto a = a_run.begin();
  auto b = b_run.begin();
  while ((a != a_run.end() || b != b_run.end()) && !(less && greater)) {
    if (b == b_run.end()) {
      greater = true;  // counters are never zero, so a present id beats an absent one
      ++a;
    } else if (a == a_run.end()) {
      less = true;
      ++b;
    } else {
      const auto [a_id, a_counter] = proj_a(*a);
      const auto [b_id, b_counter] = proj_b(*b);
      if (a_id < b_id) {
        greater = true;
        ++a;
      } else if (b_id < a_id) {
        less = true;
        ++b;
      } else {
        if (a_counter < b_counter) less = true;
        if (a_counter > b_counter) greater = true;
        ++a;
        ++b;
      }
    }
  }
  if (less && greater) return Order::concurrent;
  if (less) return Order::before;
  if (greater) return Order::after;
  return Order::equal;
}
}  // namespace detail

// Appends the wire form to a packer (to embed in a larger message).
void pack(msgpack::packer<msgpack::sbuffer>& packer, const VectorClock& clock);
namespace detail {
// One [id, counter] pair of the wire form.
void pack_dot(msgpack::packer<msgpack::sbuffer>& packer, std::string_view id, VectorClock::Counter counter);
}  // namespace detail
// The wire form on its own.
std::string encode(const VectorClock& clock);
// Strict decoders: bounded allocation, an error value for any bad input.
Result<VectorClock, DecodeError> decode_vector_clock(std::string_view bytes);
Result<VectorClock, DecodeError> vector_clock_from_object(const msgpack::object& object);

}  // namespace zswarm::registry
