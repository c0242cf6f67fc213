// Rolling upgrades, on real nodes over a simulated network: a node of this
// version and nodes of a later one (a test fixture: FutureWire speaks
// protocol 2..3, adds a message type, a field in every frame, message and
// map body, and a beacon flag and extension) form one cluster, register
// names and hand them off in both directions; each pair talks in the highest
// version both speak. And batching: what one wake-up sends to a peer shares
// one frame.
#include <map>
#include <string>

#include "bus/envelope.hpp"
#include "registry/hash_ring.hpp"
#include "support/future_wire.hpp"
#include "support/sim.hpp"

namespace zswarm::sim {
namespace {

constexpr bus::VersionRange kLater{2, 3};

// A SimEnv::Wire layer of type W over the next node's transport; `out`
// points at it once the node has started.
template <class W>
std::function<std::unique_ptr<bus::Transport>(std::unique_ptr<bus::Transport>)> wrap_with(W*& out) {
  return [&out](std::unique_ptr<bus::Transport> inner) -> std::unique_ptr<bus::Transport> {
    auto w = std::make_unique<W>(std::move(inner));
    out = w.get();
    return w;
  };
}

struct WireSim : Sim {
  std::map<std::string, FutureWire*> wires;  // by node name

  SimNode& add_later(const std::string& full_name) {
    FutureWire* wire = nullptr;
    env.set_next_wire({wrap_with(wire), future_beacon});
    SimNode& n = add(full_name, false, kLater);
    wires[full_name] = wire;
    return n;
  }

  std::string owner_of(SimNode& by, const std::string& name) {
    auto r = by.node->whereis(name);
    return r ? r->substr(0, r->find('@')) : "-";
  }
  void register_from(SimNode& n, const std::string& name, int& ok) {
    n.parts.tracker->register_name(name, "counter", "", [&ok](Result<std::string, Error> r) { ok += r.ok(); });
  }
};

std::string name_of(int i) { return std::string("n").append(std::to_string(i)); }

TEST_F(WireSim, ALaterVersionJoinsRegistersAndHandsOffBothWays) {
  auto& a = add("a@h");
  settle();
  int ok = 0;
  for (int i = 0; i < 24; ++i) register_from(a, name_of(i), ok);
  settle();
  ASSERT_EQ(ok, 24);
  for (int i = 0; i < 24; ++i) ASSERT_TRUE(a.node->send(name_of(i), "inc").ok());
  settle();

  // The later version joins: the ring gives it some names, which a hands
  // over with their state.
  auto& f = add_later("f@h");
  settle();
  run_for(500ms);
  ASSERT_EQ(state_seen(a, f), MemberState::alive);
  ASSERT_EQ(state_seen(f, a), MemberState::alive);
  EXPECT_EQ(a.parts.cluster->version_for(f.id), 2);
  EXPECT_EQ(f.parts.cluster->version_for(a.id), 2);
  EXPECT_EQ(f.parts.cluster->pub_version(), 2);
  int on_f = 0;
  for (int i = 0; i < 24; ++i) on_f += owner_of(a, name_of(i)) == "f";
  EXPECT_GT(on_f, 0) << "the ring gave the newcomer nothing: no handoff was tested";
  for (int i = 0; i < 24; ++i) {
    EXPECT_EQ(owner_of(a, name_of(i)), owner_of(f, name_of(i))) << name_of(i);
    auto got = f.node->call(name_of(i), "get", 1s);
    EXPECT_EQ(got ? *got : got.error().name(), "1") << name_of(i) << " lost its state";
  }

  // Names registered through the later version land on both nodes.
  for (int i = 24; i < 40; ++i) register_from(f, name_of(i), ok);
  settle();
  EXPECT_EQ(ok, 40);
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(f.node->send(name_of(i), "inc").ok());
  settle();
  for (auto& [name, count] : census()) EXPECT_EQ(count, 1) << name;
  EXPECT_EQ(census().size(), 40u);

  // The later version leaves: everything comes back to a, state and all.
  f.node->leave();
  settle();
  run_for(200ms);
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(owner_of(a, name_of(i)), "a") << name_of(i);
    auto got = a.node->call(name_of(i), "get", 1s);
    EXPECT_EQ(got ? *got : got.error().name(), i < 24 ? "2" : "1") << name_of(i);
  }
  for (auto& [name, count] : census()) EXPECT_EQ(count, 1) << name;

  // What a skipped and what it did not reject.
  const auto& s = a.parts.cluster->stats();
  EXPECT_GT(s.frames_unknown_type, 0u);
  EXPECT_GT(s.fields_unknown, 0u);
  EXPECT_EQ(s.frames_rejected, 0u);
  EXPECT_EQ(s.bodies_rejected, 0u);
  EXPECT_EQ(s.sequence_gaps, 0u) << "the later version's new messages are numbered in its stream";
  EXPECT_GT(wires["f@h"]->bodies_extended, 0u);
}

TEST_F(WireSim, EachPairSpeaksTheHighestVersionBothSpeak) {
  auto& f1 = add_later("f1@h");
  auto& f2 = add_later("f2@h");
  settle();
  run_for(300ms);
  EXPECT_EQ(f1.parts.cluster->version_for(f2.id), 3);
  EXPECT_EQ(f1.parts.cluster->pub_version(), 3);
  // Until it knew who listens, f1 published in the lowest version it speaks.
  EXPECT_EQ(wires["f1@h"]->pub_versions, (std::set<uint8_t>{2, 3}));
  wires["f1@h"]->pub_versions.clear();
  run_for(300ms);
  EXPECT_EQ(wires["f1@h"]->pub_versions, (std::set<uint8_t>{3}));

  // This version joins: the PUB falls back to 2, which everyone reads; the
  // later pair still talks 3 directly.
  auto& a = add("a@h");
  settle();
  run_for(300ms);
  EXPECT_EQ(f1.parts.cluster->pub_version(), 2);
  EXPECT_EQ(f1.parts.cluster->version_for(a.id), 2);
  EXPECT_EQ(f1.parts.cluster->version_for(f2.id), 3);
  int ok = 0;
  for (int i = 0; i < 30; ++i) register_from(a, name_of(i), ok);
  settle();
  EXPECT_EQ(ok, 30);
  for (auto* f : {&f1, &f2}) {
    auto* w = wires[f->name];
    EXPECT_TRUE(w->pub_versions.count(2));
    EXPECT_EQ(w->direct_versions[a.id], (std::set<uint8_t>{2})) << f->name;
  }
  EXPECT_TRUE(wires["f1@h"]->direct_versions[f2.id].count(3) || wires["f2@h"]->direct_versions[f1.id].count(3))
      << "the later pair never talked directly in version 3";
  EXPECT_EQ(a.parts.cluster->stats().frames_rejected, 0u);
  for (auto& [name, count] : census()) EXPECT_EQ(count, 1) << name;

  // This version leaves: the PUB goes back to 3.
  a.node->leave();
  settle();
  EXPECT_EQ(f1.parts.cluster->pub_version(), 3);
}

TEST_F(WireSim, ANodeWithNoVersionInCommonIsNotAMember) {
  auto& a = add("a@h");
  auto& z = add("z@h", false, {3, 4});
  settle();
  run_for(300ms);
  EXPECT_TRUE(others(a).empty());
  EXPECT_TRUE(others(z).empty());
  EXPECT_GT(a.parts.cluster->stats().beacons_bad_version, 0u);
}

TEST_F(WireSim, WhatOneWakeUpSendsToAPeerSharesAFrame) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  run_for(100ms);
  registry::HashRing ring;
  ring.add_member(a.id.bytes(), "a@h");
  ring.add_member(b.id.bytes(), "b@h");
  int ok = 0, to_b = 0;
  const auto before = a.parts.cluster->stats();
  for (int i = 0; i < 200; ++i) {
    register_from(a, name_of(i), ok);  // one wake-up: 200 requests, about half to b
    to_b += *ring.owner(name_of(i)) == b.id.bytes();
  }
  ASSERT_GT(to_b, 50);
  settle();
  EXPECT_EQ(ok, 200);
  const auto& after = a.parts.cluster->stats();
  const auto sent = after.messages_sent - before.messages_sent;
  const auto frames = after.frames_sent - before.frames_sent;
  EXPECT_GE(sent, static_cast<uint64_t>(to_b));
  EXPECT_LT(frames * 10, sent) << frames << " frames for " << sent << " messages";
  EXPECT_GT(b.parts.cluster->stats().messages_received, b.parts.cluster->stats().frames_received);
}

}  // namespace
}  // namespace zswarm::sim

namespace zswarm::sim {
namespace {

// Counts the messages of each type a node receives, by sender.
class CountingWire final : public bus::Transport {
 public:
  explicit CountingWire(std::unique_ptr<bus::Transport> inner) : inner_(std::move(inner)) {}
  void connect(const bus::NodeId& peer, const bus::PeerEndpoint& at) override { inner_->connect(peer, at); }
  void disconnect(const bus::NodeId& peer) override { inner_->disconnect(peer); }
  void publish(std::string_view frame) override { inner_->publish(frame); }
  bool send(const bus::NodeId& peer, std::string_view frame) override { return inner_->send(peer, frame); }
  void set_receiver(Receiver r) override {
    inner_->set_receiver([this, r = std::move(r)](bus::Inbound&& in) {
      if (in.kind == bus::Inbound::published || in.kind == bus::Inbound::direct)
        if (auto f = bus::decode_frame(in.frame))
          for (const auto& e : f->messages) {
            ++received[{e.sender, static_cast<int>(e.type)}];
            if (e.type == bus::MessageType::sync_snapshot)
              if (auto entries = registry::decode_snapshot(e.body))
                for (const auto& entry : *entries) snapshot_entries[e.sender].push_back(entry.owner);
          }
      r(std::move(in));
    });
  }
  void tick(Clock::time_point now) override { inner_->tick(now); }
  int from(const bus::NodeId& sender, bus::MessageType t) const {
    auto it = received.find({sender, static_cast<int>(t)});
    return it == received.end() ? 0 : it->second;
  }
  int total(bus::MessageType t) const {
    int n = 0;
    for (const auto& [k, v] : received) n += k.second == static_cast<int>(t) ? v : 0;
    return n;
  }
  std::map<std::pair<bus::NodeId, int>, int> received;
  std::map<bus::NodeId, std::vector<std::string>> snapshot_entries;  // sender -> owner of each entry sent

 private:
  std::unique_ptr<bus::Transport> inner_;
};

struct HealSim : Sim {
  std::map<std::string, CountingWire*> wires;
  SimNode& add_counted(const std::string& full_name) {
    CountingWire* wire = nullptr;
    env.set_next_wire({wrap_with(wire), {}});
    SimNode& n = add(full_name);
    wires[full_name] = wire;
    return n;
  }
};

TEST_F(HealSim, AJoinerIsHandedItsNamesByEveryPeerAndTakesOneWholeReplicaOnceLinksAreLive) {
  auto& a = add_counted("a@h");
  auto& b = add_counted("b@h");
  auto& c = add_counted("c@h");
  settle();
  run_for(300ms);
  int ok = 0;
  for (int i = 0; i < 90; ++i)
    a.parts.tracker->register_name(std::string("j").append(std::to_string(i)), "counter", "",
                                   [&ok](Result<std::string, Error> r) { ok += r.ok(); });
  settle();
  ASSERT_EQ(ok, 90);
  std::map<std::string, std::string> before;  // name -> owner node, before the join
  for (const auto& r : a.node->registered()) before[r.name] = r.owner;

  auto& d = add_counted("d@h");
  settle();
  // The hellos alone hand d its names, from every previous owner, before any
  // snapshot: no PUB frame has crossed yet (no time has passed).
  EXPECT_EQ(wires["d@h"]->total(bus::MessageType::sync_snapshot), 0);
  std::set<std::string> gave;
  for (const auto& r : d.node->registered())
    if (r.owner == "d@h") gave.insert(before[r.name]);
  EXPECT_EQ(gave, (std::set<std::string>{"a@h", "b@h", "c@h"})) << "a peer did not hand over its names";
  // Once each PUB reaches d, d asks that peer for what it published before
  // the link was up: the first for its whole replica (all 90 names), every
  // other only for the versions it owns (one small chunk each).
  run_for(300ms);
  int whole = 0;
  for (auto* n : {&a, &b, &c}) {
    EXPECT_EQ(wires["d@h"]->from(n->id, bus::MessageType::sync_snapshot), 1) << n->name;
    const auto& owners = wires["d@h"]->snapshot_entries[n->id];
    if (owners.size() == 90u) {
      ++whole;
      continue;
    }
    EXPECT_LT(owners.size(), 60u) << n->name;
    for (const auto& o : owners) EXPECT_EQ(o, n->id.bytes()) << n->name << " sent a version it does not own";
  }
  EXPECT_EQ(whole, 1) << "one peer, and only one, sends the whole replica";
  EXPECT_EQ(d.node->registered().size(), 90u);
  for (auto& [name, count] : census()) EXPECT_EQ(count, 1) << name;
}

}  // namespace
}  // namespace zswarm::sim
