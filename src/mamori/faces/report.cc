#include "mamori/faces/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace mamori::faces {

Duration Overlap(WallTime a, WallTime b, WallTime since, WallTime until) {
  const WallTime from = std::max(a, since), to = std::min(b, until);
  return to > from ? Duration(to - from) : Duration::zero();
}

namespace {

// The incident of `e.check` that began last at or before e.time, if e.time is
// inside it or within the grace after its end.
Incident* IncidentFor(std::vector<Incident*>& of_check, const ReportEntry& e) {
  Incident* best = nullptr;
  for (Incident* i : of_check)
    if (i->started <= e.time && (!best || i->started > best->started)) best = i;
  if (!best) return nullptr;
  if (best->ended && e.time > *best->ended + kEntryGrace) return nullptr;
  return best;
}

bool Inside(const Incident& i, WallTime t) { return i.started <= t && (!i.ended || t <= *i.ended); }

}  // namespace

void JoinEntries(std::vector<Incident>& incidents, const std::vector<ReportEntry>& entries) {
  std::map<std::string, std::vector<Incident*>> by_check;
  for (auto& i : incidents) by_check[i.check].push_back(&i);
  for (const auto& e : entries) {
    if (!e.incident.empty()) {
      for (auto& i : incidents)
        if (i.id == e.incident) i.timeline.push_back({e.time, e.kind, e.text});
      continue;
    }
    if (e.check.empty()) {
      for (auto& i : incidents)
        if (Inside(i, e.time)) i.timeline.push_back({e.time, e.kind, e.text});
      continue;
    }
    auto it = by_check.find(e.check);
    if (it == by_check.end()) continue;
    if (Incident* i = IncidentFor(it->second, e)) i->timeline.push_back({e.time, e.kind, e.text});
  }
  for (auto& i : incidents)
    std::stable_sort(
        i.timeline.begin(), i.timeline.end(),
        [](const TimelineEntry& a, const TimelineEntry& b) { return a.time < b.time; });
}

ReportIncident Summarise(Incident incident) {
  ReportIncident r;
  for (const auto& t : incident.timeline) {
    if (t.kind == "alert" && !r.first_alert) r.first_alert = t.time;
    if (t.kind == "acknowledged" && !r.acknowledged) r.acknowledged = t.time;
  }
  if (incident.ended) r.time_to_recover = *incident.ended - incident.started;
  if (r.acknowledged) r.time_to_acknowledge = *r.acknowledged - incident.started;
  r.incident = std::move(incident);
  return r;
}

Result<Report> BuildReport(ReadModel& model, const ReportOptions& options,
                           const std::vector<ReportEntry>& entries, WallTime now) {
  Report r;
  r.window = options.window_text;
  r.until = now;
  r.since = now - std::chrono::duration_cast<WallTime::duration>(options.window);
  auto incidents = model.Incidents(options.checks, options.window, options.max_incidents);
  if (!incidents.ok()) return incidents.error();
  JoinEntries(*incidents, entries);
  for (auto& i : *incidents) r.incidents.push_back(Summarise(std::move(i)));
  for (const auto& name : options.checks) {
    auto counts = model.Uptime(name, options.window);
    if (!counts.ok()) return counts.error();
    CheckAvailability a{name, *counts, 0, Duration::zero()};
    for (const auto& i : r.incidents) {
      if (i.incident.check != name) continue;
      ++a.incidents;
      a.downtime += Overlap(i.incident.started, i.incident.ended.value_or(now), r.since, now);
    }
    r.checks.push_back(std::move(a));
  }
  return r;
}

namespace {

// Distinct summaries of the failing results inside the incident, oldest
// first: for a `log` check these are the log findings.
Result<std::vector<std::string>> Findings(Store& store, const Incident& i) {
  constexpr size_t kMaxFindings = 20;
  // Bounded by the incident's end too: the newest rows of a long history
  // would otherwise all come after an old incident.
  auto rows = store.Observations(i.check, i.started, ReadModel::kMaxObservations, i.ended);
  if (!rows.ok()) return rows.error();
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (auto it = rows->rbegin(); it != rows->rend() && out.size() < kMaxFindings; ++it) {
    if (i.ended && it->time > *i.ended) break;
    if (it->status == CheckStatus::kOk || it->summary.empty()) continue;
    if (seen.insert(it->summary).second) out.push_back(it->summary);
  }
  return out;
}

}  // namespace

Result<PostMortem> BuildPostMortem(ReadModel& model, Store& store, const std::string& id,
                                   const std::vector<std::string>& checks,
                                   const std::vector<ReportEntry>& entries) {
  auto incidents = model.Incidents(checks, ReadModel::kMaxRange, ReadModel::kMaxEvents);
  if (!incidents.ok()) return incidents.error();
  auto it = std::find_if(incidents->begin(), incidents->end(),
                         [&](const Incident& i) { return i.id == id; });
  if (it == incidents->end())
    return Error(fmt::format(
        "no incident with id '{}' in the last 400 days; `mamori report` lists the ids", id));
  std::vector<Incident> one{std::move(*it)};
  JoinEntries(one, entries);
  PostMortem p;
  p.incident = Summarise(std::move(one.front()));
  auto findings = Findings(store, p.incident.incident);
  if (!findings.ok()) return findings.error();
  p.findings = std::move(*findings);
  return p;
}

Result<ReportFormat> ParseReportFormat(std::string_view name) {
  if (name == "text") return ReportFormat::kText;
  if (name == "md" || name == "markdown") return ReportFormat::kMarkdown;
  if (name == "html") return ReportFormat::kHtml;
  if (name == "json") return ReportFormat::kJson;
  return Error(fmt::format("format '{}' is not one of text, md, html, json", name));
}

}  // namespace mamori::faces
