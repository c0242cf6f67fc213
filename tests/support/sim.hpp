// A simulated cluster for the node's state machines: several Cluster (and,
// on request, Tracker + Supervisor) instances in one process, over a
// MemoryNetwork with a FaultTransport per node, on one ManualClock. Beacons
// travel through `air`; a node can be isolated (a partition) or killed.
#pragma once

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <deque>
#include <mutex>

#include "bus/fault_transport.hpp"
#include "bus/memory_transport.hpp"
#include "discovery/cluster.hpp"
#include "names/tracker.hpp"
#include "workers/plugin_loader.hpp"
#include "workers/supervisor.hpp"

namespace zswarm::sim {

using namespace std::chrono_literals;
using discovery::Cluster;
using discovery::ClusterOptions;
using discovery::MemberState;
using names::Tracker;
using names::TrackerOptions;

struct SimNode {
  std::string name;
  bus::NodeId id = bus::NodeId::random();
  bus::FaultTransport* fault = nullptr;
  std::unique_ptr<bus::Transport> transport;
  std::unique_ptr<Cluster> cluster;
  std::unique_ptr<workers::Supervisor> supervisor;
  std::unique_ptr<Tracker> tracker;
  std::vector<discovery::MembershipEvent> events;
  uint64_t gaps = 0;
  bool isolated = false;  // beacons neither in nor out
};

struct Sim : ::testing::Test {
  ManualClock clock;
  bus::MemoryNetwork net;
  std::vector<std::pair<SimNode*, std::string>> air_from;  // beacons in flight, with their sender
  std::vector<std::unique_ptr<SimNode>> nodes;
  uint64_t next_incarnation = 100;
  std::unique_ptr<workers::PluginLoader> loader;
  std::mutex posted_mu;
  std::deque<std::function<void()>> posted;  // what pool threads post to "the loop"

  ~Sim() override {
    for (auto& n : nodes) {  // the tracker first: it holds the supervisor
      n->tracker.reset();
      n->supervisor.reset();
    }
  }

  SimNode& add(const std::string& name, bool with_tracker = false) {
    auto n = std::make_unique<SimNode>();
    n->name = name;
    auto f = std::make_unique<bus::FaultTransport>(std::make_unique<bus::MemoryTransport>(net, n->id), clock,
                                                   nodes.size() + 1);
    n->fault = f.get();
    n->transport = std::move(f);
    ClusterOptions o;
    o.self = n->id;
    o.name = name;
    o.cluster = "sim";
    o.incarnation = next_incarnation++;
    o.pub_port = 1;
    o.router_port = 2;
    auto log = std::make_shared<spdlog::logger>(name, std::make_shared<spdlog::sinks::null_sink_mt>());
    SimNode* raw = n.get();
    n->cluster = std::make_unique<Cluster>(
        clock, *n->transport, o, [this, raw](const std::string& d) { air_from.emplace_back(raw, d); }, log);
    n->cluster->on_member_event([raw](const discovery::MembershipEvent& e) { raw->events.push_back(e); });
    n->cluster->on_gap([raw](const bus::NodeId&, uint64_t missed) { raw->gaps += missed; });
    if (with_tracker) attach_tracker(*n);
    n->cluster->start();
    nodes.push_back(std::move(n));
    return *nodes.back();
  }

  void attach_tracker(SimNode& n) {
    if (!loader)
      loader = std::make_unique<workers::PluginLoader>(
          std::vector<std::filesystem::path>{ZSWARM_TEST_PLUGIN_DIR, ZSWARM_TEST_FIXTURE_DIR});
    workers::Supervisor::Options so;
    so.node_name = n.name;
    so.loader = loader.get();
    so.clock = &clock;
    so.threads = 1;
    so.timer_thread = false;
    so.log = [](LogLevel, std::string_view, std::string_view) {};
    n.supervisor = std::make_unique<workers::Supervisor>(std::move(so));
    TrackerOptions to;
    n.tracker = std::make_unique<Tracker>(clock, *n.cluster, *n.supervisor, [this](std::function<void()> f) {
      std::lock_guard lock(posted_mu);
      posted.push_back(std::move(f));
    }, to);
    SimNode* raw = &n;
    n.supervisor->set_exit_observer([this, raw](const workers::ExitInfo& e) {
      std::lock_guard lock(posted_mu);
      posted.push_back([raw, e] {
        if (raw->tracker) raw->tracker->on_worker_exit(e);
      });
    });
  }

  bool run_posted() {
    std::deque<std::function<void()>> batch;
    {
      std::lock_guard lock(posted_mu);
      batch.swap(posted);
    }
    for (auto& f : batch) f();
    return !batch.empty();
  }

  // Delivers beacons, frames and posted work until quiet.
  void settle() {
    for (int round = 0; round < 1000; ++round) {
      auto flying = std::move(air_from);
      air_from.clear();
      for (auto& [from, d] : flying)
        for (auto& n : nodes)
          if (n->cluster && !from->isolated && !n->isolated) n->cluster->on_datagram(d, "127.0.0.1");
      bool moved = net.deliver() > 0 || !flying.empty();
      for (auto& n : nodes)
        if (n->supervisor) n->supervisor->wait_idle(std::chrono::seconds(5));
      moved |= run_posted();
      if (!moved && air_from.empty()) return;
    }
  }
  // Moves time in steps, letting every node tick and talk.
  void run_for(std::chrono::milliseconds d, std::chrono::milliseconds step = 10ms) {
    for (auto t = 0ms; t < d; t += step) {
      clock.advance(step);
      for (auto& n : nodes) {
        if (n->cluster) n->cluster->tick();
        if (n->tracker) n->tracker->tick();
      }
      settle();
    }
  }
  void kill(SimNode& n) {
    n.tracker.reset();
    n.supervisor.reset();
    n.cluster.reset();
    net.kill(n.id);
    n.transport.reset();
  }
  // Cuts `n` off from everyone (frames and beacons), or joins it back.
  void isolate(SimNode& n, bool on) {
    n.isolated = on;
    n.fault->plan().cut_all = on;
  }
  MemberState state_seen(SimNode& by, SimNode& of) {
    const auto* m = by.cluster->membership().find(of.id);
    EXPECT_NE(m, nullptr) << by.name << " does not know " << of.name;
    return m ? m->state : MemberState::left;
  }
};

}  // namespace zswarm::sim
