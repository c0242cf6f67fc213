// zswarmd: the node daemon. Every config key is also a flag; flags win over
// the config file. SIGTERM or SIGINT: hand off, say goodbye and exit cleanly.
// SIGHUP: read secret_file and previous_secret_file again (key rotation).
// Exit status: 0 clean stop, 1 could not start (port, interface, socket),
// 2 bad flag, config key or value, 3 quarantined (its id was retired from
// the cluster's clocks: start it again to rejoin under a new id).
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <map>
#include <thread>

#include <CLI/CLI.hpp>

#include "node/config.hpp"
#include "zswarm/node.hpp"

int main(int argc, char** argv) {
  CLI::App app{"zswarmd: a zswarm cluster node"};
  std::string config_file;
  app.add_option("-c,--config", config_file, "TOML config file")->check(CLI::ExistingFile);
  std::map<std::string, std::string> flags;
  std::vector<std::string> registrations;
  std::map<std::string, bool> switches;
  for (const auto& key : zswarm::node::config_keys()) {
    if (key.kind == zswarm::node::ConfigKey::registration)
      app.add_option(zswarm::node::flag_name(key), registrations, key.help);
    else if (key.kind == zswarm::node::ConfigKey::flag)
      app.add_flag(zswarm::node::flag_name(key), switches[key.name], key.help);
    else
      app.add_option(zswarm::node::flag_name(key), flags[key.name], key.help);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help is not an error; the rest is usage
  }

  zswarm::NodeOptions opts;
  if (!config_file.empty()) {
    if (auto r = zswarm::node::load_config_file(opts, config_file); !r) {
      std::fprintf(stderr, "zswarmd: %s\n", r.error().detail.c_str());
      return 2;
    }
  }
  for (const auto& r : registrations) {
    if (auto ok = zswarm::node::apply_config_value(opts, "register", r); !ok) {
      std::fprintf(stderr, "zswarmd: %s\n", ok.error().detail.c_str());
      return 2;
    }
  }
  for (const auto& key : zswarm::node::config_keys()) {
    if (key.kind == zswarm::node::ConfigKey::registration) continue;
    if (app.get_option(zswarm::node::flag_name(key))->count() == 0) continue;
    if (key.kind == zswarm::node::ConfigKey::flag) flags[key.name] = switches[key.name] ? "true" : "false";
    if (auto r = zswarm::node::apply_config_value(opts, key.name, flags[key.name]); !r) {
      std::fprintf(stderr, "zswarmd: %s\n", r.error().detail.c_str());
      return 2;
    }
  }

  // Each peer costs about 10 descriptors (docs/scaling.md §1): a soft limit
  // of 1024 would cap the cluster near 100 nodes, below what the hard limit allows.
  if (rlimit fds{}; getrlimit(RLIMIT_NOFILE, &fds) == 0 && fds.rlim_cur < fds.rlim_max) {
    fds.rlim_cur = fds.rlim_max;
    setrlimit(RLIMIT_NOFILE, &fds);
  }

  // Signals are taken synchronously by this thread; block them before any
  // other thread exists so that none of them receives one.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  sigaddset(&sigs, SIGUSR1);  // the node stopped by itself (below)
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  auto node = zswarm::Node::start(opts);
  if (!node) {
    std::fprintf(stderr, "zswarmd: %s\n", node.error().detail.c_str());
    return node.error().code == zswarm::Errc::bad_option ? 2 : 1;  // 2: fix the config; 1: the world said no
  }
  // A node that stops by itself (a `leave` command, a quarantine) ends the
  // wait with SIGUSR1: this thread sleeps until something happens.
  const pthread_t main_thread = pthread_self();
  std::thread watcher([&node, main_thread] {
    (*node)->wait();
    pthread_kill(main_thread, SIGUSR1);
  });
  for (;;) {
    int sig = 0;
    if (sigwait(&sigs, &sig) != 0) continue;
    if (sig == SIGTERM || sig == SIGINT) {
      (*node)->leave();
      break;
    }
    if (sig == SIGHUP) (void)(*node)->reload_secrets();  // it logs what it did, or why it kept the old ones
    if ((*node)->stopped()) break;
  }
  (*node)->wait();
  watcher.join();
  return (*node)->quarantined() ? 3 : 0;
}
