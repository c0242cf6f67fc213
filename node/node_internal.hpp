// A test seam into a running node: the parts the public API does not show
// (cluster counters and event observers, the tracker's asynchronous calls).
// Only for tests that drive a node on a simulator's loop; use the parts on
// the node's loop thread, and not after the node is gone.
#pragma once

#include "discovery/cluster.hpp"
#include "names/tracker.hpp"
#include "workers/supervisor.hpp"
#include "zswarm/node.hpp"

namespace zswarm::node {

struct NodeParts {
  discovery::Cluster* cluster;
  names::Tracker* tracker;
  workers::Supervisor* supervisor;
};

// `n` must come from Node::start.
NodeParts parts_of(Node& n);

// Node::start with another set of wire versions: a later build's fixture.
Result<std::unique_ptr<Node>, Error> start_node(NodeOptions opts, Env* env, bus::VersionRange protocol);

}  // namespace zswarm::node
