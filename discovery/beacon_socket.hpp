// BeaconSocket: the UDP socket beacons travel on, and the discovery scope
// that decides where they go:
//   loopback (default)  broadcast to 127.255.255.255; never leaves the host
//   interface IFACE     that interface's subnet broadcast
//   multicast GROUP     an IPv4 multicast group, on IFACE, else on the
//                       interface of the default route (no default route: refused)
//   seeds host:port,... unicast to listed hosts, for networks without broadcast
//   dns NAME            unicast to the addresses the owner resolves NAME to
//                       (given to send() as extra hosts; the socket resolves nothing)
// Several nodes on one host share the port (SO_REUSEPORT); broadcast and
// multicast reach them all. Datagrams from outside the scope are dropped.
// Not thread-safe: one owner thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <netinet/in.h>

#include "zswarm/error.hpp"
#include "zswarm/result.hpp"

namespace zswarm::discovery {

inline constexpr uint16_t kDefaultBeaconPort = 45670;

// The interface of the IPv4 default route in a /proc/net/route table (its text):
// the up route with destination and mask 0 and the lowest metric; none: nullopt.
std::optional<std::string> default_route_interface(std::string_view proc_net_route);

struct Scope {
  std::string interface;           // empty: loopback
  std::string multicast_group;     // empty: broadcast
  std::vector<std::string> seeds;  // "host:port"; when set, unicast to these
  uint16_t port = kDefaultBeaconPort;
  std::string dns;                 // non-empty: unicast to send()'s extra hosts only
};

struct Datagram {
  std::string bytes;
  std::string source_ip;
  uint16_t source_port = 0;
};

class BeaconSocket {
 public:
  // Resolves the scope and binds. bind_failed, whose detail names what was wrong
  // (unknown interface, bad group, unparsable seed, port in use, ...).
  static Result<BeaconSocket, Error> open(const Scope& scope);

  BeaconSocket(BeaconSocket&& o) noexcept;
  BeaconSocket& operator=(BeaconSocket&& o) noexcept;
  ~BeaconSocket();

  int fd() const { return fd_; }
  // Where the node's bus should bind: inside the scope, never wider (seeds
  // off this host or dns, without an interface: 0.0.0.0, since peers may be anywhere).
  const std::string& bind_address() const { return bind_address_; }
  // Short text for logs: "broadcast 127.255.255.255:45670".
  std::string describe() const;

  // To everyone in scope; in seeds and dns mode also to `extra` (known peers, resolved addresses).
  void send(std::string_view datagram, const std::vector<std::string>& extra_hosts = {});
  // One pending datagram, or nothing (non-blocking). Drops out-of-scope ones.
  std::optional<Datagram> receive();
  uint64_t out_of_scope() const { return out_of_scope_; }

 private:
  BeaconSocket() = default;
  bool in_scope(const sockaddr_in& from) const;
  void send_to(const sockaddr_in& to, std::string_view datagram);

  int fd_ = -1;
  Scope scope_;
  std::string picked_interface_;  // multicast without --interface: the default route's
  std::string bind_address_;
  std::vector<sockaddr_in> targets_;
  in_addr net_{}, mask_{};  // accepted sources
  uint64_t out_of_scope_ = 0;
};

}  // namespace zswarm::discovery
