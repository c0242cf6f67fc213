// Cron expressions for the cron plugin: the five standard fields
// (minute hour day-of-month month day-of-week) with *, lists, ranges, steps
// and month/weekday names, plus the @hourly-style macros; and the next
// firing time after a given instant. Day-of-month and day-of-week combine as
// in Vixie cron: when both are restricted, either matching is enough.
// Pure functions on values; thread-safe.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <zswarm/result.hpp>

namespace zswarm::workers::cron {

struct Expr {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days;      // 1..31
  std::bitset<13> months;    // 1..12
  std::bitset<7> weekdays;   // 0..6, Sunday = 0 (7 is accepted as Sunday)
  bool any_day = true;       // day-of-month field starts with '*'
  bool any_weekday = true;   // day-of-week field starts with '*'
};

// Parses exactly five fields (or one @macro). Error: a sentence naming the field.
zswarm::Result<Expr, std::string> parse(std::string_view fields);

// Parses "<5 fields or @macro> <message...>"; the message is the rest of the
// line after the fields, without leading blanks.
zswarm::Result<std::pair<Expr, std::string>, std::string> parse_line(std::string_view line);

// First firing time (Unix seconds, on a minute boundary) strictly after
// `after`, in UTC or in the process's local time zone; nullopt if none
// within the next ~50 years (e.g. "0 0 30 2 *").
std::optional<std::int64_t> next_after(const Expr& e, std::int64_t after, bool utc);

}  // namespace zswarm::workers::cron
