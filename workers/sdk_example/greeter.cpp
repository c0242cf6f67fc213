// A complete zswarm worker plugin: greets whoever calls it, counts greetings,
// and carries the count along when it is handed off to another node.
#include <string>

#include <zswarm/worker.hpp>

class Greeter : public zswarm::Worker {
 public:
  void init(std::string_view args) override {
    greeting_ = args.empty() ? "Hello" : std::string(args);
    ctx().info("greeter ready on " + std::string(ctx().node_name()));
  }
  void handle(std::string_view who) override {
    ++count_;
    ctx().reply(greeting_ + ", " + std::string(who) + " (#" + std::to_string(count_) + ")");
  }
  zswarm::Handoff begin_handoff() override { return zswarm::Handoff::with_state(std::to_string(count_)); }
  void end_handoff(std::string_view state) override { count_ = std::stol(std::string(state)); }

 private:
  std::string greeting_;
  long count_ = 0;
};

ZSWARM_WORKER_PLUGIN(Greeter, "greeter")
