// The tracker's replication of a registry, in miniature, for tests that need
// many nodes and long histories: each node is a Registry; deltas and digests
// travel per origin in order (a PUB stream) and some are lost; a receiver
// that sees a gap merges the origin's whole replica first (then counts as
// having seen its summary, Registry::cover), and a digest that shows
// versions the receiver lacks does the same. No time: the caller steps it.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "registry/registry.hpp"

namespace zswarm::testing {

class ReplicationModel {
 public:
  struct Message {
    std::uint64_t seq = 0;
    std::optional<registry::Entry> delta;  // else a digest
    registry::VectorClock digest;
  };

  ReplicationModel(std::uint64_t seed, std::size_t n, double loss = 0.1) : rng(seed), loss_(loss) {
    for (std::size_t i = 0; i < n; ++i) ids.push_back("node-" + std::to_string(i));
    replicas.resize(n);
    seq_.resize(n, 0);
    queues_.resize(n, std::vector<std::deque<Message>>(n));
    expected_.resize(n, std::vector<std::uint64_t>(n, 1));
  }

  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; }

  // Node `node` writes (a put of a random name, or a delete) and publishes it.
  void write(std::size_t node, std::size_t names = 6) {
    const std::string name = "name-" + std::to_string(rng() % names);
    if (chance(0.3)) {
      if (auto tomb = replicas[node].remove(name, ids[node])) publish(node, {0, *tomb, {}});
      return;
    }
    registry::Entry e;
    e.name = name;
    e.owner = ids[node];
    e.owner_name = ids[node] + "@host";
    e.worker = rng() % 1000;
    e.plugin = "echo";
    e.args = "args";
    if (auto put = replicas[node].put(e, ids[node]); put.ok()) publish(node, {0, *put, {}});
  }
  // A write or one delivery, at random.
  void step() {
    const std::size_t node = rng() % replicas.size();
    if (chance(0.35)) write(node);
    else deliver(node, rng() % replicas.size());
  }
  void digests() {
    for (std::size_t i = 0; i < replicas.size(); ++i) publish(i, {0, std::nullopt, replicas[i].summary()});
  }
  void drain() {
    for (std::size_t to = 0; to < replicas.size(); ++to)
      for (std::size_t from = 0; from < replicas.size(); ++from)
        while (!queues_[to][from].empty()) deliver(to, from);
  }
  // Node k starts afresh (an empty replica, a new id) and takes a whole
  // replica from `from`, as a joiner does. Returns the id it had.
  std::string restart(std::size_t k, std::size_t from) {
    std::string old = ids[k];
    ids[k] = old.substr(0, old.find('.')) + "." + std::to_string(++restarts_);
    replicas[k] = registry::Registry{};
    for (std::size_t i = 0; i < replicas.size(); ++i) {
      queues_[k][i].clear();
      queues_[i][k].clear();
      expected_[i][k] = seq_[k] + 1;  // its stream starts over, as a new member's
    }
    resync(k, from);
    return old;
  }

  std::mt19937_64 rng;
  std::vector<std::string> ids;
  std::vector<registry::Registry> replicas;
  std::size_t conflicts = 0;
  std::size_t resyncs = 0;

 private:
  void publish(std::size_t from, Message m) {
    m.seq = ++seq_[from];
    for (std::size_t to = 0; to < replicas.size(); ++to)
      if (to != from && !chance(loss_)) queues_[to][from].push_back(m);
  }
  // The origin's whole replica, made now: it covers all the origin has seen.
  void resync(std::size_t to, std::size_t from) {
    (void)replicas[to].merge_snapshot(replicas[from].snapshot());
    replicas[to].cover(replicas[from].summary());
    expected_[to][from] = seq_[from] + 1;
    queues_[to][from].clear();
    ++resyncs;
  }
  void deliver(std::size_t to, std::size_t from) {
    auto& q = queues_[to][from];
    if (q.empty()) return;
    Message m = std::move(q.front());
    q.pop_front();
    if (m.seq < expected_[to][from]) return;
    if (m.seq > expected_[to][from]) return resync(to, from);  // a gap: what it carried is in the replica
    expected_[to][from] = m.seq + 1;
    if (m.delta) {
      if (replicas[to].apply(*m.delta).kind == registry::ApplyKind::conflict) ++conflicts;
    } else if (!replicas[to].covers(m.digest)) {
      resync(to, from);
    }
  }

  double loss_;
  std::size_t restarts_ = 0;
  std::vector<std::uint64_t> seq_;
  std::vector<std::vector<std::deque<Message>>> queues_;  // [to][from]
  std::vector<std::vector<std::uint64_t>> expected_;       // [to][from]
};

}  // namespace zswarm::testing
