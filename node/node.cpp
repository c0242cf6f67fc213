// The composition root: wires bus, discovery and the cluster state machine
// to real sockets and one event-loop thread, and serves the control socket.
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>

#include <zmq.hpp>

#include "bus/zmq_transport.hpp"
#include "discovery/beacon_socket.hpp"
#include "node/cluster.hpp"
#include "node/config.hpp"
#include "node/control_server.hpp"
#include "node/event_loop.hpp"
#include "node/logging.hpp"
#include "zswarm/node.hpp"

namespace zswarm {

std::string default_control_dir() {
  if (const char* d = std::getenv("ZSWARM_RUNTIME_DIR"); d && *d) return d;
  if (const char* d = std::getenv("XDG_RUNTIME_DIR"); d && *d) return std::string(d) + "/zswarm";
  return "/tmp/zswarm-" + std::to_string(::getuid());
}

std::string control_socket_path(const std::string& control_dir, const std::string& cluster,
                                 const std::string& name) {
  return (control_dir.empty() ? default_control_dir() : control_dir) + "/" + cluster + "/" + name + ".sock";
}

Node::~Node() = default;

namespace {

using Json = nlohmann::json;
using namespace std::chrono;

std::string local_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  std::string h = buf;
  return h.substr(0, h.find('.'));
}

class NodeImpl final : public Node {
 public:
  NodeImpl(NodeOptions opts, const Clock& clock, std::shared_ptr<spdlog::logger> log, discovery::BeaconSocket beacon)
      : opts_(std::move(opts)),
        clock_(clock),
        log_(std::move(log)),
        beacon_(std::move(beacon)),
        loop_(clock_, reactor_) {}

  ~NodeImpl() override { shutdown(/*goodbye=*/false); }

  Result<void, NodeError> init(const std::string& full_name) {
    self_ = bus::NodeId::random();
    incarnation_ = static_cast<uint64_t>(
        duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
    try {
      transport_ = std::make_unique<bus::ZmqTransport>(
          ctx_, reactor_,
          bus::ZmqTransportOptions{self_, beacon_.bind_address(), opts_.pub_port, opts_.router_port});
    } catch (const zmq::error_t& e) {
      return fail(NodeError{NodeError::bind_failed, std::string("bus: ") + e.what()});
    }
    node::ClusterOptions co;
    co.self = self_;
    co.name = full_name;
    co.cluster = opts_.cluster;
    co.incarnation = incarnation_;
    co.pub_port = transport_->pub_port();
    co.router_port = transport_->router_port();
    co.beacon_interval = opts_.beacon_interval;
    co.detector = {opts_.heartbeat_interval, opts_.suspect_after, opts_.probe_timeout};
    cluster_ = std::make_unique<node::Cluster>(
        clock_, *transport_, co,
        [this](const std::string& d) {
          std::vector<std::string> peers;
          if (!opts_.seeds.empty())
            for (const auto& m : cluster_->membership().members()) peers.push_back(m.endpoint.host);
          beacon_.send(d, peers);
        },
        log_);

    auto control = node::ControlServer::open(
        ctx_, reactor_, control_socket_path(opts_.control_dir, opts_.cluster, opts_.name),
        [this](const Json& req, node::ControlServer::Reply reply) { on_control(req, std::move(reply)); });
    if (!control) return fail(NodeError{NodeError::control_socket_failed, control.error()});
    control_ = std::move(control).value();

    reactor_.add_fd(beacon_.fd(), [this] {
      while (auto d = beacon_.receive()) cluster_->on_datagram(d->bytes, d->source_ip);
    });
    log_->info("[discovery] {}; bus on {} pub {} router {}; control {}", beacon_.describe(),
               beacon_.bind_address(), co.pub_port, co.router_port, control_->endpoint());
    cluster_->start();
    loop_.start([this] {
      cluster_->tick();
      return cluster_->next_deadline();
    });
    return {};
  }

  NodeInfo info() const override {
    return loop_.call([this] { return info_locked(); });
  }

  std::vector<MemberInfo> members() const override {
    return loop_.call([this] { return members_locked(); });
  }

  void leave() override {
    loop_.post([this] { begin_leave(); });
  }

  void wait() override { loop_.wait_stopped(); }
  bool stopped() const override { return !loop_.running(); }

 private:
  NodeInfo info_locked() const {
    const auto& o = cluster_->options();
    return NodeInfo{o.name,         self_.to_string(), opts_.cluster,         incarnation_,
                    beacon_.bind_address(), o.pub_port, o.router_port, beacon_.describe(),
                    control_ ? control_->endpoint() : ""};
  }

  std::vector<MemberInfo> members_locked() const {
    std::vector<MemberInfo> out;
    const auto& o = cluster_->options();
    out.push_back({o.name, self_.to_string(), "alive", beacon_.bind_address(), incarnation_, 0, true});
    auto now = clock_.now();
    for (const auto& m : cluster_->membership().members()) {
      out.push_back({m.name, m.id.to_string(), std::string(discovery::to_string(m.state)), m.endpoint.host,
                     m.incarnation, duration_cast<milliseconds>(now - m.last_heard).count(), false});
    }
    return out;
  }

  void begin_leave() {
    cluster_->leave();  // the PUB socket lingers, so the goodbye still goes out
    loop_.stop();
  }

  void on_control(const Json& req, node::ControlServer::Reply reply) {
    const std::string cmd = req["cmd"];
    if (cmd == "info") {
      NodeInfo i = info_locked();
      const auto& s = cluster_->stats();
      reply(Json{{"ok", true},
                 {"name", i.name},
                 {"id", i.id},
                 {"cluster", i.cluster},
                 {"incarnation", i.incarnation},
                 {"bind_address", i.bind_address},
                 {"pub_port", i.pub_port},
                 {"router_port", i.router_port},
                 {"discovery", i.discovery},
                 {"control", i.control_endpoint},
                 {"pid", ::getpid()},
                 {"stats",
                  {{"beacons_sent", s.beacons_sent},
                   {"beacons_received", s.beacons_received},
                   {"beacons_other_cluster", s.beacons_other_cluster},
                   {"beacons_bad_version", s.beacons_bad_version},
                   {"beacons_garbage", s.beacons_garbage},
                   {"frames_received", s.frames_received},
                   {"frames_rejected", s.frames_rejected},
                   {"sequence_gaps", s.sequence_gaps},
                   {"probes_sent", s.probes_sent}}}});
    } else if (cmd == "members") {
      Json list = Json::array();
      for (const auto& m : members_locked())
        list.push_back({{"name", m.name},
                        {"id", m.id},
                        {"state", m.state},
                        {"address", m.address},
                        {"incarnation", m.incarnation},
                        {"last_heard_ms", m.last_heard_ms},
                        {"self", m.self}});
      reply(Json{{"ok", true}, {"members", list}});
    } else if (cmd == "leave") {
      reply(Json{{"ok", true}});
      begin_leave();
    } else {
      reply(node::ControlServer::error("unknown_command", "no command '" + cmd + "'"));
    }
  }

  void shutdown(bool goodbye) {
    if (goodbye && loop_.running()) loop_.call([this] { cluster_->leave(); });
    loop_.stop();
    loop_.join();
    control_.reset();
    cluster_.reset();
    transport_.reset();
  }

 private:
  NodeOptions opts_;
  const Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  zmq::context_t ctx_;
  bus::Reactor reactor_;
  discovery::BeaconSocket beacon_;
  mutable node::EventLoop loop_;
  bus::NodeId self_;
  uint64_t incarnation_ = 0;
  std::unique_ptr<bus::ZmqTransport> transport_;
  std::unique_ptr<node::Cluster> cluster_;
  std::unique_ptr<node::ControlServer> control_;
};

}  // namespace

Result<std::unique_ptr<Node>, NodeError> Node::start(NodeOptions opts, const Clock& clock) {
  if (auto v = node::validate(opts); !v) return fail(NodeError{NodeError::bad_option, v.error()});
  if (opts.host.empty()) opts.host = local_hostname();
  std::string full_name = opts.name + "@" + opts.host;
  if (!discovery::valid_name(full_name, discovery::kMaxNodeName))
    return fail(NodeError{NodeError::bad_option, "node name '" + full_name + "' is too long or has spaces"});

  discovery::Scope scope{opts.interface, opts.multicast, opts.seeds, opts.beacon_port};
  auto beacon = discovery::BeaconSocket::open(scope);
  if (!beacon) return fail(NodeError{NodeError::bind_failed, "discovery: " + beacon.error()});

  auto log = node::make_node_logger(full_name, opts.log_level);
  auto node = std::make_unique<NodeImpl>(std::move(opts), clock, log, std::move(beacon).value());
  if (auto r = node->init(full_name); !r) return fail(r.error());
  return std::unique_ptr<Node>(std::move(node));
}

}  // namespace zswarm
