// Log signatures: the data model of the diagnosis knowledge base (rules/*.yaml).
//
// A Signature says what one kind of log line means: which component wrote it,
// how bad it is, the patterns that recognise it, the fields worth pulling out
// of it, a plain-language explanation, the likely causes and an ordered
// runbook. Signatures are plain values, loaded once (rule_loader.h) and then
// shared read-only, so they are safe to read from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mamori::logs {

enum class Severity { kInfo, kWarning, kCritical };
// What running a runbook step can do to the machine.
enum class StepRisk { kReadOnly, kReversible, kDestructive };

std::string_view SeverityName(Severity s);  // "info", "warning", "critical"
std::optional<Severity> ParseSeverity(std::string_view s);
std::string_view RiskName(StepRisk r);  // "read-only", "reversible", "destructive"
std::optional<StepRisk> ParseRisk(std::string_view s);

struct RunbookStep {
  std::string step;     // what to do, in words
  std::string command;  // the command to run; may be empty for a manual step
  StepRisk risk = StepRisk::kReadOnly;
  std::string check;  // what to look at afterwards
};

struct Signature {
  std::string id;         // "mariadb.innodb-page-corrupted"; unique in a RuleSet
  std::string component;  // "mariadb"
  Severity severity = Severity::kWarning;
  // Hyperscan expressions (PCRE syntax without backreferences or lookaround);
  // a line matches the signature when any of them matches anywhere in it.
  std::vector<std::string> patterns;
  bool ignore_case = false;
  // RE2 expressions with named groups ((?P<page>\d+)), tried in order on a
  // matched line; every named group that matches becomes a field.
  std::vector<std::string> captures;
  std::string summary;  // one line; "{page}" is replaced by the field "page"
  std::string explanation;
  std::vector<std::string> causes;
  std::vector<RunbookStep> runbook;
  std::vector<std::string> examples;  // real lines this signature must match
  // Where such lines were seen (a bug tracker issue, the program's source
  // file, a vendor document), so a reader can check the advice.
  std::string source;
  // Where it was defined, for messages.
  std::string file;
  int line = 0;
};

// The whole knowledge base: every signature of every loaded file, in load
// order. Signature indices (positions in `signatures`) are stable for the
// lifetime of a RuleSet and are what the scanner reports.
struct RuleSet {
  std::vector<Signature> signatures;
  std::vector<std::string> files;  // files loaded, in order

  const Signature* Find(std::string_view id) const;
  std::optional<uint32_t> IndexOf(std::string_view id) const;
};

struct Field {
  std::string name;
  std::string value;
};

// `summary` with each {name} replaced by the value of field `name`; a
// placeholder with no such field becomes "?" so a summary is always readable.
// "{{" and "}}" are literal braces.
std::string RenderSummary(std::string_view summary, const std::vector<Field>& fields);

// The field every finding gets besides its captures: the log the line was read
// from, as a shell word, so a runbook greps the file that was actually read.
inline constexpr std::string_view kLogFileField = "log_file";

// The {name} placeholders (lower-case letters, digits, '_') of runbook text.
// Other braces (shell `{ ...; }`, awk '{print $1}', find's {}) are not
// placeholders, so commands need no escaping.
std::vector<std::string> RunbookPlaceholders(std::string_view text);
// Runbook text with each placeholder replaced by its field; one with no such
// field becomes its name in capitals (TABLE), so a command shows the operator
// what to fill in instead of silently losing an argument.
std::string RenderRunbookText(std::string_view text, const std::vector<Field>& fields);
// Every step, command and check of `steps` rendered with `fields`.
std::vector<RunbookStep> RenderRunbook(const std::vector<RunbookStep>& steps,
                                       const std::vector<Field>& fields);

}  // namespace mamori::logs
