// Env::Default(): the real environment. The loop is an EventLoop thread, the
// bus a ZmqTransport on that loop's reactor, the beacon a UDP BeaconSocket
// whose fd the same reactor polls.
#include "zswarm/env.hpp"

#include <random>

#include "bus/zmq_transport.hpp"
#include "discovery/beacon_socket.hpp"
#include "node/env_internal.hpp"
#include "node/event_loop.hpp"
#include "port/mutex.hpp"

namespace zswarm {

Env::~Env() = default;
EnvWrapper::~EnvWrapper() = default;

Result<std::unique_ptr<node::Loop>, Error> EnvWrapper::new_loop() { return target_->new_loop(); }
Result<std::unique_ptr<node::Bus>, Error> EnvWrapper::new_bus(node::Loop& loop, const node::BusConfig& config) {
  return target_->new_bus(loop, config);
}
Result<std::unique_ptr<node::BeaconChannel>, Error> EnvWrapper::new_beacon(node::Loop& loop,
                                                                           const node::BeaconConfig& config) {
  return target_->new_beacon(loop, config);
}

namespace {

class ZmqBus final : public node::Bus {
 public:
  explicit ZmqBus(std::unique_ptr<bus::ZmqTransport> t) : t_(std::move(t)) {}
  bus::Transport& transport() override { return *t_; }
  uint16_t pub_port() const override { return t_->pub_port(); }
  uint16_t router_port() const override { return t_->router_port(); }
  uint16_t probe_port() const override { return t_->probe_port(); }
  node::BusStats stats() const override {
    const auto& s = t_->stats();
    return {s.connections_dropped, s.handshakes_failed,      s.links_reopened,
            s.keys_refused,        s.frames_unauthenticated, s.peers_refused,
            s.datagrams_sent,      s.datagrams_received,     s.datagrams_refused,
            s.datagrams_by_tcp};
  }

 private:
  std::unique_ptr<bus::ZmqTransport> t_;
};

class UdpBeacon final : public node::BeaconChannel {
 public:
  UdpBeacon(bus::Reactor& reactor, discovery::BeaconSocket socket) : reactor_(reactor), socket_(std::move(socket)) {}
  ~UdpBeacon() override {
    if (receiver_) reactor_.remove_fd(socket_.fd());
  }
  const std::string& bind_address() const override { return socket_.bind_address(); }
  std::string describe() const override { return socket_.describe(); }
  void send(std::string_view datagram, const std::vector<std::string>& extra_hosts) override {
    socket_.send(datagram, extra_hosts);
  }
  void set_receiver(Receiver r) override {
    if (receiver_) reactor_.remove_fd(socket_.fd());
    receiver_ = std::move(r);
    if (receiver_)
      reactor_.add_fd(socket_.fd(), [this] {
        // Bounded per wake-up: under a flood the loop still turns (heartbeats,
        // frames); epoll is level-triggered, so what is left wakes it again.
        for (int n = 0; n < kDatagramsPerWake; ++n) {
          auto d = socket_.receive();
          if (!d) break;
          receiver_(d->bytes, d->source_ip);
        }
      });
  }

 private:
  static constexpr int kDatagramsPerWake = 256;
  bus::Reactor& reactor_;
  discovery::BeaconSocket socket_;
  Receiver receiver_;
};

class DefaultEnv final : public Env {
 public:
  const Clock& clock() override { return SystemClock::instance(); }
  std::chrono::system_clock::time_point wall_now() override { return std::chrono::system_clock::now(); }
  uint64_t random_u64() override {
    port::MutexLock lock(mu_);
    return std::uniform_int_distribution<uint64_t>()(rng_);
  }
  NodeIdBytes new_node_id() override {
    NodeIdBytes out{};
    auto raw = bus::NodeId::random().bytes();
    std::copy(raw.begin(), raw.end(), out.begin());
    return out;
  }

  Result<std::unique_ptr<node::Loop>, Error> new_loop() override {
    return std::unique_ptr<node::Loop>(std::make_unique<node::EventLoop>(clock()));
  }

  Result<std::unique_ptr<node::Bus>, Error> new_bus(node::Loop& loop, const node::BusConfig& c) override {
    if (!loop.reactor() || !loop.zmq_context())
      return fail(Error{Errc::bad_option, "the ZeroMQ bus needs a loop with a reactor"});
    auto t = bus::ZmqTransport::open(*loop.zmq_context(), *loop.reactor(),
                                     bus::ZmqTransportOptions{c.self, c.bind_host, c.pub_port, c.router_port, c.probe_port, true, 100000,
                                                              c.max_frame_bytes, c.receive_hwm, c.curve_public,
                                                              c.curve_secret, c.warn, c.gone_check_timeout});
    if (!t) return fail(t.error());
    return std::unique_ptr<node::Bus>(std::make_unique<ZmqBus>(std::move(t).value()));
  }

  Result<std::unique_ptr<node::BeaconChannel>, Error> new_beacon(node::Loop& loop,
                                                                 const node::BeaconConfig& c) override {
    if (!loop.reactor()) return fail(Error{Errc::bad_option, "the UDP beacon needs a loop with a reactor"});
    auto s = discovery::BeaconSocket::open(discovery::Scope{c.interface, c.multicast_group, c.seeds, c.port, c.dns});
    if (!s) return fail(s.error());
    return std::unique_ptr<node::BeaconChannel>(std::make_unique<UdpBeacon>(*loop.reactor(), std::move(s).value()));
  }

 private:
  port::Mutex mu_;
  std::mt19937_64 rng_ GUARDED_BY(mu_){std::random_device{}()};
};

}  // namespace

Env* Env::Default() {
  static DefaultEnv* env = new DefaultEnv;  // never destroyed: nodes may outlive static destruction order
  return env;
}

}  // namespace zswarm
