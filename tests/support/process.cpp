#include "support/process.hpp"

#include <algorithm>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include "node/control_client.hpp"
#include "support/wait.hpp"
#include "zswarm/node.hpp"

extern char** environ;

namespace zswarm::testing {

std::string test_name() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

std::string bin_dir() {
  if (const char* d = std::getenv("ZSWARM_BIN_DIR")) return d;
#ifdef ZSWARM_TEST_BIN_DIR
  return ZSWARM_TEST_BIN_DIR;
#else
  throw std::runtime_error("ZSWARM_BIN_DIR is not set");
#endif
}

Process::Process(std::vector<std::string> argv, std::string log_path) : log_path_(std::move(log_path)) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addclose(&fa, 0);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  int rc = posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait_exit(std::chrono::seconds(10));
  }
}

void Process::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

bool Process::running() {
  if (status_) return false;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return !status_;
}

std::optional<int> Process::wait_exit(std::chrono::milliseconds deadline) {
  wait_until([this] { return !running(); }, deadline, std::chrono::milliseconds(2));
  return status_;
}

std::string Process::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

RunResult run(const std::vector<std::string>& argv) {
  char path[] = "/tmp/zswarm-run-XXXXXX";
  int fd = mkstemp(path);
  ::close(fd);
  int code = -1;
  std::string out;
  {
    Process p(argv, path);
    auto rc = p.wait_exit(std::chrono::seconds(30));
    code = rc ? *rc : -1;
    out = p.log();
  }
  std::remove(path);
  return {code, out};
}

LocalCluster::LocalCluster(const std::string& test_name, uint16_t beacon_port) {
  std::random_device rd;
  cluster_ = test_name.substr(0, 40) + "-" + std::to_string(::getpid());
  beacon_port_ = beacon_port ? beacon_port : static_cast<uint16_t>(49000 + rd() % 8000);
  char tmpl[] = "/tmp/zsw-it-XXXXXX";
  dir_ = mkdtemp(tmpl);
}

LocalCluster::~LocalCluster() {
  nodes_.clear();  // kills what still runs
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

#ifndef ZSWARM_TEST_TIMING_SCALE
#define ZSWARM_TEST_TIMING_SCALE 1
#endif

bool sanitizer_build() { return ZSWARM_TEST_TIMING_SCALE != 1; }

std::vector<std::string> detector_flags_for_this_build() {
  if (ZSWARM_TEST_TIMING_SCALE == 1) return {};
  NodeOptions o;
  scale_detector_for_this_build(o);
  return {"--probe-interval-ms", std::to_string(o.probe_interval.count()),
          "--probe-timeout-ms",  std::to_string(o.probe_timeout.count()),
          "--suspicion-min-ms",  std::to_string(o.suspicion_min.count()),
          "--suspicion-max-ms",  std::to_string(o.suspicion_max.count())};
}

void scale_detector_for_this_build(NodeOptions& o) {
  o.probe_interval *= ZSWARM_TEST_TIMING_SCALE;
  o.probe_timeout *= ZSWARM_TEST_TIMING_SCALE;
  o.suspicion_min *= ZSWARM_TEST_TIMING_SCALE;
  o.suspicion_max *= ZSWARM_TEST_TIMING_SCALE;
}

Process& LocalCluster::start(const std::string& node, std::vector<std::string> extra) {
  std::vector<std::string> argv = {bin_dir() + "/zswarmd", "--name", node, "--cluster", cluster_,
                                   "--beacon-port", std::to_string(beacon_port_), "--control-dir", dir_};
  // A test that sets a timing itself keeps it.
  const auto scaled = detector_flags_for_this_build();
  for (std::size_t i = 0; i + 1 < scaled.size(); i += 2)
    if (std::find(extra.begin(), extra.end(), scaled[i]) == extra.end())
      argv.insert(argv.end(), {scaled[i], scaled[i + 1]});
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::string log = dir_ + "/" + node + "." + std::to_string(nodes_.size()) + ".log";
  nodes_.emplace_back(node, std::make_unique<Process>(argv, log));
  return *nodes_.back().second;
}

Process& LocalCluster::process(const std::string& node) {
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it)
    if (it->first == node) return *it->second;
  throw std::runtime_error("no node " + node);
}

void LocalCluster::forget(const std::string& node) {
  for (auto& [n, p] : nodes_)
    if (n == node) n = "(gone)";
}

std::optional<Json> LocalCluster::ask(const std::string& node, const Json& request,
                                      std::chrono::milliseconds deadline) {
  return node::ask_control(control_socket_path(dir_, cluster_, node), request, deadline);
}

std::vector<Json> LocalCluster::pipeline(const std::string& node, const std::vector<Json>& requests,
                                         std::chrono::milliseconds deadline) {
  static zmq::context_t ctx;
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::sndhwm, 0);
  s.set(zmq::sockopt::rcvhwm, 0);
  s.set(zmq::sockopt::rcvtimeo, 200);
  s.connect("ipc://" + control_socket_path(dir_, cluster_, node));
  for (const auto& r : requests) s.send(zmq::buffer(r.dump()), zmq::send_flags::none);
  std::vector<Json> answers;
  auto end = std::chrono::steady_clock::now() + deadline;
  while (answers.size() < requests.size() && std::chrono::steady_clock::now() < end) {
    zmq::message_t m;
    if (!s.recv(m)) continue;
    answers.push_back(Json::parse(m.to_string(), nullptr, false));
  }
  return answers;
}

std::string LocalCluster::state(const std::string& by, const std::string& of) {
  auto j = ask(by, {{"cmd", "members"}}, std::chrono::milliseconds(1000));
  if (!j || !j->value("ok", false)) return "";
  std::string found;
  uint64_t newest = 0;
  for (const auto& m : (*j)["members"]) {
    std::string name = m["name"];
    if (name.substr(0, name.find('@')) == of && m["incarnation"].get<uint64_t>() >= newest) {
      newest = m["incarnation"];
      found = m["state"];
    }
  }
  return found;
}

bool LocalCluster::wait_all_alive(const std::vector<std::string>& nodes, std::chrono::milliseconds deadline) {
  return wait_until(
      [&] {
        for (const auto& a : nodes)
          for (const auto& b : nodes)
            if (a != b && state(a, b) != "alive") return false;
        return true;
      },
      deadline, std::chrono::milliseconds(20));
}

bool LocalCluster::wait_state(const std::string& by, const std::string& of, const std::string& st,
                              std::chrono::milliseconds deadline) {
  return wait_until([&] { return state(by, of) == st; }, deadline, std::chrono::milliseconds(10));
}

std::vector<std::string> LocalCluster::cli(const std::string& node) const {
  return {bin_dir() + "/zswarm", "--node", node, "--cluster", cluster_, "--control-dir", dir_};
}

}  // namespace zswarm::testing
