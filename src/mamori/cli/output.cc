#include "mamori/cli/output.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <ctime>

#include "mamori/util/units.h"

namespace mamori::cli {

ResultRow RowFromObservation(std::string name, std::string type, const Observation& o) {
  ResultRow r;
  r.name = std::move(name);
  r.type = std::move(type);
  r.status = o.status;
  r.summary = o.summary;
  r.duration = o.duration;
  r.metrics = o.metrics;
  return r;
}

ResultRow RowFromSnapshot(const CheckSnapshot& s) {
  ResultRow r;
  r.name = s.name;
  r.type = s.type;
  r.status = s.last;
  r.summary = s.summary;
  r.duration = s.duration;
  r.metrics = s.metrics;
  r.snapshot = s;
  return r;
}

namespace {

const char* Color(CheckStatus s) {
  switch (s) {
    case CheckStatus::kOk:
      return "\033[32m";
    case CheckStatus::kWarning:
      return "\033[33m";
    case CheckStatus::kCritical:
      return "\033[31m";
    case CheckStatus::kUnknown:
      return "\033[35m";
  }
  return "";
}

std::string Ms(Duration d) {
  double ms = std::chrono::duration<double, std::milli>(d).count();
  if (ms < 10) return fmt::format("{:.1f}ms", ms);
  if (ms < 10'000) return fmt::format("{:.0f}ms", ms);
  return fmt::format("{:.1f}s", ms / 1000);
}

std::string Ago(WallTime t) {
  auto d = std::chrono::system_clock::now() - t;
  if (d < std::chrono::seconds(0)) d = std::chrono::seconds(0);
  return FormatDuration(std::chrono::duration_cast<Duration>(d)) + " ago";
}

}  // namespace

std::string Rfc3339(WallTime t) {
  const auto ms = ToUnixMillis(t);
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", tm, ms % 1000);
}

std::string FormatTable(const std::vector<ResultRow>& rows, bool color) {
  const bool with_state =
      std::any_of(rows.begin(), rows.end(), [](auto& r) { return r.snapshot.has_value(); });
  size_t wname = 4, wtype = 4;
  for (const auto& r : rows) {
    wname = std::max(wname, r.name.size());
    wtype = std::max(wtype, r.type.size());
  }
  std::string out;
  if (with_state) {
    out += fmt::format("{:<9} {:<10} {:<{}} {:<{}} {:>8}  {}\n", "STATUS", "STATE", "NAME", wname,
                       "TYPE", wtype, "CHECKED", "SUMMARY");
  } else {
    out += fmt::format("{:<9} {:<{}} {:<{}} {:>8}  {}\n", "STATUS", "NAME", wname, "TYPE", wtype,
                       "TIME", "SUMMARY");
  }
  for (const auto& r : rows) {
    std::string label(StatusLabel(r.status));
    std::string status =
        color ? fmt::format("{}{:<9}\033[0m", Color(r.status), label) : fmt::format("{:<9}", label);
    if (with_state) {
      std::string state = "pending";
      std::string when = "never";
      if (r.snapshot) {
        if (r.snapshot->hard) state = r.snapshot->soft_failing ? "soft" : "hard";
        if (r.snapshot->flapping) state = "flapping";
        if (r.snapshot->last_time != WallTime{}) when = Ago(r.snapshot->last_time);
      }
      out += fmt::format("{} {:<10} {:<{}} {:<{}} {:>8}  {}\n", status, state, r.name, wname,
                         r.type, wtype, when, r.summary);
    } else {
      out += fmt::format("{} {:<{}} {:<{}} {:>8}  {}\n", status, r.name, wname, r.type, wtype,
                         Ms(r.duration), r.summary);
    }
  }
  return out;
}

nlohmann::json ToJson(const std::vector<ResultRow>& rows) {
  auto arr = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& m : r.metrics) {
      if (std::isfinite(m.value))
        metrics[m.name] = m.value;
      else
        metrics[m.name] = nullptr;
    }
    nlohmann::json j = {
        {"name", r.name},
        {"type", r.type},
        {"status", std::string(StatusName(r.status))},
        {"summary", r.summary},
        {"duration_ms",
         std::round(std::chrono::duration<double, std::milli>(r.duration).count() * 1000) / 1000},
        {"metrics", metrics},
    };
    if (r.snapshot) {
      const auto& s = *r.snapshot;
      j["hard_status"] =
          s.hard ? nlohmann::json(std::string(StatusName(*s.hard))) : nlohmann::json("pending");
      j["soft_failing"] = s.soft_failing;
      j["attempts"] = s.attempts;
      j["flapping"] = s.flapping;
      j["last_check"] = s.last_time == WallTime{} ? nlohmann::json(nullptr)
                                                  : nlohmann::json(Rfc3339(s.last_time));
      j["hard_since"] = s.hard_since == WallTime{} ? nlohmann::json(nullptr)
                                                   : nlohmann::json(Rfc3339(s.hard_since));
    }
    arr.push_back(std::move(j));
  }
  return arr;
}

CheckStatus WorstStatus(const std::vector<ResultRow>& rows) {
  CheckStatus w = CheckStatus::kOk;
  for (const auto& r : rows) w = Worst(w, r.status);
  return w;
}

}  // namespace mamori::cli
