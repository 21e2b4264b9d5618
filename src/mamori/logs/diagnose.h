// Diagnosis of log files: what happened, with evidence, ranked.
//
// A Diagnoser takes log lines one at a time (from files, rotated and gzip
// files, or the journal), matches them against the signature knowledge base
// (SignatureScanner) and aggregates one Finding per signature: first and last
// time seen, count, a few evidence lines (file:line and the text), the
// explanation and the runbook. It also correlates across lines and files:
//  - a boot banner (Linux "Linux version", FreeBSD "Copyright (c) 1992-",
//    systemd "systemd N running in system mode", ...) with log activity before
//    it and no clean-shutdown marker ("syslogd: exiting on signal 15",
//    "Reached target ... Shutdown", "shutting down", ...) in between is an
//    unclean shutdown; what was being used just before (the last mailbox a POP
//    or IMAP session opened, the last table or file a matched line named) is
//    listed as a suspect;
//  - error-looking lines no signature knows are mined into templates and
//    reported as `novel` (many lines of a kind no rule explains).
// Timestamps are read from the common formats (syslog "Nov 23 14:01:02",
// ISO 8601, Apache "[Sun Nov 23 14:01:02.123 2025]", nginx "2025/11/23
// 14:01:02", MySQL "251123 14:01:02"); a line without one inherits the time
// of the line before it in the same file. They drive --since and ordering.
//
// Memory is bounded whatever the input: evidence per finding, correlation
// events, suspects and novel templates are capped. Not thread-safe (one
// Diagnoser per thread); the scanner it borrows must outlive it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/logs/rule.h"
#include "mamori/logs/signature_scanner.h"
#include "mamori/logs/template_miner.h"
#include "mamori/util/clock.h"

namespace mamori::logs {

inline constexpr std::string_view kUncleanShutdownId = "system.unclean-shutdown";

// The runbook of an unclean shutdown when the rules define no signature
// with id kUncleanShutdownId (which, when present, supplies severity,
// explanation and runbook instead).
std::vector<RunbookStep> DefaultUncleanShutdownRunbook();

struct Evidence {
  std::string file;
  uint64_t line = 0;  // 1-based; 0 when unknown (journal)
  std::string text;
  std::optional<WallTime> time;
};

struct Suspect {
  std::string what;  // "mailbox of alice (qpopper)", "table ./wp/wp_statpress.ibd"
  Evidence evidence;
};

struct Finding {
  std::string signature;
  std::string component;
  Severity severity = Severity::kWarning;
  std::string summary;
  std::optional<WallTime> first_seen, last_seen;
  uint64_t count = 0;
  std::vector<Evidence> evidence;
  std::string explanation;
  std::vector<std::string> causes;
  std::vector<RunbookStep> runbook;
  std::vector<Suspect> suspects;
  uint64_t last_seq = 0;  // order of the last line, for ranking lines without a time
};

struct NovelFinding {
  std::string template_text;
  uint64_t count = 0;
  std::optional<WallTime> first_seen, last_seen;
  std::vector<Evidence> evidence;
};

struct DiagnoseReport {
  std::vector<Finding> findings;  // ranked: severity, then recency
  std::vector<NovelFinding> novel;
  std::vector<std::string> problems;  // unreadable files and the like
  std::vector<std::string> notes;     // "no systemd journal on this machine ..."
  std::vector<std::string> sources;   // files (and "journal") read
  uint64_t lines = 0;
  uint64_t matched_lines = 0;
};

struct DiagnoserOptions {
  size_t max_evidence = 5;
  size_t max_novel = 10;
  // Lines older than `since`, or from `until` on, are skipped (lines with no
  // known time are kept): `--since previous-boot` is a window.
  std::optional<WallTime> since;
  std::optional<WallTime> until;
  WallTime now{};  // reference for year-less syslog stamps; default: system clock
};

class Diagnoser {
 public:
  Diagnoser(const SignatureScanner& scanner, DiagnoserOptions options);
  ~Diagnoser();
  Diagnoser(const Diagnoser&) = delete;
  Diagnoser& operator=(const Diagnoser&) = delete;

  // Starts a new source; lines of a source are given in order.
  void BeginSource(std::string name);
  // One line of the current source. `time` overrides parsing (journal).
  void AddLine(uint64_t number, std::string_view text, std::optional<WallTime> time = std::nullopt);
  void AddProblem(std::string problem) { report_.problems.push_back(std::move(problem)); }
  void AddNote(std::string note) { report_.notes.push_back(std::move(note)); }

  DiagnoseReport Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  DiagnoseReport report_;
};

// Parses a leading timestamp in one of the formats above. Year-less syslog
// stamps take the year of `now`, or the year before when that would put them
// more than a day in the future. Times without a zone are local time.
std::optional<WallTime> ParseLogTime(std::string_view line, WallTime now);

// Whether a line (or a template) reads like an error report: it holds one of
// a few words such as "error", "fail", "denied" or "timed out" (any case).
bool LooksLikeError(std::string_view line);

// `t` in local time with a strftime(3) format ("%Y-%m-%dT%H:%M:%S%z").
std::string FormatLocalTime(WallTime t, const char* strftime_format);

// Files to read for `paths`: a file with its rotated siblings (FILE.2.gz,
// FILE.1, FILE, oldest first), a directory's log files (recursively, at most
// 3 levels and 2000 files, skipping binary logs such as wtmp and journal
// files). Missing paths and unreadable directories go to `problems` unless
// `quiet_missing`.
std::vector<std::string> ExpandLogPaths(const std::vector<std::string>& paths, bool quiet_missing,
                                        std::vector<std::string>* problems);

// The well-known log locations of this machine (those that exist).
std::vector<std::string> DefaultLogPaths();

// Reads every file (plain or gzip) into the diagnoser.
void DiagnoseFiles(const std::vector<std::string>& files, Diagnoser* d);

// Reads the local journal since `since` (at most `max_entries`); a note when
// this machine has none.
void DiagnoseJournal(std::optional<WallTime> since, size_t max_entries, Diagnoser* d);

}  // namespace mamori::logs
