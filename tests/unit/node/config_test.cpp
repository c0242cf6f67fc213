#include "node/config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include <unistd.h>

namespace zswarm::node {
namespace {

std::string write_temp(const std::string& text) {
  char path[] = "/tmp/zswarm-config-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(Config, EveryKeyIsAlsoAFlagAndApplies) {
  for (const auto& k : config_keys()) {
    EXPECT_EQ(flag_name(k).substr(0, 2), "--");
    EXPECT_EQ(flag_name(k).find('_'), std::string::npos);
    NodeOptions o;
    std::string v = k.name == "max_frame_bytes"         ? "2097152"
                    : k.name == "indirect_probes" || k.name == "awareness_max" ? "4"
                    : k.kind == ConfigKey::number         ? "100"
                    : k.kind == ConfigKey::registration ? "Name=plugin:args"
                    : k.name == "log_level"             ? "debug"
                    : k.name == "quorum"                ? "majority"
                    : k.kind == ConfigKey::flag         ? "true"
                                                        : "x";
    EXPECT_TRUE(apply_config_value(o, k.name, v).ok()) << k.name;
  }
}

TEST(Config, FrameLimitsAreBoundedAndNamed) {
  NodeOptions o;
  EXPECT_EQ(o.max_frame_bytes, kDefaultMaxFrameBytes);
  auto small = apply_config_value(o, "max_frame_bytes", "1000");
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.error().detail.find("max_frame_bytes"), std::string::npos) << small.error().detail;
  EXPECT_FALSE(apply_config_value(o, "max_frame_bytes", "1073741824").ok());
  EXPECT_FALSE(apply_config_value(o, "receive_hwm", "0").ok());
  ASSERT_TRUE(apply_config_value(o, "max_frame_bytes", "4194304").ok());
  ASSERT_TRUE(apply_config_value(o, "receive_hwm", "32").ok());
  EXPECT_EQ(o.max_frame_bytes, 4u << 20);
  EXPECT_EQ(o.receive_hwm, 32);
  // The embedding API skips the parser: validate() checks the same bounds.
  o.name = std::string("a");
  EXPECT_TRUE(validate(o).ok());
  o.max_frame_bytes = 1000;
  EXPECT_FALSE(validate(o).ok());
  o.max_frame_bytes = kDefaultMaxFrameBytes;
  o.receive_hwm = 0;
  EXPECT_FALSE(validate(o).ok());
}

TEST(Config, FileSetsKeys) {
  auto path = write_temp(R"(
name = "a"
cluster = "prod"
seeds = ["198.18.0.1:45670", "198.18.0.2"]
heartbeat_interval_ms = 100
probe_interval_ms = 200
suspicion_max_ms = 1500
indirect_probes = 2
)");
  NodeOptions o;
  ASSERT_TRUE(load_config_file(o, path).ok());
  EXPECT_EQ(o.name, "a");
  EXPECT_EQ(o.cluster, "prod");
  EXPECT_EQ(o.seeds.size(), 2u);
  EXPECT_EQ(o.heartbeat_interval, std::chrono::milliseconds(100));
  EXPECT_EQ(o.probe_interval, std::chrono::milliseconds(200));
  EXPECT_EQ(o.suspicion_max, std::chrono::milliseconds(1500));
  EXPECT_EQ(o.indirect_probes, 2u);
  // Seeds off this host and no secret: refused, naming the flag and the way out.
  auto open_lan = validate(o);
  ASSERT_FALSE(open_lan.ok());
  EXPECT_NE(open_lan.error().detail.find("--seeds 198.18.0.1:45670"), std::string::npos) << open_lan.error().detail;
  EXPECT_NE(open_lan.error().detail.find("--secret-file"), std::string::npos);
  EXPECT_NE(open_lan.error().detail.find("--insecure"), std::string::npos);
  ASSERT_TRUE(apply_config_value(o, "insecure", "true").ok());
  EXPECT_TRUE(validate(o).ok());
  std::remove(path.c_str());
}

TEST(Config, QuorumIsANumberOrAMajorityOfTheExpectedMembers) {
  auto number = write_temp("name = \"a\"\nquorum = 3\nquorum_margin_ms = 5000\n");
  NodeOptions o;
  ASSERT_TRUE(load_config_file(o, number).ok());
  EXPECT_EQ(o.quorum, 3u);
  EXPECT_FALSE(o.quorum_majority);
  EXPECT_EQ(o.quorum_margin, std::chrono::milliseconds(5000));
  EXPECT_TRUE(validate(o).ok());
  std::remove(number.c_str());

  auto majority = write_temp("name = \"a\"\nquorum = \"majority\"\nexpected_members = 5\n");
  NodeOptions m;
  ASSERT_TRUE(load_config_file(m, majority).ok());
  EXPECT_TRUE(m.quorum_majority);
  EXPECT_EQ(m.expected_members, 5u);
  EXPECT_TRUE(validate(m).ok());
  std::remove(majority.c_str());

  NodeOptions alone;
  alone.name = "a";
  ASSERT_TRUE(apply_config_value(alone, "quorum", "majority").ok());
  auto r = validate(alone);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("expected_members"), std::string::npos) << r.error().detail;
  auto bad = apply_config_value(alone, "quorum", "most");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().detail.find("quorum"), std::string::npos) << bad.error().detail;
  EXPECT_FALSE(apply_config_value(alone, "quorum", "1001").ok());
}

TEST(Config, NoSecretBeyondLoopbackIsRefused) {
  NodeOptions o;
  o.name = "a";
  EXPECT_TRUE(validate(o).ok()) << "loopback needs no secret";
  o.seeds = {"127.0.0.1:45670", "localhost"};
  EXPECT_TRUE(validate(o).ok()) << "seeds on this host stay on loopback";
  o.seeds.clear();
  o.interface = "lo";
  EXPECT_TRUE(validate(o).ok());
  for (auto scope : {"interface", "multicast", "dns"}) {
    NodeOptions x = o;
    // dns counts even for a name that may resolve to 127.x: what it gives is only known later.
    if (std::string(scope) == "interface") x.interface = "eth0";
    else if (std::string(scope) == "multicast") x.multicast = "239.1.2.3";
    else x.dns = "localhost";
    auto r = validate(x);
    ASSERT_FALSE(r.ok()) << scope;
    EXPECT_EQ(r.error().name(), "bad_option");
    EXPECT_NE(r.error().detail.find(std::string("--") + scope), std::string::npos) << r.error().detail;
    x.secret_file = "/some/secret";
    EXPECT_TRUE(validate(x).ok()) << scope << " with a secret";
    x.secret_file.clear();
    x.insecure = true;
    EXPECT_TRUE(validate(x).ok()) << scope << " with --insecure";
  }
  o.previous_secret_file = "/old";
  EXPECT_FALSE(validate(o).ok()) << "a previous secret alone";
}

TEST(Config, RegistrationsFromFileAndFlag) {
  auto path = write_temp(R"(
name = "a"
[[register]]
name = "MyAppScheduler"
plugin = "cron"
args = "* * * * * Hello world"
)");
  NodeOptions o;
  ASSERT_TRUE(load_config_file(o, path).ok());
  ASSERT_EQ(o.register_at_start.size(), 1u);
  EXPECT_EQ(o.register_at_start[0].name, "MyAppScheduler");
  EXPECT_EQ(o.register_at_start[0].plugin, "cron");
  EXPECT_EQ(o.register_at_start[0].args, "* * * * * Hello world");
  ASSERT_TRUE(apply_config_value(o, "register", "Single=singleton_worker").ok());
  EXPECT_EQ(o.register_at_start[1].args, "");
  EXPECT_FALSE(apply_config_value(o, "register", "=x").ok());
  EXPECT_FALSE(apply_config_value(o, "register", "NoPlugin").ok());
  std::remove(path.c_str());
  auto bad = write_temp("[[register]]\nname = \"x\"\nplugn = \"cron\"\n");
  auto r = load_config_file(o, bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("plugn"), std::string::npos) << r.error().detail;
  std::remove(bad.c_str());
}

TEST(Config, UnknownKeyIsNamed) {
  auto path = write_temp("nmae = \"a\"\n");
  NodeOptions o;
  auto r = load_config_file(o, path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("unknown config key 'nmae'"), std::string::npos) << r.error().detail;
  std::remove(path.c_str());
}

TEST(Config, WrongTypeIsNamed) {
  auto path = write_temp("beacon_port = \"x\"\n");
  NodeOptions o;
  auto r = load_config_file(o, path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("beacon_port"), std::string::npos);
  EXPECT_NE(r.error().detail.find("integer"), std::string::npos);
  std::remove(path.c_str());
}

TEST(Config, SyntaxErrorHasALine) {
  auto path = write_temp("name = \"a\"\ncluster = \n");
  NodeOptions o;
  auto r = load_config_file(o, path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find(":2:"), std::string::npos) << r.error().detail;
  std::remove(path.c_str());
}

TEST(Config, BadValuesAreNamed) {
  NodeOptions o;
  auto r = apply_config_value(o, "beacon_port", "70000");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("beacon_port"), std::string::npos);
  EXPECT_FALSE(apply_config_value(o, "probe_timeout_ms", "-5").ok());
  EXPECT_FALSE(apply_config_value(o, "probe_timeout_ms", "5x").ok());
  EXPECT_FALSE(apply_config_value(o, "log_level", "loud").ok());
  EXPECT_FALSE(apply_config_value(o, "colour", "red").ok());
}

TEST(Config, ValidateChecksTheWhole) {
  NodeOptions o;
  EXPECT_FALSE(validate(o).ok());  // no name
  o.name = "a@b";
  EXPECT_FALSE(validate(o).ok());
  o.name = std::string("a");
  EXPECT_TRUE(validate(o).ok());
  o.probe_timeout = o.probe_interval;  // no time left for the indirect probes
  EXPECT_FALSE(validate(o).ok());
  o.probe_timeout = std::chrono::milliseconds(50);
  o.suspicion_min = o.suspicion_max + std::chrono::milliseconds(1);
  EXPECT_FALSE(validate(o).ok());
}

TEST(Config, TheSilenceTimeoutOfBeforeSwimIsNamedAsReplaced) {
  auto path = write_temp("name = \"a\"\nsuspect_after_ms = 800\n");
  NodeOptions o;
  auto r = load_config_file(o, path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("probe_interval_ms"), std::string::npos) << r.error().detail;
  EXPECT_FALSE(apply_config_value(o, "indirect_probes", "17").ok());
  EXPECT_FALSE(apply_config_value(o, "awareness_max", "99").ok());
  EXPECT_TRUE(apply_config_value(o, "awareness_max", "0").ok());
}

TEST(Config, DnsExcludesSeedsAndMulticast) {
  NodeOptions o;
  o.name = "a";
  o.insecure = true;
  ASSERT_TRUE(apply_config_value(o, "dns", "zswarm.default.svc.cluster.local").ok());
  ASSERT_TRUE(apply_config_value(o, "dns_interval_ms", "2000").ok());
  EXPECT_EQ(o.dns_interval, std::chrono::milliseconds(2000));
  EXPECT_TRUE(validate(o).ok());
  EXPECT_FALSE(apply_config_value(o, "dns_interval_ms", "99").ok()) << "below 100 ms";
  NodeOptions x = o;
  x.seeds = {"198.18.0.1"};
  auto r = validate(x);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail, "dns and seeds exclude each other");
  x = o;
  x.multicast = "239.1.2.3";
  r = validate(x);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail, "dns and multicast exclude each other");
  x = o;
  x.dns_interval = std::chrono::milliseconds(10);  // through the API, past the parser
  EXPECT_FALSE(validate(x).ok());
}

}  // namespace
}  // namespace zswarm::node
