#include "mamori/daemon/report_entries.h"

#include <fmt/format.h>

#include <filesystem>

#include "mamori/faces/operator_store.h"
#include "mamori/logs/runbook_log.h"
#include "mamori/notify/stored_acks.h"
#include "mamori/notify/stored_deliveries.h"

namespace mamori {
namespace {

// A delivered notification in an incident's words ("problem sent to hook").
faces::ReportEntry DeliveryEntry(const notify::StoredDelivery& d, const std::string& check,
                                 const std::string& summary) {
  const std::string kind(notify::KindName(d.kind));
  const bool delivered = d.state == "delivered";
  faces::ReportEntry e{check, "", delivered && d.done ? *d.done : d.created, "", ""};
  const bool summary_kind =
      d.kind == notify::Kind::kAfterBoot || d.kind == notify::Kind::kAfterMaintenance;
  if (summary_kind) {
    e.kind = "summary";
    e.text = fmt::format("{} summary to {}{}: {}", kind, d.channel,
                         delivered ? "" : " (not delivered: " + d.state + ")", summary);
  } else if (!delivered) {
    e.kind = "alert-failed";
    e.text = fmt::format("{} to {} not delivered ({}, {} attempt(s)): {}", kind, d.channel, d.state,
                         d.attempts, d.last_answer);
  } else {
    e.kind = d.kind == notify::Kind::kRecovery ? "recovery-sent" : "alert";
    e.text = fmt::format("{} sent to {} (attempt {}): {}", kind, d.channel, d.attempts, d.title);
  }
  return e;
}

void AddDeliveries(const std::string& data_dir, WallTime since, size_t limit,
                   std::vector<faces::ReportEntry>& out, std::vector<std::string>* warnings) {
  auto deliveries = notify::StoredDeliveries(data_dir, since, limit);
  if (!deliveries.ok()) {
    warnings->push_back("alert deliveries not shown: " + deliveries.error().message());
    return;
  }
  for (const auto& d : *deliveries) {
    if (d.kind == notify::Kind::kTest) continue;
    for (const auto& [check, summary] : d.items) out.push_back(DeliveryEntry(d, check, summary));
  }
}

void AddAcks(const std::string& data_dir, WallTime since, size_t limit,
             std::vector<faces::ReportEntry>& out, std::vector<std::string>* warnings) {
  auto acks = notify::StoredAckLog(data_dir, since, limit);
  if (!acks.ok()) {
    warnings->push_back("acknowledgements not shown: " + acks.error().message());
    return;
  }
  for (const auto& a : *acks) {
    const std::string until =
        a.until ? "until " + faces::FormatTime(*a.until) : std::string("until it recovers");
    out.push_back({a.check, "", a.at, a.withdrawn ? "ack-withdrawn" : "acknowledged",
                   a.withdrawn ? "acknowledgement withdrawn by " + a.by
                               : "acknowledged by " + a.by + " " + until});
  }
}

void AddRunbook(const std::string& data_dir, WallTime since, std::vector<faces::ReportEntry>& out,
                std::vector<std::string>* warnings) {
  auto log = logs::RunbookLog::Open(data_dir, false);
  auto attempts =
      log.ok() ? (*log)->Attempts() : Result<std::vector<logs::StepAttempt>>(log.error());
  if (!attempts.ok()) {
    warnings->push_back("runbook steps not shown: " + attempts.error().message());
    return;
  }
  for (const auto& a : *attempts)
    if (a.time >= since)
      out.push_back({"", "", a.time, "runbook",
                     fmt::format("{} step {}: {}{}", a.finding, a.step, a.ok ? "ok" : "failed",
                                 a.note.empty() ? "" : " - " + a.note)});
}

void AddNotes(const std::string& data_dir, size_t limit, std::vector<faces::ReportEntry>& out,
              std::vector<std::string>* warnings) {
  auto notes = faces::OperatorStore::ReadNotes(data_dir, limit);
  if (!notes.ok()) {
    warnings->push_back("operator notes not shown: " + notes.error().message());
    return;
  }
  for (const auto& n : *notes)
    out.push_back({"", n.incident, n.time, "note", n.by.empty() ? n.text : n.by + ": " + n.text});
}

}  // namespace

std::vector<faces::ReportEntry> GatherReportEntries(const std::string& data_dir, WallTime since,
                                                    const EntrySources& sources,
                                                    std::vector<std::string>* warnings) {
  std::vector<faces::ReportEntry> out;
  AddDeliveries(data_dir, since, sources.max_deliveries, out, warnings);
  AddAcks(data_dir, since, sources.max_acks, out, warnings);
  AddRunbook(data_dir, since, out, warnings);
  if (sources.notes) AddNotes(data_dir, sources.max_notes, out, warnings);
  return out;
}

}  // namespace mamori
