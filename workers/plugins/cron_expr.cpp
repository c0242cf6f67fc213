#include "cron_expr.hpp"

#include <ctime>
#include <vector>

namespace zswarm::workers::cron {

namespace {

struct FieldSpec {
  const char* name;
  int lo;
  int hi;
  const char* const* names;  // lo-based names or nullptr
};

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr FieldSpec kFields[] = {
    {"minute", 0, 59, nullptr},     {"hour", 0, 23, nullptr},
    {"day-of-month", 1, 31, nullptr}, {"month", 1, 12, kMonthNames},
    {"day-of-week", 0, 7, kDayNames},
};

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    auto at = s.find(sep);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + 1);
  }
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::optional<int> parse_value(std::string_view s, const FieldSpec& f) {
  if (s.empty()) return std::nullopt;
  if (f.names != nullptr && s.size() == 3) {
    int count = f.hi == 12 ? 12 : 7;
    for (int i = 0; i < count; ++i) {
      std::string_view n = f.names[i];
      bool eq = true;
      for (std::size_t k = 0; k < 3; ++k) {
        char c = s[k];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        eq = eq && c == n[k];
      }
      if (eq) return f.lo + i;
    }
  }
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || v > 1000) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// Fills `bits` (indexed by value) from one field; returns an error text.
std::optional<std::string> parse_field(std::string_view text, const FieldSpec& f,
                                       std::vector<bool>& bits) {
  auto bad = [&](const std::string& why) {
    return std::optional<std::string>(std::string("field ") + f.name + " '" + std::string(text) +
                                      "': " + why);
  };
  // Appended, not `"'" + std::string&&`, which trips GCC 12's -Wrestrict (a false positive).
  auto not_a_value = [&](std::string_view v) {
    std::string why = "'";
    why += v;
    why += "' is not a value";
    return bad(why);
  };
  bits.assign(static_cast<std::size_t>(f.hi + 1), false);
  for (std::string_view item : split(text, ',')) {
    if (item.empty()) return bad("empty list item");
    int step = 1;
    auto slash = item.find('/');
    std::string_view range = item.substr(0, slash);
    if (slash != std::string_view::npos) {
      auto s = parse_value(item.substr(slash + 1), FieldSpec{f.name, 1, 1000, nullptr});
      if (!s || *s < 1) return bad("step must be a positive number");
      step = *s;
    }
    int lo = f.lo;
    int hi = f.hi;
    if (range == "*") {
      // full range
    } else {
      auto dash = range.find('-');
      auto a = parse_value(range.substr(0, dash), f);
      if (!a) return not_a_value(range.substr(0, dash));
      lo = *a;
      if (dash != std::string_view::npos) {
        auto b = parse_value(range.substr(dash + 1), f);
        if (!b) return not_a_value(range.substr(dash + 1));
        hi = *b;
      } else if (slash == std::string_view::npos) {
        hi = lo;  // a single value; "a/step" means a through the maximum
      }
      if (lo < f.lo || lo > f.hi || hi < f.lo || hi > f.hi) {
        return bad("values must be within " + std::to_string(f.lo) + "-" + std::to_string(f.hi));
      }
      if (lo > hi) return bad("range start after its end");
    }
    for (int v = lo; v <= hi; v += step) bits[static_cast<std::size_t>(v)] = true;
  }
  return std::nullopt;
}

std::string_view macro(std::string_view s) {
  if (s == "@yearly" || s == "@annually") return "0 0 1 1 *";
  if (s == "@monthly") return "0 0 1 * *";
  if (s == "@weekly") return "0 0 * * 0";
  if (s == "@daily" || s == "@midnight") return "0 0 * * *";
  if (s == "@hourly") return "0 * * * *";
  return {};
}

// Splits off up to n blank-separated words; `rest` is what follows.
std::vector<std::string_view> words(std::string_view s, std::size_t n, std::string_view* rest) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (out.size() < n) {
    while (i < s.size() && is_blank(s[i])) ++i;
    if (i == s.size()) break;
    std::size_t start = i;
    while (i < s.size() && !is_blank(s[i])) ++i;
    out.push_back(s.substr(start, i - start));
  }
  while (i < s.size() && is_blank(s[i])) ++i;
  if (rest != nullptr) *rest = s.substr(i);
  return out;
}

zswarm::Result<Expr, std::string> parse_words(const std::vector<std::string_view>& w) {
  if (w.size() != 5) {
    return zswarm::fail("a cron expression has 5 fields (minute hour day-of-month month "
                        "day-of-week), got " + std::to_string(w.size()));
  }
  Expr e;
  std::vector<bool> bits;
  for (std::size_t i = 0; i < 5; ++i) {
    if (auto err = parse_field(w[i], kFields[i], bits)) return zswarm::fail(*err);
    for (std::size_t v = 0; v < bits.size(); ++v) {
      if (!bits[v]) continue;
      switch (i) {
        case 0: e.minutes.set(v); break;
        case 1: e.hours.set(v); break;
        case 2: e.days.set(v); break;
        case 3: e.months.set(v); break;
        case 4: e.weekdays.set(v % 7); break;
      }
    }
  }
  e.any_day = w[2].front() == '*';
  e.any_weekday = w[4].front() == '*';
  return e;
}

std::tm to_tm(std::int64_t t, bool utc) {
  std::tm tm{};
  auto tt = static_cast<std::time_t>(t);
  if (utc) {
    gmtime_r(&tt, &tm);
  } else {
    localtime_r(&tt, &tm);
  }
  return tm;
}

std::int64_t from_tm(std::tm tm, bool utc) {
  tm.tm_isdst = -1;
  return static_cast<std::int64_t>(utc ? timegm(&tm) : mktime(&tm));
}

bool day_matches(const Expr& e, const std::tm& tm) {
  bool dom = e.days.test(static_cast<std::size_t>(tm.tm_mday));
  bool dow = e.weekdays.test(static_cast<std::size_t>(tm.tm_wday));
  if (e.any_day && e.any_weekday) return true;
  if (e.any_day) return dow;
  if (e.any_weekday) return dom;
  return dom || dow;
}

}  // namespace

zswarm::Result<Expr, std::string> parse(std::string_view fields) {
  std::string_view rest;
  auto w = words(fields, 64, &rest);
  if (w.size() == 1 && !w[0].empty() && w[0].front() == '@') {
    auto m = macro(w[0]);
    if (m.empty()) return zswarm::fail("unknown macro '" + std::string(w[0]) + "'");
    return parse_words(words(m, 5, nullptr));
  }
  return parse_words(w);
}

zswarm::Result<std::pair<Expr, std::string>, std::string> parse_line(std::string_view line) {
  std::string_view rest;
  auto first = words(line, 1, &rest);
  if (!first.empty() && first[0].front() == '@') {
    auto e = parse(first[0]);
    if (!e) return zswarm::fail(e.error());
    return std::make_pair(e.value(), std::string(rest));
  }
  auto w = words(line, 5, &rest);
  auto e = parse_words(w);
  if (!e) return zswarm::fail(e.error());
  return std::make_pair(e.value(), std::string(rest));
}

std::optional<std::int64_t> next_after(const Expr& e, std::int64_t after, bool utc) {
  std::int64_t t = (after >= 0 ? after / 60 : (after - 59) / 60) * 60 + 60;
  const std::int64_t limit = t + 50LL * 366 * 24 * 3600;
  // Skips whole months, days and hours that cannot match, so even a rare
  // expression takes a few hundred steps per year.
  while (t <= limit) {
    std::tm tm = to_tm(t, utc);
    std::int64_t next = t;
    if (!e.months.test(static_cast<std::size_t>(tm.tm_mon + 1))) {
      tm.tm_mon += 1;
      tm.tm_mday = 1;
      tm.tm_hour = 0;
      tm.tm_min = 0;
      next = from_tm(tm, utc);
    } else if (!day_matches(e, tm)) {
      tm.tm_mday += 1;
      tm.tm_hour = 0;
      tm.tm_min = 0;
      next = from_tm(tm, utc);
    } else if (!e.hours.test(static_cast<std::size_t>(tm.tm_hour))) {
      tm.tm_hour += 1;
      tm.tm_min = 0;
      next = from_tm(tm, utc);
    } else if (!e.minutes.test(static_cast<std::size_t>(tm.tm_min))) {
      tm.tm_min += 1;
      next = from_tm(tm, utc);
    } else {
      return t;
    }
    // Local-time oddities (DST) must never move us backwards.
    t = next > t ? next : t + 60;
  }
  return std::nullopt;
}

}  // namespace zswarm::workers::cron
