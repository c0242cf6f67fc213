// zswarm::Node — the embeddable C++ API of a zswarm node. A Node discovers
// its peers, keeps the membership table, and serves its local control
// socket; zswarmd is a thin shell around it.
//
// Thread-safety: every public method may be called from any thread; calls
// are carried out on the node's own event-loop thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "zswarm/clock.hpp"
#include "zswarm/result.hpp"

#if defined(ZSWARM_BUILDING_NODE)
#define ZSWARM_API __attribute__((visibility("default")))
#else
#define ZSWARM_API
#endif

namespace zswarm {

struct NodeOptions {
  std::string name;                 // short name: "a"
  std::string host;                 // empty: this machine's hostname
  std::string cluster = "zswarm";   // nodes of other clusters are ignored
  // Discovery scope: loopback unless one of these says otherwise.
  std::string interface;
  std::string multicast;
  std::vector<std::string> seeds;   // "host:port"
  uint16_t beacon_port = 45670;
  std::chrono::milliseconds beacon_interval{1000};
  // Bus: 0 picks a free port, announced in the beacon.
  uint16_t pub_port = 0;
  uint16_t router_port = 0;
  // Failure detection.
  std::chrono::milliseconds heartbeat_interval{200};
  std::chrono::milliseconds suspect_after{1000};
  std::chrono::milliseconds probe_timeout{500};
  // Local control socket: <control_dir>/<cluster>/<name>.sock
  std::string control_dir;          // empty: default_control_dir()
  std::vector<std::string> plugin_path;
  std::string log_level = "info";   // trace, debug, info, warn, error, off
};

// $ZSWARM_RUNTIME_DIR, else $XDG_RUNTIME_DIR/zswarm, else /tmp/zswarm-<uid>.
ZSWARM_API std::string default_control_dir();
// The control socket's path for a node.
ZSWARM_API std::string control_socket_path(const std::string& control_dir, const std::string& cluster,
                                           const std::string& name);

struct NodeInfo {
  std::string name;  // "a@host"
  std::string id;    // 32 hex digits
  std::string cluster;
  uint64_t incarnation = 0;
  std::string bind_address;
  uint16_t pub_port = 0;
  uint16_t router_port = 0;
  std::string discovery;  // e.g. "broadcast 127.255.255.255:45670"
  std::string control_endpoint;
};

struct MemberInfo {
  std::string name;
  std::string id;
  std::string state;  // alive, suspect, down, left
  std::string address;
  uint64_t incarnation = 0;
  int64_t last_heard_ms = 0;  // age of the last frame heard; 0 for self
  bool self = false;
};

struct NodeError {
  enum Code { bad_option, bind_failed, control_socket_failed, stopped } code;
  std::string detail;
};

class ZSWARM_API Node {
 public:
  // Binds everything and starts the event loop; errors name what failed.
  static Result<std::unique_ptr<Node>, NodeError> start(NodeOptions opts,
                                                        const Clock& clock = SystemClock::instance());
  // Stops without a goodbye (peers will see this node go down).
  virtual ~Node();

  virtual NodeInfo info() const = 0;
  // Every member this node knows, itself included.
  virtual std::vector<MemberInfo> members() const = 0;
  // Says goodbye, so peers mark this node left at once, and stops.
  virtual void leave() = 0;
  // Blocks until the node stopped (after leave(), or a `leave` command).
  virtual void wait() = 0;
  virtual bool stopped() const = 0;
};

}  // namespace zswarm
