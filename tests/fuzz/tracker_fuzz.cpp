// Fuzzes every tracker message handler: a node (Cluster + Tracker +
// Supervisor) on an in-memory network hears frames from a known member whose
// type is the input's first byte and whose body is the rest. Whatever the
// body, the node must answer or drop it, never crash.
#include <cstdint>
#include <memory>
#include <vector>

#include <spdlog/sinks/null_sink.h>

#include "bus/memory_transport.hpp"
#include "hostile.hpp"
#include "discovery/cluster.hpp"
#include "names/tracker.hpp"
#include "workers/plugin_loader.hpp"
#include "workers/supervisor.hpp"

using namespace zswarm;

namespace {

struct World {
  ManualClock clock;
  bus::MemoryNetwork net;
  bus::NodeId self = bus::NodeId::random(), peer = bus::NodeId::random();
  bus::MemoryTransport transport{net, self};
  bus::MemoryTransport peer_transport{net, peer};
  workers::PluginLoader loader{{}};
  std::unique_ptr<discovery::Cluster> cluster;
  std::unique_ptr<workers::Supervisor> supervisor;
  std::unique_ptr<names::Tracker> tracker;
  std::vector<std::function<void()>> posted;

  World() {
    discovery::ClusterOptions o;
    o.self = self;
    o.name = "a@fuzz";
    o.cluster = "fuzz";
    o.incarnation = 1;
    o.pub_port = o.router_port = 1;
    auto log = std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
    cluster = std::make_unique<discovery::Cluster>(clock, transport, o, [](const std::string&) {}, log);
    workers::Supervisor::Options so;
    so.node_name = "a@fuzz";
    so.loader = &loader;
    so.clock = &clock;
    so.threads = 1;
    so.timer_thread = false;
    so.log = [](LogLevel, std::string_view, std::string_view) {};
    supervisor = std::make_unique<workers::Supervisor>(std::move(so));
    tracker = std::make_unique<names::Tracker>(clock, *cluster, *supervisor,
                                              [this](std::function<void()> f) { posted.push_back(std::move(f)); },
                                              names::TrackerOptions{});
    discovery::Beacon b;
    b.id = peer;
    b.cluster = "fuzz";
    b.name = "b@fuzz";
    b.incarnation = 7;
    b.pub_port = b.router_port = 2;
    cluster->on_datagram(discovery::encode(b), "127.0.0.1");
    peer_transport.connect(self, {});
    net.deliver();
  }

  void feed(const uint8_t* data, size_t size) {
    if (size == 0) return;
    bus::Envelope e;
    e.type = static_cast<bus::MessageType>(data[0] % (bus::kMaxMessageType + 1));
    if (bus::to_string(e.type).empty()) return;
    e.sender = peer;
    e.incarnation = 7;
    e.seq = ++seq;
    e.corr = size;
    e.body.assign(reinterpret_cast<const char*>(data + 1), size - 1);
    // Alternate the two channels: PUB-style and direct.
    if (data[0] & 0x80) peer_transport.publish(bus::encode(e));
    else peer_transport.send(self, bus::encode(e));
    net.deliver();
    supervisor->wait_idle(std::chrono::seconds(5));
    auto work = std::move(posted);
    posted.clear();
    for (auto& f : work) f();
    clock.advance(std::chrono::milliseconds(50));
    cluster->tick();
    tracker->tick();
    net.deliver(1000);
  }
  uint64_t seq = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();  // one world: state builds up across inputs
  world->feed(data, size);
  return 0;
}

extern "C" size_t zswarm_fuzz_seeds(std::vector<std::vector<uint8_t>>* out) {
  // Well-formed bodies of a few types, for the mutator to start from.
  auto add = [&](bus::MessageType t, const std::vector<uint8_t>& body) {
    std::vector<uint8_t> in{static_cast<uint8_t>(t)};
    in.insert(in.end(), body.begin(), body.end());
    out->push_back(in);
  };
  // msgpack {"name": "x", "plugin": "echo", "args": bin ""}
  add(bus::MessageType::register_request, {0x83, 0xa4, 'n', 'a', 'm', 'e', 0xa1, 'x', 0xa6, 'p', 'l', 'u', 'g', 'i', 'n',
                                           0xa4, 'e', 'c', 'h', 'o', 0xa4, 'a', 'r', 'g', 's', 0xc4, 0x00});
  add(bus::MessageType::worker_call, {0x82, 0xa4, 'n', 'a', 'm', 'e', 0xa1, 'x', 0xa7, 'm', 'e', 's', 's', 'a', 'g', 'e',
                                      0xc4, 0x01, 'y'});
  add(bus::MessageType::sync_request, {});
  add(bus::MessageType::sync_snapshot, {0x90});
  add(bus::MessageType::digest, {0x90});
  // Every type, with every hostile body, on both channels (bit 7 of the first byte).
  for (unsigned t = 1; t <= bus::kMaxMessageType; ++t) {
    if (bus::to_string(static_cast<bus::MessageType>(t)).empty()) continue;
    zswarm::fuzz::add_hostile(out, {static_cast<uint8_t>(t)});
    zswarm::fuzz::add_hostile(out, {static_cast<uint8_t>(t + 150)});  // same type, bit 7 set
  }
  return out->size();
}
