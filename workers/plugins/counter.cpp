// counter: an integer that survives handoff. Messages: "inc", "inc N",
// "get" (the reply is the decimal count). Args: an optional initial count.
// Bad input is answered, not crashed on, so a typo does not reset the count.
#include <charconv>
#include <cstdint>
#include <string>

#include <zswarm/worker.hpp>

namespace {

bool parse_int(std::string_view s, std::int64_t& out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

class Counter final : public zswarm::Worker {
 public:
  void init(std::string_view args) override {
    if (!args.empty() && !parse_int(args, count_)) fail("counter: args must be an integer, got '" + std::string(args) + "'");
  }

  void handle(std::string_view msg) override {
    std::int64_t n = 1;
    if (msg == "get") {
      ctx().reply(std::to_string(count_));
    } else if (msg == "inc" || (msg.substr(0, 4) == "inc " && parse_int(msg.substr(4), n))) {
      count_ += n;
      ctx().reply(std::to_string(count_));
    } else {
      ctx().log(zswarm::LogLevel::warn, "counter: unknown message '" + std::string(msg) + "'");
      ctx().reply("error: expected inc, inc N or get");
    }
  }

  zswarm::Handoff begin_handoff() override { return zswarm::Handoff::with_state(std::to_string(count_)); }

  void end_handoff(std::string_view state) override {
    if (!parse_int(state, count_)) fail("counter: bad handoff state '" + std::string(state) + "'");
  }

 private:
  std::int64_t count_ = 0;
};

}  // namespace

ZSWARM_WORKER_PLUGIN(Counter, "counter")
