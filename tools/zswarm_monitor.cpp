// zswarm-monitor: watches a cluster's bus without joining it. It listens to
// the beacons (counting what it drops), subscribes to every node's PUB, and
// prints one line per message: time, sender, type, sequence, body size.
// A cluster with a secret admits members only: the monitor says so and
// reads nothing of its bus.
//   zswarm-monitor [--cluster NAME] [--interface IF] [--duration SECONDS]
#include <chrono>
#include <cstdio>
#include <map>

#include <CLI/CLI.hpp>
#include <zmq.hpp>

#include "bus/envelope.hpp"
#include "bus/reactor.hpp"
#include "discovery/beacon.hpp"
#include "discovery/beacon_socket.hpp"
#include "names/ref.hpp"
#include "registry/entry.hpp"
#include "zswarm/node.hpp"

using namespace zswarm;

int main(int argc, char** argv) {
  CLI::App app{"zswarm-monitor: print a cluster's bus traffic"};
  std::string cluster = "zswarm";
  discovery::Scope scope;
  double duration = 0;
  app.add_option("--cluster", cluster, "cluster name");
  app.add_option("--interface", scope.interface, "listen on this interface (default: loopback)");
  app.add_option("--multicast", scope.multicast_group, "listen on this multicast group");
  app.add_option("--beacon-port", scope.port, "UDP port of the beacons");
  app.add_option("--duration", duration, "stop after this many seconds (0: run until killed)");
  CLI11_PARSE(app, argc, argv);

  auto beacons = discovery::BeaconSocket::open(scope);
  if (!beacons) {
    std::fprintf(stderr, "zswarm-monitor: %s\n", beacons.error().detail.c_str());
    return 1;
  }
  zmq::context_t ctx;
  bus::Reactor reactor;
  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "");
  sub.set(zmq::sockopt::linger, 0);
  // The monitor trusts no frame either: the node's default limits.
  sub.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(zswarm::kDefaultMaxFrameBytes));
  sub.set(zmq::sockopt::rcvhwm, 128);
  constexpr std::size_t kMaxNodes = 1024;  // a flood of fake beacons cannot grow the table without end
  std::map<bus::NodeId, std::string> names;
  uint64_t dropped_beacons = 0, rejected_frames = 0;
  auto start = std::chrono::steady_clock::now();
  auto stamp = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };

  reactor.add_fd(beacons->fd(), [&] {
    while (auto d = beacons->receive()) {
      auto b = discovery::parse(d->bytes);
      if (!b || b->cluster != cluster) {
        ++dropped_beacons;
        continue;
      }
      if (b->leaving) std::printf("%9.3f beacon  %s leaving\n", stamp(), b->name.c_str());
      if (!b->mac.empty()) {
        // A cluster secret: its bus is CURVE and admits members only (docs/security.md).
        if (!names.count(b->id) && names.size() < kMaxNodes) {
          names[b->id] = b->name;
          std::printf("%9.3f beacon  %s (%s) is sealed: this cluster has a secret, and its bus admits members "
                      "only; watch it through a member (zswarm --node NAME, or a zswarmd --observer with the "
                      "secret)\n",
                      stamp(), b->name.c_str(), b->id.short_string().c_str());
        }
        continue;
      }
      if (!names.count(b->id) && names.size() < kMaxNodes) {
        names[b->id] = b->name;
        std::string ep = "tcp://" + d->source_ip + ":" + std::to_string(b->pub_port);
        sub.connect(ep);
        std::printf("%9.3f beacon  %s (%s) incarnation %llu, subscribed to %s\n", stamp(), b->name.c_str(),
                    b->id.short_string().c_str(), static_cast<unsigned long long>(b->incarnation), ep.c_str());
      }
    }
    std::fflush(stdout);
  });
  reactor.add(sub, [&] {
    zmq::message_t m;
    while (sub.recv(m, zmq::recv_flags::dontwait)) {
      // Not a member, so no version was agreed: read any version this layout carries.
      auto f = bus::decode_frame(m.to_string_view(), {1, 255});
      if (!f) {
        ++rejected_frames;
        std::printf("%9.3f reject  %s\n", stamp(), std::string(bus::to_string(f.error())).c_str());
        continue;
      }
      for (const auto& msg : f->messages) {
        const bus::Envelope* e = &msg;
        auto it = names.find(e->sender);
        std::string what;
        if (e->type == bus::MessageType::registry_delta) {
          auto entry = registry::decode_entry(e->body);
          what = !entry ? " (malformed entry)"
                 : entry->tombstone ? " " + entry->name + " unregistered"
                                    : " " + entry->name + " -> " + names::format_ref(entry->owner_name, entry->owner, entry->worker);
        }
        std::string type(bus::to_string(e->type));
        if (type.empty()) type = "type " + std::to_string(static_cast<int>(e->type));
        std::printf("%9.3f %-14s from %s seq %llu, %zu bytes%s\n", stamp(), type.c_str(),
                    it == names.end() ? e->sender.short_string().c_str() : it->second.c_str(),
                    static_cast<unsigned long long>(e->seq), e->body.size(), what.c_str());
      }
    }
    std::fflush(stdout);
  });
  std::printf("watching cluster '%s' on %s\n", cluster.c_str(), beacons->describe().c_str());
  std::fflush(stdout);
  while (duration <= 0 || stamp() < duration) reactor.run_once(std::chrono::milliseconds(100));
  std::printf("%9.3f done: %zu nodes seen, %llu beacons dropped, %llu frames rejected\n", stamp(), names.size(),
              static_cast<unsigned long long>(dropped_beacons), static_cast<unsigned long long>(rejected_frames));
  return 0;
}
