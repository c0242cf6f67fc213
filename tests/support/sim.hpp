// A simulated cluster of REAL nodes: each add() is Node::start with a
// SimEnv (tests/support/sim_env.hpp), so the node's own wiring of cluster,
// tracker and supervisor is what runs, over a MemoryNetwork with a
// FaultTransport per node, on one ManualClock. Beacons travel through the
// env's air; a node can be isolated (a partition) or killed.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <stdexcept>

#include "bus/fault_transport.hpp"
#include "bus/memory_transport.hpp"
#include "discovery/cluster.hpp"
#include "names/tracker.hpp"
#include "node/node_internal.hpp"
#include "support/sim_env.hpp"
#include "zswarm/node.hpp"

namespace zswarm::sim {

using namespace std::chrono_literals;
using discovery::MemberState;

struct SimNode {
  std::string name;
  bus::NodeId id;
  std::unique_ptr<Node> node;  // null once killed
  // Handles into the node: what the public API does not show.
  node::NodeParts parts{};
  ManualLoop* loop = nullptr;
  bus::FaultTransport* fault = nullptr;
  bus::Transport* transport = nullptr;  // the node's bus, to send raw frames from
  SimBeacon* beacon = nullptr;
  std::vector<discovery::MembershipEvent> events;
  uint64_t gaps = 0;
};

struct Sim : ::testing::Test {
  SimEnv env;
  ManualClock& clock = env.manual_clock();
  bus::MemoryNetwork& net = env.net();
  std::vector<std::unique_ptr<SimNode>> nodes;  // destroyed before env
  std::function<void(NodeOptions&)> configure;  // applied to each node's options in add()

  // Starts a real node named `full_name` ("a@h") in cluster "sim".
  // `protocol`: the wire versions it speaks (a later version's fixture says more).
  SimNode& add(const std::string& full_name, bool observer = false, bus::VersionRange protocol = bus::kSpoken) {
    auto n = std::make_unique<SimNode>();
    n->name = full_name;
    NodeOptions o;
    o.observer = observer;
    o.name = full_name.substr(0, full_name.find('@'));
    o.host = full_name.substr(full_name.find('@') + 1);
    o.cluster = "sim";
    o.control_socket = false;
    o.log_level = "off";
#ifdef ZSWARM_TEST_PLUGIN_DIR
    o.plugin_path = {ZSWARM_TEST_PLUGIN_DIR, ZSWARM_TEST_FIXTURE_DIR};
#endif
    if (configure) configure(o);
    auto started = node::start_node(o, &env, protocol);
    if (!started) throw std::runtime_error("Node::start: " + started.error().detail);
    n->node = std::move(started).value();
    const auto& made = env.last_made();
    n->loop = made.loop;
    n->fault = made.fault;
    n->transport = made.fault;
    n->beacon = made.beacon;
    n->parts = node::parts_of(*n->node);
    n->id = *bus::NodeId::from_string(n->node->info().id);
    SimNode* raw = n.get();
    n->parts.cluster->on_member_event([raw](const discovery::MembershipEvent& e) { raw->events.push_back(e); });
    n->parts.cluster->on_gap([raw](const bus::NodeId&, uint64_t missed) { raw->gaps += missed; });
    nodes.push_back(std::move(n));
    return *nodes.back();
  }

  // name -> number of live nodes running a registered worker for it.
  std::map<std::string, int> census() {
    std::map<std::string, int> count;
    for (auto& n : nodes)
      if (n->node)
        for (const auto& w : n->node->workers())
          if (w.registered) ++count[w.name];
    return count;
  }

  void settle() { env.settle(); }
  void run_for(std::chrono::milliseconds d, std::chrono::milliseconds step = 10ms) { env.run_for(d, step); }

  // Gone without a goodbye: the node stops, its peers' links break.
  void kill(SimNode& n) {
    n.node.reset();
    n.parts = {};
    n.loop = nullptr;
    n.fault = nullptr;
    n.transport = nullptr;
    n.beacon = nullptr;
    net.kill(n.id);
  }
  // Cuts `n` off from everyone (frames and beacons), or joins it back.
  void isolate(SimNode& n, bool on) {
    n.beacon->set_isolated(on);
    n.fault->plan().cut_all = on;
  }
  // Every member `n` knows, itself excluded (through the public API).
  std::vector<MemberInfo> others(SimNode& n) {
    std::vector<MemberInfo> out;
    for (auto& m : n.node->members())
      if (!m.self) out.push_back(m);
    return out;
  }
  MemberState state_seen(SimNode& by, SimNode& of) {
    for (auto& m : others(by))
      if (m.id == of.id.to_string()) return parse_state(m.state);
    ADD_FAILURE() << by.name << " does not know " << of.name;
    return MemberState::left;
  }
  static MemberState parse_state(const std::string& s) {
    for (auto st : {MemberState::alive, MemberState::suspect, MemberState::down, MemberState::left})
      if (discovery::to_string(st) == s) return st;
    ADD_FAILURE() << "no member state " << s;
    return MemberState::left;
  }
};

}  // namespace zswarm::sim
