// Transport: how a node's frames reach its peers. Two channels
// (docs/protocol.md §1): a fan-out (PUB/SUB) and a direct one (DEALER -> ROUTER).
// The node core only sees this interface, so tests can put a FaultTransport
// (loss, delay, duplicates, cuts) or an in-memory network in its place.
//
// Thread-safety: a transport belongs to one thread (the node's event loop);
// the receiver is called on that thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "bus/node_id.hpp"
#include "zswarm/clock.hpp"

namespace zswarm::bus {

struct PeerEndpoint {
  std::string host;  // IPv4 address as text
  uint16_t pub_port = 0;
  uint16_t router_port = 0;
  std::string curve_key;  // its CURVE public key (32 raw bytes); empty on an insecure bus
  uint16_t probe_port = 0;  // its UDP port for sealed datagrams (0: it takes none)
};

struct Inbound {
  enum Kind {
    published,  // from a peer's PUB; `peer` is whose PUB it came from (nil: unknown)
    direct,     // to our ROUTER; `peer` is who sent it (nil: unknown)
    link_down,  // the connection to `peer` broke (e.g. it was killed)
    // After a link_down: the peer's process is gone, its port refused a
    // connection (a host that answers, nothing listening). Silence (a lost
    // host, a cut link) never gives this; only proof does.
    peer_gone,
  } kind;
  // When not nil, the frame's sender must be this peer: on a CURVE bus it
  // is the member whose key authenticated the connection.
  NodeId peer;
  std::string frame;
};

class Transport {
 public:
  using Receiver = std::function<void(Inbound&&)>;
  virtual ~Transport() = default;

  // Subscribes to the peer's PUB and opens a direct channel to it.
  virtual void connect(const NodeId& peer, const PeerEndpoint& at) = 0;
  // Drops both, with anything still queued for the peer.
  virtual void disconnect(const NodeId& peer) = 0;
  // To every connected peer. Never blocks; may drop (PUB semantics).
  virtual void publish(std::string_view frame) = 0;
  // To one connected peer. Never blocks; false if the frame was not queued.
  virtual bool send(const NodeId& peer, std::string_view frame) = 0;
  // To one connected peer, as one datagram where the transport and the peer
  // can (bus/datagram.hpp): cheaper, but it may be lost or reordered, so
  // only for what is retried anyway (SWIM). Otherwise like send().
  virtual bool send_datagram(const NodeId& peer, std::string_view frame) { return send(peer, frame); }
  // Whether send_datagram() to the peer really is a datagram (not send()).
  virtual bool datagrams_to(const NodeId& /*peer*/) const { return false; }
  virtual void set_receiver(Receiver r) = 0;
  // Lets time-based wrappers release what they hold; the loop calls it often.
  virtual void tick(Clock::time_point /*now*/) {}
  // Whether the direct channel to the peer has come up (its handshake done)
  // since connect(): until then a probe's silence says nothing of the peer.
  virtual bool linked(const NodeId& /*peer*/) const { return true; }
};

}  // namespace zswarm::bus
