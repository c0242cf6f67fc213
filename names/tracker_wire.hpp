// Bodies of the tracker's request and answer messages (docs/protocol.md §5):
// one typed struct each, packed and unpacked with msgpack-cxx. Encoders write
// the map keys in alphabetical order (the documented bytes); decoders accept
// any order, skip keys they do not know, and run under hard limits (size,
// nesting depth, element counts), so no input can cost more than a bounded
// amount of memory or stack. A missing or mistyped field is a DecodeError,
// never a defaulted value. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "registry/decode_error.hpp"
#include "zswarm/error.hpp"
#include "zswarm/result.hpp"

namespace zswarm::names::wire {

using registry::DecodeError;

// Nesting allowed inside a request map: unknown keys may carry small values
// of a later version, but nothing deeper than this.
inline constexpr std::size_t kMaxBodyDepth = 4;
// Elements of any one array or map inside a request body.
inline constexpr std::size_t kMaxBodyElements = 64;

// 11. Empty (the version 2 form): send the whole replica. A map with
// `snapshot` false: no replica, only "I know you now" (the receiver hands the
// sender the names it owns on the ring, as after any sync_request).
struct SyncRequest {
  bool snapshot = true;  // optional on the wire (default true)
  // Optional (default false): only the versions the receiver owns, live or
  // deleted, i.e. the ones it wrote and published.
  bool owned = false;
};

struct RegisterRequest {  // 14
  std::string name;
  std::string plugin;
  std::string args;  // bytes
  uint64_t hops = 0;  // times forwarded by a node that is not the ring owner; optional on the wire
};

struct UnregisterRequest {  // 16
  std::string name;
};

struct WorkerMessage {  // 20 and 21
  std::string name;     // for the worker of this name, or
  std::string message;  // bytes, opaque
  uint64_t hops = 0;
  std::string ref;  // for this one worker, by its REF (exactly one of name and ref is set)
};

// 26. The receiver's id was retired from the cluster's clocks (gone longer
// than the horizon, or superseded by a newer run of its name): it must
// restart to rejoin under a new id.
// Two sides of a partition longer than the horizon retire each other: then
// the side with fewer live members stops (on a tie, the side without the
// smallest id), so `members` and `lowest` describe the sender's side.
struct Quarantine {
  std::string id;       // the retired id: the receiver's own (16 bytes)
  uint64_t members = 0; // live members on the sender's side, itself included
  std::string lowest;   // the smallest id among them (16 bytes)
};

// 23. A state larger than one frame travels in `parts` frames with the same
// corr; each carries the entry and kind, and its slice of the state.
struct HandoffOffer {
  std::string entry;  // an encoded registry Entry
  std::string kind;   // "state" or "restart"
  std::string state;  // this part's slice
  uint64_t part = 0;  // 0-based; optional on the wire (default 0)
  uint64_t parts = 1; // optional on the wire (default 1)
};
inline constexpr uint64_t kMaxHandoffParts = 256;  // 64 MiB of state in 256 KiB slices

std::string encode(const SyncRequest& m);
std::string encode(const RegisterRequest& m);
std::string encode(const UnregisterRequest& m);
std::string encode(const WorkerMessage& m);
// The same bytes, packed from views with one allocation (the hot path).
std::string encode_worker_message(std::string_view name, std::string_view message, uint64_t hops);
// The same for one worker by its REF: the keys `hops`, `message`, `ref`.
std::string encode_worker_ref_message(std::string_view ref, std::string_view message, uint64_t hops);
std::string encode(const HandoffOffer& m);
std::string encode(const Quarantine& m);

Result<SyncRequest, DecodeError> decode_sync_request(std::string_view body, uint64_t* unknown_fields = nullptr);
Result<RegisterRequest, DecodeError> decode_register_request(std::string_view body,
                    uint64_t* unknown_fields = nullptr);
Result<UnregisterRequest, DecodeError> decode_unregister_request(std::string_view body,
                    uint64_t* unknown_fields = nullptr);
Result<WorkerMessage, DecodeError> decode_worker_message(std::string_view body,
                    uint64_t* unknown_fields = nullptr);
Result<Quarantine, DecodeError> decode_quarantine(std::string_view body, uint64_t* unknown_fields = nullptr);
Result<HandoffOffer, DecodeError> decode_handoff_offer(std::string_view body,
                    uint64_t* unknown_fields = nullptr);

// Every decoder adds the keys it skipped (a later version's fields) to
// *unknown_fields when it is given.

// The answer map of 15, 17, 22 and 24: {"ok":true,"value":bin} or
// {"detail":str,"error":str,"ok":false}.
std::string encode_answer(const Result<std::string, Error>& r);
// A malformed answer reads as the error bad_message.
Result<std::string, Error> decode_answer(std::string_view body, uint64_t* unknown_fields = nullptr);

}  // namespace zswarm::names::wire
