// Ref: the text that names one running worker, `name@host/RUN.ID` (protocol.md
// §5.2). RUN is the first 8 hex digits of the owner's node id, which every
// start of a node draws anew; ID is the owner supervisor's worker id, never
// reused within a run. A REF therefore stops naming anything once its worker
// stops, moves or its node restarts: it is never current again. Value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zswarm::names {

struct Ref {
  std::string node;  // name@host of the owner
  std::string run;   // 8 lower-case hex digits: the owner's node id, abridged
  uint64_t worker = 0;

  friend bool operator==(const Ref& a, const Ref& b) {
    return a.node == b.node && a.run == b.run && a.worker == b.worker;
  }
};

inline constexpr std::size_t kRunDigits = 8;
inline constexpr std::size_t kMaxRefBytes = 256 + 1 + kRunDigits + 1 + 20;

// The RUN of an owner id (its raw bytes; a shorter id gives fewer digits).
std::string run_of(std::string_view owner_id);
std::string format_ref(std::string_view node, std::string_view owner_id, uint64_t worker);
std::string format_ref(const Ref& r);
// nullopt unless `text` is exactly what format_ref writes: a non-empty node,
// '/', 8 lower-case hex digits, '.', and a decimal ID of 1..20 digits without
// leading zeros that fits in 64 bits and is not 0.
std::optional<Ref> parse_ref(std::string_view text);

}  // namespace zswarm::names
