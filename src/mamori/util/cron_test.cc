#include "mamori/util/cron.h"

#include <date/tz.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace mamori {
namespace {

namespace chr = std::chrono;

// "2026-03-29T01:00Z" style, for readable expectations.
std::string Iso(std::optional<WallTime> t) {
  if (!t) return "none";
  return date::format("%Y-%m-%dT%H:%MZ", chr::floor<chr::minutes>(*t));
}

WallTime Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return WallTime(date::sys_days(date::year(y) / mo / d).time_since_epoch() + chr::hours(h) +
                  chr::minutes(mi) + chr::seconds(s));
}

CronSchedule Must(std::string_view expr, std::string_view tz = "UTC") {
  auto r = CronSchedule::Parse(expr, tz);
  EXPECT_TRUE(r.ok()) << expr << ": " << (r.ok() ? "" : r.error().message());
  if (!r.ok()) return *CronSchedule::Parse("* * * * *");
  return *r;
}

// The next `n` firings after `from`, as ISO strings.
std::vector<std::string> Firings(const CronSchedule& s, WallTime from, int n) {
  std::vector<std::string> out;
  std::optional<WallTime> t = from;
  for (int i = 0; i < n && t; ++i) {
    t = s.Next(*t);
    out.push_back(Iso(t));
  }
  return out;
}

using V = std::vector<std::string>;

TEST(CronSchedule, StepsRangesListsInUtc) {
  auto s = Must("*/15 * * * *");
  EXPECT_EQ(Firings(s, Utc(2026, 1, 1, 10, 7), 3),
            (V{"2026-01-01T10:15Z", "2026-01-01T10:30Z", "2026-01-01T10:45Z"}));
  EXPECT_EQ(
      Firings(Must("10-50/20 * * * *"), Utc(2026, 1, 1, 10, 0), 4),
      (V{"2026-01-01T10:10Z", "2026-01-01T10:30Z", "2026-01-01T10:50Z", "2026-01-01T11:10Z"}));
  EXPECT_EQ(Firings(Must("0 1,5 * * *"), Utc(2026, 1, 1), 3),
            (V{"2026-01-01T01:00Z", "2026-01-01T05:00Z", "2026-01-02T01:00Z"}));
  EXPECT_EQ(Firings(Must("0 9-11 * * *"), Utc(2026, 1, 1, 10, 0), 3),
            (V{"2026-01-01T11:00Z", "2026-01-02T09:00Z", "2026-01-02T10:00Z"}));
  // Strictly after: a firing exactly at t is not returned, one a second later is.
  EXPECT_EQ(Iso(s.Next(Utc(2026, 1, 1, 10, 15))), "2026-01-01T10:30Z");
  EXPECT_EQ(Iso(s.Next(Utc(2026, 1, 1, 10, 14, 59))), "2026-01-01T10:15Z");
  EXPECT_EQ(Iso(s.Next(Utc(2026, 1, 1, 10, 14, 59) + chr::milliseconds(999))), "2026-01-01T10:15Z");
  // Year rollover.
  EXPECT_EQ(Iso(Must("0 0 1 1 *").Next(Utc(2026, 6, 1))), "2027-01-01T00:00Z");
  // Step larger than the field, as cronie accepts: only the start value.
  EXPECT_EQ(Iso(Must("*/90 * * * *").Next(Utc(2026, 1, 1, 10, 5))), "2026-01-01T11:00Z");
}

TEST(CronSchedule, PreviousIsAtOrBefore) {
  auto s = Must("*/15 * * * *");
  EXPECT_EQ(Iso(s.Previous(Utc(2026, 1, 1, 10, 15))), "2026-01-01T10:15Z");
  EXPECT_EQ(Iso(s.Previous(Utc(2026, 1, 1, 10, 14, 59))), "2026-01-01T10:00Z");
  EXPECT_EQ(Iso(Must("0 0 1 1 *").Previous(Utc(2026, 6, 1))), "2026-01-01T00:00Z");
  EXPECT_EQ(Iso(Must("30 23 31 12 *").Previous(Utc(2026, 6, 1))), "2025-12-31T23:30Z");
  EXPECT_EQ(Iso(Must("0 0 29 2 *").Previous(Utc(2026, 1, 1))), "2024-02-29T00:00Z");
}

TEST(CronSchedule, NamesAreCaseInsensitiveAndSundayIsZeroOrSeven) {
  // 2026-01-01 is a Thursday; 2026-01-04 a Sunday.
  auto names = Must("0 12 * JAN-mar Mon-FRI");
  EXPECT_EQ(Firings(names, Utc(2026, 1, 1, 13), 2), (V{"2026-01-02T12:00Z", "2026-01-05T12:00Z"}));
  EXPECT_EQ(Iso(names.Next(Utc(2026, 3, 31, 13))), "2027-01-01T12:00Z");
  for (const char* sunday :
       {"0 0 * * 0", "0 0 * * 7", "0 0 * * sun", "0 0 * * SUN", "0 0 * * 6-7"}) {
    EXPECT_EQ(Iso(Must(sunday).Next(Utc(2026, 1, 1))),
              std::string(sunday) == "0 0 * * 6-7" ? "2026-01-03T00:00Z" : "2026-01-04T00:00Z")
        << sunday;
  }
  EXPECT_EQ(
      Firings(Must("0 0 * * 5-7"), Utc(2026, 1, 1), 4),
      (V{"2026-01-02T00:00Z", "2026-01-03T00:00Z", "2026-01-04T00:00Z", "2026-01-09T00:00Z"}));
  EXPECT_EQ(Firings(Must("0 0 1 jan-dec/3 *"), Utc(2026, 1, 1), 3),
            (V{"2026-04-01T00:00Z", "2026-07-01T00:00Z", "2026-10-01T00:00Z"}));
}

TEST(CronSchedule, DayOfMonthOrDayOfWeekWhenBothRestricted) {
  // 1st and 15th of the month OR every Monday (2026-01-05, -12, -19).
  auto either = Must("0 0 1,15 * mon");
  EXPECT_EQ(Firings(either, Utc(2026, 1, 1), 5),
            (V{"2026-01-05T00:00Z", "2026-01-12T00:00Z", "2026-01-15T00:00Z", "2026-01-19T00:00Z",
               "2026-01-26T00:00Z"}));
  // Day-of-week is '*': only the dates.
  EXPECT_EQ(Firings(Must("0 0 1,15 * *"), Utc(2026, 1, 1), 2),
            (V{"2026-01-15T00:00Z", "2026-02-01T00:00Z"}));
  // Day-of-month is '*': only Mondays.
  EXPECT_EQ(Firings(Must("0 0 * * mon"), Utc(2026, 1, 1), 2),
            (V{"2026-01-05T00:00Z", "2026-01-12T00:00Z"}));
  // cronie decides "unrestricted" by the leading '*': "*/2" in day-of-month
  // means odd days AND Monday, not odd days OR Monday.
  EXPECT_EQ(Firings(Must("0 0 */2 * mon"), Utc(2026, 1, 1), 3),
            (V{"2026-01-05T00:00Z", "2026-01-19T00:00Z", "2026-02-09T00:00Z"}));
  EXPECT_EQ(Firings(Must("0 0 13 * fri"), Utc(2026, 1, 1), 3),
            (V{"2026-01-02T00:00Z", "2026-01-09T00:00Z", "2026-01-13T00:00Z"}));
}

TEST(CronSchedule, LeapDayAndImpossibleDates) {
  EXPECT_EQ(Iso(Must("0 0 29 2 *").Next(Utc(2026, 1, 1))), "2028-02-29T00:00Z");
  EXPECT_EQ(Iso(Must("0 0 29 2 *").Next(Utc(2028, 2, 29))), "2032-02-29T00:00Z");
  EXPECT_EQ(Iso(Must("0 0 31 * *").Next(Utc(2026, 1, 31, 1))), "2026-03-31T00:00Z");
  EXPECT_EQ(Must("0 0 30 2 *").Next(Utc(2026, 1, 1)), std::nullopt);
  EXPECT_EQ(Must("0 0 31 4,6,9,11 *").Previous(Utc(2026, 1, 1)), std::nullopt);
  EXPECT_EQ(Must("0 0 30 2 *", "Europe/Berlin").Next(Utc(2026, 1, 1)), std::nullopt);
  // Out of the supported years: no answer rather than overflow.
  EXPECT_EQ(Must("* * * * *").Next(WallTime::max()), std::nullopt);
  EXPECT_EQ(Must("* * * * *").Previous(WallTime::min()), std::nullopt);
  EXPECT_EQ(Iso(Must("0 0 1 1 *").Next(Utc(2199, 6, 1))), "2200-01-01T00:00Z");
  EXPECT_EQ(Must("0 0 1 1 *").Next(Utc(2200, 1, 1)), std::nullopt);
  EXPECT_EQ(Iso(Must("0 0 1 1 *").Previous(Utc(1900, 6, 1))), "1900-01-01T00:00Z");
  EXPECT_EQ(Must("0 0 2 1 *").Previous(Utc(1900, 1, 1, 23)), std::nullopt);
}

TEST(CronSchedule, EveryAlias) {
  struct Case {
    const char* alias;
    const char* same_as;
    const char* next;  // from 2026-01-01T00:00Z (a Thursday)
  };
  for (const Case& c : {Case{"@yearly", "0 0 1 1 *", "2027-01-01T00:00Z"},
                        Case{"@annually", "0 0 1 1 *", "2027-01-01T00:00Z"},
                        Case{"@monthly", "0 0 1 * *", "2026-02-01T00:00Z"},
                        Case{"@weekly", "0 0 * * 0", "2026-01-04T00:00Z"},
                        Case{"@daily", "0 0 * * *", "2026-01-02T00:00Z"},
                        Case{"@midnight", "0 0 * * *", "2026-01-02T00:00Z"},
                        Case{"@hourly", "0 * * * *", "2026-01-01T01:00Z"}}) {
    auto alias = Must(c.alias);
    auto plain = Must(c.same_as);
    EXPECT_EQ(alias.text(), c.alias);
    EXPECT_EQ(Iso(alias.Next(Utc(2026, 1, 1))), c.next) << c.alias;
    EXPECT_EQ(Firings(alias, Utc(2026, 1, 1), 5), Firings(plain, Utc(2026, 1, 1), 5)) << c.alias;
    EXPECT_EQ(Iso(alias.Previous(Utc(2026, 1, 1))), Iso(plain.Previous(Utc(2026, 1, 1))))
        << c.alias;
  }
  EXPECT_EQ(Must("  @daily\t").text(), "@daily");
}

TEST(CronSchedule, ErrorsAreGolden) {
  struct Case {
    std::string expr;
    const char* tz;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"61 * * * *", "UTC", "minute field '61' is out of range 0-59"},
      {"* * * * * *", "UTC", "expected 5 fields, got 6 (mamori's cron has no seconds field)"},
      {"* * *", "UTC", "expected 5 fields (minute hour day-of-month month day-of-week), got 3"},
      {"", "UTC",
       "empty cron expression; write 5 fields like '*/5 * * * *' or an alias like '@daily'"},
      {"  \t ", "UTC",
       "empty cron expression; write 5 fields like '*/5 * * * *' or an alias like '@daily'"},
      {"* 24 * * *", "UTC", "hour field '24' is out of range 0-23"},
      {"* * 0 * *", "UTC", "day-of-month field '0' is out of range 1-31"},
      {"* * 32 * *", "UTC", "day-of-month field '32' is out of range 1-31"},
      {"* * * 13 *", "UTC", "month field '13' is out of range 1-12"},
      {"* * * * 8", "UTC", "day-of-week field '8' is out of range 0-7 (0 and 7 are Sunday)"},
      {"1,99999 * * * *", "UTC", "minute field '99999' is out of range 0-59"},
      {"1,99999999999999999999 * * * *", "UTC",
       "minute field '99999999999999999999' is out of range 0-59"},
      {"* * * janu *", "UTC", "month field 'janu' is not a month; use 1-12 or jan-dec"},
      {"* * * * monday", "UTC",
       "day-of-week field 'monday' is not a day of the week; use 0-7 or sun-sat"},
      {"x * * * *", "UTC", "minute field 'x' is not a number; use 0-59"},
      {"5x * * * *", "UTC", "minute field '5x' is not a number; use 0-59"},
      {"* * jan * *", "UTC", "day-of-month field 'jan' is not a number; use 1-31"},
      {"* * * 1.5 *", "UTC", "month field '1.5' is not a number; use 1-12 or jan-dec"},
      {"1,,2 * * * *", "UTC", "minute field '1,,2' has an empty list item; remove the extra ','"},
      {"1, * * * *", "UTC", "minute field '1,' has an empty list item; remove the extra ','"},
      {"5/15 * * * *", "UTC",
       "minute field '5/15': a step needs a range; write '5-59/15' or '*/15'"},
      {"*/0 * * * *", "UTC", "minute field '*/0': step must be at least 1"},
      {"*/x * * * *", "UTC",
       "minute field '*/x': step 'x' is not a number; write a step like '*/5'"},
      {"1-5/ * * * *", "UTC",
       "minute field '1-5/': step '' is not a number; write a step like '*/5'"},
      {"* 22-2 * * *", "UTC",
       "hour field '22-2': range start 22 is after its end 2; ranges do not wrap, write "
       "'22-23,0-2'"},
      {"* * * * fri-sun", "UTC",
       "day-of-week field 'fri-sun': range start 5 is after its end 0; write '5-7' (7 is Sunday "
       "too)"},
      {"*5 * * * *", "UTC", "minute field '*5': '*' can only be followed by a step, as in '*/5'"},
      {"1- * * * *", "UTC", "minute field '1-' is missing a number; write a value 0-59"},
      {"-5 * * * *", "UTC", "minute field '-5' is missing a number; write a value 0-59"},
      {"* * 1-2-3 * *", "UTC", "day-of-month field '2-3' is not a number; use 1-31"},
      {"@reboot", "UTC",
       "'@reboot' runs once at boot, not on a schedule; use @hourly, @daily, @weekly, @monthly, "
       "@yearly or 5 fields"},
      {"@fortnightly", "UTC",
       "unknown alias '@fortnightly'; use @yearly, @annually, @monthly, @weekly, @daily, "
       "@midnight or @hourly"},
      {"@Daily", "UTC",
       "unknown alias '@Daily'; use @yearly, @annually, @monthly, @weekly, @daily, @midnight or "
       "@hourly"},
      {"@daily 5", "UTC", "alias '@daily' stands alone; remove '5' or write 5 fields instead"},
      {std::string(300, '*'), "UTC", "cron expression is 300 characters long; the limit is 256"},
      {"* * * * *\n", "UTC",
       "cron expression contains a control or non-ASCII character; write it on one line in plain "
       "ASCII"},
      {"* * * * *", "Mars/Base",
       "unknown time zone 'Mars/Base'; use an IANA name like 'Europe/Berlin', "
       "'America/New_York' or 'UTC'"},
      {"* * * * *", "../../etc/passwd",
       "unknown time zone '../../etc/passwd'; use an IANA name like 'Europe/Berlin', "
       "'America/New_York' or 'UTC'"},
      {"* * * * *", "Europe/\tBerlin",
       "unknown time zone (name with 14 bytes); use an IANA name like 'Europe/Berlin', "
       "'America/New_York' or 'UTC'"},
      {"* * * * *", "utc",
       "unknown time zone 'utc'; use an IANA name like 'Europe/Berlin', 'America/New_York' or "
       "'UTC'"},
  };
  for (const Case& c : cases) {
    auto r = CronSchedule::Parse(c.expr, c.tz);
    ASSERT_FALSE(r.ok()) << "'" << c.expr << "' parsed";
    EXPECT_EQ(r.error().message(), c.message) << "'" << c.expr << "'";
  }
}

TEST(CronSchedule, AcceptsWhatCronieAccepts) {
  for (const char* ok :
       {"* * * * *", "0 0 * * 7", "0-59 0-23 1-31 1-12 0-7", "00 05 01 01 0", "00005 * * * *",
        "*/0000000000000015 * * * *", "*/1 */1 */1 */1 */1", "1,2,3-5,10-20/5,*/30 * * * *",
        "0 0 * JAN,Feb,mAr sun,SAT", "\t0\t0  *  * *  "}) {
    EXPECT_TRUE(CronSchedule::Parse(ok).ok()) << ok;
  }
  auto s = Must("  0 0 * * *  ");
  EXPECT_EQ(s.text(), "0 0 * * *");
  EXPECT_EQ(s.time_zone(), "UTC");
  EXPECT_EQ(Must("* * * * *", "").time_zone(), "UTC");
  EXPECT_EQ(Must("* * * * *", "Asia/Tokyo").time_zone(), "Asia/Tokyo");
}

TEST(CronSchedule, TimeZoneWithoutDst) {
  auto tokyo = Must("0 9 * * mon-fri", "Asia/Tokyo");  // UTC+9
  EXPECT_EQ(Firings(tokyo, Utc(2026, 1, 1), 2), (V{"2026-01-02T00:00Z", "2026-01-05T00:00Z"}));
  EXPECT_EQ(Iso(tokyo.Previous(Utc(2026, 1, 1))), "2026-01-01T00:00Z");  // Thu 09:00 JST
  EXPECT_EQ(Iso(tokyo.Previous(Utc(2026, 1, 4))), "2026-01-02T00:00Z");
  // Etc/UTC comes from the database and behaves like the built-in UTC.
  EXPECT_EQ(Firings(Must("*/20 * * * *", "Etc/UTC"), Utc(2026, 1, 1), 3),
            Firings(Must("*/20 * * * *"), Utc(2026, 1, 1), 3));
}

// Europe/Berlin 2026: 02:00 CET -> 03:00 CEST on 2026-03-29 at 01:00Z;
// 03:00 CEST -> 02:00 CET on 2026-10-25 at 01:00Z.
TEST(CronSchedule, BerlinSpringForward) {
  // 02:30 does not exist that day: fires once, at 03:00 CEST.
  auto fixed = Must("30 2 * * *", "Europe/Berlin");
  EXPECT_EQ(Firings(fixed, Utc(2026, 3, 27, 12), 3),
            (V{"2026-03-28T01:30Z", "2026-03-29T01:00Z", "2026-03-30T00:30Z"}));
  EXPECT_EQ(Iso(fixed.Previous(Utc(2026, 3, 29, 1))), "2026-03-29T01:00Z");
  EXPECT_EQ(Iso(fixed.Previous(Utc(2026, 3, 29, 0, 59))), "2026-03-28T01:30Z");
  EXPECT_EQ(Iso(fixed.Previous(Utc(2026, 3, 30, 0, 29))), "2026-03-29T01:00Z");
  // Several skipped times still fire once; a job at 03:00 is not doubled.
  EXPECT_EQ(Firings(Must("0,15,30,45 2 * * *", "Europe/Berlin"), Utc(2026, 3, 29), 2),
            (V{"2026-03-29T01:00Z", "2026-03-30T00:00Z"}));
  EXPECT_EQ(Firings(Must("0,30 2,3 * * *", "Europe/Berlin"), Utc(2026, 3, 29), 3),
            (V{"2026-03-29T01:00Z", "2026-03-29T01:30Z", "2026-03-30T00:00Z"}));
  // Wall-clock jobs (leading '*' in minute or hour) just skip the lost hour.
  EXPECT_EQ(Firings(Must("*/30 * * * *", "Europe/Berlin"), Utc(2026, 3, 29, 0), 3),
            (V{"2026-03-29T00:30Z", "2026-03-29T01:00Z", "2026-03-29T01:30Z"}));
  EXPECT_EQ(Firings(Must("30 * * * *", "Europe/Berlin"), Utc(2026, 3, 29, 0), 2),
            (V{"2026-03-29T00:30Z", "2026-03-29T01:30Z"}));
  EXPECT_EQ(Firings(Must("0 */2 * * *", "Europe/Berlin"), Utc(2026, 3, 28, 23, 30), 2),
            (V{"2026-03-29T02:00Z", "2026-03-29T04:00Z"}));
}

TEST(CronSchedule, BerlinFallBack) {
  // 02:30 happens twice (CEST, then CET): fires at the first only.
  auto fixed = Must("30 2 * * *", "Europe/Berlin");
  EXPECT_EQ(Firings(fixed, Utc(2026, 10, 24, 12), 2),
            (V{"2026-10-25T00:30Z", "2026-10-26T01:30Z"}));
  EXPECT_EQ(Iso(fixed.Next(Utc(2026, 10, 25, 1, 10))), "2026-10-26T01:30Z");
  EXPECT_EQ(Iso(fixed.Previous(Utc(2026, 10, 25, 2))), "2026-10-25T00:30Z");
  EXPECT_EQ(Iso(fixed.Previous(Utc(2026, 10, 26, 1))), "2026-10-25T00:30Z");
  // Wall-clock jobs fire at both occurrences, as cronie runs them.
  EXPECT_EQ(
      Firings(Must("*/30 * * * *", "Europe/Berlin"), Utc(2026, 10, 25, 0), 4),
      (V{"2026-10-25T00:30Z", "2026-10-25T01:00Z", "2026-10-25T01:30Z", "2026-10-25T02:00Z"}));
  EXPECT_EQ(Iso(Must("30 * * * *", "Europe/Berlin").Previous(Utc(2026, 10, 25, 1, 45))),
            "2026-10-25T01:30Z");
}

// America/New_York 2026: 02:00 EST -> 03:00 EDT on 2026-03-08 at 07:00Z;
// 02:00 EDT -> 01:00 EST on 2026-11-01 at 06:00Z.
TEST(CronSchedule, NewYorkTransitions) {
  auto spring = Must("15 2 * * *", "America/New_York");
  EXPECT_EQ(Firings(spring, Utc(2026, 3, 7, 12), 3),
            (V{"2026-03-08T07:00Z", "2026-03-09T06:15Z", "2026-03-10T06:15Z"}));
  EXPECT_EQ(Iso(spring.Previous(Utc(2026, 3, 8, 7, 30))), "2026-03-08T07:00Z");
  auto fall = Must("30 1 * * *", "America/New_York");
  EXPECT_EQ(Firings(fall, Utc(2026, 10, 31, 12), 3),
            (V{"2026-11-01T05:30Z", "2026-11-02T06:30Z", "2026-11-03T06:30Z"}));
  EXPECT_EQ(Iso(fall.Previous(Utc(2026, 11, 1, 6, 45))), "2026-11-01T05:30Z");
  // A weekday schedule across both changes keeps its local time.
  auto nine = Must("0 9 * * mon-fri", "America/New_York");
  EXPECT_EQ(Firings(nine, Utc(2026, 3, 6, 15), 2), (V{"2026-03-09T13:00Z", "2026-03-10T13:00Z"}));
  EXPECT_EQ(Firings(nine, Utc(2026, 10, 30, 14), 2), (V{"2026-11-02T14:00Z", "2026-11-03T14:00Z"}));
}

// ---- randomized comparison with a minute-by-minute reference ----

// One generated field: the values it stands for and how it is written. Built
// from the sets directly, so the reference does not share the parser.
struct GenField {
  std::string text;
  std::set<int> values;
};

GenField GenerateField(std::mt19937& rng, int lo, int hi, bool dense) {
  auto pick = [&](int a, int b) { return std::uniform_int_distribution<int>(a, b)(rng); };
  GenField f;
  int items = dense ? 1 : pick(1, 3);
  for (int i = 0; i < items; ++i) {
    if (!f.text.empty()) f.text += ",";
    int kind = pick(0, dense ? 1 : 4);
    int a = lo, b = hi, step = 1;
    if (kind == 0) {
      f.text += "*";
    } else if (kind == 1) {
      step = pick(2, std::max(2, (hi - lo) / 3));
      f.text += "*/" + std::to_string(step);
    } else if (kind == 2) {
      a = b = pick(lo, hi);
      f.text += std::to_string(a);
    } else {
      a = pick(lo, hi);
      b = pick(a, hi);
      f.text += std::to_string(a) + "-" + std::to_string(b);
      if (kind == 4) {
        step = pick(1, 5);
        f.text += "/" + std::to_string(step);
      }
    }
    for (int v = a; v <= b; v += step) f.values.insert(v);
  }
  return f;
}

struct Reference {
  GenField minute, hour, dom, month, dow;
  const date::time_zone* zone;  // nullptr = UTC

  std::string Text() const {
    return minute.text + " " + hour.text + " " + dom.text + " " + month.text + " " + dow.text;
  }
  bool Wall() const { return minute.text[0] == '*' || hour.text[0] == '*'; }
  bool Matches(date::local_seconds l) const {
    auto day = chr::floor<date::days>(l);
    date::year_month_day ymd{day};
    date::hh_mm_ss<chr::seconds> hms{l - day};
    int wd = static_cast<int>(date::weekday{day}.c_encoding());
    bool dom_ok = dom.values.count(static_cast<int>(static_cast<unsigned>(ymd.day())));
    bool dow_ok = dow.values.count(wd) || (wd == 0 && dow.values.count(7));
    bool day_ok = (dom.text[0] == '*' || dow.text[0] == '*') ? dom_ok && dow_ok : dom_ok || dow_ok;
    return minute.values.count(static_cast<int>(hms.minutes().count())) &&
           hour.values.count(static_cast<int>(hms.hours().count())) &&
           month.values.count(static_cast<int>(static_cast<unsigned>(ymd.month()))) && day_ok;
  }
  // Whether the schedule fires at UTC minute `u`, by the documented DST rules.
  bool FiresAt(date::sys_seconds u) const {
    if (zone == nullptr) return Matches(date::local_seconds{u.time_since_epoch()});
    date::local_seconds l = zone->to_local(u);
    if (Matches(l)) {
      auto li = zone->get_info(l);
      bool second_occurrence = li.result == date::local_info::ambiguous &&
                               u == date::sys_seconds{l.time_since_epoch()} - li.second.offset;
      return Wall() || !second_occurrence;
    }
    if (Wall()) return false;
    auto si = zone->get_info(u);
    if (si.begin != u) return false;
    auto before = zone->get_info(u - chr::seconds(1));
    for (auto g = date::local_seconds{u.time_since_epoch()} + before.offset;
         g < date::local_seconds{u.time_since_epoch()} + si.offset; g += chr::minutes(1)) {
      if (Matches(g)) return true;
    }
    return false;
  }
};

void CompareWithReference(const char* tz, date::sys_days window_start, unsigned seed) {
  std::mt19937 rng(seed);
  const date::time_zone* zone = std::string(tz) == "UTC" ? nullptr : date::locate_zone(tz);
  constexpr int kWindowMinutes = 6 * 24 * 60;  // each window holds one change
  for (int e = 0; e < 25; ++e) {
    Reference ref{GenerateField(rng, 0, 59, false),         GenerateField(rng, 0, 23, false),
                  GenerateField(rng, 1, 31, true),          GenerateField(rng, 1, 12, true),
                  GenerateField(rng, 0, 7, rng() % 2 == 0), zone};
    // Most random schedules never meet a change; aim a third of them at the
    // changeover hours, half of those with fixed minutes (cronie's fixed-time
    // jobs, which follow the gap and repeat rules).
    if (e % 3 == 0) {
      ref.hour = GenField{"1-3", {1, 2, 3}};
      if (e % 2 == 0) {
        int m = std::uniform_int_distribution<int>(0, 59)(rng);
        ref.minute = GenField{std::to_string(m) + ",45", {m, 45}};
      }
    }
    auto parsed = CronSchedule::Parse(ref.Text(), tz);
    ASSERT_TRUE(parsed.ok()) << ref.Text() << ": " << parsed.error().message();
    std::vector<date::sys_seconds> fires;
    date::sys_seconds start{window_start.time_since_epoch()};
    for (int m = 0; m < kWindowMinutes; ++m) {
      auto u = start + chr::minutes(m);
      if (ref.FiresAt(u)) fires.push_back(u);
    }
    // Every firing and the second before it, then random instants.
    for (size_t i = 0; i < fires.size(); ++i) {
      WallTime f{fires[i].time_since_epoch()};
      if (i + 1 < fires.size()) {
        ASSERT_EQ(Iso(parsed->Next(f)), Iso(WallTime{fires[i + 1].time_since_epoch()}))
            << ref.Text() << " in " << tz << " after " << Iso(f);
      }
      ASSERT_EQ(Iso(parsed->Next(f - chr::seconds(1))), Iso(f))
          << ref.Text() << " in " << tz << " just before " << Iso(f);
      ASSERT_EQ(Iso(parsed->Previous(f)), Iso(f)) << ref.Text() << " in " << tz;
      if (i > 0) {
        ASSERT_EQ(Iso(parsed->Previous(f - chr::seconds(1))),
                  Iso(WallTime{fires[i - 1].time_since_epoch()}))
            << ref.Text() << " in " << tz << " just before " << Iso(f);
      }
    }
    for (int q = 0; q < 40; ++q) {
      auto t = start + chr::seconds(std::uniform_int_distribution<int64_t>(
                           0, int64_t{kWindowMinutes} * 60 - 1)(rng));
      WallTime wt{t.time_since_epoch()};
      auto after = std::upper_bound(fires.begin(), fires.end(), t);
      if (after != fires.end()) {
        EXPECT_EQ(Iso(parsed->Next(wt)), Iso(WallTime{after->time_since_epoch()}))
            << ref.Text() << " in " << tz << " after " << Iso(wt);
      }
      if (after != fires.begin()) {
        EXPECT_EQ(Iso(parsed->Previous(wt)), Iso(WallTime{std::prev(after)->time_since_epoch()}))
            << ref.Text() << " in " << tz << " before " << Iso(wt);
      }
    }
  }
}

TEST(CronSchedule, MatchesMinuteByMinuteReference) {
  using date::literals::operator""_y;
  CompareWithReference("UTC", date::sys_days{2028_y / 2 / 26}, 1);
  CompareWithReference("Europe/Berlin", date::sys_days{2026_y / 3 / 26}, 2);
  CompareWithReference("Europe/Berlin", date::sys_days{2026_y / 10 / 22}, 3);
  CompareWithReference("America/New_York", date::sys_days{2026_y / 3 / 5}, 4);
  CompareWithReference("America/New_York", date::sys_days{2026_y / 10 / 29}, 5);
  // Half-hour daylight saving time.
  CompareWithReference("Australia/Lord_Howe", date::sys_days{2026_y / 4 / 2}, 6);
  CompareWithReference("Australia/Lord_Howe", date::sys_days{2026_y / 10 / 1}, 7);
}

TEST(CronSchedule, NextJumpsFieldsInsteadOfScanning) {
  auto every5 = Must("*/5 * * * *", "Europe/Berlin");
  auto start = chr::steady_clock::now();
  WallTime t = Utc(2026, 1, 1);
  for (int i = 0; i < 20000; ++i) t = *every5.Next(t);
  EXPECT_EQ(t, Utc(2026, 1, 1) + chr::minutes(5 * 20000));
  auto impossible = Must("0 0 30 2 *", "America/New_York");
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(impossible.Next(Utc(2026, 1, 1) + chr::hours(i)), std::nullopt);
    ASSERT_EQ(impossible.Previous(Utc(2026, 1, 1) + chr::hours(i)), std::nullopt);
  }
  // Measured at a few milliseconds; the bound leaves room for sanitizers and
  // a busy machine while still failing a minute-by-minute scan (5 years =
  // 2.6 million minutes per call).
  EXPECT_LT(chr::steady_clock::now() - start, chr::seconds(3));
}

}  // namespace
}  // namespace mamori
