// Real processes for integration tests: zswarmd daemons started by PID,
// their stderr captured to a file, killed by PID when the test ends (pass or
// fail). Also a client for a node's control socket, with a deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "zswarm/node.hpp"

namespace zswarm::testing {

using Json = nlohmann::json;

// The running GoogleTest test's name: LocalCluster names its cluster after it.
std::string test_name();

// A control request {"cmd": c, ...fields}.
inline Json cmd(const std::string& c, Json fields = Json::object()) {
  fields["cmd"] = c;
  return fields;
}

// Where the build put zswarmd, zswarm and the rest.
std::string bin_dir();

class Process {
 public:
  // Starts `argv[0]` (a path) with stdout+stderr appended to `log_path`.
  Process(std::vector<std::string> argv, std::string log_path);
  ~Process();  // SIGKILL + reap if still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  // Waits for exit; returns the exit code (128+N for a signal) or nullopt at the deadline.
  std::optional<int> wait_exit(std::chrono::milliseconds deadline);
  bool running();
  std::string log() const;
  const std::string& log_path() const { return log_path_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string log_path_;
};

// Runs a command to completion (deadline 30 s); returns exit code and output.
struct RunResult {
  int code;
  std::string output;
};
RunResult run(const std::vector<std::string>& argv);

// A sanitizer build runs several times slower, and two suites run side by
// side: the SWIM detector's default timings (a probe answered within 100 ms,
// a suspicion refuted within 200 ms-1 s) then take a busy node for a dead
// one. Such builds scale the detector's timings by ZSWARM_TEST_TIMING_SCALE
// (4): these are zswarmd's flags for it (empty otherwise), and the same for
// an in-process node's options. Timing-free behaviour is tested unchanged.
std::vector<std::string> detector_flags_for_this_build();
// Whether this is such a build (for tests that bound a pile of work).
bool sanitizer_build();
void scale_detector_for_this_build(NodeOptions& o);

// A cluster of zswarmd processes on loopback with its own name, beacon port
// and control directory, so tests can run side by side.
class LocalCluster {
 public:
  // beacon_port 0: a random one; give another cluster's to share it.
  explicit LocalCluster(const std::string& test_name, uint16_t beacon_port = 0);
  ~LocalCluster();

  const std::string& name() const { return cluster_; }
  uint16_t beacon_port() const { return beacon_port_; }
  const std::string& control_dir() const { return dir_; }

  // Starts `zswarmd --name N` with this cluster's settings plus `extra` flags.
  Process& start(const std::string& node, std::vector<std::string> extra = {});
  Process& process(const std::string& node);
  // Restarting a name: the old Process is reaped and replaced.
  void forget(const std::string& node);

  // One control request; nullopt if the node did not answer within the deadline.
  std::optional<Json> ask(const std::string& node, const Json& request,
                          std::chrono::milliseconds deadline = std::chrono::seconds(5));
  // Many requests at once on one connection (a DEALER); answers in any order
  // are matched back by position of arrival, so requests must not depend on
  // each other. Returns what arrived before the deadline.
  std::vector<Json> pipeline(const std::string& node, const std::vector<Json>& requests,
                             std::chrono::milliseconds deadline = std::chrono::seconds(60));
  // State of `of` ("b") as `by` ("a") sees it; "" if unknown.
  std::string state(const std::string& by, const std::string& of);
  // Waits until every listed node sees every other listed node alive.
  bool wait_all_alive(const std::vector<std::string>& nodes,
                      std::chrono::milliseconds deadline = std::chrono::seconds(10));
  bool wait_state(const std::string& by, const std::string& of, const std::string& state,
                  std::chrono::milliseconds deadline = std::chrono::seconds(10));
  // Args for the zswarm CLI aimed at this cluster: {bin/zswarm, --cluster, .., --control-dir, ..}.
  std::vector<std::string> cli(const std::string& node) const;

 private:
  std::string cluster_;
  uint16_t beacon_port_;
  std::string dir_;
  std::vector<std::pair<std::string, std::unique_ptr<Process>>> nodes_;
};

}  // namespace zswarm::testing
