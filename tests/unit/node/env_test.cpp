// The Env seam: a fake that overrides one method of another Env (through
// EnvWrapper) changes exactly that in a real node, and a failing factory
// fails Node::start with its error.
#include "zswarm/env.hpp"

#include <gtest/gtest.h>

#include "node/env_internal.hpp"
#include "support/sim_env.hpp"
#include "zswarm/node.hpp"

namespace zswarm {
namespace {

NodeOptions sim_options(const std::string& name) {
  NodeOptions o;
  o.name = name;
  o.host = std::string("h");  // not a char literal: GCC 12 -Wrestrict false positive at -O3
  o.cluster = "sim";
  o.control_socket = false;
  o.log_level = "off";
  return o;
}

// Fixed identity and start time; everything else from the simulation.
struct FixedIdentityEnv : EnvWrapper {
  using EnvWrapper::EnvWrapper;
  NodeIdBytes new_node_id() override {
    NodeIdBytes id{};
    id.fill(0xab);
    return id;
  }
  std::chrono::system_clock::time_point wall_now() override {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(1234567));
  }
};

TEST(Env, AWrapperOverridesOneMethodAndForwardsTheRest) {
  sim::SimEnv sim;
  FixedIdentityEnv env(&sim);
  auto a = Node::start(sim_options("a"), &env);
  ASSERT_TRUE(a) << a.error().detail;
  auto b = Node::start(sim_options("b"), &sim);
  ASSERT_TRUE(b) << b.error().detail;
  auto info = (*a)->info();
  EXPECT_EQ(info.id, "abababababababababababababababab");
  EXPECT_EQ(info.incarnation, 1234567u);
  // The loop, bus and beacon came from the simulation: b sees a at once.
  sim.settle();
  bool seen = false;
  for (const auto& m : (*b)->members()) seen |= m.id == info.id && m.state == "alive";
  EXPECT_TRUE(seen);
}

struct NoBusEnv : EnvWrapper {
  using EnvWrapper::EnvWrapper;
  Result<std::unique_ptr<node::Bus>, Error> new_bus(node::Loop&, const node::BusConfig&) override {
    return fail(Error{Errc::bind_failed, "port taken"});
  }
};

TEST(Env, AFailingFactoryFailsStartWithItsError) {
  sim::SimEnv sim;
  NoBusEnv env(&sim);
  auto a = Node::start(sim_options("a"), &env);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, Errc::bind_failed);
  EXPECT_EQ(a.error().detail, "port taken");
}

TEST(Env, ASimulatedLoopCannotServeAControlSocket) {
  sim::SimEnv sim;
  auto o = sim_options("a");
  o.control_socket = true;
  auto a = Node::start(o, &sim);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, Errc::bad_option);
}

}  // namespace
}  // namespace zswarm
