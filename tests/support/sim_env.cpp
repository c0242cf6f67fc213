#include "support/sim_env.hpp"

#include <algorithm>
#include <utility>

namespace zswarm::sim {

namespace {

// The simulated bus: a MemoryTransport behind a FaultTransport.
class SimBus final : public node::Bus {
 public:
  // Ports of its own, as on one real host: a member's endpoint is unique.
  SimBus(std::unique_ptr<bus::FaultTransport> t, uint16_t port) : t_(std::move(t)), port_(port) {}
  bus::Transport& transport() override { return *t_; }
  uint16_t pub_port() const override { return port_; }
  uint16_t router_port() const override { return static_cast<uint16_t>(port_ + 1); }
  node::BusStats stats() const override { return {}; }

 private:
  std::unique_ptr<bus::FaultTransport> t_;
  uint16_t port_;
};

}  // namespace

ManualLoop::ManualLoop(SimEnv& env) : env_(env) { env_.loops_.push_back(this); }

ManualLoop::~ManualLoop() { std::erase(env_.loops_, this); }

void ManualLoop::start(Tick tick) {
  tick_ = std::move(tick);
  started_ = true;
}

void ManualLoop::wait_stopped() {
  env_.run_until([this] { return stopped_.load(); }, std::chrono::minutes(10));
}

void ManualLoop::post(Task t) {
  std::lock_guard lock(mu_);
  if (!stopped_) tasks_.push_back(std::move(t));
}

bool ManualLoop::run_until(const std::function<bool()>& ready, Clock::duration within) {
  return env_.run_until(ready, within);
}

bool ManualLoop::run_posted() {
  std::deque<Task> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(tasks_);
  }
  for (auto& t : batch) t();
  return !batch.empty();
}

void ManualLoop::tick() {
  if (running()) tick_();
}

SimBeacon::SimBeacon(SimEnv& env, std::function<std::string(std::string)> rewrite)
    : env_(env), state_(std::make_shared<State>()), rewrite_(std::move(rewrite)) {
  env_.air().endpoints_.push_back(state_);
}

SimBeacon::~SimBeacon() { std::erase(env_.air().endpoints_, state_); }

void SimBeacon::send(std::string_view datagram, const std::vector<std::string>&) {
  std::string d(datagram);
  env_.air().send(state_, rewrite_ ? rewrite_(std::move(d)) : std::move(d));
}

bool Air::deliver() {
  auto flying = std::move(flying_);
  flying_.clear();
  auto to = endpoints_;  // a receiver may not add or drop endpoints, but be safe
  for (auto& f : flying)
    for (auto& e : to)
      if (e->receiver && !(f.from && (f.from->isolated || f.from->side != e->side)) && !e->isolated)
        e->receiver(f.datagram, "127.0.0.1");
  return !flying.empty();
}

std::chrono::system_clock::time_point SimEnv::wall_now() {
  // 2024-01-01 plus the manual clock's reading, plus one ms per read.
  auto base = std::chrono::system_clock::time_point(std::chrono::seconds(1704067200));
  auto since = std::chrono::duration_cast<std::chrono::system_clock::duration>(clock_.now().time_since_epoch());
  return base + since + std::chrono::milliseconds(++wall_reads_);
}

uint64_t SimEnv::random_u64() {
  std::lock_guard lock(rng_mu_);
  return rng_();
}

NodeIdBytes SimEnv::new_node_id() {
  NodeIdBytes id{};
  for (int half = 0; half < 2; ++half) {
    uint64_t r = random_u64();
    for (int i = 0; i < 8; ++i) id[static_cast<std::size_t>(half * 8 + i)] = static_cast<uint8_t>(r >> (8 * i));
  }
  id[0] |= 1;  // never the nil id
  return id;
}

Result<std::unique_ptr<node::Loop>, Error> SimEnv::new_loop() {
  auto loop = std::make_unique<ManualLoop>(*this);
  made_ = Made{loop.get(), nullptr, nullptr};
  return std::unique_ptr<node::Loop>(std::move(loop));
}

Result<std::unique_ptr<node::Bus>, Error> SimEnv::new_bus(node::Loop&, const node::BusConfig& config) {
  std::unique_ptr<bus::Transport> wire = std::make_unique<bus::MemoryTransport>(net_, config.self);
  if (next_wire_.transport) wire = next_wire_.transport(std::move(wire));
  next_wire_.transport = nullptr;
  auto fault = std::make_unique<bus::FaultTransport>(std::move(wire), clock_, ++fault_seed_);
  made_.fault = fault.get();
  uint16_t port = static_cast<uint16_t>(20000 + 2 * (fault_seed_ % 20000));
  return std::unique_ptr<node::Bus>(std::make_unique<SimBus>(std::move(fault), port));
}

Result<std::unique_ptr<node::BeaconChannel>, Error> SimEnv::new_beacon(node::Loop&, const node::BeaconConfig&) {
  auto beacon = std::make_unique<SimBeacon>(*this, std::exchange(next_wire_.beacon, nullptr));
  made_.beacon = beacon.get();
  return std::unique_ptr<node::BeaconChannel>(std::move(beacon));
}

void SimEnv::settle() {
  for (int round = 0; round < 1000; ++round) {
    bool moved = air_.deliver();
    moved |= net_.deliver() > 0;
    auto loops = loops_;
    for (auto* l : loops) l->wait_background();
    for (auto* l : loops) moved |= l->run_posted();
    // A real loop ticks after every wake-up (and the node flushes its batches there).
    for (auto* l : loops) l->tick();
    moved |= net_.pending() > 0;
    if (!moved && air_.empty()) return;
  }
}

void SimEnv::run_for(std::chrono::milliseconds d, std::chrono::milliseconds step) {
  for (auto t = std::chrono::milliseconds(0); t < d; t += step) {
    clock_.advance(step);
    auto loops = loops_;
    for (auto* l : loops) l->tick();
    settle();
  }
}

bool SimEnv::run_until(const std::function<bool()>& ready, Clock::duration within) {
  settle();
  const auto step = std::chrono::milliseconds(10);
  for (Clock::duration waited{0}; !ready() && waited < within; waited += step) run_for(step, step);
  return ready();
}

}  // namespace zswarm::sim
