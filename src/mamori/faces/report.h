// Report: what `mamori report` prints. Availability per check over a window
// and the incidents of that window with their timelines (first failure, alert
// sent, acknowledgement, recovery, time to recover), or one incident as a
// post-mortem draft. Built on the ReadModel (the store's rollups and events);
// what the store does not hold (deliveries from the outbox, acknowledgements,
// runbook steps, operator notes, after-boot and after-maintenance summaries)
// comes in as ReportEntry values gathered by the caller, so this layer reads
// no other stage's files.
//
// Availability is the share of results that were OK or WARNING (as on the
// dashboard), from the hourly rollups of the hours the window touches;
// downtime is the time the window spent inside incidents.
//
// Rendering (report_render.cc) is pure: text, Markdown, HTML (every name and
// text escaped) and JSON (the stable shape docs/report.md documents).
//
// Ownership: BuildReport borrows the ReadModel for the call. Threading: pure
// functions over values, except the ReadModel's reads (thread-safe). Failure:
// store errors and an unknown incident id come back as errors.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/faces/read_model.h"

namespace mamori::faces {

// Something that happened outside the store, placed into incident timelines.
// Kinds: "alert" (a problem, reminder or flapping notification delivered),
// "recovery-sent", "alert-failed" (not delivered), "acknowledged",
// "ack-withdrawn", "summary" (after boot / after maintenance), "runbook",
// "note".
struct ReportEntry {
  std::string check;     // "" for the host: joins every incident open at `time`
  std::string incident;  // set (an operator's note): joins the incident with this id only
  WallTime time{};
  std::string kind;
  std::string text;
};

struct CheckAvailability {
  std::string check;
  Counts counts;         // results in the hours the window touches
  size_t incidents = 0;  // incidents open at some time in the window
  Duration downtime{};   // time in those incidents, cut to the window
};

struct ReportIncident {
  Incident incident;  // its timeline holds the store's events and the entries, by time
  std::optional<WallTime> first_alert;
  std::optional<WallTime> acknowledged;
  std::optional<Duration> time_to_recover;      // first failure to recovery
  std::optional<Duration> time_to_acknowledge;  // first failure to acknowledgement
};

struct Report {
  WallTime since{}, until{};
  std::string window;  // as given: "30d"
  std::vector<CheckAvailability> checks;
  std::vector<ReportIncident> incidents;  // newest first
};

// A post-mortem draft: the incident and what was said and done about it.
struct PostMortem {
  ReportIncident incident;
  std::vector<std::string> findings;  // what the check said while failing, distinct, in order
};

struct ReportOptions {
  std::string window_text = "30d";
  Duration window = std::chrono::hours(24 * 30);
  std::vector<std::string> checks;  // in this order
  size_t max_incidents = 500;
};

// Where a report entry goes: the entries of a check join that check's
// incident that began last at or before their time, while it is open or up to
// kEntryGrace after its end (a recovery notice is sent after the recovery).
inline constexpr Duration kEntryGrace = std::chrono::minutes(15);
void JoinEntries(std::vector<Incident>& incidents, const std::vector<ReportEntry>& entries);
// first_alert, acknowledged, time_to_*, from the (joined) timeline.
ReportIncident Summarise(Incident incident);
// Time of [a, b) inside [since, until).
Duration Overlap(WallTime a, WallTime b, WallTime since, WallTime until);

Result<Report> BuildReport(ReadModel& model, const ReportOptions& options,
                           const std::vector<ReportEntry>& entries, WallTime now);
// The incident with this id among those of `checks` in the last 400 days;
// an error naming the id when there is none.
Result<PostMortem> BuildPostMortem(ReadModel& model, Store& store, const std::string& id,
                                   const std::vector<std::string>& checks,
                                   const std::vector<ReportEntry>& entries);

enum class ReportFormat { kText, kMarkdown, kHtml, kJson };
Result<ReportFormat> ParseReportFormat(std::string_view name);

std::string RenderReport(const Report& r, ReportFormat f);
std::string RenderPostMortem(const PostMortem& p, ReportFormat f);
nlohmann::json ReportJson(const Report& r);
nlohmann::json PostMortemJson(const PostMortem& p);

}  // namespace mamori::faces
