// ZAP (ZeroMQ RFC 27): the handler libzmq asks, during each CURVE handshake
// on a node's PUB and ROUTER, whether the client's public key may connect.
// Only keys that authenticated beacons announced are admitted, and the
// reply's User-Id is the member's node id (32 hex digits), which every
// frame on that connection then carries: a frame's sender is the key that
// authenticated it. Without a handler libzmq 4.3 admits any key.
//
// zap_decide() is the whole policy, a pure function over the request's
// frames (fuzzed); the transport serves it on a REP socket.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zswarm::bus {

// The ZAP domain of the bus sockets.
inline constexpr std::string_view kZapDomain = "zswarm";

struct ZapReply {
  std::string request_id;
  std::string status_code;  // "200" admitted, "400" refused
  std::string status_text;
  std::string user_id;      // the member's node id, when admitted
  // The six frames of the reply (RFC 27: version, request id, status code,
  // status text, user id, metadata).
  std::vector<std::string> frames() const;
};

// Who holds a public key (32 raw bytes): a user id, or nothing.
using KeyLookup = std::function<std::optional<std::string>(std::string_view key)>;

// The answer to one request: [version "1.0", request id, domain, address,
// routing id, mechanism, credentials...]. nullopt: too malformed to answer
// (fewer than 2 frames). Only domain "zswarm", mechanism CURVE and an
// admitted key get 200; anything else on the bus gets 400. Sockets outside
// the bus (no domain, NULL mechanism: the control socket) are not judged here.
std::optional<ZapReply> zap_decide(const std::vector<std::string>& request, const KeyLookup& admitted);

}  // namespace zswarm::bus
