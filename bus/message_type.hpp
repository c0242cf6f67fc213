// The catalogue of bus message types: one number per message, shared by every
// module that speaks on the bus. docs/protocol.md describes each body.
#pragma once

#include <cstdint>
#include <string_view>

namespace zswarm::bus {

enum class MessageType : uint8_t {
  // membership (discovery/)
  heartbeat = 1,      // PUB: I am alive; carries my stream position
  goodbye = 2,        // PUB: I am leaving cleanly
  probe = 3,          // direct: are you alive?
  probe_ack = 4,      // direct: yes (or, from a helper, "it answered my probe")
  probe_request = 5,  // direct: probe this member for me (SWIM's indirect probe)
  gossip = 6,         // either: membership updates (suspect, alive, down)
  probe_nack = 7,     // direct: a helper's "it did not answer me" (Lifeguard)
  // registry (registry/, node/)
  registry_delta = 10,   // PUB: one entry changed
  sync_request = 11,     // direct: send me your full replica
  sync_snapshot = 12,    // direct: a full replica
  digest = 13,           // PUB: what I have seen (tombstone GC, drift check)
  register_request = 14,  // direct: to the name's ring owner
  register_reply = 15,
  unregister_request = 16,
  unregister_reply = 17,
  // workers
  worker_cast = 20,     // direct: a message for a named worker
  worker_call = 21,     // direct: a message that wants an answer
  worker_reply = 22,    // direct: the answer to worker_call
  handoff_offer = 23,   // direct: take over NAME with this state
  handoff_done = 24,    // direct: taken over
  conflict_state = 25,  // direct: a conflict's losing copy's state, for the winner to merge
  quarantine = 26,      // direct: your id is retired from the clocks; restart under a new one
};

// The highest type this build knows. Frames of other types (up to 255) are
// a later version's: decoded, counted and skipped (docs/protocol.md §3.4).
inline constexpr uint8_t kMaxMessageType = 26;

// Known types have names; unknown ones return "".
std::string_view to_string(MessageType t);

}  // namespace zswarm::bus
