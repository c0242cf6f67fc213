// zswarm: the control CLI. Talks to one node's control socket:
//   zswarm --node a [--cluster NAME] COMMAND [--json]
// Cluster-wide names: register, whereis, unregister, registered, send, call.
// This node: members, info, leave, workers, start-local, stop-local.
// Exit status: 0 ok, 1 the node answered with an error, 2 usage,
// 3 no answer (node not running?), 4 the control socket's directory is not
// safe to use (owned or writable by another user).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include "node/control_client.hpp"
#include "node/control_dir.hpp"
#include "node/secret_file.hpp"
#include "zswarm/node.hpp"

using Json = nlohmann::json;

namespace {

struct Target {
  std::string node;
  std::string cluster = "zswarm";
  std::string control_dir;
  int timeout_ms = 5000;
};

// The node's answer, or nullopt if none came. A socket that is not there yet
// (a node that is starting) is waited for; one that another user could have
// put there is refused: the request would go to them.
std::optional<Json> ask(const Target& t, const Json& request, std::string& refused) {
  using namespace std::chrono;
  const std::string path = zswarm::control_socket_path(t.control_dir, t.cluster, t.node);
  const auto deadline = steady_clock::now() + milliseconds(t.timeout_ms);
  auto safe = zswarm::node::check_control_socket(path);
  while (!safe && safe.error().code == zswarm::Errc::not_found && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
    safe = zswarm::node::check_control_socket(path);
  }
  if (!safe) {
    if (safe.error().code != zswarm::Errc::not_found) refused = safe.error().detail;
    return std::nullopt;
  }
  auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
  return zswarm::node::ask_control(path, request, std::max(left, milliseconds(1)));
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
            << "secure:      " << (j.value("secure", false) ? "yes (cluster secret, CURVE)" : "no") << "\n"
            << "pid:         " << j["pid"] << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"zswarm: control a zswarm node"};
  app.require_subcommand(1);
  Target t;
  bool json = false;
  auto* node_opt = app.add_option("-n,--node", t.node, "node name (short, e.g. 'a'); every command but keygen");
  app.add_option("--cluster", t.cluster, "cluster name");
  app.add_option("--control-dir", t.control_dir, "directory of the control sockets");
  app.add_option("--timeout", t.timeout_ms, "milliseconds to wait for the node's answer");
  app.add_flag("--json", json, "print the node's answer as JSON");

  std::string name, plugin, args, message, ref, policy = "permanent";
  int call_timeout = 5000;
  auto* members = app.add_subcommand("members", "list every member with its state");
  auto* info = app.add_subcommand("info", "this node's identity, ports and counters");
  auto* leave = app.add_subcommand("leave", "hand off this node's names, leave the cluster and stop");
  auto* reg = app.add_subcommand("register", "run a worker for NAME once in the cluster");
  reg->add_option("name", name, "the name")->required();
  reg->add_option("-p,--plugin", plugin, "worker plugin, e.g. singleton_worker")->required();
  reg->add_option("-a,--args", args, "arguments for the plugin's init");
  auto* whereis = app.add_subcommand("whereis", "where NAME runs (from this node's replica)");
  whereis->add_option("name", name)->required();
  auto* unreg = app.add_subcommand("unregister", "stop NAME's worker and forget the name");
  unreg->add_option("name", name)->required();
  auto* registered = app.add_subcommand("registered", "every registered name with its REF");
  // NAME MESSAGE, or --ref REF MESSAGE: one worker by its REF, not a name.
  auto* send = app.add_subcommand("send", "deliver MESSAGE to NAME's worker, wherever it runs (or to --ref REF)");
  auto* call = app.add_subcommand("call", "send MESSAGE to NAME's worker and print its reply (or to --ref REF)");
  std::size_t positionals = 0;  // of send or call: NAME MESSAGE, or MESSAGE with --ref
  for (auto* sub : {send, call}) {
    sub->add_option("name", name, "the name (leave it out with --ref)")->each([&](const std::string&) { ++positionals; });
    sub->add_option("message", message)->each([&](const std::string&) { ++positionals; });
    sub->add_option("--ref", ref, "the REF of one worker (name@host/RUN.ID); answers not_found once it is stale");
  }
  call->add_option("--timeout-ms", call_timeout, "how long to wait for the reply");
  auto* workers = app.add_subcommand("workers", "the workers under this node's supervisor");
  auto* start_local = app.add_subcommand("start-local", "start a worker on this node only (not registered)");
  start_local->add_option("name", name)->required();
  start_local->add_option("-p,--plugin", plugin)->required();
  start_local->add_option("-a,--args", args);
  start_local->add_option("--policy", policy, "permanent, transient or temporary");
  auto* stop_local = app.add_subcommand("stop-local", "stop a local, unregistered worker");
  stop_local->add_option("name", name)->required();
  std::string secret_path;
  auto* keygen = app.add_subcommand("keygen", "write a new cluster secret to FILE (mode 0600; never overwrites)");
  keygen->add_option("file", secret_path)->required();
  for (auto* sub : {members, info, leave, reg, whereis, unreg, registered, send, call, workers, start_local, stop_local})
    sub->add_flag("--json", json, "print JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help is not an error; the rest is usage
  }

  auto* sub = app.get_subcommands().front();
  if (sub == send || sub == call) {
    // With --ref the one positional CLI11 filled as NAME is the message.
    if (!ref.empty() && positionals == 1) std::swap(name, message);
    if (positionals != (ref.empty() ? 2u : 1u)) {
      std::cerr << "zswarm: " << sub->get_name() << " takes NAME MESSAGE, or --ref REF MESSAGE\n";
      return 2;
    }
  }
  if (sub == keygen) {
    auto written = zswarm::node::write_new_secret_file(secret_path);
    if (!written) {
      std::cerr << "zswarm: " << written.error().detail << "\n";
      return 1;
    }
    std::cout << "wrote a new cluster secret to " << secret_path
              << "\ncopy it to every node (mode 0600) and give it as --secret-file\n";
    return 0;
  }
  if (node_opt->count() == 0) {
    std::cerr << "zswarm: --node is required\n";
    return 2;
  }
  std::string cmd = sub->get_name();
  for (char& c : cmd)
    if (c == '-') c = '_';
  Json request{{"cmd", cmd}};
  if (!name.empty()) request["name"] = name;
  if (!plugin.empty()) request["plugin"] = plugin;
  if (sub == reg || sub == start_local) request["args"] = args;
  if (sub == start_local) request["policy"] = policy;
  if (sub == send || sub == call) request["message"] = message;
  if (!ref.empty()) request["ref"] = ref;
  if (sub == call) {
    request["timeout_ms"] = call_timeout;
    t.timeout_ms = std::max(t.timeout_ms, call_timeout + 1000);
  }
  if (sub == reg) t.timeout_ms = std::max(t.timeout_ms, 15000);  // a remote owner may be starting it
  std::string refused;
  auto answer = ask(t, request, refused);
  if (!refused.empty()) {
    std::cerr << "zswarm: " << refused << "; not sending the request\n";
    return 4;
  }
  if (!answer) {
    std::cerr << "zswarm: no answer from node '" << t.node << "' of cluster '" << t.cluster << "' at "
              << zswarm::control_socket_path(t.control_dir, t.cluster, t.node) << " (is it running?)\n";
    return 3;
  }
  const Json& j = *answer;
  if (json) {
    std::cout << j.dump() << "\n";
  } else if (!j.value("ok", false)) {
    // Seed style: {error, already_registered, a@host/1}
    std::string detail = j.value("detail", "");
    std::cout << "{error, " << j.value("error", "?") << (detail.empty() ? "" : ", " + detail) << "}\n";
  } else if (sub == reg || sub == whereis || sub == unreg || sub == start_local) {
    std::cout << "{ok, " << j.value("ref", "") << "}\n";
  } else if (sub == call) {
    std::cout << j.value("reply", "") << "\n";
  } else if (sub == registered) {
    std::cout << pad("NAME", 28) << pad("REF", 28) << "PLUGIN\n";
    for (const auto& n : j["names"])
      std::cout << pad(n["name"], 28) << pad(n["ref"], 28) << n["plugin"].get<std::string>() << "\n";
  } else if (sub == workers) {
    std::cout << pad("NAME", 28) << pad("ID", 8) << pad("PLUGIN", 18) << pad("POLICY", 11) << pad("STATE", 11)
              << pad("RESTARTS", 9) << "REGISTERED\n";
    for (const auto& w : j["workers"])
      std::cout << pad(w["name"], 28) << pad(std::to_string(w["id"].get<uint64_t>()), 8) << pad(w["plugin"], 18)
                << pad(w["policy"], 11) << pad(w["state"], 11) << pad(std::to_string(w["restarts"].get<int>()), 9)
                << (w["registered"].get<bool>() ? "yes" : "no") << "\n";
  } else if (sub == members) {
    print_members(j);
  } else if (sub == info) {
    print_info(j);
  } else {
    std::cout << "{ok}\n";
  }
  return j.value("ok", false) ? 0 : 1;
}
