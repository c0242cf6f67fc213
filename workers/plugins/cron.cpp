// cron: logs a message each time a cron expression fires, like the seed's
// scheduler. Args: "<minute hour dom month dow> <message>", e.g.
// "* * * * * Hello world" (or "@hourly Hello"). Times are wall-clock, in the
// node's local time zone, read through ctx->now_unix_ms, so tests drive it.
// No state to hand off: it restarts from its args on the new node.
#include <algorithm>
#include <string>

#include <zswarm/worker.hpp>

#include "cron_expr.hpp"

namespace {

namespace cron = zswarm::workers::cron;

class Cron final : public zswarm::Worker {
 public:
  void init(std::string_view args) override {
    auto parsed = cron::parse_line(args);
    if (!parsed) {
      fail("cron: invalid expression in '" + std::string(args) + "': " + parsed.error());
      return;
    }
    expr_ = parsed.value().first;
    message_ = parsed.value().second;
    if (message_.empty()) {
      fail("cron: no message after the expression in '" + std::string(args) + "'");
      return;
    }
    if (!arm(ctx().now_unix_ms() / 1000)) fail("cron: expression never fires: '" + std::string(args) + "'");
  }

  void handle(std::string_view msg) override {
    if (msg == "next") ctx().reply(std::to_string(next_));
  }

  void timer(std::uint64_t) override {
    std::int64_t now_s = ctx().now_unix_ms() / 1000;
    if (now_s >= next_) {
      ctx().info(message_);
      now_s = std::max(now_s, next_);
    } else {
      now_s = next_ - 1;  // woke early (wall clock moved back): wait for the same minute
    }
    if (!arm(now_s)) fail("cron: expression stopped firing");
  }

 private:
  static constexpr std::uint64_t kTimer = 1;

  bool arm(std::int64_t after_s) {
    auto next = cron::next_after(expr_, after_s, /*utc=*/false);
    if (!next) return false;
    next_ = *next;
    std::int64_t delay = next_ * 1000 - ctx().now_unix_ms();
    ctx().set_timer(kTimer, static_cast<std::uint64_t>(std::max<std::int64_t>(delay, 0)));
    return true;
  }

  cron::Expr expr_;
  std::string message_;
  std::int64_t next_ = 0;
};

}  // namespace

ZSWARM_WORKER_PLUGIN(Cron, "cron")
