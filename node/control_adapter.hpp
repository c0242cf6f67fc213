// The control socket's commands (docs/protocol.md §7.3): a thin JSON adapter
// over the public Node API. It reads a request, calls the API, and answers
// with what the API returned; it knows nothing the API does not offer. It
// runs on the node's loop thread, so whatever waits on the cluster goes
// through the API's asynchronous forms and answers when they complete.
#pragma once

#include "node/control_server.hpp"
#include "zswarm/node.hpp"

namespace zswarm::node {

void serve_control(Node& node, const ControlServer::Json& request, ControlServer::Reply reply);

}  // namespace zswarm::node
