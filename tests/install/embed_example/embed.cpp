// Starts a zswarm node through the installed public API, checks it answers,
// and leaves. Exit 0 on success. Run by tests/install/embed_test.cmake.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "zswarm/node.hpp"

int main() {
  // A private control dir, short enough for a unix socket path.
  char tmpl[] = "/tmp/zsw-embed-XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::perror("mkdtemp");
    return 2;
  }
  const std::string dir = tmpl;

  zswarm::NodeOptions opts;
  opts.name = "embed";
  opts.cluster = "embed-" + std::to_string(::getpid());  // never meets other test nodes
  opts.control_dir = dir;
  opts.log_level = "warn";

  int rc = 1;
  {
    auto started = zswarm::Node::start(opts);
    if (!started.ok()) {
      std::fprintf(stderr, "embed: start failed: %s\n", started.error().to_string().c_str());
    } else {
      zswarm::Node& node = *started.value();
      const zswarm::NodeInfo info = node.info();
      if (info.name.empty()) {
        std::fprintf(stderr, "embed: info().name is empty\n");
      } else {
        std::printf("embed: started %s in cluster %s\n", info.name.c_str(), info.cluster.c_str());
        rc = 0;
      }
      node.leave();
      node.wait();
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}
