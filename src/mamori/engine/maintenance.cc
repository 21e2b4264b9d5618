#include "mamori/engine/maintenance.h"

#include <date/date.h>
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <utility>

#include "mamori/check/check_config.h"
#include "mamori/config/node.h"
#include "mamori/util/units.h"

namespace mamori {

namespace {

constexpr size_t kMaxTimestamp = 64;
constexpr Duration kMaxRecurringDuration = std::chrono::hours(24 * 31);
constexpr size_t kMaxWindows = 1000;
// Cron fires on whole minutes, so "the firing before s" is Previous(s - 1s).
constexpr Duration kBeforeFiring = std::chrono::seconds(1);

bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

Result<WallTime> ParseRfc3339Offset(std::string_view s) {
  if (s.size() > kMaxTimestamp)
    return Error(fmt::format("a time of {} characters is too long", s.size()));
  const std::string shown(s);
  const Error bad(fmt::format("'{}' is not an RFC 3339 time", shown));
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!Digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' ||
      !Digits(s, 8, 2, d))
    return bad;
  if (s.size() == 10) return Error(fmt::format("'{}' is a date without a time of day", shown));
  if (s[10] != 'T' && s[10] != 't') {
    if (s[10] == ' ')
      return Error(fmt::format("'{}' separates date and time with a space, not 'T'", shown));
    return bad;
  }
  if (!Digits(s, 11, 2, h) || s.size() < 14 || s[13] != ':' || !Digits(s, 14, 2, mi)) return bad;
  if (s.size() < 17 || s[16] != ':' || !Digits(s, 17, 2, sec))
    return Error(fmt::format("'{}' has no seconds", shown));
  size_t pos = 19;
  Duration frac{};
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t ns = 0;
    size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) ns = ns * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad;
    for (size_t i = digits; i < 9; ++i) ns *= 10;
    frac = Duration(ns);
  }
  int offset_min = 0;
  if (pos == s.size())
    return Error(fmt::format("'{}' has no UTC offset (such as +09:00 or Z)", shown));
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh = 0, om = 0;
    if (!Digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
      return Error(fmt::format("'{}' has a malformed UTC offset; write it as +HH:MM", shown));
    offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad;
  }
  if (pos != s.size()) return bad;
  const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                                 date::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return Error(fmt::format("'{}' names a day that does not exist", shown));
  if (h > 23 || mi > 59 || sec > 59)
    return Error(fmt::format("'{}' has a time of day out of range", shown));
  const auto days = date::sys_days(ymd).time_since_epoch();
  const auto local = std::chrono::duration_cast<Duration>(days) + std::chrono::hours(h) +
                     std::chrono::minutes(mi) + std::chrono::seconds(sec) + frac;
  return WallTime(
      std::chrono::duration_cast<WallTime::duration>(local - std::chrono::minutes(offset_min)));
}

bool MaintenanceWindow::Applies(std::string_view check,
                                const std::vector<std::string>& check_tags) const {
  if (checks.empty() && tags.empty()) return true;
  if (std::find(checks.begin(), checks.end(), check) != checks.end()) return true;
  for (const auto& t : check_tags)
    if (std::find(tags.begin(), tags.end(), t) != tags.end()) return true;
  return false;
}

MaintenanceCalendar::MaintenanceCalendar(std::vector<MaintenanceWindow> windows)
    : windows_(std::move(windows)) {}

WallTime MaintenanceCalendar::MergedStart(const MaintenanceWindow& w, WallTime fire) const {
  WallTime s = fire;
  for (size_t i = 0; i < kMaxMerge; ++i) {
    auto p = w.cron->Previous(s - kBeforeFiring);
    if (!p || *p + w.duration < s) break;
    s = *p;
  }
  return s;
}

WallTime MaintenanceCalendar::MergedEnd(const MaintenanceWindow& w, WallTime fire) const {
  WallTime e = fire + w.duration;
  auto n = w.cron->Next(fire);
  for (size_t i = 0; i < kMaxMerge && n && *n <= e; ++i) {
    e = *n + w.duration;
    n = w.cron->Next(*n);
  }
  return e;
}

std::optional<MaintenanceOccurrence> MaintenanceCalendar::OccurrenceAt(size_t i, WallTime t) const {
  if (i >= windows_.size()) return std::nullopt;
  const MaintenanceWindow& w = windows_[i];
  if (!w.recurring()) {
    if (w.start && w.end && *w.start <= t && t < *w.end)
      return MaintenanceOccurrence{i, w.name, *w.start, *w.end};
    return std::nullopt;
  }
  auto p = w.cron->Previous(t);
  if (!p || t >= *p + w.duration) return std::nullopt;
  return MaintenanceOccurrence{i, w.name, MergedStart(w, *p), MergedEnd(w, *p)};
}

std::optional<MaintenanceOccurrence> MaintenanceCalendar::Covering(
    std::string_view check, const std::vector<std::string>& tags, WallTime t) const {
  for (size_t i = 0; i < windows_.size(); ++i) {
    if (!windows_[i].Applies(check, tags)) continue;
    if (auto o = OccurrenceAt(i, t)) return o;
  }
  return std::nullopt;
}

std::vector<MaintenanceOccurrence> MaintenanceCalendar::Active(WallTime t) const {
  std::vector<MaintenanceOccurrence> out;
  for (size_t i = 0; i < windows_.size(); ++i)
    if (auto o = OccurrenceAt(i, t)) out.push_back(std::move(*o));
  return out;
}

std::vector<MaintenanceOccurrence> MaintenanceCalendar::EndedBetween(WallTime t0,
                                                                     WallTime t1) const {
  std::vector<MaintenanceOccurrence> out;
  if (t1 <= t0) return out;
  for (size_t i = 0; i < windows_.size(); ++i) {
    const MaintenanceWindow& w = windows_[i];
    if (!w.recurring()) {
      if (w.start && w.end && t0 < *w.end && *w.end <= t1)
        out.push_back({i, w.name, *w.start, *w.end});
      continue;
    }
    // Firings whose end falls in (t0, t1] started in (t0 - d, t1 - d].
    size_t ends = 0;
    auto f = w.cron->Next(t0 - w.duration);
    for (size_t n = 0; n < kMaxMerge && ends < kMaxEnds && f && *f <= t1 - w.duration; ++n) {
      auto next = w.cron->Next(*f);
      if (!next || *next > *f + w.duration) {  // not continued by the next firing
        out.push_back({i, w.name, MergedStart(w, *f), *f + w.duration});
        ++ends;
      }
      f = next;
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.end < b.end; });
  return out;
}

std::optional<WallTime> MaintenanceCalendar::NextTransition(WallTime t) const {
  std::optional<WallTime> best;
  auto consider = [&](WallTime c) {
    if (c > t && (!best || c < *best)) best = c;
  };
  for (size_t i = 0; i < windows_.size(); ++i) {
    const MaintenanceWindow& w = windows_[i];
    if (!w.recurring()) {
      if (w.start) consider(*w.start);
      if (w.end) consider(*w.end);
      continue;
    }
    if (auto n = w.cron->Next(t)) consider(*n);
    if (auto p = w.cron->Previous(t); p && t < *p + w.duration) consider(MergedEnd(w, *p));
  }
  return best;
}

// ---- configuration ----

namespace {

const char* const kTimeHint = "use RFC 3339, e.g. 2026-12-01T02:00:00+09:00";

std::optional<WallTime> ReadTime(config::ConfigNode& n, std::string_view key) {
  auto s = n.GetString(key);
  if (!s) return std::nullopt;
  auto t = ParseRfc3339Offset(*s);
  if (!t.ok()) {
    n.ErrorAt(key, t.error().message(), kTimeHint);
    return std::nullopt;
  }
  return *t;
}

// The YAML node of item `i` of list `key` (for pointing at one list item).
config::Location ItemLocation(config::ConfigNode& n, std::string_view key, size_t i) {
  const config::Yaml v = n.yaml()[std::string(key)];
  if (v.IsSequence() && i < v.size()) return config::MarkLocation(v[i].Mark(), n.location().file);
  return n.ValueLocation(key);
}

std::optional<MaintenanceWindow> ReadWindow(config::ConfigNode& n,
                                            const std::vector<std::string>& check_names,
                                            const std::vector<std::string>& all_tags,
                                            std::set<std::string>& names) {
  MaintenanceWindow w;
  w.where = n.location();
  bool ok = true;
  auto name = n.GetString("name");
  if (!name) {
    n.Error("missing 'name'",
            "name every window; it appears in messages, e.g. name: vps-maintenance");
    ok = false;
  } else if (!IsValidCheckName(*name)) {
    n.ErrorAt("name", fmt::format("'{}' is not a valid window name", *name),
              "use letters, digits, '.', '_' and '-' only (at most 128)");
    ok = false;
  } else {
    n.set_what(fmt::format("maintenance '{}'", *name));
    if (!names.insert(*name).second) {
      n.ErrorAt("name", fmt::format("duplicate maintenance window name '{}'", *name),
                "window names must be unique");
      ok = false;
    }
    w.name = *name;
  }
  w.description = n.GetString("description").value_or("");

  const bool has_start = n.Has("start"), has_end = n.Has("end");
  const bool has_cron = n.Has("cron"), has_duration = n.Has("duration"), has_tz = n.Has("tz");
  w.start = ReadTime(n, "start");
  w.end = ReadTime(n, "end");
  auto cron_text = n.GetString("cron");
  auto duration = n.GetDuration("duration");
  auto tz = n.GetString("tz");

  if ((has_start || has_end) && has_cron) {
    n.Error("has both start/end and cron",
            "a window is either one-off (start and end) or recurring (cron, duration and tz)");
    return std::nullopt;
  }
  if (!has_start && !has_end && !has_cron) {
    n.Error("says neither when nor how often",
            "give start and end (one-off, RFC 3339, e.g. 2026-12-01T02:00:00+09:00) or cron and "
            "duration (recurring, e.g. cron: '0 2 * * sun', duration: 3h)");
    return std::nullopt;
  }
  if (has_cron) {
    if (!has_duration) {
      n.Error("missing 'duration'", "say how long each occurrence lasts, e.g. duration: 3h");
      ok = false;
    } else if (duration) {
      if (*duration <= Duration(0)) {
        n.ErrorAt("duration", "must be positive", "e.g. duration: 3h");
        ok = false;
      } else if (*duration > kMaxRecurringDuration) {
        n.ErrorAt("duration", "is longer than 31 days",
                  "a recurring window this long is always on; use a one-off window");
        ok = false;
      } else {
        w.duration = *duration;
      }
    } else {
      ok = false;  // already reported by GetDuration
    }
    if (cron_text) {
      // The expression alone first, so an error lands on the key at fault.
      auto plain = CronSchedule::Parse(*cron_text, "UTC");
      if (!plain.ok()) {
        n.ErrorAt("cron", plain.error().message(),
                  "five fields: minute hour day-of-month month day-of-week, e.g. '0 2 * * sun'");
        ok = false;
      } else {
        auto zone = n.Zone(tz.value_or("UTC"));
        auto zoned =
            zone.ok() ? CronSchedule::Parse(*cron_text, *zone) : Result<CronSchedule>(zone.error());
        if (!zoned.ok()) {
          n.ErrorAt("tz", zoned.error().message());
          ok = false;
        } else {
          w.cron = std::move(*zoned);
        }
      }
    } else {
      ok = false;
    }
  } else {
    if (has_duration) {
      n.ErrorAt("duration", "applies to recurring (cron) windows only",
                "a one-off window ends at 'end'; remove 'duration'");
      ok = false;
    }
    if (has_tz) {
      n.ErrorAt("tz", "applies to recurring (cron) windows only",
                "start and end carry their own UTC offset (e.g. +09:00); remove 'tz'");
      ok = false;
    }
    if (!has_start) {
      n.Error("missing 'start'", std::string("when the window begins; ") + kTimeHint);
      ok = false;
    }
    if (!has_end) {
      n.Error("missing 'end'", std::string("when the window ends; ") + kTimeHint);
      ok = false;
    }
    if (!w.start || !w.end) {
      ok = false;
    } else if (*w.end <= *w.start) {
      n.ErrorAt("end", "is not after start",
                "end must be later than start; check the date and the UTC offsets");
      ok = false;
    }
  }

  if (auto list = n.GetStringList("checks")) {
    if (list->empty()) {
      n.ErrorAt("checks", "is an empty list",
                "leave 'checks' out to cover every check, or name the checks");
      ok = false;
    }
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string& c = (*list)[i];
      if (std::find(check_names.begin(), check_names.end(), c) == check_names.end()) {
        std::string best = config::ClosestMatch(c, check_names);
        n.diagnostics().Add(ItemLocation(n, "checks", i),
                            fmt::format("{}: 'checks': no check named '{}'", n.what(), c),
                            best.empty() ? "list names from the checks: section"
                                         : fmt::format("did you mean '{}'?", best));
        ok = false;
      }
    }
    w.checks = std::move(*list);
  }
  if (auto list = n.GetStringList("tags")) {
    if (list->empty()) {
      n.ErrorAt("tags", "is an empty list",
                "leave 'tags' out to cover every check, or name the tags");
      ok = false;
    }
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string& t = (*list)[i];
      if (std::find(all_tags.begin(), all_tags.end(), t) == all_tags.end()) {
        std::string best = config::ClosestMatch(t, all_tags);
        n.diagnostics().Add(ItemLocation(n, "tags", i),
                            fmt::format("{}: 'tags': no check has the tag '{}'", n.what(), t),
                            best.empty() ? "add the tag to the checks (tags: [...]) or remove it"
                                         : fmt::format("did you mean '{}'?", best));
        ok = false;
      }
    }
    w.tags = std::move(*list);
  }
  if (!ok) return std::nullopt;
  return w;
}

}  // namespace

void ReadMaintenance(config::ConfigNode& top, const std::vector<CheckConfig>& checks,
                     MaintenanceCalendar& out) {
  auto list = top.GetMapList("maintenance");
  if (!list) return;
  if (list->size() > kMaxWindows) {
    top.ErrorAt("maintenance",
                fmt::format("has {} windows; at most {} are allowed", list->size(), kMaxWindows),
                "merge windows with the same scope into one recurring window");
    return;
  }
  std::vector<std::string> check_names;
  std::set<std::string> tag_set;
  for (const auto& c : checks) {
    check_names.push_back(c.name);
    tag_set.insert(c.tags.begin(), c.tags.end());
  }
  const std::vector<std::string> all_tags(tag_set.begin(), tag_set.end());
  std::set<std::string> names;
  std::vector<MaintenanceWindow> windows;
  for (auto& n : *list) {
    if (auto w = ReadWindow(n, check_names, all_tags, names)) windows.push_back(std::move(*w));
  }
  out = MaintenanceCalendar(std::move(windows));
}

}  // namespace mamori
