#include "node/config.hpp"

#include <charconv>

#include <toml++/toml.h>

#include "discovery/beacon.hpp"

namespace zswarm::node {

namespace {
// Every config error is bad_option; the detail names the key and the value.
Unexpected<Error> bad_option(std::string detail) { return fail(Error{Errc::bad_option, std::move(detail)}); }
}  // namespace
namespace {

using K = ConfigKey;

std::vector<std::string> split(std::string_view v) {
  std::vector<std::string> out;
  while (!v.empty()) {
    auto comma = v.find(',');
    auto part = v.substr(0, comma);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

Result<uint64_t, Error> number(std::string_view key, std::string_view v, uint64_t min, uint64_t max) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < min || n > max)
    return bad_option("bad value '" + std::string(v) + "' for " + std::string(key) + ": expected a whole number in [" +
                std::to_string(min) + ", " + std::to_string(max) + "]");
  return n;
}

}  // namespace

const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> keys = {
      {K::text, "name", "node name (short, e.g. 'a'); the node is name@host"},
      {K::text, "host", "host part of the node name (default: hostname)"},
      {K::text, "cluster", "cluster name; nodes of other clusters are ignored"},
      {K::text, "interface", "discover on this interface's subnet broadcast (default: loopback)"},
      {K::text, "multicast", "discover through this IPv4 multicast group (on --interface, else on the default route's)"},
      {K::list, "seeds", "discover by unicast to these host:port (comma-separated)"},
      {K::text, "dns", "discover by unicast to every IPv4 address (A record) of this name, looked up again and again"},
      {K::number, "dns_interval_ms", "time between lookups of the dns name"},
      {K::number, "beacon_port", "UDP port of the beacons"},
      {K::number, "beacon_interval_ms", "time between beacons"},
      {K::number, "pub_port", "bus PUB port (0: any free port)"},
      {K::number, "router_port", "bus ROUTER port (0: any free port)"},
      {K::number, "probe_port", "UDP port for sealed probe datagrams, with a secret (0: any free port)"},
      {K::number, "heartbeat_interval_ms", "time between heartbeats (they carry the PUB stream position)"},
      {K::number, "probe_interval_ms", "failure detector: one member is probed each interval"},
      {K::number, "probe_timeout_ms", "failure detector: time a probe waits for its ack before others probe too"},
      {K::number, "indirect_probes", "failure detector: members asked to probe one that did not answer (0-16)"},
      {K::number, "suspicion_min_ms", "failure detector: time a suspect has to refute, once confirmed by others"},
      {K::number, "suspicion_max_ms", "failure detector: time a suspect has to refute, suspected by one member"},
      {K::number, "awareness_max", "failure detector: how far a slow node stretches its timeouts, x(1+this) (0-16, 0: off)"},
      {K::number, "max_clock_skew_ms", "refuse beacons whose incarnation (start time) is this far ahead of our clock"},
      {K::number, "down_expiry_ms", "time a down or left member stays in the table"},
      {K::number, "max_unconfirmed", "beaconed nodes that may wait at once for their first frame"},
      {K::number, "beacon_rate", "beacons a second accepted from one source address (bursts of twice as many)"},
      {K::text, "control_dir", "directory of the control sockets"},
      {K::text, "control_group", "group that may use the control socket (dirs 0750, socket 0660); empty: this user only"},
      {K::list, "plugin_path", "directories searched for worker plugins (comma-separated)"},
      {K::list, "placement_allow", "only nodes whose name matches one of these globs own names"},
      {K::list, "placement_deny", "nodes whose name matches one of these globs own no names"},
      {K::number, "handoff_timeout_ms", "time a handoff may take before the name restarts elsewhere"},
      {K::text, "quorum", "static quorum: live members a side needs to run names (a number, or majority; 0: off)"},
      {K::number, "expected_members", "members of the whole cluster, for quorum = majority"},
      {K::number, "quorum_margin_ms", "with a quorum: wait this long after a member goes down before restarting its names"},
      {K::number, "retire_left_after_ms", "drop a node's id from the clocks this long after it left or restarted"},
      {K::number, "retire_down_after_ms", "drop a down node's id from the clocks after this long (it must rejoin under a new id)"},
      {K::number, "max_frame_bytes", "largest bus or control frame accepted (1 MiB to 256 MiB)"},
      {K::number, "receive_hwm", "frames queued per inbound connection (memory bound: this x max_frame_bytes)"},
      {K::number, "send_queue_size", "messages Node::send may queue before it waits, then fails with would_block"},
      {K::registration, "register", "register NAME=PLUGIN[:ARGS] once the node has met its peers (repeatable)"},
      {K::text, "log_level", "trace, debug, info, warn, error or off"},
      {K::text, "secret_file", "cluster secret (zswarm keygen FILE): seals beacons, CURVE on the bus"},
      {K::text, "previous_secret_file", "a second accepted secret, while the cluster rotates to a new one"},
      {K::flag, "insecure", "allow a scope beyond loopback without a cluster secret"},
      {K::flag, "observer", "read the cluster (membership, registry) without owning names or taking handoffs"},
  };
  return keys;
}

std::string flag_name(const ConfigKey& k) {
  std::string f = "--" + k.name;
  for (char& c : f)
    if (c == '_') c = '-';
  return f;
}

Result<void, Error> apply_config_value(NodeOptions& o, std::string_view key, std::string_view v) {
  auto ms = [&](std::chrono::milliseconds& out) -> Result<void, Error> {
    auto n = number(key, v, 1, 3'600'000);
    if (!n) return fail(n.error());
    out = std::chrono::milliseconds(*n);
    return {};
  };
  auto port = [&](uint16_t& out, uint64_t min) -> Result<void, Error> {
    auto n = number(key, v, min, 65535);
    if (!n) return fail(n.error());
    out = static_cast<uint16_t>(*n);
    return {};
  };
  if (key == "name") o.name = v;
  else if (key == "host") o.host = v;
  else if (key == "cluster") o.cluster = v;
  else if (key == "interface") o.interface = v;
  else if (key == "multicast") o.multicast = v;
  else if (key == "seeds") o.seeds = split(v);
  else if (key == "dns") o.dns = v;
  else if (key == "dns_interval_ms") {
    // Not below 100 ms: each lookup may reach the DNS server.
    auto n = number(key, v, 100, 3'600'000);
    if (!n) return fail(n.error());
    o.dns_interval = std::chrono::milliseconds(*n);
  }
  else if (key == "beacon_port") return port(o.beacon_port, 1);
  else if (key == "beacon_interval_ms") return ms(o.beacon_interval);
  else if (key == "pub_port") return port(o.pub_port, 0);
  else if (key == "router_port") return port(o.router_port, 0);
  else if (key == "probe_port") return port(o.probe_port, 0);
  else if (key == "heartbeat_interval_ms") return ms(o.heartbeat_interval);
  else if (key == "probe_interval_ms") return ms(o.probe_interval);
  else if (key == "probe_timeout_ms") return ms(o.probe_timeout);
  else if (key == "suspicion_min_ms") return ms(o.suspicion_min);
  else if (key == "suspicion_max_ms") return ms(o.suspicion_max);
  else if (key == "indirect_probes" || key == "awareness_max") {
    auto n = number(key, v, 0, 16);
    if (!n) return fail(n.error());
    (key == "indirect_probes" ? o.indirect_probes : o.awareness_max) = static_cast<unsigned>(*n);
  }
  else if (key == "suspect_after_ms")
    return bad_option("suspect_after_ms is gone: the SWIM failure detector replaced silence timeouts; see "
                      "probe_interval_ms, probe_timeout_ms, suspicion_min_ms and suspicion_max_ms");
  else if (key == "max_clock_skew_ms") return ms(o.max_clock_skew);
  else if (key == "down_expiry_ms") return ms(o.down_expiry);
  else if (key == "max_unconfirmed") {
    auto n = number(key, v, 1, 100'000);
    if (!n) return fail(n.error());
    o.max_unconfirmed = static_cast<std::size_t>(*n);
  } else if (key == "beacon_rate") {
    auto n = number(key, v, 1, 1'000'000);
    if (!n) return fail(n.error());
    o.beacon_rate = static_cast<uint32_t>(*n);
  }
  else if (key == "control_dir") o.control_dir = v;
  else if (key == "control_group") o.control_group = v;
  else if (key == "plugin_path") o.plugin_path = split(v);
  else if (key == "placement_allow") o.placement_allow = split(v);
  else if (key == "placement_deny") o.placement_deny = split(v);
  else if (key == "handoff_timeout_ms") return ms(o.handoff_timeout);
  else if (key == "quorum") {
    o.quorum_majority = v == "majority";
    if (o.quorum_majority) {
      o.quorum = 0;
    } else {
      auto n = number(key, v, 0, 1000);
      if (!n) return bad_option("bad value '" + std::string(v) + "' for quorum: a number of members (0-1000) or majority");
      o.quorum = static_cast<std::size_t>(*n);
    }
  }
  else if (key == "expected_members") {
    auto n = number(key, v, 1, 1000);
    if (!n) return fail(n.error());
    o.expected_members = static_cast<std::size_t>(*n);
  }
  else if (key == "quorum_margin_ms") return ms(o.quorum_margin);
  else if (key == "retire_left_after_ms") return ms(o.retire_left_after);
  else if (key == "retire_down_after_ms") {
    auto n = number(key, v, 1, 30ull * 24 * 3'600'000);  // up to 30 days
    if (!n) return fail(n.error());
    o.retire_down_after = std::chrono::milliseconds(*n);
  }
  else if (key == "secret_file") o.secret_file = v;
  else if (key == "previous_secret_file") o.previous_secret_file = v;
  else if (key == "observer" || key == "insecure") {
    if (v != "true" && v != "false")
      return bad_option("bad value '" + std::string(v) + "' for " + std::string(key) + ": expected true or false");
    (key == "observer" ? o.observer : o.insecure) = v == "true";
  } else if (key == "max_frame_bytes") {
    auto n = number(key, v, kMinFrameBytes, kMaxFrameBytes);
    if (!n) return fail(n.error());
    o.max_frame_bytes = static_cast<std::size_t>(*n);
  } else if (key == "receive_hwm") {
    auto n = number(key, v, 1, 100'000);
    if (!n) return fail(n.error());
    o.receive_hwm = static_cast<int>(*n);
  } else if (key == "send_queue_size") {
    auto n = number(key, v, 1, 10'000'000);
    if (!n) return fail(n.error());
    o.send_queue_size = static_cast<std::size_t>(*n);
  }
  else if (key == "register") {
    auto eq = v.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == v.size())
      return bad_option("bad value '" + std::string(v) + "' for register: expected NAME=PLUGIN[:ARGS]");
    auto rest = v.substr(eq + 1);
    auto colon = rest.find(':');
    NodeOptions::Registration r{std::string(v.substr(0, eq)), std::string(rest.substr(0, colon)),
                                colon == std::string_view::npos ? std::string() : std::string(rest.substr(colon + 1))};
    if (r.plugin.empty()) return bad_option("bad value '" + std::string(v) + "' for register: no plugin");
    o.register_at_start.push_back(std::move(r));
  }
  else if (key == "log_level") {
    static const char* levels[] = {"trace", "debug", "info", "warn", "error", "off"};
    bool known = false;
    for (const char* l : levels) known |= v == l;
    if (!known) return bad_option("bad value '" + std::string(v) + "' for log_level: expected trace, debug, info, warn, error or off");
    o.log_level = v;
  } else {
    return bad_option("unknown config key '" + std::string(key) + "'");
  }
  return {};
}

Result<void, Error> load_config_file(NodeOptions& opts, const std::string& path) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return bad_option(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  for (auto&& [k, node] : t) {
    std::string key(k.str());
    const ConfigKey* spec = nullptr;
    for (const auto& c : config_keys())
      if (c.name == key) spec = &c;
    if (!spec) {  // unknown, or a key a later version replaced: the parser of values says which
      auto r = apply_config_value(opts, key, "");
      return bad_option(path + ": " + (r ? "unknown config key '" + key + "'" : r.error().detail));
    }
    std::string value;
    if (spec->kind == K::text && node.is_string()) {
      value = node.as_string()->get();
    } else if ((spec->kind == K::number || key == "quorum") && node.is_integer()) {  // quorum: 3 or "majority"
      int64_t n = node.as_integer()->get();
      if (n < 0) return bad_option(path + ": bad value for " + key + ": must not be negative");
      value = std::to_string(n);
    } else if (spec->kind == K::registration && node.is_array_of_tables()) {
      for (auto&& item : *node.as_array()) {
        const auto& reg = *item.as_table();
        for (auto&& [field, v] : reg)
          if (field != "name" && field != "plugin" && field != "args")
            return bad_option(path + ": unknown key '" + std::string(field.str()) + "' in [[register]]");
        auto name = reg["name"].value<std::string>();
        auto plugin = reg["plugin"].value<std::string>();
        if (!name || !plugin) return bad_option(path + ": [[register]] needs string keys name and plugin");
        opts.register_at_start.push_back({*name, *plugin, reg["args"].value_or(std::string())});
      }
      continue;
    } else if (spec->kind == K::flag && node.is_boolean()) {
      value = node.as_boolean()->get() ? "true" : "false";
    } else if (spec->kind == K::list && node.is_array()) {
      for (auto&& item : *node.as_array()) {
        if (!item.is_string()) return bad_option(path + ": bad value for " + key + ": expected an array of strings");
        value += (value.empty() ? "" : ",") + item.as_string()->get();
      }
    } else {
      const char* want = spec->kind == K::text       ? "a string"
                         : spec->kind == K::number   ? "an integer"
                         : spec->kind == K::list     ? "an array of strings"
                         : spec->kind == K::flag     ? "true or false"
                                                     : "[[register]] tables";
      return bad_option(path + ": bad value for " + key + ": expected " + want);
    }
    auto r = apply_config_value(opts, key, value);
    if (!r) return bad_option(path + ": " + r.error().detail);
  }
  return {};
}

std::string beyond_loopback(const NodeOptions& o) {
  if (!o.interface.empty() && o.interface != "lo") return "--interface " + o.interface;
  if (!o.multicast.empty()) return "--multicast " + o.multicast;
  // What a name resolves to is only known later, and may change: count it as beyond.
  if (!o.dns.empty()) return "--dns " + o.dns;
  for (const auto& seed : o.seeds) {
    std::string host = seed.substr(0, seed.rfind(':'));
    if (host != "localhost" && host.rfind("127.", 0) != 0) return "--seeds " + seed;
  }
  return {};
}

Result<void, Error> validate(const NodeOptions& o) {
  if (o.name.empty()) return bad_option("name is required (--name)");
  if (o.name.find('@') != std::string::npos || !discovery::valid_name(o.name, 64))
    return bad_option("bad value '" + o.name + "' for name: use 1-64 printable characters without '@' or spaces");
  if (!discovery::valid_name(o.cluster, discovery::kMaxClusterName))
    return bad_option("bad value '" + o.cluster + "' for cluster: use 1-64 printable characters without spaces");
  if (o.probe_timeout >= o.probe_interval)
    return bad_option("probe_timeout_ms must be smaller than probe_interval_ms (the indirect probes need the rest)");
  if (o.suspicion_min > o.suspicion_max) return bad_option("suspicion_min_ms must not be larger than suspicion_max_ms");
  if (o.quorum_majority && o.expected_members == 0)
    return bad_option("quorum = majority needs expected_members (the size of the whole cluster)");
  if (o.quorum > 1000) return bad_option("quorum must be in [0, 1000]");
  if (!o.seeds.empty() && !o.multicast.empty()) return bad_option("seeds and multicast exclude each other");
  if (!o.dns.empty() && (!o.seeds.empty() || !o.multicast.empty()))
    return bad_option(std::string("dns and ").append(o.seeds.empty() ? "multicast" : "seeds").append(" exclude each other"));
  if (o.dns_interval < std::chrono::milliseconds(100) || o.dns_interval > std::chrono::hours(1))
    return bad_option("dns_interval_ms must be in [100, 3600000]");
  if (!o.previous_secret_file.empty() && o.secret_file.empty())
    return bad_option("previous_secret_file needs secret_file");
  if (o.secret_file.empty() && !o.insecure) {
    std::string beyond = beyond_loopback(o);
    if (!beyond.empty())
      return bad_option(beyond + " reaches beyond this host, and there is no cluster secret: anyone on that network "
                        "could join, read and write the cluster. Give --secret-file FILE (make one with `zswarm "
                        "keygen FILE`), or --insecure if that is really meant");
  }
  // The API can set these without the config's parser: check them here too.
  if (o.max_frame_bytes < kMinFrameBytes || o.max_frame_bytes > kMaxFrameBytes)
    return bad_option("max_frame_bytes must be in [" + std::to_string(kMinFrameBytes) + ", " +
                      std::to_string(kMaxFrameBytes) + "]");
  if (o.receive_hwm < 1 || o.receive_hwm > 100'000) return bad_option("receive_hwm must be in [1, 100000]");
  if (o.send_queue_size < 1 || o.send_queue_size > 10'000'000)
    return bad_option("send_queue_size must be in [1, 10000000]");
  return {};
}

}  // namespace zswarm::node
