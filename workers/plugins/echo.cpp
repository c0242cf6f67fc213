// echo: replies to a call with exactly the bytes it got; ignores casts.
#include <zswarm/worker.hpp>

namespace {

class Echo final : public zswarm::Worker {
 public:
  void handle(std::string_view msg) override { ctx().reply(msg); }
};

}  // namespace

ZSWARM_WORKER_PLUGIN(Echo, "echo")
