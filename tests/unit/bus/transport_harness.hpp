// Harnesses for the transport conformance suite: one per Transport
// implementation, each able to create nodes, connect them, run the network
// until something holds (with a deadline) and make a node go away. The
// suite in transport_conformance_test.cpp runs against every one of them.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "bus/memory_transport.hpp"
#include "bus/reactor.hpp"
#include "bus/transport.hpp"
#include "bus/zmq_transport.hpp"

namespace zswarm::bus::conformance {

using namespace std::chrono_literals;
using Millis = std::chrono::milliseconds;

// Probes carry this prefix so tests can tell them from their own frames.
inline constexpr std::string_view kProbePrefix = "\x7f" "conformance-probe:";

inline bool is_probe(std::string_view frame) { return frame.substr(0, kProbePrefix.size()) == kProbePrefix; }

class Harness {
 public:
  struct Node {
    NodeId id;
    PeerEndpoint at;
    Transport* transport = nullptr;  // null once the node is gone
    std::vector<Inbound> inbox;      // everything received, in order
  };

  Harness() = default;
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;
  virtual ~Harness() = default;

  // Creates n nodes that record what they receive; they start unconnected.
  void start(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      auto node = std::make_unique<Node>();
      node->id = NodeId::random();
      node->transport = &create(node->id, node->at);
      Node* self = node.get();
      node->transport->set_receiver([self](Inbound&& in) { self->inbox.push_back(std::move(in)); });
      nodes_.push_back(std::move(node));
    }
  }

  Node& node(std::size_t i) { return *nodes_.at(i); }
  const NodeId& id(std::size_t i) { return node(i).id; }
  Transport& t(std::size_t i) { return *node(i).transport; }

  // `from` subscribes to `to`'s PUB and opens a direct channel to it.
  void connect(std::size_t from, std::size_t to) {
    admit(to, from);
    t(from).connect(id(to), node(to).at);
  }
  void disconnect(std::size_t from, std::size_t to) { t(from).disconnect(id(to)); }
  // Only `from` dials: `to` does not know it yet (a CURVE peer refuses it until allow()).
  void dial(std::size_t from, std::size_t to) { t(from).connect(id(to), node(to).at); }
  void allow(std::size_t to, std::size_t from) { admit(to, from); }

  // Runs the network until done() holds or `deadline` passes; returns done().
  bool pump_until(const std::function<bool()>& done, Millis deadline = 2s) { return pump(done, deadline); }
  // Runs the network long enough for anything in flight to land. Only used
  // before asserting that something did NOT arrive.
  virtual void settle() = 0;
  // The node goes away as a killed process would.
  virtual void kill(std::size_t i) = 0;

  // Waits out the PUB/SUB slow joiner: `from` publishes probes until every
  // node in `to` has received one. Tests then ignore probes (is_probe).
  bool await_subscribed(std::size_t from, const std::vector<std::size_t>& to, Millis deadline = 2s) {
    // A fresh probe each call: one left over from an earlier call proves nothing.
    const std::string probe =
        std::string(kProbePrefix) + id(from).to_string() + ":" + std::to_string(++probe_serial_);
    auto all_have_probe = [&] {
      for (std::size_t n : to) {
        auto is_it = [&](const Inbound& in) { return in.kind == Inbound::published && in.frame == probe; };
        if (std::none_of(node(n).inbox.begin(), node(n).inbox.end(), is_it)) return false;
      }
      return true;
    };
    auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
      t(from).publish(probe);
      if (pump_until(all_have_probe, 20ms)) return true;
    }
    return all_have_probe();
  }

  // What node i received, probes left out.
  std::vector<std::string> published(std::size_t i) {
    std::vector<std::string> out;
    for (const Inbound& in : node(i).inbox)
      if (in.kind == Inbound::published && !is_probe(in.frame)) out.push_back(in.frame);
    return out;
  }
  std::vector<Inbound> direct(std::size_t i) { return of_kind(i, Inbound::direct); }
  std::vector<Inbound> link_downs(std::size_t i) { return of_kind(i, Inbound::link_down); }
  std::vector<Inbound> peers_gone(std::size_t i) { return of_kind(i, Inbound::peer_gone); }

 protected:
  virtual bool pump(const std::function<bool()>& done, Millis deadline) = 0;
  // Makes the transport for a new node and fills in where peers reach it.
  virtual Transport& create(const NodeId& id, PeerEndpoint& at) = 0;
  // Lets node `to` accept connections from `from` (a CURVE bus admits only known keys).
  virtual void admit(std::size_t /*to*/, std::size_t /*from*/) {}
  void gone(std::size_t i) { nodes_.at(i)->transport = nullptr; }

 private:
  std::vector<Inbound> of_kind(std::size_t i, Inbound::Kind k) {
    std::vector<Inbound> out;
    for (const Inbound& in : node(i).inbox)
      if (in.kind == k) out.push_back(in);
    return out;
  }

  std::vector<std::unique_ptr<Node>> nodes_;
  uint64_t probe_serial_ = 0;
};

// Frames wait in the MemoryNetwork until deliver(); everything is synchronous,
// so pumping once is enough and deadlines never matter.
class MemoryHarness final : public Harness {
 public:
  static constexpr const char* kName = "Memory";

  ~MemoryHarness() override {
    while (!transports_.empty()) transports_.pop_back();
  }

  void settle() override { net_.deliver(); }
  void kill(std::size_t i) override {
    net_.kill(id(i));
    transports_.at(i).reset();
    gone(i);
  }

 protected:
  bool pump(const std::function<bool()>& done, Millis /*deadline*/) override {
    net_.deliver();
    return done();
  }
  Transport& create(const NodeId& id, PeerEndpoint& at) override {
    at = PeerEndpoint{"127.0.0.1", 0, 0, {}};  // the memory network routes by id
    transports_.push_back(std::make_unique<MemoryTransport>(net_, id));
    return *transports_.back();
  }

 private:
  MemoryNetwork net_;
  std::vector<std::unique_ptr<MemoryTransport>> transports_;
};

// Real sockets on 127.0.0.1, each node with its own Reactor; pumping runs
// every live reactor in turn. With Curve, every link is CURVE and each node
// has a context of its own (a context has one ZAP handler).
template <bool Curve>
class ZmqHarnessT final : public Harness {
 public:
  static constexpr const char* kName = Curve ? "CurveZmq" : "Zmq";

  ~ZmqHarnessT() override {
    // Transports before their reactors, all before the contexts.
    while (!nodes_.empty()) nodes_.pop_back();
  }

  // Loopback delivers in well under a millisecond; 150 ms leaves a wide margin.
  void settle() override { pump_until([] { return false; }, 150ms); }
  ZmqTransport& zmq(std::size_t i) { return *nodes_.at(i).transport; }
  void kill(std::size_t i) override {
    nodes_.at(i).transport.reset();
    nodes_.at(i).reactor.reset();
    gone(i);
  }

 protected:
  bool pump(const std::function<bool()>& done, Millis deadline) override {
    auto end = std::chrono::steady_clock::now() + deadline;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= end) return false;
      run_all();
    }
    return true;
  }
  Transport& create(const NodeId& id, PeerEndpoint& at) override {
    ZmqNode n;
    n.ctx = std::make_unique<zmq::context_t>();
    n.reactor = std::make_unique<Reactor>();
    ZmqTransportOptions opts;
    opts.self = id;
    if (Curve) {
      char pub[41], sec[41];
      if (zmq_curve_keypair(pub, sec) != 0) throw std::runtime_error("no CURVE in this libzmq");
      opts.curve_public.resize(32);
      opts.curve_secret.resize(32);
      zmq_z85_decode(reinterpret_cast<uint8_t*>(opts.curve_public.data()), pub);
      zmq_z85_decode(reinterpret_cast<uint8_t*>(opts.curve_secret.data()), sec);
    }
    auto opened = ZmqTransport::open(Curve ? *n.ctx : ctx_, *n.reactor, opts);
    if (!opened) throw std::runtime_error(opened.error().to_string());
    n.transport = std::move(opened).value();
    at = PeerEndpoint{"127.0.0.1", n.transport->pub_port(), n.transport->router_port(), opts.curve_public,
                      n.transport->probe_port()};
    nodes_.push_back(std::move(n));
    return *nodes_.back().transport;
  }
  void admit(std::size_t to, std::size_t from) override {
    if (Curve && nodes_.at(to).transport) nodes_.at(to).transport->admit(id(from), node(from).at.curve_key);
  }

 private:
  struct ZmqNode {
    std::unique_ptr<zmq::context_t> ctx;  // first: destroyed after its sockets
    std::unique_ptr<Reactor> reactor;
    std::unique_ptr<ZmqTransport> transport;
  };

  void run_all() {
    // A short poll per reactor: idle nodes cost a millisecond, busy ones none.
    // The node's loop ticks its transport after every wake-up; so does this.
    for (ZmqNode& n : nodes_)
      if (n.reactor) {
        n.reactor->run_once(1ms);
        n.transport->tick(Clock::time_point{});
      }
  }

  zmq::context_t ctx_;
  std::vector<ZmqNode> nodes_;
};
using ZmqHarness = ZmqHarnessT<false>;
using CurveZmqHarness = ZmqHarnessT<true>;

}  // namespace zswarm::bus::conformance
