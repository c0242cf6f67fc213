// SnapshotServer: a replica served a chunk per step, straight from the table.
// Every stored version arrives whatever happens between steps (refused
// sends, a table that grows and rehashes, a restart), and only the last
// chunk says so.
#include "names/snapshot_server.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace zswarm::names {
namespace {

registry::Entry named(const std::string& name, std::size_t args_bytes = 100) {
  registry::Entry e;
  e.name = name;
  e.owner = std::string(16, 'o');
  e.owner_name = "a@h";
  e.worker = 1;
  e.plugin = "echo";
  e.args = std::string(args_bytes, 'x');
  return e;
}

struct Received {
  std::set<std::string> names;
  std::vector<std::pair<uint64_t, std::size_t>> hints;  // per chunk: more, entries in it
  int chunks = 0;
  int lasts = 0;
  bool last_was_last = true;  // no chunk after the one marked last
};

struct SnapshotServerTest : ::testing::Test {
  registry::Registry reg;
  SnapshotServer server{reg};
  bus::NodeId peer = bus::NodeId::random();
  std::map<bus::NodeId, Received> got;
  bool refuse = false;

  void fill(int from, int to) {
    for (int i = from; i < to; ++i) ASSERT_TRUE(reg.put(named(std::string("n").append(std::to_string(i))), "self").ok());
  }
  SnapshotServer::Send sender() {
    return [this](const bus::NodeId& to, const std::string& chunk, uint64_t more) {
      if (refuse) return false;
      const bool last = more == 0;
      auto entries = registry::decode_snapshot(chunk);
      EXPECT_TRUE(entries.ok());
      EXPECT_LE(chunk.size(), registry::kSnapshotChunkBytes + 4096) << "a chunk must fit a frame";
      auto& r = got[to];
      r.last_was_last = r.lasts == 0;
      ++r.chunks;
      r.lasts += last;
      if (entries) {
        for (const auto& e : *entries) r.names.insert(e.name);
        r.hints.emplace_back(more, entries->size());
      }
      return true;
    };
  }
  int run(int max_steps = 10000) {
    int steps = 0;
    while (server.busy() && steps < max_steps) {
      server.step(sender());
      ++steps;
    }
    return steps;
  }
  static std::set<std::string> names(int from, int to) {
    std::set<std::string> out;
    for (int i = from; i < to; ++i) out.insert(std::string("n").append(std::to_string(i)));
    return out;
  }
};

TEST_F(SnapshotServerTest, OneChunkAStepAndTheLastSaysSo) {
  fill(0, 20000);  // about 150 B an entry: a dozen chunks
  server.start(peer);
  const int steps = run();
  EXPECT_FALSE(server.busy());
  const auto& r = got[peer];
  EXPECT_EQ(r.names, names(0, 20000));
  EXPECT_GT(r.chunks, 5);
  EXPECT_EQ(r.chunks, steps) << "one chunk per step";
  EXPECT_EQ(r.lasts, 1);
  EXPECT_TRUE(r.last_was_last);
  // Each chunk but the last says how many entries it and the rest hold (the
  // receiver sizes its table by it); the table did not change meanwhile.
  std::size_t rest = 20000;
  for (std::size_t k = 0; k + 1 < r.hints.size(); ++k) {
    EXPECT_EQ(r.hints[k].first, rest) << "chunk " << k;
    rest -= r.hints[k].second;
  }
  EXPECT_EQ(r.hints.back().first, 0u);
  EXPECT_EQ(r.hints.back().second, rest);
}

TEST_F(SnapshotServerTest, AnEmptyReplicaIsOneEmptyLastChunk) {
  server.start(peer);
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(got[peer].chunks, 1);
  EXPECT_EQ(got[peer].lasts, 1);
  EXPECT_TRUE(got[peer].names.empty());
}

TEST_F(SnapshotServerTest, ARefusedChunkIsOfferedAgain) {
  fill(0, 5000);
  server.start(peer);
  server.step(sender());
  refuse = true;
  for (int i = 0; i < 3; ++i) {
    server.step(sender());
    EXPECT_TRUE(server.blocked());
  }
  refuse = false;
  run();
  EXPECT_FALSE(server.blocked());
  EXPECT_EQ(got[peer].names, names(0, 5000));
  EXPECT_EQ(got[peer].lasts, 1);
}

TEST_F(SnapshotServerTest, ATableThatGrowsMidPassStillYieldsEveryEarlierVersion) {
  fill(0, 3000);
  server.start(peer);
  server.step(sender());
  fill(3000, 60000);  // rehashes several times: the pass starts again
  run();
  const auto& r = got[peer];
  for (const auto& n : names(0, 3000)) ASSERT_TRUE(r.names.count(n)) << n << " was skipped";
  EXPECT_EQ(r.lasts, 1);
  EXPECT_TRUE(r.last_was_last);
}

TEST_F(SnapshotServerTest, PeersAreServedSideBySideAndForgetStopsOne) {
  fill(0, 8000);
  auto other = bus::NodeId::random(), gone = bus::NodeId::random();
  server.start(peer);
  server.start(other);
  server.start(gone);
  server.step(sender());
  server.forget(gone);
  server.start(peer);  // asked again: from the top
  run();
  EXPECT_EQ(got[peer].names, names(0, 8000));
  EXPECT_EQ(got[other].names, names(0, 8000));
  EXPECT_EQ(got[peer].lasts, 1);
  EXPECT_EQ(got[other].lasts, 1);
  EXPECT_EQ(got[gone].lasts, 0);
  EXPECT_EQ(got[gone].chunks, 1);
}

TEST_F(SnapshotServerTest, APartHoldsOnlyTheOwnersVersionsTombstonesToo) {
  for (int i = 0; i < 40000; ++i) {  // every 4th owned by "mine": far more than one step looks at
    auto e = named(std::string("n").append(std::to_string(i)));
    e.owner = i % 4 == 0 ? "mine" : "theirs";
    ASSERT_TRUE(reg.put(std::move(e), "self").ok());
  }
  ASSERT_TRUE(reg.remove("n8", "self").has_value());  // a tombstone keeps its owner
  server.start(peer, std::string("mine"));
  run();
  std::set<std::string> want;
  for (int i = 0; i < 40000; i += 4) want.insert(std::string("n").append(std::to_string(i)));
  const auto& r = got[peer];
  EXPECT_EQ(r.names, want);
  EXPECT_EQ(r.lasts, 1);
  EXPECT_TRUE(r.last_was_last);
  for (std::size_t k = 0; k + 1 < r.hints.size(); ++k) {
    EXPECT_GT(r.hints[k].second, 0u) << "an empty chunk before the last";
    EXPECT_EQ(r.hints[k].first, 1u) << "a part's size is not known ahead";
  }
}

TEST_F(SnapshotServerTest, AWholePassIsNotNarrowedByARequestForAPart) {
  fill(0, 8000);
  server.start(peer);
  server.step(sender());
  server.start(peer, std::string("nobody"));  // the whole pass already holds it
  run();
  EXPECT_EQ(got[peer].names, names(0, 8000));
  EXPECT_EQ(got[peer].lasts, 1);
}

TEST_F(SnapshotServerTest, TombstonesTravelToo) {
  fill(0, 100);
  ASSERT_TRUE(reg.remove("n7", "self").has_value());
  server.start(peer);
  run();
  EXPECT_EQ(got[peer].names, names(0, 100));
}

}  // namespace
}  // namespace zswarm::names
