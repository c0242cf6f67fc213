#include <gtest/gtest.h>

#include "cron_expr.hpp"

namespace zswarm::workers::cron {
namespace {

// 2024-01-01 00:00:00 UTC, a Monday.
constexpr std::int64_t kJan1 = 1704067200;
constexpr std::int64_t kMin = 60;
constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 86400;

Expr must(std::string_view s) {
  auto e = parse(s);
  EXPECT_TRUE(e) << s << ": " << (e ? "" : e.error());
  return e ? e.value() : Expr{};
}

std::int64_t next(std::string_view s, std::int64_t after) {
  auto n = next_after(must(s), after, /*utc=*/true);
  EXPECT_TRUE(n) << s;
  return n.value_or(-1);
}

TEST(CronExpr, EveryMinute) {
  auto e = must("* * * * *");
  EXPECT_EQ(e.minutes.count(), 60u);
  EXPECT_EQ(e.hours.count(), 24u);
  EXPECT_EQ(next("* * * * *", kJan1), kJan1 + kMin);
  EXPECT_EQ(next("* * * * *", kJan1 + 59), kJan1 + kMin);  // strictly after, on a boundary
}

TEST(CronExpr, ListsRangesAndSteps) {
  auto e = must("0,15,30-32 */6 1-10/3 * *");
  EXPECT_EQ(e.minutes.count(), 5u);
  EXPECT_TRUE(e.minutes.test(31));
  EXPECT_FALSE(e.minutes.test(33));
  EXPECT_EQ(e.hours.count(), 4u);
  EXPECT_TRUE(e.hours.test(18));
  EXPECT_TRUE(e.days.test(1) && e.days.test(4) && e.days.test(7) && e.days.test(10));
  EXPECT_EQ(e.days.count(), 4u);
  auto s = must("5/20 * * * *");  // a/step runs to the field's maximum
  EXPECT_EQ(s.minutes.count(), 3u);
  EXPECT_TRUE(s.minutes.test(45));
}

TEST(CronExpr, NamesAndSundayAsSeven) {
  auto e = must("0 9 * jan-mar mon-fri");
  EXPECT_EQ(e.months.count(), 3u);
  EXPECT_EQ(e.weekdays.count(), 5u);
  auto sun = must("0 0 * * 7");
  EXPECT_TRUE(sun.weekdays.test(0));
  EXPECT_EQ(must("0 0 * * SUN").weekdays, sun.weekdays);
}

TEST(CronExpr, NextFiringTimes) {
  EXPECT_EQ(next("30 14 * * *", kJan1), kJan1 + 14 * kHour + 30 * kMin);
  EXPECT_EQ(next("30 14 * * *", kJan1 + 15 * kHour), kJan1 + kDay + 14 * kHour + 30 * kMin);
  EXPECT_EQ(next("*/15 * * * *", kJan1 + 16 * kMin), kJan1 + 30 * kMin);
  EXPECT_EQ(next("0 0 1 * *", kJan1), kJan1 + 31 * kDay);            // Feb 1
  EXPECT_EQ(next("0 0 * * sun", kJan1), kJan1 + 6 * kDay);           // Sunday Jan 7
  EXPECT_EQ(next("0 0 29 2 *", kJan1), kJan1 + (31 + 28) * kDay);    // 2024 is a leap year
  EXPECT_EQ(next("@hourly", kJan1 + 1), kJan1 + kHour);
  EXPECT_EQ(next("0 0 31 12 *", kJan1), kJan1 + 365 * kDay);         // Dec 31, 2024
}

TEST(CronExpr, DayOfMonthOrDayOfWeekWhenBothRestricted) {
  // Vixie cron: the 15th OR any Friday. Jan 5 2024 is the first Friday.
  EXPECT_EQ(next("0 0 15 * fri", kJan1), kJan1 + 4 * kDay);
  EXPECT_EQ(next("0 0 15 * fri", kJan1 + 12 * kDay), kJan1 + 14 * kDay);  // Jan 15, a Monday
  // Only day-of-week restricted: it alone decides.
  EXPECT_EQ(next("0 0 * * fri", kJan1), kJan1 + 4 * kDay);
}

TEST(CronExpr, ImpossibleDateNeverFires) {
  EXPECT_FALSE(next_after(must("0 0 30 2 *"), kJan1, true));
}

TEST(CronExpr, ParseLineSplitsTheMessage) {
  auto l = parse_line("* * * * *   Hello world  ");
  ASSERT_TRUE(l);
  EXPECT_EQ(l.value().second, "Hello world  ");
  auto m = parse_line("@daily backup now");
  ASSERT_TRUE(m);
  EXPECT_EQ(m.value().second, "backup now");
  EXPECT_TRUE(m.value().first.minutes.test(0));
  EXPECT_EQ(m.value().first.minutes.count(), 1u);
}

TEST(CronExpr, RejectsBadExpressionsWithClearMessages) {
  struct Bad {
    const char* expr;
    const char* says;
  } cases[] = {
      {"* * * *", "5 fields"},
      {"* * * * * *", "got 6"},
      {"60 * * * *", "field minute"},
      {"* 24 * * *", "field hour"},
      {"* * 0 * *", "field day-of-month"},
      {"* * * 13 *", "field month"},
      {"* * * * 8", "field day-of-week"},
      {"5-1 * * * *", "range start after its end"},
      {"*/0 * * * *", "step"},
      {"a * * * *", "not a value"},
      {"1,,2 * * * *", "empty list item"},
      {"@sometimes", "unknown macro"},
      {"", "got 0"},
  };
  for (const auto& c : cases) {
    auto e = parse(c.expr);
    ASSERT_FALSE(e) << c.expr;
    EXPECT_NE(e.error().find(c.says), std::string::npos) << c.expr << " -> " << e.error();
  }
}

}  // namespace
}  // namespace zswarm::workers::cron
