#include "mamori/heartbeat/heartbeat_book.h"

#include <fmt/format.h>

#include "mamori/util/units.h"

namespace mamori::heartbeat {
namespace {

std::string Ago(WallTime then, WallTime now) {
  if (then > now) return "just now";
  return FormatDuration(std::chrono::duration_cast<Duration>(now - then)) + " ago";
}

std::string Clock(WallTime t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(t));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02} UTC", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min);
}

std::string OutputTail(const std::string& body) {
  // The last non-empty line is usually the error ("rsync error: ...").
  size_t end = body.find_last_not_of(" \r\n\t");
  if (end == std::string::npos) return "";
  size_t start = body.find_last_of('\n', end);
  std::string line = body.substr(start == std::string::npos ? 0 : start + 1,
                                 end + 1 - (start == std::string::npos ? 0 : start + 1));
  if (line.size() > 120) line = line.substr(0, 117) + "...";
  return line;
}

}  // namespace

void HeartbeatBook::FillDuration(Ping& ping) const {
  if (!EndsRun(ping)) return;
  MutexLock lock(mu_);
  auto it = records_.find(ping.check);
  if (it == records_.end()) return;
  auto run = it->second.open_runs.find(ping.rid);
  if (run != it->second.open_runs.end() && run->second <= ping.time)
    ping.duration = std::chrono::duration_cast<Duration>(ping.time - run->second);
}

std::string HeartbeatBook::Add(const Ping& ping) {
  MutexLock lock(mu_);
  HeartbeatRecord& r = records_[ping.check];
  std::string previous_source = r.last_ping ? r.last_ping->source : std::string();
  if (r.first_seen == WallTime{}) r.first_seen = ping.time;
  r.last_ping = ping;
  if (ping.kind == PingKind::kStart) {
    r.last_start = ping;
    if (r.open_runs.size() >= kMaxOpenRuns) {
      auto oldest = r.open_runs.begin();
      for (auto it = r.open_runs.begin(); it != r.open_runs.end(); ++it)
        if (it->second < oldest->second) oldest = it;
      r.open_runs.erase(oldest);
    }
    r.open_runs[ping.rid] = ping.time;
  } else if (EndsRun(ping)) {
    r.open_runs.erase(ping.rid);
    r.last_end = ping;
    if (!IsFailure(ping)) r.last_success = ping;
  }
  return previous_source;
}

void HeartbeatBook::Expect(const std::string& check, WallTime t) {
  MutexLock lock(mu_);
  HeartbeatRecord& r = records_[check];
  if (r.first_seen == WallTime{} || t < r.first_seen) r.first_seen = t;
}

std::optional<HeartbeatRecord> HeartbeatBook::Get(const std::string& check) const {
  MutexLock lock(mu_);
  auto it = records_.find(check);
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

void HeartbeatBook::SetRoute(HeartbeatRoute route) {
  MutexLock lock(mu_);
  std::string check = route.check;
  routes_[check] = std::move(route);
}

void HeartbeatBook::ClearRoutes() {
  MutexLock lock(mu_);
  routes_.clear();
}

std::vector<HeartbeatRoute> HeartbeatBook::Routes() const {
  MutexLock lock(mu_);
  std::vector<HeartbeatRoute> out;
  for (const auto& [name, r] : routes_) out.push_back(r);
  return out;
}

std::optional<HeartbeatRoute> HeartbeatBook::RouteOf(const std::string& check) const {
  MutexLock lock(mu_);
  auto it = routes_.find(check);
  if (it == routes_.end()) return std::nullopt;
  return it->second;
}

Observation Evaluate(const Schedule& s, const HeartbeatRecord& r, WallTime now) {
  Observation o;
  o.status = CheckStatus::kOk;
  if (r.last_success)
    o.AddMetric("since_success_s",
                std::chrono::duration<double>(now - r.last_success->time).count());
  if (r.last_end && r.last_end->duration)
    o.AddMetric("last_duration_s", std::chrono::duration<double>(*r.last_end->duration).count());
  if (r.last_end && r.last_end->exit_code >= 0)
    o.AddMetric("last_exit_code", r.last_end->exit_code);

  std::vector<std::string> problems;
  // 1. The last run said it failed.
  if (r.last_end && IsFailure(*r.last_end)) {
    o.status = CheckStatus::kCritical;
    std::string why = r.last_end->kind == PingKind::kFail
                          ? fmt::format("the job reported failure {}", Ago(r.last_end->time, now))
                          : fmt::format("the job exited with code {} {}", r.last_end->exit_code,
                                        Ago(r.last_end->time, now));
    if (auto tail = OutputTail(r.last_end->body); !tail.empty()) why += fmt::format(": {}", tail);
    problems.push_back(why);
    o.details = r.last_end->body;
  }
  // 2. A run started and never ended.
  if (s.max_runtime) {
    for (const auto& [rid, started] : r.open_runs) {
      if (now - started > *s.max_runtime) {
        o.status = CheckStatus::kCritical;
        problems.push_back(fmt::format("started {}, still running at {} (max_runtime {})",
                                       Clock(started), Clock(now), FormatDuration(*s.max_runtime)));
        break;
      }
    }
  }
  // 3. Late: the expected success did not come.
  const WallTime anchor = r.last_success ? r.last_success->time : r.first_seen;
  if (s.period) {
    const WallTime due = anchor + *s.period + s.grace;
    if (now > due) {
      o.status = CheckStatus::kCritical;
      o.AddMetric("late", 1);
      problems.push_back(
          r.last_success
              ? fmt::format("late: last success {} (expected {})", Ago(r.last_success->time, now),
                            s.describe)
              : fmt::format("late: no success ping since mamori began watching {} (expected {})",
                            Ago(r.first_seen, now), s.describe));
    }
  } else if (s.previous_due) {
    // The latest scheduled run whose grace has passed must have a success
    // after it (a little early counts: jobs ping when they finish).
    if (auto due = s.previous_due(now - s.grace);
        due && *due >= r.first_seen && anchor < *due - s.grace) {
      o.status = CheckStatus::kCritical;
      o.AddMetric("late", 1);
      problems.push_back(fmt::format(
          "the run due {} did not report success (expected {}{})", Clock(*due), s.describe,
          r.last_success ? fmt::format("; last success {}", Ago(r.last_success->time, now))
                         : std::string()));
    }
  }

  // When this judgment next changes on its own (a deadline passes), so the
  // daemon can judge again right then instead of at the next interval.
  std::optional<Duration> due_in;
  auto sooner = [&](WallTime t) {
    if (t > now && (!due_in || t - now < *due_in)) due_in = t - now;
  };
  if (s.period) sooner(anchor + *s.period + s.grace);
  if (s.max_runtime)
    for (const auto& [rid, started] : r.open_runs) sooner(started + *s.max_runtime);
  if (due_in) o.AddMetric("due_in_s", std::chrono::duration<double>(*due_in).count());

  if (!problems.empty()) {
    o.summary = fmt::format("{}", fmt::join(problems, "; "));
  } else if (!r.last_ping) {
    o.summary = fmt::format("waiting for the first ping (expected {})", s.describe);
  } else if (r.last_success) {
    o.summary = fmt::format("last success {}", Ago(r.last_success->time, now));
    if (r.last_success->duration)
      o.summary += fmt::format(", took {}", FormatDuration(*r.last_success->duration));
    if (!r.open_runs.empty())
      o.summary += fmt::format("; running since {}", Clock(r.open_runs.begin()->second));
  } else {
    o.summary = fmt::format("last ping {} ({}), no success yet", Ago(r.last_ping->time, now),
                            PingKindName(r.last_ping->kind));
  }
  return o;
}

}  // namespace mamori::heartbeat
