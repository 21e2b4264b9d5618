#include "mamori/util/cron.h"

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <exception>
#include <vector>

namespace mamori {
namespace {

namespace chr = std::chrono;

constexpr int64_t kMinSupported = -2208988800;  // 1900-01-01T00:00:00Z
constexpr int64_t kMaxSupported = 7258118400;   // 2200-01-01T00:00:00Z
constexpr int64_t kHorizon = int64_t{5} * 366 * 86400;
// Zone periods are clamped to this window so arithmetic never overflows.
constexpr int64_t kFarPast = kMinSupported - 2 * kHorizon;
constexpr int64_t kFarFuture = kMaxSupported + 2 * kHorizon;
// A zone changes offset a few times a year at most; this only guards loops.
constexpr int kMaxPeriods = 1000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t CeilDiv(int64_t a, int64_t b) { return -FloorDiv(-a, b); }

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int DaysIn(int y, int mo) {
  static constexpr std::array<int, 13> kDays = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return mo == 2 && IsLeap(y) ? 29 : kDays[mo];
}

int64_t DaysFromCivil(int y, int mo, int d) {
  return chr::sys_days(chr::year(y) / chr::month(static_cast<unsigned>(mo)) /
                       chr::day(static_cast<unsigned>(d)))
      .time_since_epoch()
      .count();
}

// A local wall-clock minute broken into fields; always a valid date.
struct Civil {
  int y, mo, d, h, mi;
};

Civil FromMinutes(int64_t m) {
  int64_t days = FloorDiv(m, 1440);
  int rem = static_cast<int>(m - days * 1440);
  chr::year_month_day ymd{chr::sys_days{chr::days{days}}};
  return {static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
          static_cast<int>(static_cast<unsigned>(ymd.day())), rem / 60, rem % 60};
}

int64_t ToMinutes(const Civil& c) { return DaysFromCivil(c.y, c.mo, c.d) * 1440 + c.h * 60 + c.mi; }

void NextDay(Civil& c) {
  c.h = 0;
  c.mi = 0;
  if (++c.d > DaysIn(c.y, c.mo)) {
    c.d = 1;
    if (++c.mo > 12) {
      c.mo = 1;
      ++c.y;
    }
  }
}

void PrevDay(Civil& c) {
  c.h = 23;
  c.mi = 59;
  if (--c.d < 1) {
    if (--c.mo < 1) {
      c.mo = 12;
      --c.y;
    }
    c.d = DaysIn(c.y, c.mo);
  }
}

// Lowest set bit >= from, or -1.
int NextBit(uint64_t mask, int from) {
  if (from >= 64) return -1;
  uint64_t v = mask >> from;
  return v == 0 ? -1 : from + std::countr_zero(v);
}

// Highest set bit <= from, or -1.
int PrevBit(uint64_t mask, int from) {
  if (from < 0) return -1;
  uint64_t v = from >= 63 ? mask : mask & ((uint64_t{2} << from) - 1);
  return v == 0 ? -1 : 63 - std::countl_zero(v);
}

WallTime ToWall(int64_t sys_seconds) { return WallTime(chr::seconds(sys_seconds)); }

// ---- parsing ----

enum class Names { kNone, kMonth, kDayOfWeek };

struct FieldSpec {
  const char* name;
  int lo;
  int hi;
  Names names;
};

constexpr FieldSpec kMinute{"minute", 0, 59, Names::kNone};
constexpr FieldSpec kHour{"hour", 0, 23, Names::kNone};
constexpr FieldSpec kDayOfMonth{"day-of-month", 1, 31, Names::kNone};
constexpr FieldSpec kMonth{"month", 1, 12, Names::kMonth};
constexpr FieldSpec kDayOfWeek{"day-of-week", 0, 7, Names::kDayOfWeek};

constexpr std::array<std::string_view, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kDayNames = {"sun", "mon", "tue", "wed",
                                                       "thu", "fri", "sat"};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool AllOf(std::string_view s, bool (*pred)(char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), pred);
}

// Digits to a number, capped far above any field's range so leading zeros
// ("0005") are fine and long inputs cannot overflow.
int SaturatingNumber(std::string_view digits) {
  int n = 0;
  for (char c : digits) n = std::min(n * 10 + (c - '0'), 1000000);
  return n;
}

std::string Prefix(const FieldSpec& f, std::string_view text) {
  return std::string(f.name) + " field '" + std::string(text) + "'";
}

std::string RangeText(const FieldSpec& f) {
  return std::to_string(f.lo) + "-" + std::to_string(f.hi);
}

Result<int> ParseValue(const FieldSpec& f, std::string_view v, std::string_view element) {
  if (v.empty()) {
    return Error(Prefix(f, element) + " is missing a number; write a value " + RangeText(f));
  }
  if (AllOf(v, IsDigit)) {
    int n = SaturatingNumber(v);
    if (n < f.lo || n > f.hi) {
      std::string msg = Prefix(f, v) + " is out of range " + RangeText(f);
      if (f.names == Names::kDayOfWeek) msg += " (0 and 7 are Sunday)";
      return Error(msg);
    }
    return n;
  }
  if (f.names != Names::kNone && AllOf(v, IsAlpha)) {
    std::string lower;
    for (char c : v) lower += Lower(c);
    if (f.names == Names::kMonth) {
      for (size_t i = 0; i < kMonthNames.size(); ++i) {
        if (lower == kMonthNames[i]) return static_cast<int>(i) + 1;
      }
      return Error(Prefix(f, v) + " is not a month; use 1-12 or jan-dec");
    }
    for (size_t i = 0; i < kDayNames.size(); ++i) {
      if (lower == kDayNames[i]) return static_cast<int>(i);
    }
    return Error(Prefix(f, v) + " is not a day of the week; use 0-7 or sun-sat");
  }
  return Error(Prefix(f, v) + " is not a number; use " + RangeText(f) +
               (f.names == Names::kMonth       ? " or jan-dec"
                : f.names == Names::kDayOfWeek ? " or sun-sat"
                                               : ""));
}

// One comma-separated field into a bit set (bit i = value i).
Result<uint64_t> ParseField(const FieldSpec& f, std::string_view field) {
  uint64_t bits = 0;
  size_t pos = 0;
  while (true) {
    size_t comma = field.find(',', pos);
    std::string_view element =
        field.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    if (element.empty()) {
      return Error(Prefix(f, field) + " has an empty list item; remove the extra ','");
    }
    size_t slash = element.find('/');
    std::string_view base = element.substr(0, slash);
    int a = f.lo;
    int b = f.hi;
    if (base == "*") {
      // full range
    } else if (!base.empty() && base[0] == '*') {
      return Error(Prefix(f, element) + ": '*' can only be followed by a step, as in '*/5'");
    } else {
      size_t dash = base.find('-');
      auto first = ParseValue(f, base.substr(0, dash), element);
      if (!first.ok()) return first.error();
      a = b = *first;
      if (dash == std::string_view::npos) {
        if (slash != std::string_view::npos) {
          std::string step(element.substr(slash));
          return Error(Prefix(f, element) + ": a step needs a range; write '" + std::string(base) +
                       "-" + std::to_string(f.hi) + step + "' or '*" + step + "'");
        }
      } else {
        auto second = ParseValue(f, base.substr(dash + 1), element);
        if (!second.ok()) return second.error();
        b = *second;
        if (a > b) {
          std::string hint = f.names == Names::kDayOfWeek && b == 0
                                 ? "write '" + std::to_string(a) + "-7' (7 is Sunday too)"
                                 : "ranges do not wrap, write '" + std::to_string(a) + "-" +
                                       std::to_string(f.hi) + "," + std::to_string(f.lo) + "-" +
                                       std::to_string(b) + "'";
          return Error(Prefix(f, element) + ": range start " + std::to_string(a) +
                       " is after its end " + std::to_string(b) + "; " + hint);
        }
      }
    }
    int step = 1;
    if (slash != std::string_view::npos) {
      std::string_view st = element.substr(slash + 1);
      if (!AllOf(st, IsDigit)) {
        return Error(Prefix(f, element) + ": step '" + std::string(st) +
                     "' is not a number; write a step like '*/5'");
      }
      step = SaturatingNumber(st);
      if (step == 0) return Error(Prefix(f, element) + ": step must be at least 1");
    }
    for (int i = a; i <= b; i += step) bits |= uint64_t{1} << i;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return bits;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitBlanks(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

bool IsPrintable(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c == '\t' || (c >= 0x20 && c < 0x7f); });
}

struct Alias {
  std::string_view name;
  std::string_view expansion;
};
constexpr std::array<Alias, 7> kAliases = {{{"@yearly", "0 0 1 1 *"},
                                            {"@annually", "0 0 1 1 *"},
                                            {"@monthly", "0 0 1 * *"},
                                            {"@weekly", "0 0 * * 0"},
                                            {"@daily", "0 0 * * *"},
                                            {"@midnight", "0 0 * * *"},
                                            {"@hourly", "0 * * * *"}}};

}  // namespace

struct CronSchedule::Period {
  int64_t begin;   // sys seconds, inclusive
  int64_t end;     // sys seconds, exclusive
  int64_t offset;  // local = sys + offset
  bool has_prev;
  int64_t prev_offset;  // offset just before `begin`
};

Result<CronSchedule> CronSchedule::Parse(std::string_view expr, std::string_view tz) {
  auto zone = util::FindTimeZone(tz);
  if (!zone.ok()) return zone.error();
  return Parse(expr, *zone);
}

Result<CronSchedule> CronSchedule::Parse(std::string_view expr,
                                         std::shared_ptr<const util::TimeZone> zone) {
  if (expr.size() > kMaxExpressionLength) {
    return Error("cron expression is " + std::to_string(expr.size()) +
                 " characters long; the limit is " + std::to_string(kMaxExpressionLength));
  }
  if (!IsPrintable(expr)) {
    return Error(
        "cron expression contains a control or non-ASCII character; write it on one line in "
        "plain ASCII");
  }
  std::string_view text = Trim(expr);
  CronSchedule s;
  s.text_ = std::string(text);

  std::string_view fields_text = text;
  if (!text.empty() && text[0] == '@') {
    auto words = SplitBlanks(text);
    std::string_view name = words[0];
    if (name == "@reboot") {
      return Error(
          "'@reboot' runs once at boot, not on a schedule; use @hourly, @daily, @weekly, "
          "@monthly, @yearly or 5 fields");
    }
    const Alias* found = nullptr;
    for (const Alias& a : kAliases) {
      if (a.name == name) found = &a;
    }
    if (found == nullptr) {
      return Error("unknown alias '" + std::string(name) +
                   "'; use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly");
    }
    if (words.size() > 1) {
      return Error("alias '" + std::string(name) + "' stands alone; remove '" +
                   std::string(words[1]) + "' or write 5 fields instead");
    }
    fields_text = found->expansion;
  }

  auto fields = SplitBlanks(fields_text);
  if (fields.empty()) {
    return Error(
        "empty cron expression; write 5 fields like '*/5 * * * *' or an alias like '@daily'");
  }
  if (fields.size() == 6) {
    return Error("expected 5 fields, got 6 (mamori's cron has no seconds field)");
  }
  if (fields.size() != 5) {
    return Error("expected 5 fields (minute hour day-of-month month day-of-week), got " +
                 std::to_string(fields.size()));
  }

  auto minutes = ParseField(kMinute, fields[0]);
  if (!minutes.ok()) return minutes.error();
  auto hours = ParseField(kHour, fields[1]);
  if (!hours.ok()) return hours.error();
  auto doms = ParseField(kDayOfMonth, fields[2]);
  if (!doms.ok()) return doms.error();
  auto months = ParseField(kMonth, fields[3]);
  if (!months.ok()) return months.error();
  auto dows = ParseField(kDayOfWeek, fields[4]);
  if (!dows.ok()) return dows.error();

  s.minutes_ = *minutes;
  s.hours_ = static_cast<uint32_t>(*hours);
  s.doms_ = static_cast<uint32_t>(*doms);
  s.months_ = static_cast<uint16_t>(*months);
  // 7 is Sunday too.
  s.dows_ = static_cast<uint8_t>((*dows & 0x7f) | ((*dows >> 7) & 1));
  // As in cronie, "unrestricted" is decided by the first character only.
  s.dom_star_ = fields[2][0] == '*';
  s.dow_star_ = fields[4][0] == '*';
  s.wall_clock_ = fields[0][0] == '*' || fields[1][0] == '*';

  s.tz_name_ = zone ? zone->name() : "UTC";
  s.zone_ = std::move(zone);
  return s;
}

bool CronSchedule::DayMatches(int y, int mo, int d) const {
  bool dom = (doms_ >> d) & 1;
  int wd = static_cast<int>(
      chr::weekday(chr::sys_days(chr::days(DaysFromCivil(y, mo, d)))).c_encoding());
  bool dow = (dows_ >> wd) & 1;
  return (dom_star_ || dow_star_) ? (dom && dow) : (dom || dow);
}

std::optional<int64_t> CronSchedule::NextLocal(int64_t from, int64_t limit) const {
  if (from >= limit) return std::nullopt;
  Civil c = FromMinutes(from);
  // Each pass moves c forward by at least a minute and usually by a whole
  // field; the limit check ends searches that cannot succeed.
  while (ToMinutes(c) < limit) {
    if (!((months_ >> c.mo) & 1)) {
      int mo = NextBit(months_, c.mo + 1);
      if (mo < 0) {
        ++c.y;
        mo = NextBit(months_, 1);
      }
      c = {c.y, mo, 1, 0, 0};
      continue;
    }
    if (!DayMatches(c.y, c.mo, c.d)) {
      NextDay(c);
      continue;
    }
    int h = NextBit(hours_, c.h);
    if (h < 0) {
      NextDay(c);
      continue;
    }
    if (h != c.h) {
      c.h = h;
      c.mi = 0;
    }
    int mi = NextBit(minutes_, c.mi);
    if (mi < 0) {
      if (++c.h > 23) {
        NextDay(c);
      } else {
        c.mi = 0;
      }
      continue;
    }
    c.mi = mi;
    int64_t m = ToMinutes(c);
    if (m < limit) return m;
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<int64_t> CronSchedule::PrevLocal(int64_t from, int64_t lower) const {
  if (from < lower) return std::nullopt;
  Civil c = FromMinutes(from);
  while (ToMinutes(c) >= lower) {
    if (!((months_ >> c.mo) & 1)) {
      int mo = PrevBit(months_, c.mo - 1);
      if (mo < 1) {
        --c.y;
        mo = PrevBit(months_, 12);
      }
      c = {c.y, mo, DaysIn(c.y, mo), 23, 59};
      continue;
    }
    if (!DayMatches(c.y, c.mo, c.d)) {
      PrevDay(c);
      continue;
    }
    int h = PrevBit(hours_, c.h);
    if (h < 0) {
      PrevDay(c);
      continue;
    }
    if (h != c.h) {
      c.h = h;
      c.mi = 59;
    }
    int mi = PrevBit(minutes_, c.mi);
    if (mi < 0) {
      if (--c.h < 0) {
        PrevDay(c);
      } else {
        c.mi = 59;
      }
      continue;
    }
    c.mi = mi;
    int64_t m = ToMinutes(c);
    if (m >= lower) return m;
    return std::nullopt;
  }
  return std::nullopt;
}

CronSchedule::Period CronSchedule::PeriodAt(int64_t s) const {
  if (zone_ == nullptr) return {kFarPast, kFarFuture, 0, false, 0};
  const auto info = zone_->PeriodAt(s);
  Period p{info.begin, info.end, info.offset, false, 0};
  p.end = std::min(p.end, kFarFuture);
  if (p.begin <= kFarPast) {
    p.begin = kFarPast;
  } else {
    p.has_prev = true;
    p.prev_offset = zone_->OffsetAt(p.begin - 1);
  }
  return p;
}

// Local times skipped by a spring-forward change fire once, at the change,
// for fixed-time jobs (cronie runs them right after the clock jumps).
bool CronSchedule::GapFires(const Period& p) const {
  if (wall_clock_ || !p.has_prev || p.prev_offset >= p.offset) return false;
  return NextLocal(CeilDiv(p.begin + p.prev_offset, 60), CeilDiv(p.begin + p.offset, 60))
      .has_value();
}

std::optional<WallTime> CronSchedule::Next(WallTime t) const {
  int64_t ts = chr::floor<chr::seconds>(t.time_since_epoch()).count();
  if (ts < kMinSupported || ts > kMaxSupported) return std::nullopt;
  // Firings after 2200 are not reported, so every answer is a valid input.
  const int64_t horizon_end = std::min(ts + kHorizon, kMaxSupported);
  // Firings are whole seconds, so "strictly after t" is ">= ts + 1".
  int64_t u = ts + 1;
  for (int i = 0; i < kMaxPeriods && u <= horizon_end; ++i) {
    Period p = PeriodAt(u);
    if (p.begin == u && GapFires(p)) return ToWall(p.begin);
    int64_t from = CeilDiv(u + p.offset, 60);
    if (!wall_clock_ && p.has_prev && p.prev_offset > p.offset) {
      // Local times repeated after a fall-back change already fired.
      from = std::max(from, CeilDiv(p.begin + p.prev_offset, 60));
    }
    int64_t limit = CeilDiv(std::min(p.end, horizon_end + 1) + p.offset, 60);
    if (auto m = NextLocal(from, limit)) return ToWall(*m * 60 - p.offset);
    u = p.end;
  }
  return std::nullopt;
}

std::optional<WallTime> CronSchedule::Previous(WallTime t) const {
  int64_t ts = chr::floor<chr::seconds>(t.time_since_epoch()).count();
  if (ts < kMinSupported || ts > kMaxSupported) return std::nullopt;
  const int64_t horizon_begin = std::max(ts - kHorizon, kMinSupported);
  int64_t u = ts;
  for (int i = 0; i < kMaxPeriods && u >= horizon_begin; ++i) {
    Period p = PeriodAt(u);
    int64_t hi = FloorDiv(u + p.offset, 60);
    int64_t lo = CeilDiv(std::max(p.begin, horizon_begin) + p.offset, 60);
    if (!wall_clock_ && p.has_prev && p.prev_offset > p.offset) {
      lo = std::max(lo, CeilDiv(p.begin + p.prev_offset, 60));
    }
    if (auto m = PrevLocal(hi, lo)) return ToWall(*m * 60 - p.offset);
    if (p.begin >= horizon_begin && GapFires(p)) return ToWall(p.begin);
    u = p.begin - 1;
  }
  return std::nullopt;
}

}  // namespace mamori
