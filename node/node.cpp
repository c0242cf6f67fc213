// The composition root: wires the membership protocol (discovery/) and the
// name service (names/) to what its Env supplies (real sockets and one
// event-loop thread by default), and serves the control socket.
#include <algorithm>
#include <limits.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>

#include <sodium.h>
#include <zmq.h>

#include "discovery/cluster.hpp"
#include "node/config.hpp"
#include "node/control_adapter.hpp"
#include "node/control_server.hpp"
#include "node/dns_resolver.hpp"
#include "node/env_internal.hpp"
#include "node/logging.hpp"
#include "node/node_internal.hpp"
#include "node/secret_file.hpp"
#include "node/send_queue.hpp"
#include "names/tracker.hpp"
#include "workers/plugin_loader.hpp"
#include "workers/supervisor.hpp"
#include "zswarm/node.hpp"

namespace zswarm {

Node::~Node() = default;

namespace {

using Json = nlohmann::json;
using namespace std::chrono;

// Where plugins are looked for: the configured path, $ZSWARM_PLUGIN_PATH,
// then beside this program (build tree: bin/../lib; installed: lib/zswarm/plugins).
std::vector<std::filesystem::path> plugin_search_path(const NodeOptions& o) {
  std::vector<std::filesystem::path> path(o.plugin_path.begin(), o.plugin_path.end());
  if (const char* env = std::getenv("ZSWARM_PLUGIN_PATH"))
    for (auto& p : workers::PluginLoader::parse_search_path(env)) path.push_back(p);
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto prefix = exe.parent_path().parent_path();
    path.push_back(prefix / "lib");
    path.push_back(prefix / "lib" / "zswarm" / "plugins");
  }
  return path;
}

spdlog::level::level_enum spd_level(LogLevel l) {
  switch (l) {
    case LogLevel::trace: return spdlog::level::trace;
    case LogLevel::debug: return spdlog::level::debug;
    case LogLevel::info: return spdlog::level::info;
    case LogLevel::warn: return spdlog::level::warn;
    case LogLevel::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

// Room in a frame for the envelope and a message's name and map around its payload.
constexpr std::size_t kFrameOverhead = 64u << 10;
// How long the refused-connect check of a broken link waits (protocol.md §6.3).
constexpr std::chrono::milliseconds kRefusedCheckTimeout{500};


std::string local_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  std::string h = buf;
  return h.substr(0, h.find('.'));
}

class NodeImpl final : public Node {
 public:
  NodeImpl(NodeOptions opts, Env* env, std::shared_ptr<spdlog::logger> log)
      : opts_(std::move(opts)),
        env_(env),
        clock_(env->clock()),
        log_(std::move(log)),
        loader_(plugin_search_path(opts_)) {}

  ~NodeImpl() override { shutdown(); }

  Result<void, Error> init(const std::string& full_name, bus::VersionRange protocol) {
    protocol_ = protocol;
    auto loop = env_->new_loop();
    if (!loop) return fail(loop.error());
    loop_ = std::move(loop).value();
    auto beacon = env_->new_beacon(
        *loop_, node::BeaconConfig{opts_.interface, opts_.multicast, opts_.seeds, opts_.beacon_port, opts_.dns});
    if (!beacon) return fail(beacon.error());
    beacon_ = std::move(beacon).value();

    if (!opts_.secret_file.empty()) {
      auto secrets = read_secrets();
      if (!secrets) return fail(secrets.error());
      seal_ = std::make_shared<discovery::BeaconSeal>(secrets->first, secrets->second);
      // This run's CURVE keypair: announced in sealed beacons, so it lives as long as the node id.
      char pub[41], sec[41];
      if (zmq_curve_keypair(pub, sec) != 0)
        return fail(Error{Errc::bad_option, "this libzmq cannot make CURVE keys (built without libsodium?)"});
      curve_public_.resize(32);
      curve_secret_.resize(32);
      zmq_z85_decode(reinterpret_cast<uint8_t*>(curve_public_.data()), pub);
      zmq_z85_decode(reinterpret_cast<uint8_t*>(curve_secret_.data()), sec);
      sodium_memzero(sec, sizeof sec);
    }
    auto id = env_->new_node_id();
    self_ = *bus::NodeId::from_bytes(std::string_view(reinterpret_cast<const char*>(id.data()), id.size()));
    incarnation_ = static_cast<uint64_t>(duration_cast<milliseconds>(env_->wall_now().time_since_epoch()).count());
    auto opened = env_->new_bus(*loop_, node::BusConfig{self_, beacon_->bind_address(), opts_.pub_port,
                                                        opts_.router_port, opts_.probe_port, opts_.max_frame_bytes, opts_.receive_hwm,
                                                        [log = log_](const std::string& what) { log->warn("{}", what); },
                                                        curve_public_, curve_secret_, kRefusedCheckTimeout});
    sodium_memzero(curve_secret_.data(), curve_secret_.size());  // the bus holds it now
    if (!opened) return fail(opened.error());
    bus_ = std::move(opened).value();
    discovery::ClusterOptions co;
    co.self = self_;
    co.name = full_name;
    co.cluster = opts_.cluster;
    co.incarnation = incarnation_;
    co.observer = opts_.observer;
    co.pub_port = bus_->pub_port();
    co.router_port = bus_->router_port();
    co.probe_port = bus_->probe_port();
    co.beacon_interval = opts_.beacon_interval;
    co.placement = discovery::placement_fingerprint(opts_.placement_allow, opts_.placement_deny, quorum());
    co.detector.heartbeat_interval = opts_.heartbeat_interval;
    co.detector.probe_interval = opts_.probe_interval;
    co.detector.probe_timeout = opts_.probe_timeout;
    co.detector.indirect_probes = opts_.indirect_probes;
    co.detector.suspicion_min = opts_.suspicion_min;
    co.detector.suspicion_max = opts_.suspicion_max;
    co.detector.awareness_max = opts_.awareness_max;
    co.random = [env = env_] { return env->random_u64(); };
    co.protocol = protocol_;
    co.batch = true;
    co.seal = seal_;
    co.curve_key = curve_public_;
    co.wall_ms = [env = env_] {
      return static_cast<int64_t>(duration_cast<milliseconds>(env->wall_now().time_since_epoch()).count());
    };
    co.max_clock_skew = opts_.max_clock_skew;
    co.max_unconfirmed = opts_.max_unconfirmed;
    co.down_expiry = opts_.down_expiry;
    co.beacon_rate = opts_.beacon_rate;
    cluster_ = std::make_unique<discovery::Cluster>(
        clock_, bus_->transport(), co,
        [this](const std::string& d) {
          std::vector<std::string> peers;
          if (!opts_.seeds.empty() || !opts_.dns.empty()) {
            // Joining members too: one that found us first waits for our beacon (its key).
            peers = cluster_->membership().hosts();
            if (!dns_hosts_.empty()) {  // a member the name also gives: one beacon, not two
              peers.insert(peers.end(), dns_hosts_.begin(), dns_hosts_.end());
              std::sort(peers.begin(), peers.end());
              peers.erase(std::unique(peers.begin(), peers.end()), peers.end());
            }
          }
          beacon_->send(d, peers);
        },
        log_);

    const auto shape = loop_->pool_shape();
    fire_timers_ = !shape.timer_thread;
    workers::Supervisor::Options so;
    so.node_name = full_name;
    so.loader = &loader_;
    so.clock = &clock_;
    so.threads = shape.threads;
    so.timer_thread = shape.timer_thread;
    so.wall_clock = [env = env_] {
      return static_cast<std::int64_t>(duration_cast<milliseconds>(env->wall_now().time_since_epoch()).count());
    };
    so.log = [log = log_](LogLevel level, std::string_view worker, std::string_view msg) {
      log->log(spd_level(level), "[worker {}] {}", worker, msg);
    };
    so.router = [this](std::string_view, std::string_view to, std::string_view bytes) {
      loop_->post([this, to = std::string(to), bytes = std::string(bytes)] {
        if (tracker_) tracker_->route_cast(to, bytes);
      });
      return true;
    };
    supervisor_ = std::make_unique<workers::Supervisor>(std::move(so));
    supervisor_->set_exit_observer([this](const workers::ExitInfo& exit) {
      loop_->post([this, exit] {
        if (tracker_) tracker_->on_worker_exit(exit);
      });
    });
    loop_->set_background([this] { return supervisor_->wait_idle(std::chrono::seconds(5)); });
    // A turn's messages for workers wake the pool once, at the turn's end.
    loop_->set_turn_hooks([this] { supervisor_->runtime().hold_wakeups(); },
                          [this] { supervisor_->runtime().release_wakeups(); });
    names::TrackerOptions to;
    to.placement = {opts_.placement_allow, opts_.placement_deny};
    to.handoff_timeout = opts_.handoff_timeout;
    to.discovery_grace = 2 * opts_.beacon_interval + opts_.suspicion_max;
    to.max_message_bytes = opts_.max_frame_bytes - kFrameOverhead;
    to.quorum = quorum();
    to.quorum_margin = opts_.quorum_margin;
    to.retirement.left_after = opts_.retire_left_after;
    to.retirement.down_after = opts_.retire_down_after;
    to.retirement.remember = std::max<std::chrono::milliseconds>(std::chrono::hours(24), 2 * opts_.retire_down_after);
    tracker_ = std::make_unique<names::Tracker>(clock_, *cluster_, *supervisor_,
                                               [this](std::function<void()> f) { loop_->post(std::move(f)); }, to);
    tracker_->on_quarantined([this](const std::string&) {
      // Its names run elsewhere under the ids the cluster knows: nothing to
      // hand off. The goodbye marks it left; the workers stop with the node.
      quarantined_ = true;
      leaving_ = true;
      cluster_->leave();
      loop_->stop();
    });
    register_at_ = clock_.now() + opts_.beacon_interval;
    to_register_ = opts_.register_at_start;

    if (opts_.control_socket) {
      if (!loop_->reactor() || !loop_->zmq_context())
        return fail(Error{Errc::bad_option, "this Env's loop cannot serve a control socket (set control_socket off)"});
      auto control = node::ControlServer::open(
          *loop_->zmq_context(), *loop_->reactor(), control_socket_path(opts_.control_dir, opts_.cluster, opts_.name),
          opts_.control_group,
          [this](const Json& req, node::ControlServer::Reply reply) { node::serve_control(*this, req, std::move(reply)); },
          node::ControlServer::Limits{opts_.max_frame_bytes, 1000, 32});
      if (!control) return fail(Error{Errc::control_socket_failed, control.error()});
      control_ = std::move(control).value();
    }

    beacon_->set_receiver(
        [this](std::string_view bytes, const std::string& source_ip) { cluster_->on_datagram(bytes, source_ip); });
    log_->info("[discovery] {}; bus on {} pub {} router {} probe {}; control {}", beacon_->describe(),
               beacon_->bind_address(), co.pub_port, co.router_port,
               co.probe_port ? std::to_string(co.probe_port) : std::string("off"),
               control_ ? control_->endpoint() : "off");
    cluster_->start();
    if (!opts_.dns.empty())
      // Looked up off the loop (getaddrinfo blocks); the answers come back as loop tasks.
      dns_ = std::make_unique<node::DnsResolver>(opts_.dns, opts_.dns_interval, [this](node::DnsOutcome r) {
        loop_->post([this, r = std::move(r)]() mutable { on_dns(std::move(r)); });
      });
    loop_->start([this] {
      cluster_->tick();
      tracker_->tick();
      if (fire_timers_) supervisor_->fire_due_timers();
      register_at_start();
      cluster_->flush();  // what this wake-up queued, a frame per peer
      auto next = std::min(cluster_->next_deadline(), tracker_->next_deadline());
      if (register_at_.time_since_epoch().count() != 0) next = std::min(next, register_at_);
      // Worker timers fired by this loop (no timer thread): look every 10 ms.
      if (fire_timers_) next = std::min(next, clock_.now() + std::chrono::milliseconds(10));
      return next;
    });
    return {};
  }

  // A lookup's outcome, on the loop. A failure keeps the last good addresses:
  // a DNS blip must not stop the beacons to peers that are still there.
  void on_dns(node::DnsOutcome r) {
    if (!r.error.empty()) {
      ++dns_failures_;
      // One line a minute at most: a dead DNS server must not flood the log.
      if (clock_.now() >= dns_quiet_until_) {
        log_->warn("[discovery] dns {}: lookup failed: {} ({} failures so far; still beaconing to {} addresses)",
                   opts_.dns, r.error, dns_failures_, dns_hosts_.size());
        dns_quiet_until_ = clock_.now() + std::chrono::minutes(1);
      }
      return;
    }
    if (r.addresses == dns_hosts_) return;
    std::string list;
    for (const auto& a : r.addresses) list.append(list.empty() ? "" : " ").append(a);
    log_->info("[discovery] dns {}: {} addresses{}: {}", opts_.dns, r.addresses.size(),
               r.dropped ? std::string(" (").append(std::to_string(r.dropped)).append(" more not used)") : std::string(),
               list);
    dns_hosts_ = std::move(r.addresses);
  }

  node::NodeParts parts() { return {cluster_.get(), tracker_.get(), supervisor_.get()}; }

  NodeInfo info() const override {
    return loop_->call([this] { return info_locked(); });
  }

  std::vector<MemberInfo> members() const override {
    return loop_->call([this] { return members_locked(); });
  }

  void leave() override {
    loop_->post([this] { begin_leave(); });
  }

  void register_name_async(const std::string& name, const std::string& plugin, const std::string& args,
                           Done<std::string> done) override {
    on_loop([=, this] { tracker_->register_name(name, plugin, args, done); }, done);
  }
  void register_names_async(Registrations names, BatchDone done) override {
    if (!loop_->running()) {
      std::vector<Result<std::string, Error>> out;
      for (std::size_t i = 0; i < names.size(); ++i) out.push_back(fail(Error{Errc::stopped, "the node has stopped"}));
      return done(std::move(out));
    }
    auto run = [this, names = std::move(names), done = std::move(done)]() mutable {
      register_batch(std::move(names), std::move(done));
    };
    if (loop_->on_loop_thread()) return run();
    loop_->post(std::move(run));
  }
  std::vector<Result<std::string, Error>> register_names(const Registrations& names,
                                                         std::chrono::milliseconds deadline) override {
    auto promise = std::make_shared<std::promise<std::vector<Result<std::string, Error>>>>();
    auto future = promise->get_future();
    register_names_async(names, [promise](std::vector<Result<std::string, Error>> r) { promise->set_value(std::move(r)); });
    auto ready = [&] { return future.wait_for(std::chrono::seconds(0)) == std::future_status::ready; };
    bool done = loop_->on_loop_thread() ? loop_->run_until(ready, deadline)
                                        : future.wait_for(deadline) == std::future_status::ready;
    if (done) return future.get();
    std::vector<Result<std::string, Error>> out;
    for (std::size_t i = 0; i < names.size(); ++i) out.push_back(fail(Error{Errc::timeout, "the batch took too long"}));
    return out;
  }
  void unregister_name_async(const std::string& name, Done<std::string> done) override {
    on_loop([=, this] { tracker_->unregister_name(name, done); }, done);
  }
  void send_async(const std::string& name, const std::string& message, Done<std::string> done) override {
    on_loop([=, this] { tracker_->send(name, message, done); }, done);
  }
  void call_async(const std::string& name, const std::string& message, std::chrono::milliseconds timeout,
                  Done<std::string> done) override {
    on_loop(
        [=, this] {
          drain_casts(SIZE_MAX);  // a call never overtakes what its thread sent before it
          tracker_->call(name, message, timeout, done);
        },
        done);
  }

  // A REF is rare next to names: no queue of its own, but the same order
  // rule as call (it never overtakes what its thread sent before it).
  void send_ref_async(const std::string& ref, const std::string& message, Done<std::string> done) override {
    on_loop(
        [=, this] {
          drain_casts(SIZE_MAX);
          tracker_->send_ref(ref, message, done);
        },
        done);
  }
  void call_ref_async(const std::string& ref, const std::string& message, std::chrono::milliseconds timeout,
                      Done<std::string> done) override {
    on_loop(
        [=, this] {
          drain_casts(SIZE_MAX);
          tracker_->call_ref(ref, message, timeout, done);
        },
        done);
  }
  Result<void, Error> send_ref(const std::string& ref, const std::string& message) override {
    auto r = await<std::string>([=, this](auto done) {
      drain_casts(SIZE_MAX);
      tracker_->send_ref(ref, message, done);
    });
    if (!r) return fail(r.error());
    return {};
  }
  Result<std::string, Error> call_ref(const std::string& ref, const std::string& message,
                                      std::chrono::milliseconds timeout) override {
    auto bounded = std::clamp(timeout, std::chrono::milliseconds(1), std::chrono::milliseconds(std::chrono::hours(24)));
    return await<std::string>(
        [=, this](auto done) {
          drain_casts(SIZE_MAX);
          tracker_->call_ref(ref, message, bounded, done);
        },
        bounded + std::chrono::seconds(1));
  }

  Result<std::string, Error> register_name(const std::string& name, const std::string& plugin,
                                           const std::string& args) override {
    return await<std::string>([=, this](auto done) { tracker_->register_name(name, plugin, args, done); });
  }
  Result<std::string, Error> whereis(const std::string& name) const override { return tracker_->whereis(name); }
  Result<void, Error> unregister_name(const std::string& name) override {
    auto r = await<std::string>([=, this](auto done) { tracker_->unregister_name(name, done); });
    if (!r) return fail(r.error());
    return {};
  }
  std::vector<RegisteredName> registered() const override {
    return loop_->call([&] { return tracker_->registered(); });
  }
  using Node::send;
  Result<void, Error> send(const std::string& name, const std::string& message,
                           std::chrono::milliseconds max_wait) override {
    if (!loop_->running()) return fail(Error{Errc::stopped, "the node has stopped"});
    if (auto ok = tracker_->check_send(name, message); !ok) return fail(ok.error());
    // Only the loop makes room: on its own thread, never wait.
    if (loop_->on_loop_thread()) max_wait = std::chrono::milliseconds(0);
    switch (casts_.push(Cast{name, message}, max_wait)) {
      case CastQueue::Pushed::wake: loop_->post([this] { drain_casts(kCastsPerTurn); }); break;
      case CastQueue::Pushed::queued: break;
      case CastQueue::Pushed::full:
        sends_refused_.fetch_add(1, std::memory_order_relaxed);
        return fail(Error{Errc::would_block, "the send queue holds " + std::to_string(casts_.capacity()) + " messages"});
    }
    return {};
  }
  Result<std::string, Error> call(const std::string& name, const std::string& message,
                                  std::chrono::milliseconds timeout) override {
    auto bounded = std::clamp(timeout, std::chrono::milliseconds(1), std::chrono::milliseconds(std::chrono::hours(24)));
    return await<std::string>(
        [=, this](auto done) {
          drain_casts(SIZE_MAX);  // a call never overtakes what its thread sent before it
          tracker_->call(name, message, bounded, done);
        },
                              bounded + std::chrono::seconds(1));
  }
  std::vector<LocalWorker> workers() const override {
    return loop_->call([&] { return workers_locked(); });
  }
  Result<uint64_t, Error> start_local(const std::string& name, const std::string& plugin, const std::string& args,
                                      const std::string& policy) override {
    auto p = workers::parse_policy(policy);
    if (!p) return fail(Error{Errc::bad_option, "policy must be permanent, transient or temporary"});
    auto r = supervisor_->start(workers::WorkerSpec{name, plugin, args, *p, {}});
    if (!r) return fail(r.error());
    return *r;
  }
  Result<void, Error> stop_local(const std::string& name) override {
    bool registered = loop_->call([&] { return tracker_->owns(name); });
    if (registered) return fail(Error{Errc::registered, name + " is registered: use unregister"});
    auto r = supervisor_->stop(name);
    if (!r) return fail(r.error());
    return {};
  }

  void start_local_async(const std::string& name, const std::string& plugin, const std::string& args,
                         const std::string& policy, Done<uint64_t> done) override {
    auto p = workers::parse_policy(policy);
    if (!p) return done(fail(Error{Errc::bad_option, "policy must be permanent, transient or temporary"}));
    if (!loop_->running()) return done(fail(Error{Errc::stopped, "the node has stopped"}));
    // The pool is joined before the loop goes: the answer can always be posted.
    supervisor_->start_async(workers::WorkerSpec{name, plugin, args, *p, {}},
                             [loop = loop_.get(), done](workers::Result<uint64_t> r) {
                               Result<uint64_t, Error> out = r ? Result<uint64_t, Error>(*r) : fail(r.error());
                               loop->post([done, out] { done(out); });
                             });
  }
  void stop_local_async(const std::string& name, Done<void> done) override {
    on_loop(
        [=, this] {
          if (tracker_->owns(name)) return done(fail(Error{Errc::registered, name + " is registered: use unregister"}));
          if (!supervisor_->stop_async(name)) return done(fail(Error{Errc::not_found, name}));
          done({});
        },
        done);
  }

  void wait() override { loop_->wait_stopped(); }
  bool stopped() const override { return !loop_->running(); }
  bool quarantined() const override { return quarantined_.load(); }

 private:
  // Runs `start` on the loop: at once when already there, else posted.
  template <class Start, class T>
  void on_loop(Start start, const Done<T>& done) {
    if (!loop_->running()) return done(fail(Error{Errc::stopped, "the node has stopped"}));
    if (loop_->on_loop_thread()) return start();
    loop_->post(std::move(start));
  }

  // Runs an asynchronous tracker operation on the loop and waits for it.
  template <class T, class Start>
  Result<T, Error> await(Start start, std::chrono::milliseconds deadline = std::chrono::seconds(15)) const {
    if (!loop_->running()) return fail(Error{Errc::stopped, "the node has stopped"});
    auto promise = std::make_shared<std::promise<Result<T, Error>>>();
    auto future = promise->get_future();
    loop_->post([start, promise] {
      start([promise, once = std::make_shared<bool>(false)](Result<T, Error> r) {
        if (std::exchange(*once, true)) return;
        promise->set_value(std::move(r));
      });
    });
    if (loop_->on_loop_thread()) {
      // Waiting here would stop the very loop that must answer: let it run
      // meanwhile (a simulator's stepped loop can; a real one cannot re-enter).
      auto ready = [&] { return future.wait_for(std::chrono::seconds(0)) == std::future_status::ready; };
      if (!loop_->run_until(ready, deadline))
        return fail(Error{Errc::timeout, "no answer from the node's loop in time (called on the loop's thread)"});
      return future.get();
    }
    if (future.wait_for(deadline) != std::future_status::ready)
      return fail(Error{Errc::timeout, "no answer from the node's loop in time"});
    return future.get();
  }

  std::vector<LocalWorker> workers_locked() const {
    std::vector<LocalWorker> out;
    for (const auto& w : supervisor_->list())
      out.push_back({w.name, w.id, w.plugin, std::string(workers::policy_name(w.policy)),
                     std::string(workers::state_name(w.state)), w.restarts, w.mailbox_depth, tracker_->owns(w.name)});
    return out;
  }

  // The static quorum in members (0: off).
  std::size_t quorum() const { return opts_.quorum_majority ? opts_.expected_members / 2 + 1 : opts_.quorum; }

  void register_at_start() {
    if (register_at_.time_since_epoch().count() == 0 || clock_.now() < register_at_) return;
    register_at_ = {};
    auto batch = std::move(to_register_);
    to_register_.clear();
    for (const auto& r : batch) {
      tracker_->register_name(r.name, r.plugin, r.args, [this, r](Result<std::string, Error> res) {
        if (res) log_->info("[tracker] registered {} at start-up: {{ok, {}}}", r.name, *res);
        else if (res.error().code == Errc::already_registered)
          log_->info("[tracker] {} already runs in the cluster: {}", r.name, res.error().detail);
        else if (res.error().code == Errc::no_quorum) {
          // Not yet enough members seen: again a beacon interval later.
          log_->info("[tracker] {} waits for quorum to register ({})", r.name, res.error().detail);
          to_register_.push_back(r);
          register_at_ = clock_.now() + opts_.beacon_interval;
        } else
          log_->error("[tracker] could not register {} at start-up: {} {}", r.name, res.error().name(),
                      res.error().detail);
      });
    }
  }

  using Secrets = std::pair<discovery::ClusterSecret, std::optional<discovery::ClusterSecret>>;
  Result<Secrets, Error> read_secrets() const {
    auto current = node::read_secret_file(opts_.secret_file);
    if (!current) return fail(current.error());
    Secrets s{*current, std::nullopt};
    // The last phase of a rotation removes the previous file: only the current secret then.
    std::error_code ec;
    if (!opts_.previous_secret_file.empty() &&
        std::filesystem::symlink_status(opts_.previous_secret_file, ec).type() != std::filesystem::file_type::not_found) {
      auto previous = node::read_secret_file(opts_.previous_secret_file);
      if (!previous) return fail(previous.error());
      s.second = *previous;
    }
    return s;
  }

  Result<void, Error> reload_secrets() override {
    if (!seal_)
      return fail(Error{Errc::invalid, "this node started without a cluster secret; restart it with one"});
    auto secrets = read_secrets();
    if (!secrets) {
      log_->error("[security] kept the old secrets: {}", secrets.error().detail);
      return fail(secrets.error());
    }
    loop_->call([&] { seal_->set_secrets(secrets->first, secrets->second); });
    log_->info("[security] secrets re-read: sealing with {}{}", opts_.secret_file,
               opts_.previous_secret_file.empty() ? "" : ", also accepting " + opts_.previous_secret_file);
    return {};
  }

  NodeInfo info_locked() const {
    const auto& o = cluster_->options();
    NodeInfo i{o.name,         self_.to_string(), opts_.cluster,         incarnation_,
               beacon_->bind_address(), o.pub_port, o.router_port, o.probe_port, beacon_->describe(),
               control_ ? control_->endpoint() : "", opts_.max_frame_bytes, {}};
    const auto& s = cluster_->stats();
    const auto t = bus_->stats();
    i.secure = seal_ != nullptr;
    NodeStats& n = i.stats;
    n.beacons_sent = s.beacons_sent;
    n.beacons_received = s.beacons_received;
    n.beacons_other_cluster = s.beacons_other_cluster;
    n.beacons_bad_version = s.beacons_bad_version;
    n.beacons_garbage = s.beacons_garbage;
    n.beacons_unsealed = s.beacons_unsealed;
    n.beacons_wrong_secret = s.beacons_wrong_secret;
    n.beacons_bad_mac = s.beacons_bad_mac;
    n.beacons_replayed = s.beacons_replayed;
    n.beacons_sealed_ignored = s.beacons_sealed_ignored;
    n.keys_refused = t.keys_refused;
    n.frames_unauthenticated = t.frames_unauthenticated;
    n.peers_refused = t.peers_refused;
    n.datagrams_sent = t.datagrams_sent;
    n.datagrams_received = t.datagrams_received;
    n.datagrams_refused = t.datagrams_refused;
    n.datagrams_by_tcp = t.datagrams_by_tcp;
    n.dns_failures = dns_failures_;
    n.dns_addresses = dns_hosts_.size();
    n.frames_received = s.frames_received;
    n.frames_rejected = s.frames_rejected;
    n.bodies_rejected = s.bodies_rejected;
    n.frames_unknown_type = s.frames_unknown_type;
    n.frames_unknown_sender = s.frames_unknown_sender;
    n.connections_dropped = t.connections_dropped;
    n.handshakes_failed = t.handshakes_failed;
    n.links_reopened = t.links_reopened;
    n.sequence_gaps = s.sequence_gaps;
    n.probes_sent = s.probes_sent;
    const auto& swim = cluster_->detector().stats();
    n.probe_requests_sent = swim.probe_requests;
    n.probes_failed = swim.probes_failed;
    n.suspicions_raised = swim.suspicions;
    n.refutations = swim.refutations;
    n.isolations = swim.isolations;
    n.gone_published = swim.gone_published;
    n.gone_suppressed = swim.gone_suppressed;
    n.health_score = cluster_->detector().health();
    n.beacons_rate_limited = s.beacons_rate_limited;
    n.beacons_future_incarnation = s.beacons_future_incarnation;
    n.beacons_name_conflict = s.beacons_name_conflict;
    n.beacons_name_in_use = s.beacons_name_in_use;
    n.beacons_endpoint_in_use = s.beacons_endpoint_in_use;
    n.beacons_placement_mismatch = s.beacons_placement_mismatch;
    n.beacons_unconfirmed_full = s.beacons_unconfirmed_full;
    n.members_unconfirmed_dropped = s.members_unconfirmed_dropped;
    n.members_expired = s.members_expired;
    n.members_unconfirmed = cluster_->membership().unconfirmed();
    n.frames_bad_version = s.frames_bad_version;
    n.fields_unknown = s.fields_unknown;
    n.messages_received = s.messages_received;
    n.frames_sent = s.frames_sent;
    n.messages_sent = s.messages_sent;
    n.frames_unsent = s.frames_unsent;
    n.frames_expired = s.frames_expired;
    n.sends_refused = sends_refused_.load(std::memory_order_relaxed);
    n.sends_failed = sends_failed_;
    n.loop_wakeups = loop_->wakeups();
    if (auto* r = loop_->reactor()) n.loop_missed_signals = r->missed_signals();
    const auto ts = tracker_->stats();
    n.clock_ids = ts.clock_ids;
    n.clock_ids_retired = ts.clock_ids_retired;
    n.quarantine_sent = ts.quarantine_sent;
    return i;
  }

  std::vector<MemberInfo> members_locked() const {
    std::vector<MemberInfo> out;
    const auto& o = cluster_->options();
    out.push_back({o.name, self_.to_string(), "alive", beacon_->bind_address(), incarnation_, 0, true, o.observer,
                   o.protocol.max});
    auto now = clock_.now();
    for (const auto& m : cluster_->membership().members()) {
      out.push_back({m.name, m.id.to_string(), std::string(discovery::to_string(m.state)), m.endpoint.host,
                     m.incarnation, duration_cast<milliseconds>(now - m.last_heard).count(), false, m.observer,
                     cluster_->version_for(m.id)});
    }
    return out;
  }

  // Hands queued sends to the tracker, a bounded number per turn of the
  // loop so that heartbeats and answers keep their pace; what one turn
  // hands over leaves in one frame per peer (the flush in the tick).
  static constexpr std::size_t kCastsPerTurn = 4096;
  void drain_casts(std::size_t at_most) {
    std::vector<Cast> batch;
    bool more = casts_.take(batch, at_most);
    for (auto& c : batch)
      tracker_->send(c.name, std::move(c.message), [this](Result<std::string, Error> r) {
        if (r) return;
        ++sends_failed_;
        log_->debug("[tracker] a queued send failed: {}", r.error().to_string());
      });
    if (more) loop_->post([this] { drain_casts(kCastsPerTurn); });
  }

  // Starts every registration of a batch in this turn of the loop (their
  // requests leave together), and answers once all have answered.
  void register_batch(Registrations names, BatchDone done) {
    struct Batch {
      std::vector<Result<std::string, Error>> results;
      std::size_t left = 0;
      BatchDone done;
    };
    if (names.empty()) return done({});
    auto b = std::make_shared<Batch>();
    b->left = names.size();
    b->done = std::move(done);
    for (std::size_t i = 0; i < names.size(); ++i) b->results.push_back(fail(Error{Errc::timeout, "no answer"}));
    for (std::size_t i = 0; i < names.size(); ++i)
      tracker_->register_name(names[i].name, names[i].plugin, names[i].args, [b, i](Result<std::string, Error> r) {
        b->results[i] = std::move(r);
        if (--b->left == 0) b->done(std::move(b->results));
      });
  }

  void begin_leave() {
    if (leaving_) return;
    leaving_ = true;
    log_->info("[tracker] leaving: handing off {} names", supervisor_->count());
    tracker_->leave([this] {
      cluster_->leave();  // the PUB socket lingers, so the goodbye still goes out
      loop_->stop();
    });
  }

  void shutdown() {
    dns_.reset();  // first: its answers are posted to the loop and use this node
    if (loop_) {
      loop_->stop();
      loop_->join();
    }
    // What the loop's last tasks queued (after its last tick) still goes out.
    if (cluster_) cluster_->flush();
    control_.reset();
    tracker_.reset();
    supervisor_.reset();  // workers terminate (reason shutdown)
    cluster_.reset();
    bus_.reset();
    beacon_.reset();  // before the loop whose reactor polls it
  }

 private:
  NodeOptions opts_;
  Env* env_;
  const Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<node::Loop> loop_;  // destroyed last: the sockets below are served on it
  std::unique_ptr<node::BeaconChannel> beacon_;
  bus::NodeId self_;
  decltype(NodeOptions::register_at_start) to_register_;  // --register names still to do (waiting for quorum)
  uint64_t incarnation_ = 0;
  std::unique_ptr<node::Bus> bus_;
  std::unique_ptr<discovery::Cluster> cluster_;
  std::unique_ptr<node::ControlServer> control_;
  workers::PluginLoader loader_;
  std::unique_ptr<workers::Supervisor> supervisor_;
  std::unique_ptr<names::Tracker> tracker_;
  Clock::time_point register_at_{};
  bus::VersionRange protocol_ = bus::kSpoken;
  // Node::send's queue: any thread pushes, the loop takes.
  struct Cast {
    std::string name;
    std::string message;
  };
  using CastQueue = node::SendQueue<Cast>;
  CastQueue casts_{opts_.send_queue_size};
  std::atomic<uint64_t> sends_refused_{0};
  std::atomic<bool> quarantined_{false};
  uint64_t sends_failed_ = 0;  // loop only
  bool fire_timers_ = false;  // the loop's tick fires worker timers (no timer thread)
  std::shared_ptr<discovery::BeaconSeal> seal_;  // null: no cluster secret
  std::string curve_public_, curve_secret_;
  bool leaving_ = false;
  // --dns: the last good answer (loop only), failures, when failures may be logged again.
  std::vector<std::string> dns_hosts_;
  uint64_t dns_failures_ = 0;
  Clock::time_point dns_quiet_until_{};
  std::unique_ptr<node::DnsResolver> dns_;
};

}  // namespace

namespace node {
NodeParts parts_of(Node& n) { return static_cast<NodeImpl&>(n).parts(); }

Result<std::unique_ptr<Node>, Error> start_node(NodeOptions opts, Env* env, bus::VersionRange protocol) {
  if (!env) env = Env::Default();
  if (auto v = node::validate(opts); !v) return fail(v.error());
  if (opts.host.empty()) opts.host = local_hostname();
  std::string full_name = opts.name + "@" + opts.host;
  if (!discovery::valid_name(full_name, discovery::kMaxNodeName))
    return fail(Error{Errc::bad_option, "node name '" + full_name + "' is too long or has spaces"});

  auto log = node::make_node_logger(full_name, opts.log_level);
  auto node = std::make_unique<NodeImpl>(std::move(opts), env, log);
  if (auto r = node->init(full_name, protocol); !r) return fail(r.error());
  return std::unique_ptr<Node>(std::move(node));
}
}  // namespace node

Result<std::unique_ptr<Node>, Error> Node::start(NodeOptions opts, Env* env) {
  return node::start_node(std::move(opts), env, bus::kSpoken);
}

}  // namespace zswarm
