// CronSchedule: a parsed cron expression in a time zone, answering "when does
// it fire next / when did it fire last". Used by heartbeat checks that expect a
// ping on a cron schedule and by recurring maintenance windows.
//
// A CronSchedule is an immutable value: copy it freely; all const methods are
// thread-safe. Parse() reports every problem a user can cause (bad syntax,
// out-of-range values, unknown time zone) as an Error naming the field and the
// fix; Next()/Previous() never fail, they return nullopt when the schedule does
// not fire within about five years (e.g. "0 0 30 2 *").
//
// Syntax (the same as Vixie cron / cronie, without the command):
//
//   minute  hour  day-of-month  month  day-of-week
//   0-59    0-23  1-31          1-12   0-7 (0 and 7 are Sunday)
//
//   *            every value
//   5            one value
//   1-5          a range (inclusive; ranges do not wrap: write 22-23,0-2)
//   */15         every 15th value from the lowest (0,15,30,45 for minutes)
//   10-50/20     every 20th value in a range (10,30,50)
//   1,5,10-12    a list of any of the above
//   jan-dec      month names, sun-sat day names (case-insensitive, usable in
//                ranges: mon-fri; note fri-sun is rejected, write fri-sat,sun
//                or 5-7, as cronie does)
//
//   Aliases: @yearly = @annually = "0 0 1 1 *", @monthly = "0 0 1 * *",
//   @weekly = "0 0 * * 0", @daily = @midnight = "0 0 * * *",
//   @hourly = "0 * * * *". There is no seconds field and no @reboot.
//
// Day rule (classic cron): if the day-of-month field or the day-of-week field
// starts with '*', a day must match both; otherwise (both restricted) a day
// matches if EITHER matches: "0 0 1,15 * mon" fires on the 1st, the 15th and
// every Monday. As in cronie, "starts with '*'" includes "*/2".
//
// Time zones and daylight saving time follow cronie. Expressions are read in
// local time of the zone. A job whose minute and hour fields are both fixed
// (no leading '*', e.g. "30 2 * * *"):
//   - local time skipped by a spring-forward change: fires once, at the first
//     instant after the change (02:30 on the changeover day fires at 03:00);
//   - local time that occurs twice at a fall-back change: fires once, at the
//     first occurrence.
// A job whose minute or hour field starts with '*' ("*/15 * * * *",
// "0 */2 * * *") runs on the wall clock: skipped local times do not fire, and
// repeated local times fire at both occurrences.
// Zone rules come from the system's zone files (/usr/share/zoneinfo, see
// util/time_zone.h); beyond the last transition in those files (2037 for
// Debian's files) the rule at the file's end goes on.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mamori/util/clock.h"
#include "mamori/util/result.h"
#include "mamori/util/time_zone.h"

namespace mamori {

class CronSchedule {
 public:
  // Longest expression accepted, in bytes; longer input is rejected unread.
  static constexpr size_t kMaxExpressionLength = 256;

  // Parses `expr` (5 fields or an alias) in time zone `tz`: an IANA name such
  // as "Europe/Berlin" or "UTC"; empty means UTC. Leading and trailing blanks
  // are ignored; fields are separated by spaces or tabs.
  static Result<CronSchedule> Parse(std::string_view expr, std::string_view tz = "UTC");
  // The same in a zone already loaded (null: UTC), so schedules read from
  // one file share their zone (config::ConfigNode::Zone).
  static Result<CronSchedule> Parse(std::string_view expr,
                                    std::shared_ptr<const util::TimeZone> zone);

  // The first firing strictly after `t`, or nullopt if none within about five
  // years of `t`. Only the years 1900-2200 are supported: outside them (for
  // `t` or the answer) the result is nullopt.
  std::optional<WallTime> Next(WallTime t) const;
  // The last firing at or before `t`, with the same bounds.
  std::optional<WallTime> Previous(WallTime t) const;

  // The expression as given (blanks trimmed) and the zone name ("UTC" for
  // empty), for messages and round-tripping.
  const std::string& text() const { return text_; }
  const std::string& time_zone() const { return tz_name_; }

 private:
  struct Period;
  CronSchedule() = default;

  bool DayMatches(int y, int mo, int d) const;
  // First local minute in [from, limit) matching the fields, by jumping field
  // by field (minutes are counted from 1970-01-01T00:00 local).
  std::optional<int64_t> NextLocal(int64_t from, int64_t limit) const;
  // Last local minute in [lower, from] matching the fields.
  std::optional<int64_t> PrevLocal(int64_t from, int64_t lower) const;
  Period PeriodAt(int64_t sys_seconds) const;
  bool GapFires(const Period& p) const;

  std::string text_;
  std::string tz_name_;
  std::shared_ptr<const util::TimeZone> zone_;  // null: UTC
  uint64_t minutes_ = 0;                        // bit i = minute i
  uint32_t hours_ = 0;                          // bit i = hour i
  uint32_t doms_ = 0;                           // bit i = day i (1-31)
  uint16_t months_ = 0;                         // bit i = month i (1-12)
  uint8_t dows_ = 0;                            // bit i = weekday i (0 = Sunday)
  bool dom_star_ = false;                       // field starts with '*'
  bool dow_star_ = false;
  bool wall_clock_ = false;  // minute or hour starts with '*' (cronie's "wildcard job")
};

}  // namespace mamori
