// Internal helpers shared by the registry decoders: a bounded msgpack unpack
// and typed field readers that turn msgpack-cxx's exceptions and loose
// conversions into DecodeError values. Not part of the module's API.
//
// Stateless functions: thread-safe.
#pragma once

#include <msgpack.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "registry/decode_error.hpp"
#include "zswarm/result.hpp"

namespace zswarm::registry::detail {

// Unpacks exactly one msgpack value that must fill `bytes`. Each array or
// map may hold at most `max_elements` (and never more than the input length:
// each element takes at least one byte), so a forged header claiming 4
// billion elements is rejected before anything is allocated. msgpack-cxx
// allocates a header's whole element array up front (24 B per element), so
// the open containers of a hostile frame cost at most
// max_depth * max_elements * 24 B beyond ~24 B per input byte. Nesting is
// capped at `max_depth`, and the parser is iterative: no input recurses.
//
// The value's str and bin point into `bytes`, which must outlive it.
class Unpacked;
Result<Unpacked, DecodeError> unpack_one(std::string_view bytes, std::size_t max_depth,
                                         std::size_t max_elements);

// One decoded value and the zone that holds it. A zone goes back to a small
// per-thread cache when its value dies: a fresh one costs an 8 KiB malloc,
// which was most of the CPU of decoding a small body (issue 10). A cached
// zone keeps only its first chunk, so a hostile body's memory is not kept.
class Unpacked {
 public:
  Unpacked(Unpacked&& other) noexcept : zone_(std::move(other.zone_)), object_(other.object_) {}
  Unpacked& operator=(Unpacked&&) = delete;
  Unpacked(const Unpacked&) = delete;
  ~Unpacked();
  const msgpack::object& get() const { return object_; }

 private:
  friend Result<Unpacked, DecodeError> unpack_one(std::string_view, std::size_t, std::size_t);
  Unpacked(std::unique_ptr<msgpack::zone> zone, msgpack::object object) : zone_(std::move(zone)), object_(object) {}
  std::unique_ptr<msgpack::zone> zone_;
  msgpack::object object_;
};

Result<std::string, DecodeError> read_str(const msgpack::object& o, std::size_t max_bytes,
                                          std::string_view where);
Result<std::string, DecodeError> read_bin(const msgpack::object& o, std::size_t max_bytes,
                                          std::string_view where);
Result<std::uint64_t, DecodeError> read_uint(const msgpack::object& o, std::string_view where);
Result<bool, DecodeError> read_bool(const msgpack::object& o, std::string_view where);

inline Unexpected<DecodeError> error(DecodeErrc code, std::string_view where) {
  return fail(DecodeError{code, where});
}

}  // namespace zswarm::registry::detail
