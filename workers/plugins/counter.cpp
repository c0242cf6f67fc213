// counter: an integer that survives handoff and partitions. Messages:
// "inc", "inc N", "dec", "dec N", "get" (each answers the decimal value).
// Args: an optional initial count (the base).
//
// A PN-counter (operations.md §4.3): each copy counts its own
// increments and decrements in a slot of its own, keyed by a random 64-bit
// id it draws when it starts from its args. A handoff carries every slot and
// the new copy writes on in the old copy's slot; after a partition, the
// winning copy merges the loser's slots by keeping the larger count of each,
// so an increment made on either side is counted exactly once, in whatever
// order the heals come. The value is base + sum(P) - sum(N); the base comes
// from the args and is counted once, not once per copy.
// Bad input is answered, not crashed on, so a typo does not reset the count.
#include <charconv>
#include <cstdint>
#include <map>
#include <random>
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

template <class T>
bool parse_num(std::string_view s, T& out, int base = 10) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return ec == std::errc() && p == s.data() + s.size();
}

// Splits off the next space-separated token.
std::string_view next_token(std::string_view& s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  auto end = s.find(' ');
  auto tok = s.substr(0, end);
  s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  return tok;
}

struct Slot {
  std::uint64_t p = 0;  // increments
  std::uint64_t n = 0;  // decrements
};

// A state from another copy; bounded so a hostile one costs little.
constexpr std::size_t kMaxSlots = 4096;

struct State {
  std::int64_t base = 0;
  std::uint64_t own = 0;  // the slot the sender wrote in
  std::map<std::uint64_t, Slot> slots;
};

// "pn1 BASE OWN KEY:P:N ..." (hex key, decimal counts); a bare integer is a
// state from a build before the PN-counter: it becomes the base.
bool parse_state(std::string_view s, State& out, std::string& why) {
  std::int64_t plain = 0;
  if (parse_int(s, plain)) {
    out.base = plain;
    return true;
  }
  if (next_token(s) != "pn1") return why = "not a counter state", false;
  if (!parse_num(next_token(s), out.base) || !parse_num(next_token(s), out.own, 16))
    return why = "bad base or slot id", false;
  for (auto tok = next_token(s); !tok.empty(); tok = next_token(s)) {
    if (out.slots.size() >= kMaxSlots) return why = "more than 4096 slots", false;
    auto c1 = tok.find(':');
    auto c2 = tok.find(':', c1 == std::string_view::npos ? c1 : c1 + 1);
    if (c1 == std::string_view::npos || c2 == std::string_view::npos) return why = "bad slot", false;
    std::uint64_t key = 0;
    Slot slot;
    if (!parse_num(tok.substr(0, c1), key, 16) || !parse_num(tok.substr(c1 + 1, c2 - c1 - 1), slot.p) ||
        !parse_num(tok.substr(c2 + 1), slot.n))
      return why = "bad slot", false;
    out.slots[key] = slot;
  }
  return true;
}

std::string hex(std::uint64_t v) {
  char buf[17];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);
  (void)ec;
  return std::string(buf, p);
}

// A copy's own PN key: random, so copies started anywhere never share one.
// One random_device per thread, not per init (opening one costs ~15 us,
// which a heal restarting 10,000 counters pays 10,000 times).
std::uint64_t fresh_key() {
  thread_local std::mt19937_64 rng{(static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}()};
  return rng();
}

class Counter final : public zswarm::Worker {
 public:
  void init(std::string_view args) override {
    if (!args.empty() && !parse_int(args, state_.base))
      fail("counter: args must be an integer, got '" + std::string(args) + "'");
    state_.own = fresh_key();
  }

  void handle(std::string_view msg) override {
    std::int64_t n = 1;
    if (msg == "get") {
      ctx().reply(std::to_string(value()));
    } else if (msg == "inc" || (msg.substr(0, 4) == "inc " && parse_int(msg.substr(4), n))) {
      add(n);
      ctx().reply(std::to_string(value()));
    } else if (msg == "dec" || (msg.substr(0, 4) == "dec " && parse_int(msg.substr(4), n))) {
      add(-n);
      ctx().reply(std::to_string(value()));
    } else {
      ctx().log(zswarm::LogLevel::warn, "counter: unknown message '" + std::string(msg) + "'");
      ctx().reply("error: expected inc, inc N, dec, dec N or get");
    }
  }

  zswarm::Handoff begin_handoff() override { return zswarm::Handoff::with_state(encode()); }

  // The continuation of the copy that handed off: its slots, and its slot to write in.
  void end_handoff(std::string_view state) override {
    State in;
    std::string why;
    if (!parse_state(state, in, why)) return fail("counter: bad handoff state: " + why);
    if (in.own == 0) in.own = state_.own;  // a bare integer from an older build
    state_ = std::move(in);
  }

  void resolve_conflict(std::string_view /*other*/) override { ctx().reply(encode()); }

  // Keeps the larger count of each slot. A state that does not parse is
  // logged and ignored: this copy's own count must not pay for it.
  void merge_conflict(std::string_view loser_state) override {
    State in;
    std::string why;
    if (!parse_state(loser_state, in, why)) {
      ctx().log(zswarm::LogLevel::warn, "counter: ignored the losing copy's state: " + why);
      return;
    }
    for (const auto& [key, slot] : in.slots) {
      if (state_.slots.size() >= kMaxSlots && !state_.slots.count(key)) {
        ctx().log(zswarm::LogLevel::warn, "counter: 4096 slots, the rest of the losing copy's state is dropped");
        return;
      }
      Slot& mine = state_.slots[key];
      mine.p = std::max(mine.p, slot.p);
      mine.n = std::max(mine.n, slot.n);
    }
  }

 private:
  void add(std::int64_t n) {
    Slot& s = state_.slots[state_.own];
    if (n >= 0) {
      s.p += static_cast<std::uint64_t>(n);
    } else {
      s.n += static_cast<std::uint64_t>(-(n + 1)) + 1;  // safe for INT64_MIN
    }
  }

  std::int64_t value() const {
    std::uint64_t v = static_cast<std::uint64_t>(state_.base);
    for (const auto& [key, s] : state_.slots) v += s.p - s.n;  // wraps like int64 arithmetic
    return static_cast<std::int64_t>(v);
  }

  std::string encode() const {
    std::string out("pn1 ");
    out.append(std::to_string(state_.base)).append(" ").append(hex(state_.own));
    for (const auto& [key, s] : state_.slots)
      out.append(" ").append(hex(key)).append(":").append(std::to_string(s.p)).append(":").append(std::to_string(s.n));
    return out;
  }

  State state_;
};

}  // namespace

ZSWARM_WORKER_PLUGIN(Counter, "counter")
