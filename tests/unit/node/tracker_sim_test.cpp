// The name service of real nodes (Node::start on a SimEnv) over a simulated
// network: replicas converge under loss, duplication and reordering; a
// healed partition keeps one worker per name; a dead node's names restart
// exactly once. Deterministic: manual clock, seeded faults, no sleeping.
#include "names/tracker.hpp"

#include <map>

#include "bus/envelope.hpp"
#include "names/tracker_wire.hpp"
#include "registry/hash_ring.hpp"

#include "support/sim.hpp"

namespace zswarm::names {

using namespace zswarm::sim;
namespace {

// name -> REF, as one node's replica has it.
std::map<std::string, std::string> replica(SimNode& n) {
  std::map<std::string, std::string> out;
  for (const auto& r : n.node->registered()) out[r.name] = r.ref;
  return out;
}

// Is a worker for `name` under n's supervisor?
bool runs_on(SimNode& n, const std::string& name) {
  for (const auto& w : n.node->workers())
    if (w.name == name) return true;
  return false;
}

// The names on which two replicas differ, for readable failures.
std::string diff(const std::map<std::string, std::string>& x, const std::map<std::string, std::string>& y) {
  std::string out;
  for (auto& [k, v] : x)
    if (!y.count(k) || y.at(k) != v) out += k + "=" + v + "/" + (y.count(k) ? y.at(k) : "-") + " ";
  for (auto& [k, v] : y)
    if (!x.count(k)) out += k + "=-/" + v + " ";
  return out;
}

struct TrackerSim : Sim {
  std::map<std::string, std::string> results;  // name -> "ok" or error code

  // Asynchronous, so that many registrations are in flight at once: the
  // public register_name waits for its answer, which would run them one by one.
  // A raw frame of one message from `from` to `to`, as any member could
  // send it; then `wait` of simulated time.
  void send_raw(SimNode& from, SimNode& to, bus::MessageType type, uint64_t corr, const std::string& body,
                std::chrono::milliseconds wait) {
    bus::FrameBuilder f(bus::kSpoken.max, from.id, from.node->info().incarnation);
    f.add(type, 0, corr, body);
    ASSERT_TRUE(from.transport->send(to.id, f.take()));
    run_for(wait);
  }
  void register_from(SimNode& n, const std::string& name, const std::string& plugin = "echo",
                     const std::string& args = "") {
    n.parts.tracker->register_name(name, plugin, args, [this, name](Result<std::string, Error> r) {
      results[name] = r ? "ok" : r.error().name();
    });
  }
};

TEST_F(TrackerSim, RegisterOnTheRingOwnerAndAgreeEverywhere) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  auto& c = add("c@h");
  settle();
  for (int i = 0; i < 60; ++i) register_from(*nodes[static_cast<std::size_t>(i % 3)], std::string("n").append(std::to_string(i)));
  settle();
  for (int i = 0; i < 60; ++i) EXPECT_EQ(results[std::string("n").append(std::to_string(i))], "ok") << i;
  auto ra = replica(a);
  EXPECT_EQ(ra.size(), 60u);
  EXPECT_EQ(replica(b), ra);
  EXPECT_EQ(replica(c), ra);
  auto count = census();
  EXPECT_EQ(count.size(), 60u);
  for (auto& [name, n] : count) EXPECT_EQ(n, 1) << name;
  int on_each[3] = {0, 0, 0};
  for (auto& [name, ref] : ra) ++on_each[ref[0] - 'a'];
  for (int k : on_each) EXPECT_GT(k, 5);  // spread by the ring, not all on the asker
}

TEST_F(TrackerSim, ReplicasConvergeUnderLossDuplicationAndReordering) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  auto& c = add("c@h");
  settle();
  run_for(200ms);
  for (auto& n : nodes) {
    n->fault->plan().drop = 0.15;
    n->fault->plan().duplicate = 0.1;
    n->fault->plan().reorder = 0.2;
  }
  for (int i = 0; i < 150; ++i) {
    register_from(*nodes[static_cast<std::size_t>(i % 3)], std::string("x").append(std::to_string(i)));
    if (i % 10 == 0) run_for(20ms);
  }
  run_for(500ms);
  uint64_t dropped = 0;
  for (auto& n : nodes) dropped += n->fault->stats().dropped;
  EXPECT_GT(dropped, 0u);
  for (auto& n : nodes) n->fault->plan() = {};
  run_for(8s, 50ms);  // timeouts fire, heartbeats show the gaps, snapshots repair
  auto ra = replica(a);
  EXPECT_EQ(diff(ra, replica(b)), "");
  EXPECT_EQ(diff(ra, replica(c)), "");
  EXPECT_GT(a.gaps + b.gaps + c.gaps, 0u);
  // Every name that said ok is registered, and no name runs twice.
  for (auto& [name, r] : results) {
    if (r == "ok") {
      EXPECT_TRUE(ra.count(name)) << name;
    }
  }
  for (auto& [name, n] : census()) EXPECT_EQ(n, 1) << name;
  for (auto& [name, ref] : ra) EXPECT_EQ(census()[name], 1) << name << " registered but not running";
}

TEST_F(TrackerSim, HealedPartitionKeepsOneWorkerPerName) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  isolate(a, true);
  run_for(2000ms);  // each side declares the other down
  ASSERT_EQ(state_seen(a, b), MemberState::down);
  ASSERT_EQ(state_seen(b, a), MemberState::down);
  // Both sides register the same names: each runs its own copy for now.
  for (int i = 0; i < 20; ++i) {
    register_from(a, std::string("p").append(std::to_string(i)));
    register_from(b, std::string("p").append(std::to_string(i)));
  }
  settle();
  for (auto& [name, n] : census()) EXPECT_EQ(n, 2) << name;
  isolate(a, false);
  run_for(3000ms);  // beacons bring each back; snapshots carry the conflicts
  ASSERT_EQ(state_seen(a, b), MemberState::alive);
  auto ra = replica(a);
  EXPECT_EQ(ra.size(), 20u);
  EXPECT_EQ(replica(b), ra);
  auto count = census();
  EXPECT_EQ(count.size(), 20u);
  for (auto& [name, n] : count) EXPECT_EQ(n, 1) << name;
  // The survivor of each conflict is the one both replicas name.
  for (auto& [name, ref] : ra) {
    SimNode& owner = ref[0] == 'a' ? a : b;
    EXPECT_TRUE(runs_on(owner, name)) << name;
  }
}

// What `call` answers on n (the reply, or the error's name).
std::string ask(SimNode& n, const std::string& name, const std::string& msg) {
  auto r = n.node->call(name, msg, std::chrono::seconds(1));
  return r ? *r : std::string(r.error().name());
}

// Issue 13's example, for every counter a node owns: c reaches 5 on its
// owner; the owner is cut off alone and counts 3 more (8); the majority
// restarts c from its args and counts 2. After the heal the restarted copy
// is the version both replicas store (its clock dominates), the original is
// a takeover's loser: it hears resolve_conflict and its state is merged by
// the winner. Every node answers 10, and one worker runs c.
TEST_F(TrackerSim, ACounterKeepsTheIncrementsOfBothSidesOfAPartition) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  auto& c = add("c@h");
  settle();
  for (int i = 0; i < 12; ++i) register_from(a, std::string("c").append(std::to_string(i)), "counter");
  settle();
  std::vector<std::string> on_a;
  for (auto& [name, ref] : replica(b))
    if (ref[0] == 'a') on_a.push_back(name);
  ASSERT_GE(on_a.size(), 2u);
  for (auto& name : on_a) ASSERT_EQ(ask(b, name, "inc 5"), "5") << name;
  isolate(a, true);
  run_for(2000ms);
  ASSERT_EQ(state_seen(b, a), MemberState::down);
  for (auto& name : on_a) {
    EXPECT_EQ(ask(a, name, "inc 3"), "8") << name;
    EXPECT_EQ(ask(b, name, "inc 2"), "2") << name << ": restarted from its args on the majority";
  }
  isolate(a, false);
  run_for(3000ms);
  ASSERT_EQ(state_seen(a, b), MemberState::alive);
  ASSERT_EQ(state_seen(b, a), MemberState::alive);
  for (auto& name : on_a)
    for (SimNode* n : {&a, &b, &c}) EXPECT_EQ(ask(*n, name, "get"), "10") << name << " on " << n->name;
  auto count = census();
  for (auto& [name, n] : count) EXPECT_EQ(n, 1) << name;
  EXPECT_EQ(replica(a), replica(b));
  EXPECT_EQ(replica(c), replica(b));
}

// A heal can bring the ring owner a handoff offer for a name whose own,
// older copy still runs there (the other side restarted it meanwhile, and
// the offer came before that version's delta). The old copy must lose as a
// takeover, with its state merged into the worker the offer starts, not
// block that start (already_started) so that the offered state is dropped.
TEST_F(TrackerSim, AHandoffOfferMeetingTheOwnersOlderRunningCopyKeepsBothStates) {
  auto& a = add("a@h");
  auto& c = add("c@h");
  settle();
  registry::HashRing ring;
  for (SimNode* n : {&a, &c}) ring.add_member(n->id.bytes(), n->name);
  std::string name;
  for (int i = 0; name.empty(); ++i)
    if (*ring.owner(std::string("h").append(std::to_string(i))) == a.id.bytes()) name = std::string("h").append(std::to_string(i));
  register_from(a, name, "counter");
  settle();
  ASSERT_EQ(ask(a, name, "inc 5"), "5");
  // The version c would have written when it restarted the name, and c's
  // copy's state: 2 counted in a slot of its own.
  auto restarted = a.parts.tracker->replica().lookup(name)->entry();
  restarted.owner = c.id.bytes();
  restarted.owner_name = "c@h";
  restarted.worker = 99;
  restarted.clock.increment(c.id.bytes(), 1000);
  wire::HandoffOffer offer{registry::encode(restarted), "state", "pn1 0 c0ffee c0ffee:2:0", 0, 1};
  ASSERT_TRUE(c.parts.cluster->send(a.id, bus::MessageType::handoff_offer, wire::encode(offer), 4242));
  settle();
  run_for(200ms);
  EXPECT_EQ(ask(a, name, "get"), "7") << "a state was dropped when the offer met the running copy";
  EXPECT_EQ(ask(c, name, "get"), "7");
  EXPECT_TRUE(runs_on(a, name));
  EXPECT_EQ(census()[name], 1);
}

bool is_count(const std::string& r) { return !r.empty() && r.find_first_not_of("0123456789") == std::string::npos; }

// Three sides, each alone and running its own copy of every counter (the
// original, or one restarted from its args), healed one after the other:
// the winner counts every side's increments exactly once.
void three_way_split(TrackerSim& sim, bool a_first) {
  auto& a = sim.add("a@h");
  auto& b = sim.add("b@h");
  auto& c = sim.add("c@h");
  sim.settle();
  for (int i = 0; i < 9; ++i) sim.register_from(b, std::string("t").append(std::to_string(i)), "counter");
  sim.settle();
  for (int i = 0; i < 9; ++i) ASSERT_EQ(ask(b, std::string("t").append(std::to_string(i)), "inc 1"), "1");
  sim.isolate(a, true);
  sim.isolate(c, true);
  sim.run_for(2000ms);
  for (int i = 0; i < 9; ++i) {
    std::string name = std::string("t").append(std::to_string(i));
    EXPECT_TRUE(is_count(ask(a, name, "inc 10"))) << name;
    EXPECT_TRUE(is_count(ask(b, name, "inc 100"))) << name;
    EXPECT_TRUE(is_count(ask(c, name, "inc 1000"))) << name;
  }
  SimNode& first = a_first ? a : c;
  SimNode& second = a_first ? c : a;
  sim.isolate(first, false);
  sim.run_for(3000ms);
  sim.isolate(second, false);
  sim.run_for(3000ms);
  for (int i = 0; i < 9; ++i) {
    std::string name = std::string("t").append(std::to_string(i));
    for (SimNode* n : {&a, &b, &c}) EXPECT_EQ(ask(*n, name, "get"), "1111") << name << " on " << n->name;
  }
  for (auto& [name, n] : sim.census()) EXPECT_EQ(n, 1) << name;
}

TEST_F(TrackerSim, AThreeWaySplitHealedAFirstCountsEveryCopyOnce) { three_way_split(*this, true); }
TEST_F(TrackerSim, AThreeWaySplitHealedCFirstCountsEveryCopyOnce) { three_way_split(*this, false); }

// With quorum 2 of 3, a node cut off alone parks its names (their state
// kept) and registers none, and the two others restart them only after the
// margin: at every 10 ms sample during the split each name runs on at most
// one node. After the heal the parked state merges into the copy the
// majority ran, so no increment of either side is lost.
TEST_F(TrackerSim, WithAQuorumANameNeverRunsOnBothSidesOfASplit) {
  configure = [](NodeOptions& o) { o.quorum = 2; };
  auto& a = add("a@h");
  auto& b = add("b@h");
  auto& c = add("c@h");
  settle();
  run_for(1500ms);  // each has quorum: parked nothing, resumes nothing
  for (int i = 0; i < 12; ++i) register_from(b, std::string("q").append(std::to_string(i)), "counter");
  settle();
  for (int i = 0; i < 12; ++i) EXPECT_EQ(results[std::string("q").append(std::to_string(i))], "ok") << i;
  std::vector<std::string> on_a;
  for (auto& [name, ref] : replica(b)) {
    EXPECT_EQ(ask(b, name, "inc 5"), "5") << name;
    if (ref[0] == 'a') on_a.push_back(name);
  }
  ASSERT_GE(on_a.size(), 2u);
  isolate(a, true);
  int samples = 0, twice = 0;
  std::string example;
  bool moved = false;
  for (int step = 0; step < 400; ++step) {  // 4 s of the split
    run_for(10ms);
    ++samples;
    for (auto& [name, n] : census())
      if (n > 1) {
        ++twice;
        example = name;
      }
    if (!moved && state_seen(b, a) == MemberState::down) {
      moved = true;
      register_from(a, "during", "echo");  // a has no quorum now
    }
  }
  EXPECT_EQ(samples, 400);
  EXPECT_EQ(twice, 0) << example << " ran on both sides";
  ASSERT_TRUE(moved);
  EXPECT_EQ(results["during"], "no_quorum");
  for (auto& name : on_a) {
    EXPECT_FALSE(runs_on(a, name)) << name << " still runs on the side without quorum";
    EXPECT_EQ(ask(a, name, "get"), "no_quorum") << name;
    EXPECT_EQ(ask(b, name, "inc 2"), "2") << name << ": restarted from its args on the majority";
  }
  isolate(a, false);
  run_for(5000ms);
  ASSERT_EQ(state_seen(a, b), MemberState::alive);
  for (auto& name : on_a)
    for (SimNode* n : {&a, &b, &c}) EXPECT_EQ(ask(*n, name, "get"), "7") << name << " on " << n->name;
  for (auto& [name, n] : census()) EXPECT_EQ(n, 1) << name;
  EXPECT_EQ(census().size(), 12u);
}

// A short blip: quorum is lost and comes back before the majority's margin
// ran out, so nobody took the names over: they resume where they were,
// with their state.
TEST_F(TrackerSim, ParkedNamesResumeWithTheirStateWhenQuorumComesBackInTime) {
  configure = [](NodeOptions& o) {
    o.quorum = 2;
    o.quorum_margin = std::chrono::milliseconds(60000);
  };
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  run_for(1500ms);
  for (int i = 0; i < 8; ++i) register_from(a, std::string("r").append(std::to_string(i)), "counter");
  settle();
  std::vector<std::string> on_a;
  for (auto& [name, ref] : replica(a))
    if (ref[0] == 'a') {
      on_a.push_back(name);
      EXPECT_EQ(ask(a, name, "inc 4"), "4");
    }
  ASSERT_FALSE(on_a.empty());
  isolate(a, true);
  run_for(2000ms);  // both alone: both below quorum 2; nothing runs anywhere
  for (auto& [name, n] : census()) EXPECT_EQ(n, 0) << name;
  isolate(a, false);
  run_for(5000ms);
  for (auto& name : on_a) {
    EXPECT_TRUE(runs_on(a, name)) << name;
    EXPECT_EQ(ask(b, name, "inc"), "5") << name;
  }
  for (auto& [name, n] : census()) EXPECT_EQ(n, 1) << name;
}

TEST_F(TrackerSim, DeadNodesNamesRestartExactlyOnce) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  auto& c = add("c@h");
  settle();
  for (int i = 0; i < 90; ++i) register_from(a, std::string("f").append(std::to_string(i)));
  settle();
  int on_b = 0;
  for (auto& [name, ref] : replica(a)) on_b += ref[0] == 'b';
  ASSERT_GT(on_b, 0);
  kill(b);
  run_for(1000ms);
  auto ra = replica(a);
  EXPECT_EQ(ra.size(), 90u);
  EXPECT_EQ(replica(c), ra);
  for (auto& [name, ref] : ra) EXPECT_NE(ref[0], 'b') << name;
  auto count = census();
  EXPECT_EQ(count.size(), 90u);
  for (auto& [name, n] : count) EXPECT_EQ(n, 1) << name;
}

TEST_F(TrackerSim, AnObserverReadsEverythingAndNeverOwnsOrTakesOver) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  for (int i = 0; i < 60; ++i) register_from(a, std::string("o").append(std::to_string(i)), "counter");
  settle();
  // It joins once the names exist: a node that joined now would be offered some.
  auto& o = add("o@h", /*observer=*/true);
  settle();
  run_for(500ms);
  EXPECT_EQ(replica(o), replica(a)) << diff(replica(o), replica(a));
  EXPECT_TRUE(o.node->workers().empty());
  bool seen = false;
  for (const auto& m : a.node->members())
    if (m.name == "o@h") seen = m.observer;
  EXPECT_TRUE(seen) << "a does not see o@h as an observer";
  // A registration through the observer lands on an owner.
  register_from(o, "via-observer");
  settle();
  EXPECT_EQ(results["via-observer"], "ok");
  EXPECT_NE(replica(a)["via-observer"].substr(0, 2), "o@");
  // The owner of half the names dies: they restart on b, never on o.
  kill(a);
  run_for(1000ms);
  auto ro = replica(o);
  EXPECT_EQ(ro.size(), 61u);
  EXPECT_EQ(replica(b), ro) << diff(replica(b), ro);
  for (auto& [name, ref] : ro) EXPECT_EQ(ref.substr(0, 2), "b@") << name;
  EXPECT_TRUE(o.node->workers().empty());
  for (auto& [name, n] : census()) EXPECT_EQ(n, 1) << name;
}

TEST_F(TrackerSim, JoinHandoffHonoursStateRestartAndIgnore) {
  auto& a = add("a@h");
  settle();
  // probe workers answer begin_handoff as told: "handoff ignore|restart|state".
  const char* modes[] = {"state", "restart", "ignore"};
  for (int i = 0; i < 30; ++i) register_from(a, std::string("h").append(std::to_string(i)), "probe");
  settle();
  for (int i = 0; i < 30; ++i)
    (void)a.node->send(std::string("h").append(std::to_string(i)), std::string("handoff ") + modes[i % 3]);
  settle();
  auto& b = add("b@h");
  settle();
  run_for(300ms);  // b asks for a's replica once a's PUB reaches it (a heartbeat)
  auto ra = replica(a);
  EXPECT_EQ(replica(b), ra);
  int moved[3] = {0, 0, 0}, offered[3] = {0, 0, 0};
  registry::HashRing ring;  // where each name would go: b takes some of them
  ring.add_member(a.id.bytes(), "a@h");
  ring.add_member(b.id.bytes(), "b@h");
  for (int i = 0; i < 30; ++i) {
    std::string name = std::string("h").append(std::to_string(i));
    if (*ring.owner(name) != b.id.bytes()) continue;
    ++offered[i % 3];
    moved[i % 3] += ra[name][0] == 'b';
  }
  for (int k = 0; k < 3; ++k) ASSERT_GT(offered[k], 0) << modes[k];
  EXPECT_EQ(moved[0], offered[0]);  // state: moved
  EXPECT_EQ(moved[1], offered[1]);  // restart: moved, from its args
  EXPECT_EQ(moved[2], 0);           // ignore: stays where it is
  for (auto& [name, n] : census()) EXPECT_EQ(n, 1) << name;
}

TEST_F(TrackerSim, MessagesDuringAHandoffAreNotLost) {
  auto& a = add("a@h");
  settle();
  for (int i = 0; i < 20; ++i) register_from(a, std::string("m").append(std::to_string(i)), "counter");
  settle();
  // A newcomer takes over some names; messages sent meanwhile must all count.
  auto& b = add("b@h");
  for (int round = 0; round < 5; ++round) {
    // Asynchronous: the public send would settle the handoff before returning.
    for (int i = 0; i < 20; ++i) a.parts.tracker->send(std::string("m").append(std::to_string(i)), "inc", [](Result<std::string, Error>) {});
    net.deliver(3);  // interleave with the handoff traffic
  }
  settle();
  run_for(300ms);  // b's replica of a's names comes once a's PUB reaches it
  int moved = 0;
  for (auto& [name, ref] : replica(a)) moved += ref[0] == 'b';
  EXPECT_GT(moved, 0);
  for (int i = 0; i < 20; ++i) {
    auto r = b.node->call(std::string("m").append(std::to_string(i)), "get", 1s);
    std::string got = r ? *r : std::string(r.error().name());
    EXPECT_EQ(got, "5") << "m" << i;
  }
}

TEST_F(TrackerSim, AFullSendQueueSaysWouldBlockAndLosesNothingItTook) {
  configure = [](NodeOptions& o) { o.send_queue_size = 100; };
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  for (int i = 0; i < 8; ++i) register_from(a, std::string("q").append(std::to_string(i)), "counter");
  settle();
  std::string remote;  // a counter on b: the messages cross the bus
  for (int i = 0; i < 8 && remote.empty(); ++i)
    if (b.node->whereis(std::string("q").append(std::to_string(i)))->rfind("b@", 0) == 0)
      remote = std::string("q").append(std::to_string(i));
  ASSERT_FALSE(remote.empty());
  int accepted = 0, refused = 0;
  for (int i = 0; i < 150; ++i) {  // the loop does not turn meanwhile: the queue fills
    auto r = a.node->send(remote, "inc", 0ms);
    if (r) ++accepted;
    else if (r.error().code == Errc::would_block) ++refused;
    else ADD_FAILURE() << r.error().to_string();
  }
  EXPECT_EQ(accepted, 100);
  EXPECT_EQ(refused, 50);
  EXPECT_EQ(a.node->info().stats.sends_refused, 50u);
  settle();
  auto got = a.node->call(remote, "get", 1s);
  EXPECT_EQ(got ? *got : got.error().name(), "100");
  // Room again once the loop has turned.
  EXPECT_TRUE(a.node->send(remote, "inc", 0ms).ok());
  // Not found and too large are known before anything is queued.
  EXPECT_EQ(a.node->send("nobody", "x").error().code, Errc::not_found);
  EXPECT_EQ(a.node->send(remote, std::string(2u << 20, 'x')).error().code, Errc::too_large);
}

TEST_F(TrackerSim, AFrameAFullPeerQueueRefusedGoesOutLaterOrExpires) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  std::string remote;  // a counter on b
  for (int i = 0; i < 8; ++i) register_from(a, std::string("f").append(std::to_string(i)), "counter");
  settle();
  for (int i = 0; i < 8 && remote.empty(); ++i)
    if (a.node->whereis(std::string("f").append(std::to_string(i)))->rfind("b@", 0) == 0)
      remote = std::string("f").append(std::to_string(i));
  ASSERT_FALSE(remote.empty());
  auto stats = [&] { return a.parts.cluster->stats(); };

  // b's queue is full: the three casts leave in one frame, which is kept.
  a.fault->plan().full.insert(b.id);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(a.node->send(remote, "inc").ok());
  settle();
  EXPECT_EQ(stats().frames_unsent, 1u);
  // Meanwhile a request to b fails at once instead of waiting for its deadline.
  std::optional<Result<std::string, Error>> answer;
  a.parts.tracker->call(remote, "get", 5s, [&](Result<std::string, Error> r) { answer = std::move(r); });
  settle();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->ok() ? "ok" : answer->error().name(), "node_down");
  // Room again: the kept frame goes first, within a few ms.
  a.fault->plan().full.clear();
  run_for(20ms);
  auto got = a.node->call(remote, "get", 1s);
  EXPECT_EQ(got ? *got : got.error().name(), "3");

  // Full for longer than a second: the kept frame is dropped, not sent late.
  a.fault->plan().full.insert(b.id);
  ASSERT_TRUE(a.node->send(remote, "inc").ok());
  settle();
  run_for(1500ms);
  EXPECT_EQ(stats().frames_expired, 1u);
  a.fault->plan().full.clear();
  run_for(20ms);
  got = a.node->call(remote, "get", 1s);
  EXPECT_EQ(got ? *got : got.error().name(), "3");
}

// A register_request that reaches a node that is not the name's ring owner
// (here b sends it to a by hand, for names c owns) is forwarded there and
// runs on c, and the asker gets the owner's answer; one forwarded twice
// already is answered not_owner, naming the owner, and starts nowhere.
TEST_F(TrackerSim, ARegistrationAtANodeThatIsNotTheOwnerIsForwardedOrRefused) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  auto& c = add("c@h");
  settle();
  registry::HashRing ring;
  for (SimNode* n : {&a, &b, &c}) ring.add_member(n->id.bytes(), n->name);
  std::vector<std::string> on_c;
  for (int i = 0; on_c.size() < 4 && i < 200; ++i) {
    std::string name = std::string("o").append(std::to_string(i));
    if (*ring.owner(name) == c.id.bytes()) on_c.push_back(name);
  }
  ASSERT_EQ(on_c.size(), 4u);
  std::map<uint64_t, std::string> answers;  // corr -> "ok" or the error, as b hears them
  b.parts.cluster->on_message(bus::MessageType::register_reply, [&](const bus::Envelope& e) {
    auto r = wire::decode_answer(e.body);
    answers[e.corr] = r ? "ok" : std::string(r.error().name()) + " " + r.error().detail;
  });
  for (uint64_t k = 0; k < 4; ++k) {
    wire::RegisterRequest req{on_c[k], "echo", "", k < 2 ? 0u : 2u};
    ASSERT_TRUE(b.parts.cluster->send(a.id, bus::MessageType::register_request, wire::encode(req), 100 + k));
  }
  settle();
  run_for(200ms);
  EXPECT_EQ(answers[100], "ok");
  EXPECT_EQ(answers[101], "ok");
  EXPECT_EQ(answers[102], "not_owner c@h");
  EXPECT_EQ(answers[103], "not_owner c@h");
  for (int k = 0; k < 2; ++k) {
    EXPECT_TRUE(runs_on(c, on_c[k])) << on_c[k];
    EXPECT_FALSE(runs_on(a, on_c[k])) << on_c[k] << " kept by a node that does not own it";
    EXPECT_EQ(replica(a)[on_c[k]].substr(0, 4), "c@h/") << on_c[k];
  }
  for (int k = 2; k < 4; ++k) EXPECT_EQ(census().count(on_c[k]), 0u) << on_c[k];
}

// Placement settings decide owners: nodes whose allow/deny globs or quorum
// differ would run some names twice, so they refuse each other at the
// beacon (extension 04) and say so, while equal settings still meet.
TEST_F(TrackerSim, NodesWhosePlacementSettingsDifferRefuseEachOther) {
  configure = [](NodeOptions& o) { o.placement_deny = {"gw*"}; };
  auto& a = add("a@h");
  auto& c = add("c@h");
  configure = [](NodeOptions& o) { o.placement_deny = {"gw*", "b*"}; };
  auto& b = add("b@h");
  configure = [](NodeOptions& o) {
    o.placement_deny = {"gw*"};
    o.quorum = 2;
  };
  auto& d = add("d@h");
  settle();
  run_for(3000ms);
  EXPECT_EQ(state_seen(a, c), MemberState::alive);
  EXPECT_EQ(state_seen(c, a), MemberState::alive);
  for (SimNode* lone : {&b, &d}) {
    EXPECT_TRUE(others(*lone).empty()) << lone->name << " joined nodes placed otherwise";
    for (SimNode* n : {&a, &c})
      for (auto& m : others(*n)) EXPECT_NE(m.id, lone->id.to_string()) << n->name << " admitted " << lone->name;
    EXPECT_GT(lone->node->info().stats.beacons_placement_mismatch, 0u) << lone->name;
  }
  EXPECT_GT(a.node->info().stats.beacons_placement_mismatch, 0u);
}

// Issue 13's bounded clocks on real nodes: c is killed and started again 12
// times (a new id each time), and its names fail over and come back. Each
// old id leaves every clock retire_left_after after its successor came up,
// so the digests keep one pair per member and the floor, and every name
// still runs once, with replicas that agree.
TEST_F(TrackerSim, TheIdsOfRestartedNodesLeaveTheClocks) {
  configure = [](NodeOptions& o) { o.retire_left_after = 5s; };
  auto& a = add("a@h");
  auto& b = add("b@h");
  SimNode* c = &add("c@h");
  settle();
  for (int i = 0; i < 30; ++i) register_from(a, std::string("r").append(std::to_string(i)));
  settle();
  for (int restart = 0; restart < 12; ++restart) {
    kill(*c);
    run_for(1000ms);  // down; its names restart on a and b (writes under their ids)
    c = &add("c@h");
    run_for(2000ms);  // the new c joins and takes its names back (writes under its id)
  }
  run_for(8000ms);  // past retire_left_after, and a digest round
  for (SimNode* n : {&a, &b, c}) {
    const auto s = n->node->info().stats;
    EXPECT_LE(s.clock_ids, 4u) << n->name << ": a, b, c and the retired floor";
    if (n != c) {
      EXPECT_GE(s.clock_ids_retired, 12u) << n->name;
    }
  }
  EXPECT_EQ(replica(a).size(), 30u);
  EXPECT_EQ(replica(b), replica(a));
  EXPECT_EQ(replica(*c), replica(a));
  for (auto& [name, n] : census()) EXPECT_EQ(n, 1) << name;
}

// A node cut off for longer than retire_down_after has its id retired on
// the other side, and it retired theirs: at the heal the smaller side (c,
// alone) is told it is quarantined and stops; a and b keep it off the ring
// and run every name once.
TEST_F(TrackerSim, ANodeBackAfterItsIdWasRetiredStopsAndTheOthersKeepItsNamesOnce) {
  configure = [](NodeOptions& o) {
    o.retire_left_after = 5s;
    o.retire_down_after = 10s;
  };
  auto& a = add("a@h");
  auto& b = add("b@h");
  auto& c = add("c@h");
  settle();
  for (int i = 0; i < 20; ++i) register_from(a, std::string("q").append(std::to_string(i)));
  settle();
  isolate(c, true);
  run_for(15000ms);  // down on both sides, then retired on both sides
  ASSERT_EQ(state_seen(a, c), MemberState::down);
  EXPECT_GE(a.node->info().stats.clock_ids_retired, 1u);
  EXPECT_GE(c.node->info().stats.clock_ids_retired, 2u);
  isolate(c, false);
  run_for(3000ms);
  EXPECT_TRUE(c.node->quarantined());
  EXPECT_TRUE(c.node->stopped());
  EXPECT_FALSE(a.node->quarantined());
  EXPECT_FALSE(b.node->quarantined());
  EXPECT_GE(a.node->info().stats.quarantine_sent + b.node->info().stats.quarantine_sent, 1u);
  kill(c);  // what remains of the stopped node
  run_for(1000ms);
  auto ra = replica(a);
  EXPECT_EQ(ra.size(), 20u);
  EXPECT_EQ(replica(b), ra);
  for (auto& [name, ref] : ra) EXPECT_NE(ref[0], 'c') << name;
  auto count = census();
  EXPECT_EQ(count.size(), 20u);
  for (auto& [name, n] : count) EXPECT_EQ(n, 1) << name;
}

// A quarantine notice as an attacker would send it: from a stranger, about
// another node, or a body that does not decode. None stops the node; only a
// member that names this node does (members are trusted, security.md §1).
TEST_F(TrackerSim, AQuarantineNoticeStopsANodeOnlyFromAMemberAndOnlyForItself) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  auto& c = add("c@h");
  settle();
  auto from = [&](SimNode& sender, const std::string& body) {
    send_raw(sender, a, bus::MessageType::quarantine, 0, body, 200ms);
  };
  const auto notice = [&](const bus::NodeId& id) {
    return wire::encode(wire::Quarantine{id.bytes(), 3, std::string(16, '\0')});
  };
  from(b, notice(c.id));  // about another node
  const auto rejected = a.node->info().stats.bodies_rejected;
  from(b, "\xc1 not msgpack");
  EXPECT_GT(a.node->info().stats.bodies_rejected, rejected);
  {
    const auto stranger = bus::NodeId::random();
    bus::MemoryTransport ghost(net, stranger);
    ghost.connect(a.id, {});
    bus::FrameBuilder f(bus::kSpoken.max, stranger, 1);
    f.add(bus::MessageType::quarantine, 0, 0, notice(a.id));
    ghost.send(a.id, f.take());
    run_for(200ms);
  }
  EXPECT_FALSE(a.node->quarantined());
  EXPECT_FALSE(a.node->stopped());
  from(b, notice(a.id));
  EXPECT_TRUE(a.node->quarantined());
  EXPECT_FALSE(b.node->quarantined());
  EXPECT_FALSE(c.node->quarantined());
}

// A member that sends REF-addressed calls as an attacker would: the REF of
// a worker that runs answers; one that names another run of the receiver,
// an id it never gave, or no REF at all is refused by name, and a body with
// both a name and a REF is rejected unread. Nothing else changes.
TEST_F(TrackerSim, RefAddressedCallsFromAMemberAreAnsweredOrRefusedNeverFollowed) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  register_from(a, "k", "counter");
  settle();
  ASSERT_EQ(results["k"], "ok");
  SimNode& owner = replica(a).at("k")[0] == 'a' ? a : b;
  SimNode& other = &owner == &a ? b : a;
  const std::string ref = replica(a).at("k");
  std::map<uint64_t, std::string> answers;  // corr -> value or error name
  other.parts.cluster->on_message(bus::MessageType::worker_reply, [&](const bus::Envelope& e) {
    auto r = wire::decode_answer(e.body);
    answers[e.corr] = r ? *r : std::string(r.error().name());
  });
  auto call = [&](uint64_t corr, const std::string& body) {
    send_raw(other, owner, bus::MessageType::worker_call, corr, body, 100ms);
  };
  const std::string run = ref.substr(ref.rfind('/') + 1, 8);
  std::string other_run = run;
  other_run[0] = other_run[0] == '0' ? '1' : '0';
  const std::string node = ref.substr(0, ref.rfind('/'));
  call(1, wire::encode_worker_ref_message(ref, "get", 1));
  call(2, wire::encode_worker_ref_message(node + "/" + other_run + ".1", "get", 1));
  call(3, wire::encode_worker_ref_message(node + "/" + run + ".999", "get", 1));
  call(4, wire::encode_worker_ref_message("not a ref", "get", 1));
  EXPECT_EQ(answers[1], "0");
  EXPECT_EQ(answers[2], "not_found");
  EXPECT_EQ(answers[3], "not_found");
  EXPECT_EQ(answers[4], "bad_args");
  // The REF of a worker that runs on the sender itself: the receiver does
  // not follow it (a REF over the bus is only for the receiver's own run).
  auto local = other.node->start_local("loc", "echo");
  ASSERT_TRUE(local) << local.error().to_string();
  const std::string other_ref = other.name + "/" + other.node->info().id.substr(0, 8) + "." + std::to_string(*local);
  auto direct = other.node->call_ref(other_ref, "hi", std::chrono::seconds(1));
  ASSERT_TRUE(direct) << direct.error().to_string();
  EXPECT_EQ(*direct, "hi");
  call(6, wire::encode_worker_ref_message(other_ref, "hi", 1));
  EXPECT_EQ(answers[6], "not_found");
  const auto rejected = owner.node->info().stats.bodies_rejected;
  std::string both = wire::encode_worker_ref_message(ref, "inc 5", 1);
  both[0] = static_cast<char>(0x84);  // one more key: the name too
  both += std::string("\xa4name\xa1k", 7);
  call(5, both);
  EXPECT_GT(owner.node->info().stats.bodies_rejected, rejected);
  EXPECT_EQ(answers.count(5), 0u);
  EXPECT_EQ(ask(owner, "k", "get"), "0") << "no call changed the counter";  // (other's answers are captured above)
  for (auto& [name, n] : census()) EXPECT_EQ(n, 1) << name;
}

// What registered() says of one name on n: its REF and fencing token.
RegisteredName entry_of(SimNode& n, const std::string& name) {
  for (auto& r : n.node->registered())
    if (r.name == name) return r;
  return {};
}

// Issue 13's fencing token: it grows with every new owner (a restart after
// a death, a join handoff, a partition's restarted copy), every replica
// reports the same, and the worker reads it from its context. Across a
// split the copy the heal keeps is the one with the larger token, so an
// outside system that refuses smaller tokens refuses the stale owner.
TEST_F(TrackerSim, TheFencingTokenGrowsWithEveryNewOwnerAndTheWorkerSeesIt) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  register_from(a, "f", "probe");
  settle();
  ASSERT_EQ(results["f"], "ok");
  const auto first = entry_of(a, "f");
  ASSERT_GT(first.fencing_token, 0u);
  EXPECT_EQ(entry_of(b, "f").fencing_token, first.fencing_token);
  EXPECT_EQ(ask(a, "f", "token"), std::to_string(first.fencing_token));

  // A join: whoever the ring gives it to, a new owner (or the same) reports.
  auto& c = add("c@h");
  run_for(2000ms);
  const auto joined = entry_of(a, "f");
  if (joined.ref != first.ref) {
    EXPECT_GT(joined.fencing_token, first.fencing_token);
  }
  EXPECT_EQ(ask(b, "f", "token"), std::to_string(joined.fencing_token));

  // A split: the side without the owner restarts it with a larger token
  // than the copy it could not see; the heal keeps the larger.
  SimNode* owner = joined.ref[0] == 'a' ? &a : joined.ref[0] == 'b' ? &b : &c;
  SimNode* other = owner == &a ? &b : &a;
  isolate(*owner, true);
  run_for(2000ms);
  const auto restarted = entry_of(*other, "f");
  ASSERT_NE(restarted.ref, joined.ref);
  EXPECT_GT(restarted.fencing_token, joined.fencing_token);
  EXPECT_EQ(ask(*owner, "f", "token"), std::to_string(joined.fencing_token)) << "the stale owner keeps its token";
  EXPECT_EQ(ask(*other, "f", "token"), std::to_string(restarted.fencing_token));
  isolate(*owner, false);
  run_for(3000ms);
  const auto healed = entry_of(a, "f");
  EXPECT_GE(healed.fencing_token, restarted.fencing_token);  // more if the heal hands it back to its ring owner
  for (SimNode* n : {&a, &b, &c}) EXPECT_EQ(ask(*n, "f", "token"), std::to_string(healed.fencing_token)) << n->name;
  for (auto& [name, count] : census()) EXPECT_EQ(count, 1) << name;
}

// A REF names one worker of one run of a node (protocol.md §5.2): every node
// reaches it while it runs; once it stopped, moved, or its node restarted
// (whose new run numbers its workers from 1 again), it answers not_found.
TEST_F(TrackerSim, ARefReachesItsWorkerUntilItIsStaleAndNeverAfter) {
  auto& a = add("a@h");
  SimNode* b = &add("b@h");
  auto& c = add("c@h");
  settle();
  for (int i = 0; i < 12; ++i) register_from(a, std::string("k").append(std::to_string(i)), "counter");
  settle();
  const auto before = replica(a);
  std::string on_b;
  for (auto& [name, ref] : before)
    if (ref[0] == 'b' && on_b.empty()) on_b = name;
  ASSERT_FALSE(on_b.empty());
  const std::string ref_b = before.at(on_b);
  auto call_ref = [](SimNode& n, const std::string& ref, const std::string& msg) {
    auto r = n.node->call_ref(ref, msg, std::chrono::seconds(1));
    return r ? *r : std::string(r.error().name());
  };
  for (SimNode* n : {&a, b, &c}) {
    ASSERT_TRUE(n->node->send_ref(ref_b, "inc 2")) << n->name;
  }
  for (SimNode* n : {&a, b, &c}) EXPECT_EQ(call_ref(*n, ref_b, "get"), "6") << n->name << " " << ref_b;
  EXPECT_EQ(ask(a, on_b, "get"), "6");  // the same worker as its name reaches

  // Not a REF, and a worker id this run never had.
  EXPECT_EQ(call_ref(a, "b@h/1", "get"), "bad_args");
  std::string unknown = ref_b.substr(0, ref_b.rfind('.') + 1) + "999";
  EXPECT_EQ(call_ref(a, unknown, "get"), "not_found");
  EXPECT_EQ(call_ref(c, unknown, "get"), "not_found");

  // b dies: its names restart on a and c. Then b starts again and takes
  // some back by handoff, with worker ids from 1 again.
  kill(*b);
  run_for(1000ms);
  const auto mid = replica(a);
  b = &add("b@h");
  run_for(3000ms);
  const auto after = replica(a);
  ASSERT_EQ(after.size(), before.size());
  std::vector<std::string> moved_to_b;  // handed from a or c to the new b
  for (auto& [name, ref] : after)
    if (ref[0] == 'b') moved_to_b.push_back(name);
  ASSERT_FALSE(moved_to_b.empty()) << "the new b owns names again";

  // The old b's REF is stale everywhere, the new b included.
  for (SimNode* n : {&a, b, &c}) {
    auto r = n->node->call_ref(ref_b, "get", std::chrono::seconds(1));
    ASSERT_FALSE(r) << n->name;
    EXPECT_EQ(r.error().code, Errc::not_found) << n->name;
    EXPECT_NE(r.error().detail.find("stale"), std::string::npos) << r.error().detail;
    auto cast = n->node->send_ref(ref_b, "inc 1");
    ASSERT_FALSE(cast) << n->name << ": no live member runs as the old run";
    EXPECT_EQ(cast.error().code, Errc::not_found);
  }
  for (const auto& name : moved_to_b) {
    // Its REF on a or c before the handoff: that worker stopped.
    ASSERT_NE(mid.at(name)[0], 'b');
    for (SimNode* n : {&a, b, &c}) EXPECT_EQ(call_ref(*n, mid.at(name), "get"), "not_found") << name << " " << n->name;
    // The REF it has now reaches the worker its name reaches.
    EXPECT_EQ(call_ref(c, after.at(name), "get"), ask(c, name, "get")) << name;
  }
  for (auto& [name, n] : census()) EXPECT_EQ(n, 1) << name;
}

TEST_F(TrackerSim, OversizedArgsAreRefusedBeforeAnythingStarts) {
  auto& a = add("a@h");
  settle();
  register_from(a, "oversized", "echo", std::string(registry::kMaxArgsBytes + 1, 'x'));
  settle();
  EXPECT_EQ(results["oversized"], "too_large");
  EXPECT_FALSE(runs_on(a, "oversized"));
  register_from(a, "fine", "echo", "x");
  settle();
  EXPECT_EQ(results["fine"], "ok");
  EXPECT_TRUE(runs_on(a, "fine"));
}

TEST_F(TrackerSim, AWorkerWhoseEntryCannotBeRecordedIsStoppedAgain) {
  auto& a = add("a@h");
  auto& b = add("b@h");
  settle();
  // b hands a an entry whose clock is full (1,024 node ids, the most an
  // Entry may carry): a starts the worker, but its own write would add a
  // 1,025th id, so put() refuses the entry, and the start must be undone.
  registry::Entry e;
  e.name = "full-clock";
  e.owner = b.id.bytes();
  e.owner_name = "b@h";
  e.worker = 1;
  e.plugin = "echo";
  for (std::size_t i = 0; i < registry::VectorClock::kMaxEntries; ++i)
    e.clock.increment("id-" + std::to_string(100000 + i), 1);
  ASSERT_TRUE(registry::validate(e).ok());
  bus::Envelope offer;
  offer.type = bus::MessageType::handoff_offer;
  offer.sender = b.id;
  offer.incarnation = b.node->info().incarnation;
  offer.corr = 4242;
  offer.body = names::wire::encode(names::wire::HandoffOffer{registry::encode(e), "restart", "", 0, 1});
  ASSERT_TRUE(b.transport->send(a.id, bus::encode(offer)));
  settle();
  EXPECT_FALSE(runs_on(a, "full-clock"));
  EXPECT_TRUE(a.node->workers().empty());
}

TEST_F(TrackerSim, LargeSnapshotsAndHandoffStatesTravelInChunks) {
  auto& a = add("a@h");
  settle();
  // ~1.3 MB of entries: the snapshot a newcomer gets takes several chunks.
  const std::string args(1000, 'x');
  for (int i = 0; i < 1300; ++i) register_from(a, std::string("s").append(std::to_string(i)), "echo", args);
  // Probes whose handoff state is 1 MB: 4 slices of 256 KiB each.
  for (int i = 0; i < 8; ++i) register_from(a, std::string("big").append(std::to_string(i)), "probe");
  settle();
  for (int i = 0; i < 8; ++i) (void)a.node->send(std::string("big").append(std::to_string(i)), "bigstate 1000000");
  settle();
  auto& b = add("b@h");
  settle();
  run_for(300ms);  // b asks for a's replica once a's PUB reaches it (a heartbeat)
  auto ra = replica(a);
  ASSERT_EQ(ra.size(), 1308u);
  EXPECT_EQ(replica(b), ra) << diff(replica(b), ra);
  registry::HashRing ring;
  ring.add_member(a.id.bytes(), "a@h");
  ring.add_member(b.id.bytes(), "b@h");
  int moved = 0;
  for (int i = 0; i < 8; ++i) {
    std::string name = std::string("big").append(std::to_string(i));
    if (*ring.owner(name) != b.id.bytes()) continue;
    ++moved;
    EXPECT_EQ(ra[name].substr(0, 2), "b@") << name;
    auto r = b.node->call(name, "restored", 1s);
    std::string got = r ? *r : std::string(r.error().name());
    // "probe:N" plus the 1,000,000-byte pad, whole, after reassembly.
    EXPECT_GT(std::stoul(got.empty() ? "0" : got), 1000000u) << name << ": " << got;
  }
  EXPECT_GT(moved, 0);
  for (auto& [name, n] : census()) EXPECT_EQ(n, 1) << name;
}

}  // namespace
}  // namespace zswarm::names
