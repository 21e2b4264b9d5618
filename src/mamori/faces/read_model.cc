#include "mamori/faces/read_model.h"

#include <date/date.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <unordered_map>

namespace mamori::faces {
namespace {

using std::chrono::hours;

// Index of the bucket holding `t`, or -1 outside [since, until).
int64_t BucketOf(WallTime t, WallTime since, WallTime until, Duration step) {
  if (t < since || t >= until) return -1;
  return (t - since) / step;
}

std::vector<Bucket> EmptyBuckets(WallTime since, WallTime until, Duration step) {
  std::vector<Bucket> out;
  for (WallTime t = since; t < until; t += std::chrono::duration_cast<WallTime::duration>(step))
    out.push_back(Bucket{t, {}});
  return out;
}

WallTime DayStart(WallTime t) { return std::chrono::floor<date::days>(t); }

}  // namespace

std::optional<double> Counts::uptime() const {
  if (total() == 0) return std::nullopt;
  return static_cast<double>(ok + warning) / static_cast<double>(total());
}

std::optional<CheckStatus> Counts::worst() const {
  if (critical) return CheckStatus::kCritical;
  if (unknown) return CheckStatus::kUnknown;
  if (warning) return CheckStatus::kWarning;
  if (ok) return CheckStatus::kOk;
  return std::nullopt;
}

void Counts::Add(CheckStatus s, Duration d) {
  switch (s) {
    case CheckStatus::kOk:
      ++ok;
      break;
    case CheckStatus::kWarning:
      ++warning;
      break;
    case CheckStatus::kCritical:
      ++critical;
      break;
    case CheckStatus::kUnknown:
      ++unknown;
      break;
  }
  duration_sum += d;
  duration_max = std::max(duration_max, d);
}

void Counts::Add(const Rollup& r) {
  ok += r.n_ok;
  warning += r.n_warning;
  critical += r.n_critical;
  unknown += r.n_unknown;
  duration_sum += r.duration_sum;
  duration_max = std::max(duration_max, r.duration_max);
}

std::vector<Bucket> BucketObservations(const std::vector<StoredObservation>& rows, WallTime since,
                                       WallTime until, Duration step) {
  auto out = EmptyBuckets(since, until, step);
  for (const auto& o : rows) {
    const int64_t i = BucketOf(o.time, since, until, step);
    if (i >= 0 && static_cast<size_t>(i) < out.size()) out[i].counts.Add(o.status, o.duration);
  }
  return out;
}

std::vector<Bucket> BucketRollups(const std::vector<Rollup>& rows, WallTime since, WallTime until,
                                  Duration step) {
  auto out = EmptyBuckets(since, until, step);
  for (const auto& r : rows) {
    const int64_t i = BucketOf(r.hour, since, until, step);
    if (i >= 0 && static_cast<size_t>(i) < out.size()) out[i].counts.Add(r);
  }
  return out;
}

Counts SumRollups(const std::vector<Rollup>& rows, WallTime since, WallTime until) {
  Counts c;
  for (const auto& r : rows)
    if (r.hour >= since && r.hour < until) c.Add(r);
  return c;
}

std::vector<Bucket> DailyBuckets(const std::vector<Rollup>& rows, WallTime now, int days) {
  const WallTime first = DayStart(now) - date::days(days - 1);
  return BucketRollups(rows, first, DayStart(now) + date::days(1), date::days(1));
}

std::string IncidentId(const std::string& check, WallTime started) {
  // FNV-1a: short, stable across restarts, and safe in a URL.
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  mix(check);
  mix(std::to_string(ToUnixMillis(started)));
  return fmt::format("{:016x}", h);
}

namespace {

std::string TransitionText(const Event& e) {
  return fmt::format("{} -> {}: {}", e.from ? StatusLabel(*e.from) : "PENDING", StatusLabel(e.to),
                     e.summary);
}

const char* KindOf(const Event& e) {
  switch (e.kind) {
    case EventKind::kStateChange:
      return "changed";
    case EventKind::kFlappingStarted:
    case EventKind::kFlappingStopped:
      return "flapping";
    case EventKind::kAddressChanged:
      return "address";
    case EventKind::kRemedy:
      return "remedy";
  }
  return "changed";
}

// Applies one check's events (oldest first) to its open incident.
void Apply(const Event& e, std::optional<Incident>& open, std::vector<Incident>& done) {
  const bool change = e.kind == EventKind::kStateChange;
  if (change && e.to != CheckStatus::kOk && !open) {
    open.emplace();
    open->check = e.check;
    open->started = e.time;
    open->worst = e.to;
    open->summary = e.summary;
    open->timeline.push_back({e.time, "failed", TransitionText(e)});
    return;
  }
  if (!open && change && e.to == CheckStatus::kOk && e.from && *e.from != CheckStatus::kOk) {
    // Began before the events read: it starts where the store says it did.
    open.emplace();
    open->check = e.check;
    open->started = e.from_since.value_or(e.time);
    open->worst = *e.from;
    open->summary = e.summary;
  }
  if (!open) return;
  open->worst = Worst(open->worst, e.to);
  const bool recovered = change && e.to == CheckStatus::kOk;
  open->timeline.push_back({e.time, recovered ? "recovered" : KindOf(e), TransitionText(e)});
  if (recovered) {
    open->ended = e.time;
    open->id = IncidentId(open->check, open->started);
    done.push_back(std::move(*open));
    open.reset();
  }
}

}  // namespace

std::vector<Incident> BuildIncidents(std::vector<Event> events) {
  std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return a.check != b.check ? a.check < b.check : a.time < b.time;
  });
  std::vector<Incident> out;
  std::optional<Incident> open;
  for (size_t i = 0; i < events.size(); ++i) {
    if (i > 0 && events[i].check != events[i - 1].check && open) {
      open->id = IncidentId(open->check, open->started);
      out.push_back(std::move(*open));
      open.reset();
    }
    Apply(events[i], open, out);
  }
  if (open) {
    open->id = IncidentId(open->check, open->started);
    out.push_back(std::move(*open));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Incident& a, const Incident& b) { return a.started > b.started; });
  return out;
}

Result<Duration> ParseWindow(std::string_view text) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  const std::string_view unit(p, text.data() + text.size() - p);
  if (ec != std::errc() || n <= 0 || n > 400 * 24 * 60)
    return Error(fmt::format("window '{}' is not a number and a unit (24h, 7d, 30d, 90d)", text));
  Duration d{};
  if (unit == "m")
    d = std::chrono::minutes(n);
  else if (unit == "h")
    d = hours(n);
  else if (unit == "d")
    d = hours(24 * n);
  else
    return Error(fmt::format("window '{}': the unit is m, h or d (24h, 7d, 30d, 90d)", text));
  if (d > ReadModel::kMaxRange) return Error(fmt::format("window '{}' is longer than 400d", text));
  return d;
}

std::string FormatTime(WallTime t) {
  return date::format("%FT%TZ", std::chrono::floor<std::chrono::seconds>(t));
}

namespace {

// "2026-12-07T04:12:22Z", "...T13:12:22+09:00", optional fraction (ignored).
std::optional<WallTime> ParseRfc3339(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0, used = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &used) != 6)
    return std::nullopt;
  const date::year_month_day ymd{date::year(y), date::month(static_cast<unsigned>(mo)),
                                 date::day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return std::nullopt;
  std::string_view rest = std::string_view(s).substr(static_cast<size_t>(used));
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest.front())))
      rest.remove_prefix(1);
  }
  std::chrono::minutes offset{0};
  if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &oh, &om) != 2)
      return std::nullopt;
    offset = std::chrono::minutes(oh * 60 + om) * (rest[0] == '-' ? -1 : 1);
  } else if (rest != "Z") {
    return std::nullopt;
  }
  return WallTime(date::sys_days(ymd)) + std::chrono::hours(h) + std::chrono::minutes(mi) +
         std::chrono::seconds(se) - offset;
}

}  // namespace

Result<WallTime> ParseTime(std::string_view text) {
  int64_t secs = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), secs);
  if (ec == std::errc() && p == text.data() + text.size() && secs >= 0)
    return WallTime(std::chrono::seconds(secs));
  if (auto t = ParseRfc3339(std::string(text))) return *t;
  return Error(
      fmt::format("'{}' is not a time: use RFC 3339 (2026-12-07T04:00:00Z) or unix seconds", text));
}

}  // namespace mamori::faces
