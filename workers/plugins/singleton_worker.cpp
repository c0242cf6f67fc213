// singleton_worker: the seed article's SingletonWorker. It announces where it
// runs and answers any call with the same line; it has no state to hand off,
// so it restarts from its args on the new node.
#include <string>

#include <zswarm/worker.hpp>

namespace {

class SingletonWorker final : public zswarm::Worker {
 public:
  void init(std::string_view) override { ctx().info(line()); }
  void handle(std::string_view) override { ctx().reply(line()); }

 private:
  std::string line() const { return "SingletonWorker running on " + std::string(ctx().node_name()); }
};

}  // namespace

ZSWARM_WORKER_PLUGIN(SingletonWorker, "singleton_worker")
