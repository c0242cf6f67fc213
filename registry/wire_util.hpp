// Internal helpers shared by the registry decoders: a bounded msgpack unpack
// and typed field readers that turn msgpack-cxx's exceptions and loose
// conversions into DecodeError values. Not part of the module's API.
//
// Stateless functions: thread-safe.
#pragma once

#include <msgpack.hpp>

#include <cstdint>
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
Result<msgpack::object_handle, DecodeError> unpack_one(std::string_view bytes,
                                                       std::size_t max_depth,
                                                       std::size_t max_elements);

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
