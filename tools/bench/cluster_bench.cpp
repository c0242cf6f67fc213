// A 3-node cluster inside this process (loopback only), driven through the
// embeddable API (zswarm::Node): registration throughput from all nodes at
// once, whereis, calls, and sends to a name on another node next to a raw
// libzmq DEALER->ROUTER baseline measured in the same run.
#include "cluster_bench.hpp"

#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "bench_util.hpp"
#include "node/secret_file.hpp"
#include "zswarm/node.hpp"

namespace zswarm::bench {
namespace {

using namespace std::chrono_literals;

const char* const kNodeNames[] = {"a", "b", "c"};
constexpr int kNodes = 3;
constexpr int kEchoNames = 30;

struct LocalCluster {
  std::string dir;
  std::string name;
  uint16_t beacon_port = 0;
  std::vector<std::unique_ptr<Node>> nodes;
  std::string error;                   // why it could not form, if it did not
  std::vector<std::string> echo_names; // registered at start-up, echo plugin
  double formed_ms = 0;
};

LocalCluster* g_cluster = nullptr;
LocalCluster* g_secure_cluster = nullptr;  // the same with a cluster secret: CURVE on every link
double g_plain_send_rate[5] = {};  // BM_ClusterSendRemote's rate by senders, for the CURVE ratio
double g_raw_rate = 0;  // messages/s of the raw libzmq baseline, once measured
double g_raw_rtt_us = 0;  // p50 of a raw libzmq round trip, once measured

// CPU time of the whole process (every thread), in seconds.
double process_cpu_s() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int thread_count() {
  std::error_code ec;
  int n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/task", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

// "b@host/7" -> "b"
std::string node_of(const std::string& ref) { return ref.substr(0, ref.find('@')); }

int alive_count(const Node& n) {
  int alive = 0;
  for (const auto& m : n.members()) alive += m.state == "alive";
  return alive;
}

template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

void form(LocalCluster& c, bool secure) {
  std::random_device rd;
  std::mt19937 rng(rd());
  char tmpl[] = "/tmp/zswarm-bench-XXXXXX";
  if (!::mkdtemp(tmpl)) {
    c.error = "mkdtemp failed";
    return;
  }
  c.dir = tmpl;
  const std::string secret = c.dir + "/secret";
  if (secure) {
    if (auto w = node::write_new_secret_file(secret); !w) {
      c.error = w.error().to_string();
      return;
    }
  }
  c.name = std::string(secure ? "bench-curve-" : "bench-") + std::to_string(::getpid()) + "-" + std::to_string(rng() % 1000000);
  auto t0 = now_ns();
  for (int attempt = 0; attempt < 3 && static_cast<int>(c.nodes.size()) < kNodes; ++attempt) {
    c.nodes.clear();
    c.beacon_port = static_cast<uint16_t>(47000 + rng() % 2000);
    for (const char* n : kNodeNames) {
      NodeOptions o;
      o.name = n;
      o.cluster = c.name;
      o.beacon_port = c.beacon_port;
      o.control_dir = c.dir;
      o.log_level = "warn";
      if (secure) o.secret_file = secret;
      auto node = Node::start(std::move(o));
      if (!node) {
        c.error = "node " + std::string(n) + ": " + node.error().to_string();
        c.nodes.clear();
        break;
      }
      c.nodes.push_back(std::move(node).value());
    }
  }
  if (static_cast<int>(c.nodes.size()) < kNodes) return;
  bool formed = wait_until(
      [&] {
        for (const auto& n : c.nodes)
          if (alive_count(*n) != kNodes) return false;
        return true;
      },
      20s);
  if (!formed) {
    c.error = "the 3 nodes did not see each other alive within 20 s";
    return;
  }
  c.formed_ms = static_cast<double>(now_ns() - t0) / 1e6;
  for (int i = 0; i < kEchoNames; ++i) {
    std::string name = "echo-" + std::to_string(i);
    auto r = c.nodes[0]->register_name(name, "echo");
    if (!r) {
      c.error = "register " + name + ": " + r.error().to_string();
      return;
    }
    c.echo_names.push_back(name);
  }
  bool replicated = wait_until(
      [&] {
        for (const auto& n : c.nodes)
          for (const auto& name : c.echo_names)
            if (!n->whereis(name)) return false;
        return true;
      },
      10s);
  c.error.clear();
  if (!replicated) c.error = "the start-up names did not reach every replica within 10 s";
}

// The cluster, formed on first use; nullptr (and a skipped benchmark) if it
// could not form.
LocalCluster* cluster(benchmark::State& state, bool secure = false) {
  LocalCluster*& c = secure ? g_secure_cluster : g_cluster;
  if (!c) {
    c = new LocalCluster;
    form(*c, secure);
  }
  if (!c->error.empty()) {
    state.SkipWithError(("cluster: " + c->error).c_str());
    return nullptr;
  }
  return c;
}

// A start-up name whose worker runs on a node other than `node`, or on it.
std::string echo_name(LocalCluster& c, int node, bool remote) {
  for (const auto& name : c.echo_names) {
    auto ref = c.nodes[static_cast<std::size_t>(node)]->whereis(name);
    if (ref && (node_of(*ref) != kNodeNames[node]) == remote) return name;
  }
  return {};
}

// --- idle ---------------------------------------------------------------------

// The formed cluster doing nothing for a second: CPU the 3 nodes burn on
// heartbeats, beacons and timers alone (cpu_cores: busy cores meanwhile).
void BM_ClusterIdle(benchmark::State& state) {
  auto* c = cluster(state);
  if (!c) return;
  double cpu_s = 0, wall_s = 0;
  uint64_t wakeups = 0;
  for (auto _ : state) {
    auto t0 = now_ns();
    auto cpu0 = process_cpu_s();
    uint64_t w0 = 0;
    for (const auto& n : c->nodes) w0 += n->info().stats.loop_wakeups;
    std::this_thread::sleep_for(1s);
    for (const auto& n : c->nodes) wakeups += n->info().stats.loop_wakeups;
    wakeups -= w0;
    cpu_s += process_cpu_s() - cpu0;
    wall_s += static_cast<double>(now_ns() - t0) / 1e9;
  }
  state.counters["cpu_cores"] = wall_s > 0 ? cpu_s / wall_s : 0;
  state.counters["threads"] = thread_count();
  // Per node and second: heartbeats (5/s), beacons, digests and the peers'
  // frames make some; the target is that nothing else does.
  state.counters["wakeups_per_node_s"] = wall_s > 0 ? static_cast<double>(wakeups) / kNodes / wall_s : 0;
}
BENCHMARK(BM_ClusterIdle)->Apply(zswarm::bench::iterations<1>)->UseRealTime()->Unit(benchmark::kMillisecond);

// --- registration -------------------------------------------------------------

// Names for one iteration of the registration cases: per node, `per_node`
// distinct names; waits until every replica resolves them (not timed).
std::vector<std::vector<std::string>> fresh_names(int per_node, const char* tag) {
  static int run = 0;
  ++run;
  std::vector<std::vector<std::string>> names(kNodes);
  for (int n = 0; n < kNodes; ++n)
    for (int i = 0; i < per_node; ++i)
      names[static_cast<std::size_t>(n)].push_back(std::string(tag).append("-").append(std::to_string(run)).append("-")
                                                       .append(std::to_string(n)).append("-").append(std::to_string(i)));
  return names;
}
double replicated_ms(LocalCluster& c, const std::vector<std::vector<std::string>>& names, int64_t since_ns) {
  bool ok = wait_until(
      [&] {
        for (const auto& n : c.nodes)
          for (const auto& list : names)
            for (auto it = list.rbegin(); it != list.rend(); ++it)
              if (!n->whereis(*it)) return false;
        return true;
      },
      15s);
  return ok ? static_cast<double>(now_ns() - since_ns) / 1e6 : -1;
}


// Every iteration: T threads per node (3T in all) each register their share
// of 2,000 distinct names per node (echo plugin), one after the other,
// through register_name. Arg: T. Timed: from the threads' start to the last
// reply. Not timed: waiting until every replica resolves every new name
// (reported as replicated_ms).
void BM_ClusterRegister(benchmark::State& state) {
  auto* c = cluster(state);
  if (!c) return;
  const int per_node = 2000;
  const int threads_per_node = static_cast<int>(state.range(0));
  const int per_thread = per_node / threads_per_node;
  const int callers = kNodes * threads_per_node;
  static int run = 0;
  std::atomic<int> errors{0};
  std::string first_error;
  std::atomic<bool> have_error{false};
  double replicated = 0, cpu_s = 0, wall_s = 0;
  int threads_seen = 0;
  for (auto _ : state) {
    ++run;
    std::vector<std::vector<std::string>> names(static_cast<std::size_t>(callers));
    for (int t = 0; t < callers; ++t)
      for (int i = 0; i < per_thread; ++i)
        names[static_cast<std::size_t>(t)].push_back("reg-" + std::to_string(run) + "-" + std::to_string(t) + "-" +
                                                      std::to_string(i));
    auto t0 = now_ns();
    auto cpu0 = process_cpu_s();
    std::vector<std::thread> threads;
    for (int t = 0; t < callers; ++t) {
      threads.emplace_back([&, t] {
        Node& node = *c->nodes[static_cast<std::size_t>(t % kNodes)];
        for (const auto& name : names[static_cast<std::size_t>(t)]) {
          auto r = node.register_name(name, "echo");
          if (!r) {
            ++errors;
            if (!have_error.exchange(true)) first_error = r.error().to_string();
          }
        }
      });
    }
    threads_seen = thread_count();
    for (auto& th : threads) th.join();
    auto t1 = now_ns();
    cpu_s += process_cpu_s() - cpu0;
    wall_s += static_cast<double>(t1 - t0) / 1e9;
    state.SetIterationTime(static_cast<double>(t1 - t0) / 1e9);
    // Replication: every node resolves every new name.
    replicated = replicated_ms(*c, names, t1);
  }
  state.SetItemsProcessed(state.iterations() * per_thread * callers);
  state.counters["errors"] = errors.load();
  state.counters["replicated_ms"] = replicated;
  // Busy cores while timed (2 = this machine saturated) and CPU per name.
  state.counters["cpu_cores"] = wall_s > 0 ? cpu_s / wall_s : 0;
  state.counters["cpu_us_per_item"] = cpu_s * 1e6 / static_cast<double>(state.iterations() * per_thread * callers);
  state.counters["threads"] = threads_seen;
  state.SetLabel(std::to_string(callers) + " callers" + (have_error ? ", first error: " + first_error : ""));
}
BENCHMARK(BM_ClusterRegister)->Arg(1)->Arg(4)->Apply(zswarm::bench::iterations<2>)->UseManualTime()->Unit(benchmark::kMillisecond);

// Every node registers its share (5,000 names) with Node::register_names in
// batches of `arg` names, from one thread per node. Target: >= 100k/s.
void BM_ClusterRegisterBatched(benchmark::State& state) {
  auto* c = cluster(state);
  if (!c) return;
  const int per_node = 5000;
  const auto batch = static_cast<std::size_t>(state.range(0));
  std::atomic<int> errors{0};
  double cpu_s = 0, wall_s = 0, repl = 0;
  for (auto _ : state) {
    auto names = fresh_names(per_node, "batch");
    auto t0 = now_ns();
    auto cpu0 = process_cpu_s();
    std::vector<std::thread> threads;
    for (int n = 0; n < kNodes; ++n)
      threads.emplace_back([&, n] {
        const auto& mine = names[static_cast<std::size_t>(n)];
        for (std::size_t at = 0; at < mine.size(); at += batch) {
          Node::Registrations specs;
          for (std::size_t i = at; i < std::min(mine.size(), at + batch); ++i) specs.push_back({mine[i], "echo", ""});
          for (const auto& r : c->nodes[static_cast<std::size_t>(n)]->register_names(specs)) errors += !r.ok();
        }
      });
    for (auto& th : threads) th.join();
    auto t1 = now_ns();
    cpu_s += process_cpu_s() - cpu0;
    wall_s += static_cast<double>(t1 - t0) / 1e9;
    state.SetIterationTime(static_cast<double>(t1 - t0) / 1e9);
    repl = replicated_ms(*c, names, t1);
  }
  const double items = static_cast<double>(state.iterations()) * per_node * kNodes;
  state.SetItemsProcessed(static_cast<int64_t>(items));
  state.counters["errors"] = errors.load();
  state.counters["replicated_ms"] = repl;
  state.counters["cpu_cores"] = wall_s > 0 ? cpu_s / wall_s : 0;
  state.counters["cpu_us_per_item"] = cpu_s * 1e6 / items;
  state.SetLabel("batches of " + std::to_string(batch));
}
BENCHMARK(BM_ClusterRegisterBatched)->Arg(500)->Apply(zswarm::bench::iterations<2>)->UseManualTime()->Unit(benchmark::kMillisecond);

// Every node keeps 64 single-name registrations in flight
// (register_name_async) until its 2,000 are done. Target: >= 50k/s.
void BM_ClusterRegisterInFlight(benchmark::State& state) {
  auto* c = cluster(state);
  if (!c) return;
  const int per_node = 2000;
  const int in_flight = static_cast<int>(state.range(0));
  std::atomic<int> errors{0};
  double cpu_s = 0, wall_s = 0, repl = 0;
  for (auto _ : state) {
    auto names = fresh_names(per_node, "flight");
    auto t0 = now_ns();
    auto cpu0 = process_cpu_s();
    std::vector<std::thread> threads;
    for (int n = 0; n < kNodes; ++n)
      threads.emplace_back([&, n] {
        Node& node = *c->nodes[static_cast<std::size_t>(n)];
        std::mutex mu;
        std::condition_variable cv;
        int out = 0, finished = 0;
        for (const auto& name : names[static_cast<std::size_t>(n)]) {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return out < in_flight; });
          ++out;
          lock.unlock();
          node.register_name_async(name, "echo", "", [&](Result<std::string, Error> r) {
            errors += !r.ok();
            std::lock_guard done_lock(mu);
            --out;
            ++finished;
            cv.notify_all();
          });
        }
        std::unique_lock lock(mu);
        cv.wait_for(lock, 30s, [&] { return finished == per_node; });
      });
    for (auto& th : threads) th.join();
    auto t1 = now_ns();
    cpu_s += process_cpu_s() - cpu0;
    wall_s += static_cast<double>(t1 - t0) / 1e9;
    state.SetIterationTime(static_cast<double>(t1 - t0) / 1e9);
    repl = replicated_ms(*c, names, t1);
  }
  const double items = static_cast<double>(state.iterations()) * per_node * kNodes;
  state.SetItemsProcessed(static_cast<int64_t>(items));
  state.counters["errors"] = errors.load();
  state.counters["replicated_ms"] = repl;
  state.counters["cpu_cores"] = wall_s > 0 ? cpu_s / wall_s : 0;
  state.counters["cpu_us_per_item"] = cpu_s * 1e6 / items;
  state.SetLabel(std::to_string(in_flight) + " in flight per node");
}
BENCHMARK(BM_ClusterRegisterInFlight)->Arg(64)->Apply(zswarm::bench::iterations<2>)->UseManualTime()->Unit(benchmark::kMillisecond);

// --- whereis / call -----------------------------------------------------------

void BM_ClusterWhereis(benchmark::State& state) {
  auto* c = cluster(state);
  if (!c) return;
  Node& node = *c->nodes[1];
  Samples samples;
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& name = c->echo_names[i++ % c->echo_names.size()];
    auto t0 = now_ns();
    auto r = node.whereis(name);
    samples.add(now_ns() - t0);
    if (!r) {
      state.SkipWithError("whereis failed");
      break;
    }
  }
  samples.report(state);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ClusterWhereis)->Apply(zswarm::bench::iterations<20000>)->UseRealTime()->Unit(benchmark::kMicrosecond);

// A DEALER connected to a ROUTER over tcp://127.0.0.1: the raw baselines.
struct RawPair {
  zmq::context_t ctx;
  zmq::socket_t router{ctx, zmq::socket_type::router};
  zmq::socket_t dealer{ctx, zmq::socket_type::dealer};
  RawPair() {
    router.set(zmq::sockopt::linger, 0);
    router.bind("tcp://127.0.0.1:*");
    dealer.set(zmq::sockopt::linger, 0);
    dealer.connect(router.get(zmq::sockopt::last_endpoint));
  }
};

// Baseline for calls: a DEALER asks, a ROUTER on another thread echoes it
// back, over tcp://127.0.0.1: the p50 of one round trip.
void BM_RawZmqRoundTrip(benchmark::State& state) {
  RawPair raw;
  zmq::socket_t& router = raw.router;
  zmq::socket_t& dealer = raw.dealer;
  std::atomic<bool> stop{false};
  router.set(zmq::sockopt::rcvtimeo, 50);  // a blocking receive, that still sees `stop`
  std::thread echo([&] {
    while (!stop) {
      zmq::message_t id, msg;
      if (!router.recv(id)) continue;
      (void)router.recv(msg);
      (void)router.send(id, zmq::send_flags::sndmore);
      (void)router.send(msg, zmq::send_flags::none);
    }
  });
  Samples samples;
  zmq::message_t reply;
  for (auto _ : state) {
    auto t0 = now_ns();
    (void)dealer.send(zmq::buffer(std::string_view("ping")), zmq::send_flags::none);
    (void)dealer.recv(reply);
    samples.add(now_ns() - t0);
  }
  stop = true;
  echo.join();
  samples.report(state);
  g_raw_rtt_us = samples.percentile_us(0.5);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawZmqRoundTrip)->Apply(zswarm::bench::iterations<5000>)->UseRealTime()->Unit(benchmark::kMicrosecond);

// Node::call round trip; arg 1: the worker runs on another node, 0: on this one.
void BM_ClusterCall(benchmark::State& state) {
  auto* c = cluster(state);
  if (!c) return;
  const bool remote = state.range(0) != 0;
  std::string name = echo_name(*c, 0, remote);
  if (name.empty()) {
    state.SkipWithError("no start-up name placed as needed");
    return;
  }
  Node& node = *c->nodes[0];
  Samples samples;
  uint64_t w0 = 0;
  for (const auto& n : c->nodes) w0 += n->info().stats.loop_wakeups;
  for (auto _ : state) {
    auto t0 = now_ns();
    auto r = node.call(name, "ping", 2s);
    samples.add(now_ns() - t0);
    if (!r) {
      state.SkipWithError(("call failed: " + std::string(r.error().name())).c_str());
      break;
    }
  }
  samples.report(state);
  uint64_t w1 = 0;
  for (const auto& n : c->nodes) w1 += n->info().stats.loop_wakeups;
  // Turns of all 3 loops per call (an idle cluster adds ~35 a node and second).
  state.counters["loop_wakeups_per_call"] =
      state.iterations() > 0 ? static_cast<double>(w1 - w0) / static_cast<double>(state.iterations()) : 0;
  // Target for a remote call: p50 at most 1.5x a raw round trip.
  if (remote && g_raw_rtt_us > 0) state.counters["ratio_to_raw_rtt"] = samples.percentile_us(0.5) / g_raw_rtt_us;
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(remote ? "remote worker" : "local worker");
}
BENCHMARK(BM_ClusterCall)->Arg(0)->Arg(1)->Apply(zswarm::bench::iterations<5000>)->UseRealTime()->Unit(benchmark::kMicrosecond);

// --- send vs raw libzmq ---------------------------------------------------------

constexpr int kSendMessages = 20000;
const std::string kPayload(16, 'x');

// Baseline: one DEALER sends kSendMessages small messages to a ROUTER on
// tcp://127.0.0.1; a receiver thread counts them. Timed until the last one
// arrived.
void BM_RawZmqDealerRouter(benchmark::State& state) {
  RawPair raw;
  zmq::socket_t& router = raw.router;
  zmq::socket_t& dealer = raw.dealer;
  // Make sure the connection is up before timing.
  (void)dealer.send(zmq::buffer(std::string("hello")), zmq::send_flags::none);
  {
    zmq::message_t id, msg;
    (void)router.recv(id);
    (void)router.recv(msg);
  }
  double total_s = 0, cpu_s = 0;
  for (auto _ : state) {
    auto t0 = now_ns();
    auto cpu0 = process_cpu_s();
    std::thread receiver([&] {
      zmq::message_t id, msg;
      for (int got = 0; got < kSendMessages; ++got) {
        (void)router.recv(id);
        (void)router.recv(msg);
      }
    });
    for (int i = 0; i < kSendMessages; ++i) (void)dealer.send(zmq::buffer(kPayload), zmq::send_flags::none);
    receiver.join();
    double s = static_cast<double>(now_ns() - t0) / 1e9;
    total_s += s;
    cpu_s += process_cpu_s() - cpu0;
    state.SetIterationTime(s);
  }
  state.SetItemsProcessed(state.iterations() * kSendMessages);
  state.counters["cpu_cores"] = total_s > 0 ? cpu_s / total_s : 0;
  state.counters["cpu_us_per_item"] = cpu_s * 1e6 / static_cast<double>(state.iterations() * kSendMessages);
  // Kept for the send benchmark's ratio.
  if (total_s > 0) g_raw_rate = static_cast<double>(state.iterations() * kSendMessages) / total_s;
}
BENCHMARK(BM_RawZmqDealerRouter)->Apply(zswarm::bench::iterations<10>)->UseManualTime()->Unit(benchmark::kMillisecond);

// Node::send to a name on another node: kSendMessages in all, from T
// threads on node a (arg: T), then one call to the same name as a barrier
// (same channel, same FIFO mailbox): timed until every message reached the
// worker.
// Returns the rate (messages/s); 0 if it could not run.
double send_remote(benchmark::State& state, LocalCluster* c) {
  if (!c) return 0;
  std::string name = echo_name(*c, 0, true);
  if (name.empty()) {
    state.SkipWithError("no start-up name on another node");
    return 0;
  }
  Node& node = *c->nodes[0];
  const int senders = static_cast<int>(state.range(0));
  std::atomic<int> errors{0};
  double total_s = 0, cpu_s = 0;
  for (auto _ : state) {
    auto t0 = now_ns();
    auto cpu0 = process_cpu_s();
    std::vector<std::thread> threads;
    for (int t = 0; t < senders; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < kSendMessages / senders; ++i) errors += !node.send(name, kPayload).ok();
      });
    for (auto& th : threads) th.join();
    auto barrier = node.call(name, "barrier", 10s);
    if (!barrier) state.SkipWithError(("barrier call failed: " + std::string(barrier.error().name())).c_str());
    double s = static_cast<double>(now_ns() - t0) / 1e9;
    total_s += s;
    cpu_s += process_cpu_s() - cpu0;
    state.SetIterationTime(s);
  }
  const auto sent = state.iterations() * (kSendMessages / senders) * senders;
  state.SetItemsProcessed(sent);
  state.counters["errors"] = errors.load();
  state.counters["cpu_cores"] = total_s > 0 ? cpu_s / total_s : 0;
  state.counters["cpu_us_per_item"] = cpu_s * 1e6 / static_cast<double>(sent);
  // Target: at least half the raw rate (ratio >= 0.5); absent if the baseline did not run.
  if (g_raw_rate > 0 && total_s > 0)
    state.counters["ratio_to_raw"] = static_cast<double>(sent) / total_s / g_raw_rate;
  state.SetLabel(std::to_string(senders) + (senders == 1 ? " sender" : " senders"));
  return total_s > 0 ? static_cast<double>(sent) / total_s : 0;
}

void BM_ClusterSendRemote(benchmark::State& state) {
  g_plain_send_rate[state.range(0)] = send_remote(state, cluster(state));
}
BENCHMARK(BM_ClusterSendRemote)->Arg(1)->Arg(4)->Apply(zswarm::bench::iterations<10>)->UseManualTime()->Unit(benchmark::kMillisecond);

// The same on a cluster with a secret, every link CURVE (XSalsa20-Poly1305
// per frame). Target: at least 0.7 x the plain case just measured.
void BM_ClusterSendRemoteCurve(benchmark::State& state) {
  double rate = send_remote(state, cluster(state, true));
  if (double plain = g_plain_send_rate[state.range(0)]; plain > 0 && rate > 0)
    state.counters["ratio_to_plain"] = rate / plain;
}
BENCHMARK(BM_ClusterSendRemoteCurve)->Arg(1)->Arg(4)->Apply(zswarm::bench::iterations<10>)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

void stop_cluster() {
  for (LocalCluster** c : {&g_cluster, &g_secure_cluster}) {
    if (!*c) continue;
    (*c)->nodes.clear();  // destroying a Node stops it
    std::error_code ec;
    if (!(*c)->dir.empty()) std::filesystem::remove_all((*c)->dir, ec);
    delete *c;
    *c = nullptr;
  }
}

double cluster_formed_ms() { return g_cluster ? g_cluster->formed_ms : 0; }

}  // namespace zswarm::bench
