// Envelope: the versioned frame every bus message travels in, on PUB and on
// the direct channel alike. Encoding is a msgpack array (docs/protocol.md):
//   [version, type, sender(bin 16), incarnation, seq, corr, body(bin)]
// decode() never throws and never trusts sizes it was given: a malformed frame
// is an error value the caller counts and drops. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bus/message_type.hpp"
#include "bus/node_id.hpp"
#include "zswarm/result.hpp"

namespace zswarm::bus {

inline constexpr uint8_t kProtocolVersion = 1;
// Large enough for a registry snapshot of ~1M entries; decode refuses more.
inline constexpr std::size_t kMaxFrameSize = 256u << 20;

struct Envelope {
  uint8_t version = kProtocolVersion;
  MessageType type = MessageType::heartbeat;
  NodeId sender;
  uint64_t incarnation = 0;
  uint64_t seq = 0;   // PUB stream position; 0 on the direct channel
  uint64_t corr = 0;  // request/answer correlation; 0 when none
  std::string body;   // msgpack, by type
};

enum class DecodeError {
  empty,
  too_large,
  not_msgpack,
  not_array,
  wrong_arity,
  bad_version,
  unknown_type,
  bad_field,
  trailing_bytes,
};
std::string_view to_string(DecodeError e);

std::string encode(const Envelope& e);
Result<Envelope, DecodeError> decode(std::string_view frame);

}  // namespace zswarm::bus
