// The wire: the bus envelope (every frame on PUB and the direct channel) and
// the discovery beacon (every UDP announcement), encoded and decoded.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>


#include "bench_util.hpp"
#include "bus/envelope.hpp"
#include "discovery/beacon.hpp"
#include "names/tracker_wire.hpp"

namespace {

using namespace zswarm;

// One encode and one decode per iteration; the argument is the body size.
void BM_EnvelopeRoundTrip(benchmark::State& state) {
  bus::Envelope e;
  e.type = bus::MessageType::worker_cast;
  e.sender = bus::NodeId::random();
  e.incarnation = 1712345678901;
  e.seq = 0;
  e.corr = 42;
  e.body.assign(static_cast<std::size_t>(state.range(0)), 'x');
  std::size_t frame_size = 0;
  for (auto _ : state) {
    std::string frame = bus::encode(e);
    frame_size = frame.size();
    auto d = bus::decode_frame(frame);
    benchmark::DoNotOptimize(d);
    if (!d) state.SkipWithError("decode failed");
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["frame_bytes"] = static_cast<double>(frame_size);
}
BENCHMARK(BM_EnvelopeRoundTrip)->Arg(16)->Arg(256)->Arg(4096)->Apply(zswarm::bench::min_time<200>);

void BM_EnvelopeDecode(benchmark::State& state) {
  bus::Envelope e;
  e.type = bus::MessageType::registry_delta;
  e.sender = bus::NodeId::random();
  e.incarnation = 1712345678901;
  e.seq = 123456;
  e.body.assign(128, 'x');
  const std::string frame = bus::encode(e);
  for (auto _ : state) {
    auto d = bus::decode_frame(frame);
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EnvelopeDecode)->Apply(zswarm::bench::min_time<200>);

// A batch: the argument is how many 64-byte messages share one frame; items
// are messages, so the figure compares with BM_EnvelopeRoundTrip/16..256.
void BM_BatchRoundTrip(benchmark::State& state) {
  auto sender = bus::NodeId::random();
  const std::string body(64, 'x');
  const auto n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    bus::FrameBuilder b(bus::kSpoken.max, sender, 1712345678901);
    for (std::size_t i = 0; i < n; ++i) b.add(bus::MessageType::worker_cast, 0, i, body);
    auto d = bus::decode_frame(b.take());
    benchmark::DoNotOptimize(d);
    if (!d || d->messages.size() != n) state.SkipWithError("decode failed");
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_BatchRoundTrip)->Arg(1)->Arg(16)->Arg(256)->Apply(zswarm::bench::min_time<200>);

void BM_BeaconRoundTrip(benchmark::State& state) {
  discovery::Beacon b;
  b.id = bus::NodeId::random();
  b.incarnation = 1712345678901;
  b.pub_port = 41234;
  b.router_port = 41235;
  b.cluster = "production-eu-west";
  b.name = "worker-node-17@host-17";
  for (auto _ : state) {
    std::string dgram = discovery::encode(b);
    auto p = discovery::parse(dgram);
    benchmark::DoNotOptimize(p);
    if (!p) state.SkipWithError("parse failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BeaconRoundTrip)->Apply(zswarm::bench::min_time<200>);

// The body node/tracker.cpp wraps around every message to a remote name
// (worker_cast): a typed WorkerMessage, packed by the sender and decoded
// (bounded) by the receiver. What it adds per message on top of the envelope.
void BM_TrackerCastBody(benchmark::State& state) {
  const std::string name = "echo-17", message(16, 'x');
  for (auto _ : state) {
    std::string packed = zswarm::names::wire::encode(zswarm::names::wire::WorkerMessage{name, message, 1, {}});
    auto m = zswarm::names::wire::decode_worker_message(packed);
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TrackerCastBody)->Apply(zswarm::bench::min_time<200>);

}  // namespace
