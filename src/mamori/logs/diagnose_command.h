// Entry points of `mamori diagnose` and `mamori runbook done`, kept out of the
// CLI so they can be tested with plain streams.
//
// diagnose reads the given files and directories (or, with none, this
// machine's well-known logs plus the systemd journal), prints findings ranked
// by severity and recency (text or --json), marks runbook steps already
// recorded with `runbook done` and points at the next untried one; --context
// prints a compact incident bundle (host facts, failing checks from the
// daemon's store, findings with evidence, steps tried with outcomes) for a
// ticket or a helper. Exit code: 2 if any finding is critical, 1 if any is a
// warning, 0 otherwise, 3 when nothing could be read or the rules failed to
// load, 64 for usage errors, 66 (EX_NOINPUT) when a path given cannot be read
// (named on stderr; the readable ones are still reported).
//
// Stateless; reads the runbook log and store read-only. Thread-safe as long
// as the streams are not shared.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "mamori/logs/diagnose.h"
#include "mamori/logs/runbook_log.h"

namespace mamori::logs {

struct DiagnoseCommandOptions {
  std::vector<std::string> paths;      // files or directories; empty = defaults + journal
  std::vector<std::string> rule_dirs;  // empty = the default rule directory
  std::string since;                   // "2h"; empty = everything
  std::string data_dir;                // for runbook.db and the store (--context)
  bool json = false;
  bool context = false;
  bool journal = true;  // with no paths: also read the local journal
  size_t max_evidence = 5;
  // The compiled signatures' cache (scanner_cache.h); nullopt: the default.
  std::optional<std::string> cache_dir;
};

int RunDiagnoseCommand(const DiagnoseCommandOptions& options, std::ostream& out, std::ostream& err);

// What diagnose found, for the verbs that build on it (`mamori ask`).
struct DiagnosisRun {
  DiagnoseReport report;
  std::vector<StepAttempt> attempts;  // from the runbook log, oldest first
  WallTime now{};
  bool unreadable = false;  // a path given could not be read (named on `err`)
};
// Reads the logs as RunDiagnoseCommand does. Returns -1 when `run` is filled,
// else the exit code to stop with (the reason written to `err`).
int CollectDiagnosis(const DiagnoseCommandOptions& options, std::ostream& err, DiagnosisRun* run);

// This machine in a few lines: name, kernel, uptime, load, memory, disk /.
std::string HostFacts();

struct RunbookDoneOptions {
  std::string finding;  // signature id
  int step = 0;         // 1-based
  std::string result;   // "ok" or "failed"
  std::string note;
  std::string data_dir;
  std::vector<std::string> rule_dirs;
};

int RunRunbookDone(const RunbookDoneOptions& options, std::ostream& out, std::ostream& err);

// The JSON of a report, with each runbook step's latest attempt (if any) and
// each finding's next untried step.
std::string ReportJson(const DiagnoseReport& report, const std::vector<StepAttempt>& attempts);
// The human-readable report.
std::string ReportText(const DiagnoseReport& report, const std::vector<StepAttempt>& attempts);
// The incident bundle of --context.
std::string ContextBundle(const DiagnoseReport& report, const std::vector<StepAttempt>& attempts,
                          const std::string& data_dir, WallTime now);

}  // namespace mamori::logs
