#include "node/control_adapter.hpp"

#include <algorithm>
#include <unistd.h>

#include "names/ref.hpp"

namespace zswarm::node {
namespace {

using Json = ControlServer::Json;

Json error_json(const Error& e) { return ControlServer::error(e.code, e.detail); }

Json info_json(const NodeInfo& i) {
  const NodeStats& s = i.stats;
  return Json{{"ok", true},
              {"name", i.name},
              {"id", i.id},
              {"cluster", i.cluster},
              {"incarnation", i.incarnation},
              {"bind_address", i.bind_address},
              {"pub_port", i.pub_port},
              {"router_port", i.router_port},
              {"probe_port", i.probe_port},
              {"discovery", i.discovery},
              {"control", i.control_endpoint},
              {"secure", i.secure},
              {"pid", ::getpid()},
              {"stats",
               {{"beacons_sent", s.beacons_sent},
                {"beacons_received", s.beacons_received},
                {"beacons_other_cluster", s.beacons_other_cluster},
                {"beacons_bad_version", s.beacons_bad_version},
                {"beacons_garbage", s.beacons_garbage},
                {"beacons_unsealed", s.beacons_unsealed},
                {"beacons_wrong_secret", s.beacons_wrong_secret},
                {"beacons_bad_mac", s.beacons_bad_mac},
                {"beacons_replayed", s.beacons_replayed},
                {"beacons_sealed_ignored", s.beacons_sealed_ignored},
                {"keys_refused", s.keys_refused},
                {"frames_unauthenticated", s.frames_unauthenticated},
                {"peers_refused", s.peers_refused},
                {"datagrams_sent", s.datagrams_sent},
                {"datagrams_received", s.datagrams_received},
                {"datagrams_refused", s.datagrams_refused},
                {"datagrams_by_tcp", s.datagrams_by_tcp},
                {"dns_failures", s.dns_failures},
                {"dns_addresses", s.dns_addresses},
                {"frames_received", s.frames_received},
                {"frames_rejected", s.frames_rejected},
                {"bodies_rejected", s.bodies_rejected},
                {"frames_unknown_type", s.frames_unknown_type},
                {"frames_unknown_sender", s.frames_unknown_sender},
                {"connections_dropped", s.connections_dropped},
                {"handshakes_failed", s.handshakes_failed},
                {"links_reopened", s.links_reopened},
                {"max_frame_bytes", i.max_frame_bytes},
                {"sequence_gaps", s.sequence_gaps},
                {"probes_sent", s.probes_sent},
                {"probe_requests_sent", s.probe_requests_sent},
                {"probes_failed", s.probes_failed},
                {"suspicions_raised", s.suspicions_raised},
                {"refutations", s.refutations},
                {"isolations", s.isolations},
                {"gone_published", s.gone_published},
                {"gone_suppressed", s.gone_suppressed},
                {"health_score", s.health_score},
                {"beacons_rate_limited", s.beacons_rate_limited},
                {"beacons_future_incarnation", s.beacons_future_incarnation},
                {"beacons_name_conflict", s.beacons_name_conflict},
                {"beacons_name_in_use", s.beacons_name_in_use},
                {"beacons_endpoint_in_use", s.beacons_endpoint_in_use},
                {"beacons_placement_mismatch", s.beacons_placement_mismatch},
                {"beacons_unconfirmed_full", s.beacons_unconfirmed_full},
                {"members_unconfirmed_dropped", s.members_unconfirmed_dropped},
                {"members_expired", s.members_expired},
                {"members_unconfirmed", s.members_unconfirmed},
                {"frames_bad_version", s.frames_bad_version},
                {"fields_unknown", s.fields_unknown},
                {"messages_received", s.messages_received},
                {"frames_sent", s.frames_sent},
                {"messages_sent", s.messages_sent},
                {"frames_unsent", s.frames_unsent},
                {"frames_expired", s.frames_expired},
                {"sends_refused", s.sends_refused},
                {"sends_failed", s.sends_failed},
                {"loop_wakeups", s.loop_wakeups},
                {"loop_missed_signals", s.loop_missed_signals},
                {"clock_ids", s.clock_ids},
                {"clock_ids_retired", s.clock_ids_retired},
                {"quarantine_sent", s.quarantine_sent}}}};
}

// Answers {"ok":true, KEY: value} or the error.
Node::Done<std::string> answer_with(ControlServer::Reply reply, const char* key) {
  return [reply = std::move(reply), key](Result<std::string, Error> r) {
    if (!r) return reply(error_json(r.error()));
    Json out{{"ok", true}};
    if (key) out[key] = *r;
    reply(out);
  };
}

}  // namespace

void serve_control(Node& node, const Json& req, ControlServer::Reply reply) {
  const std::string cmd = req["cmd"];
  const std::string name = req.value("name", "");
  if (cmd == "info") {
    reply(info_json(node.info()));
  } else if (cmd == "members") {
    Json list = Json::array();
    for (const auto& m : node.members())
      list.push_back({{"name", m.name},
                      {"id", m.id},
                      {"state", m.state},
                      {"address", m.address},
                      {"incarnation", m.incarnation},
                      {"last_heard_ms", m.last_heard_ms},
                      {"self", m.self},
                      {"observer", m.observer},
                      {"wire_version", m.wire_version}});
    reply(Json{{"ok", true}, {"members", list}});
  } else if (cmd == "leave") {
    reply(Json{{"ok", true}});
    node.leave();
  } else if (cmd == "workers") {
    Json list = Json::array();
    for (const auto& w : node.workers())
      list.push_back({{"name", w.name},
                      {"id", w.id},
                      {"plugin", w.plugin},
                      {"policy", w.policy},
                      {"state", w.state},
                      {"restarts", w.restarts},
                      {"mailbox", w.mailbox_depth},
                      {"registered", w.registered}});
    reply(Json{{"ok", true}, {"workers", list}});
  } else if (cmd == "start_local") {  // the loop does not wait for init
    node.start_local_async(name, req.value("plugin", ""), req.value("args", ""), req.value("policy", "permanent"),
                           [&node, reply](Result<uint64_t, Error> r) {
                             auto me = node.info();
                             reply(r ? Json{{"ok", true},
                                            {"id", *r},
                                            {"ref", names::format_ref(names::Ref{me.name, me.id.substr(0, names::kRunDigits), *r})}}
                                     : error_json(r.error()));
                           });
  } else if (cmd == "stop_local") {
    node.stop_local_async(name, [reply](Result<void, Error> r) { reply(r ? Json{{"ok", true}} : error_json(r.error())); });
  } else if (cmd == "register") {
    node.register_name_async(name, req.value("plugin", ""), req.value("args", ""), answer_with(reply, "ref"));
  } else if (cmd == "whereis") {
    auto r = node.whereis(name);
    reply(r ? Json{{"ok", true}, {"ref", *r}} : error_json(r.error()));
  } else if (cmd == "unregister") {
    node.unregister_name_async(name, answer_with(reply, "ref"));
  } else if (cmd == "registered") {
    Json list = Json::array();
    for (const auto& n : node.registered())
      list.push_back({{"name", n.name}, {"ref", n.ref}, {"owner", n.owner}, {"plugin", n.plugin},
                      {"fencing_token", n.fencing_token}});
    reply(Json{{"ok", true}, {"names", list}});
  } else if (cmd == "send") {
    if (req.contains("ref"))  // one worker by its REF, not a name
      node.send_ref_async(req.value("ref", ""), req.value("message", ""), answer_with(reply, nullptr));
    else
      node.send_async(name, req.value("message", ""), answer_with(reply, nullptr));
  } else if (cmd == "call") {
    auto timeout = std::chrono::milliseconds(std::clamp<int64_t>(req.value("timeout_ms", int64_t{5000}), 1, 86'400'000));
    if (req.contains("ref"))
      node.call_ref_async(req.value("ref", ""), req.value("message", ""), timeout, answer_with(reply, "reply"));
    else
      node.call_async(name, req.value("message", ""), timeout, answer_with(reply, "reply"));
  } else {
    reply(ControlServer::error(Errc::unknown_command, "no command '" + cmd + "'"));
  }
}

}  // namespace zswarm::node
