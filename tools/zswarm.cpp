// zswarm: the control CLI. Talks to one node's control socket:
//   zswarm --node a [--cluster NAME] members|info|leave [--json]
// Exit status: 0 ok, 1 the node answered with an error, 2 usage,
// 3 no answer (node not running?).
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "zswarm/node.hpp"

using Json = nlohmann::json;

namespace {

struct Target {
  std::string node;
  std::string cluster = "zswarm";
  std::string control_dir;
  int timeout_ms = 5000;
};

// One request, one answer, with a deadline.
std::optional<Json> ask(const Target& t, const Json& request) {
  zmq::context_t ctx;
  zmq::socket_t s(ctx, zmq::socket_type::req);
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::rcvtimeo, t.timeout_ms);
  s.connect("ipc://" + zswarm::control_socket_path(t.control_dir, t.cluster, t.node));
  s.send(zmq::buffer(request.dump()), zmq::send_flags::none);
  zmq::message_t answer;
  if (!s.recv(answer)) return std::nullopt;
  Json j = Json::parse(answer.to_string(), nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::string pad(std::string s, std::size_t n) {
  if (s.size() < n) s.resize(n, ' ');
  return s;
}

void print_members(const Json& j) {
  std::cout << pad("NAME", 24) << pad("STATE", 9) << pad("ADDRESS", 17) << pad("INCARNATION", 15) << "LAST HEARD\n";
  for (const auto& m : j["members"]) {
    std::string heard = m["self"].get<bool>() ? "(self)" : std::to_string(m["last_heard_ms"].get<int64_t>()) + " ms";
    std::cout << pad(m["name"], 24) << pad(m["state"], 9) << pad(m["address"], 17)
              << pad(std::to_string(m["incarnation"].get<uint64_t>()), 15) << heard << "\n";
  }
}

void print_info(const Json& j) {
  std::cout << "name:        " << j["name"].get<std::string>() << "\n"
            << "id:          " << j["id"].get<std::string>() << "\n"
            << "cluster:     " << j["cluster"].get<std::string>() << "\n"
            << "incarnation: " << j["incarnation"] << "\n"
            << "bus:         " << j["bind_address"].get<std::string>() << " pub " << j["pub_port"] << " router "
            << j["router_port"] << "\n"
            << "discovery:   " << j["discovery"].get<std::string>() << "\n"
            << "control:     " << j["control"].get<std::string>() << "\n"
            << "pid:         " << j["pid"] << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"zswarm: control a zswarm node"};
  app.require_subcommand(1);
  Target t;
  bool json = false;
  app.add_option("-n,--node", t.node, "node name (short, e.g. 'a')")->required();
  app.add_option("--cluster", t.cluster, "cluster name");
  app.add_option("--control-dir", t.control_dir, "directory of the control sockets");
  app.add_option("--timeout", t.timeout_ms, "milliseconds to wait for the node's answer");
  app.add_flag("--json", json, "print the node's answer as JSON");

  auto* members = app.add_subcommand("members", "list every member with its state");
  auto* info = app.add_subcommand("info", "this node's identity, ports and counters");
  auto* leave = app.add_subcommand("leave", "leave the cluster cleanly and stop the node");
  for (auto* sub : {members, info, leave}) sub->add_flag("--json", json, "print JSON");
  CLI11_PARSE(app, argc, argv);

  auto* sub = app.get_subcommands().front();
  auto answer = ask(t, Json{{"cmd", sub->get_name()}});
  if (!answer) {
    std::cerr << "zswarm: no answer from node '" << t.node << "' of cluster '" << t.cluster << "' at "
              << zswarm::control_socket_path(t.control_dir, t.cluster, t.node) << " (is it running?)\n";
    return 3;
  }
  const Json& j = *answer;
  if (json) {
    std::cout << j.dump() << "\n";
  } else if (!j.value("ok", false)) {
    std::cerr << "{error, " << j.value("error", "?") << "} " << j.value("detail", "") << "\n";
  } else if (sub == members) {
    print_members(j);
  } else if (sub == info) {
    print_info(j);
  } else {
    std::cout << "{ok}\n";
  }
  return j.value("ok", false) ? 0 : 1;
}
