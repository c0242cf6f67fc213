// DecodeError: why a registry wire value (vector clock, entry, snapshot) was
// rejected, or why a locally built entry would be. Decoders return it in a
// zswarm::Result; they never throw and never crash on hostile input.
//
// A plain value type: thread-safe to copy and share.
#pragma once

#include <string>
#include <string_view>

namespace zswarm::registry {

enum class DecodeErrc {
  malformed,       // not msgpack, truncated, or nested too deep
  trailing_bytes,  // a valid value followed by garbage
  wrong_type,      // e.g. a string where an array was expected
  missing_field,   // a required map key is absent
  duplicate,       // a key or clock id given twice, or clock ids not ascending
  too_large,       // a size limit is exceeded (see the kMax* constants)
  invalid_value,   // well-typed but not allowed (empty name, zero counter)
};

struct DecodeError {
  DecodeErrc code = DecodeErrc::malformed;
  // Which field or part failed; always a string literal, so copying is free.
  std::string_view where = "";
};

std::string_view to_string(DecodeErrc code);
// "wrong_type at entry.clock" style text for logs.
std::string to_string(const DecodeError& error);

}  // namespace zswarm::registry
