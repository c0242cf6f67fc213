// Frames and envelopes: how bus messages travel, on PUB and on the direct
// channel alike (docs/protocol.md §3). A frame is a msgpack array
//   [version, sender(bin 16), incarnation, [message, ...]]
// and each message is [type, seq, corr, body(bin)]: several messages from one
// sender share a frame (batching), and the receiver handles each in order as
// an Envelope of its own. Arrays longer than that are a later version's:
// the extra fields are skipped and counted, never fatal.
//
// decode_frame() never throws and never trusts sizes it was given: a
// malformed frame is an error value, and it is rejected whole (no message of
// a cut frame is handled). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bus/message_type.hpp"
#include "bus/node_id.hpp"
#include "zswarm/result.hpp"

namespace zswarm::bus {

// The protocol versions this build speaks (docs/protocol.md §3.2). Two
// nodes talk in the highest version both speak; the beacon says the range.
struct VersionRange {
  uint8_t min = 0;
  uint8_t max = 0;
  bool contains(uint64_t v) const { return v >= min && v <= max; }
  friend bool operator==(const VersionRange&, const VersionRange&) = default;
};
inline constexpr VersionRange kSpoken{2, 2};
// The highest version both ranges contain; 0 when they do not overlap.
uint8_t common_version(VersionRange a, VersionRange b);

// Large enough for a registry snapshot of ~1M entries; decode refuses more.
inline constexpr std::size_t kMaxFrameSize = 256u << 20;
// Messages in one frame: decode refuses more. Senders batch far fewer
// (kBatchMessages, kBatchBytes), so a batch fits any receiver's frame limit.
inline constexpr std::size_t kMaxFrameMessages = 4096;
inline constexpr std::size_t kBatchMessages = 1024;
inline constexpr std::size_t kBatchBytes = 64u << 10;

// One message, with the frame fields it came in.
struct Envelope {
  uint8_t version = kSpoken.max;
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
  no_messages,
  too_many_messages,
};
std::string_view to_string(DecodeError e);

// Builds one frame of one or more messages from one sender.
class FrameBuilder {
 public:
  FrameBuilder(uint8_t version, const NodeId& sender, uint64_t incarnation);
  void add(MessageType type, uint64_t seq, uint64_t corr, std::string_view body);
  std::size_t messages() const { return count_; }
  // The frame's size so far, give or take its array headers.
  std::size_t bytes() const { return head_.size() + messages_.size(); }
  // The frame; the builder is empty (same sender, same version) after.
  std::string take();

 private:
  std::string head_;      // [version, sender, incarnation, without the message array
  std::string messages_;  // the packed messages
  std::size_t count_ = 0;
};

// A frame of one message.
std::string encode(const Envelope& e);

struct DecodedFrame {
  std::vector<Envelope> messages;  // in the order sent; never empty
  uint64_t fields_skipped = 0;     // a later version's extra fields
};
// Accepts versions in `accept` only (bad_version otherwise).
Result<DecodedFrame, DecodeError> decode_frame(std::string_view frame, VersionRange accept = kSpoken);

}  // namespace zswarm::bus
