#include "mamori/logs/diagnose_command.h"

#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "mamori/logs/command_risk.h"
#include "mamori/logs/journal_boots.h"
#include "mamori/logs/rule_loader.h"
#include "mamori/logs/scanner_cache.h"
#include "mamori/logs/signature_scanner.h"
#include "mamori/store/store.h"
#include "mamori/util/units.h"

namespace mamori::logs {
namespace {

constexpr int kExitUnknown = 3;
constexpr int kExitUsage = 64;
constexpr int kExitNoInput = 66;  // sysexits.h EX_NOINPUT: a named log cannot be read
constexpr size_t kMaxJournalEntries = 2'000'000;

std::string Iso(const std::optional<WallTime>& t) {
  return t ? FormatLocalTime(*t, "%Y-%m-%dT%H:%M:%S%z") : "";
}

std::string Short(WallTime t) { return FormatLocalTime(t, "%H:%M"); }

nlohmann::json EvidenceJson(const Evidence& e) {
  return {{"file", e.file}, {"line", e.line}, {"text", e.text}};
}

// 1-based number of the first step with no attempt, or 0 when all were tried.
int NextStep(const Finding& f, const std::vector<StepAttempt>& attempts) {
  for (size_t i = 0; i < f.runbook.size(); ++i)
    if (!LatestAttempt(attempts, f.signature, static_cast<int>(i + 1)))
      return static_cast<int>(i + 1);
  return 0;
}

std::string TriedMark(const StepAttempt& a) {
  if (a.ok)
    return fmt::format("[done {}: ok{}]", Short(a.time), a.note.empty() ? "" : " - " + a.note);
  return fmt::format("[tried {}: failed{}]", Short(a.time), a.note.empty() ? "" : " - " + a.note);
}

// The declared risk, or what the command classifier sees in the command if
// that is higher: a step never looks safer than its command.
StepRisk ShownRisk(const RunbookStep& s) { return MaxRisk(s.risk, ClassifyCommand(s.command)); }

int ExitFor(const DiagnoseReport& r) {
  int code = 0;
  for (const auto& f : r.findings) {
    if (f.severity == Severity::kCritical) return 2;
    if (f.severity == Severity::kWarning) code = 1;
  }
  return code;
}

Result<std::unique_ptr<SignatureScanner>> LoadScanner(const std::vector<std::string>& dirs,
                                                      const std::optional<std::string>& cache) {
  auto rules = LoadRules(dirs);
  if (!rules.ok()) return rules.error();
  return SignatureScanner::Compile(std::move(rules).value(),
                                   cache.value_or(DefaultScannerCacheDir()));
}

std::string ReadSmall(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s, '\0');
  return s.substr(0, 64 * 1024);
}

}  // namespace

std::string HostFacts() {
  std::string out;
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  struct utsname u {};
  ::uname(&u);
  out += fmt::format("host: {} ({} {} {})\n", host, u.sysname, u.release, u.machine);
  std::string up = ReadSmall("/proc/uptime");
  if (!up.empty())
    out +=
        fmt::format("uptime: {}\n", FormatDuration(std::chrono::seconds(std::atoll(up.c_str()))));
  std::string load = ReadSmall("/proc/loadavg");
  if (!load.empty()) {
    std::istringstream ls(load);
    std::string a, b, c;
    ls >> a >> b >> c;
    out += fmt::format("load: {} {} {} ({} CPUs)\n", a, b, c, sysconf(_SC_NPROCESSORS_ONLN));
  }
  std::istringstream mi(ReadSmall("/proc/meminfo"));
  std::string key;
  uint64_t total = 0, avail = 0, v = 0;
  std::string unit;
  while (mi >> key >> v >> unit) {
    if (key == "MemTotal:") total = v * 1024;
    if (key == "MemAvailable:") avail = v * 1024;
  }
  if (total)
    out += fmt::format("memory: {} available of {}\n", FormatBytes(avail), FormatBytes(total));
  struct statvfs sv {};
  if (::statvfs("/", &sv) == 0 && sv.f_blocks > 0) {
    double used = 100.0 * static_cast<double>(sv.f_blocks - sv.f_bfree) /
                  static_cast<double>(sv.f_blocks - sv.f_bfree + sv.f_bavail);
    out += fmt::format("disk /: {:.1f}% used, {} free\n", used,
                       FormatBytes(static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize));
  }
  return out;
}

std::string ReportJson(const DiagnoseReport& r, const std::vector<StepAttempt>& attempts) {
  nlohmann::json j;
  j["findings"] = nlohmann::json::array();
  for (const auto& f : r.findings) {
    nlohmann::json fj = {{"signature", f.signature},
                         {"component", f.component},
                         {"severity", std::string(SeverityName(f.severity))},
                         {"summary", f.summary},
                         {"first_seen", f.first_seen ? nlohmann::json(Iso(f.first_seen)) : nullptr},
                         {"last_seen", f.last_seen ? nlohmann::json(Iso(f.last_seen)) : nullptr},
                         {"count", f.count},
                         {"explanation", f.explanation}};
    fj["evidence"] = nlohmann::json::array();
    for (const auto& e : f.evidence) fj["evidence"].push_back(EvidenceJson(e));
    fj["runbook"] = nlohmann::json::array();
    for (size_t i = 0; i < f.runbook.size(); ++i) {
      const auto& s = f.runbook[i];
      nlohmann::json sj = {{"number", i + 1},
                           {"step", s.step},
                           {"command", s.command},
                           {"risk", std::string(RiskName(ShownRisk(s)))},
                           {"check", s.check}};
      if (const StepAttempt* a = LatestAttempt(attempts, f.signature, static_cast<int>(i + 1)))
        sj["tried"] = {
            {"result", a->ok ? "ok" : "failed"}, {"time", Iso(a->time)}, {"note", a->note}};
      fj["runbook"].push_back(std::move(sj));
    }
    int next = NextStep(f, attempts);
    fj["next_step"] = next > 0 ? nlohmann::json(next) : nullptr;
    if (!f.suspects.empty()) {
      fj["suspects"] = nlohmann::json::array();
      for (const auto& s : f.suspects)
        fj["suspects"].push_back({{"what", s.what}, {"evidence", EvidenceJson(s.evidence)}});
    }
    if (!f.causes.empty()) fj["causes"] = f.causes;
    j["findings"].push_back(std::move(fj));
  }
  j["novel"] = nlohmann::json::array();
  for (const auto& n : r.novel) {
    nlohmann::json nj = {{"template", n.template_text},
                         {"count", n.count},
                         {"summary", fmt::format("{} line{} of a kind no rule knows", n.count,
                                                 n.count == 1 ? "" : "s")},
                         {"first_seen", n.first_seen ? nlohmann::json(Iso(n.first_seen)) : nullptr},
                         {"last_seen", n.last_seen ? nlohmann::json(Iso(n.last_seen)) : nullptr}};
    nj["evidence"] = nlohmann::json::array();
    for (const auto& e : n.evidence) nj["evidence"].push_back(EvidenceJson(e));
    j["novel"].push_back(std::move(nj));
  }
  j["sources"] = r.sources;
  j["problems"] = r.problems;
  j["notes"] = r.notes;
  j["lines"] = r.lines;
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string ReportText(const DiagnoseReport& r, const std::vector<StepAttempt>& attempts) {
  std::string o;
  for (const auto& p : r.problems) o += "problem: " + p + "\n";
  for (const auto& n : r.notes) o += "note: " + n + "\n";
  if (r.findings.empty())
    o += fmt::format("No known problem in {} line{} from {} source{}.\n", r.lines,
                     r.lines == 1 ? "" : "s", r.sources.size(), r.sources.size() == 1 ? "" : "s");
  for (const auto& f : r.findings) {
    std::string span;
    if (f.first_seen && f.last_seen)
      span = *f.first_seen == *f.last_seen
                 ? Iso(f.first_seen)
                 : fmt::format("{} .. {}", Iso(f.first_seen), Iso(f.last_seen));
    std::string label(SeverityName(f.severity));
    for (char& c : label) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    o += fmt::format("\n{} {}: {}\n", label, f.signature, f.summary);
    o += fmt::format("  seen {} time{}{}\n", f.count, f.count == 1 ? "" : "s",
                     span.empty() ? "" : ", " + span);
    if (!f.suspects.empty()) {
      o += "  suspects (in use just before):\n";
      for (const auto& s : f.suspects)
        o += fmt::format("    {} ({}:{})\n", s.what, s.evidence.file, s.evidence.line);
    }
    o += "  evidence:\n";
    for (const auto& e : f.evidence) o += fmt::format("    {}:{}: {}\n", e.file, e.line, e.text);
    if (!f.explanation.empty()) o += "  what it means: " + f.explanation + "\n";
    if (!f.runbook.empty()) {
      o += "  runbook:\n";
      for (size_t i = 0; i < f.runbook.size(); ++i) {
        const auto& s = f.runbook[i];
        const StepAttempt* a = LatestAttempt(attempts, f.signature, static_cast<int>(i + 1));
        o += fmt::format("    {}. {}{}\n", i + 1, s.step, a ? "  " + TriedMark(*a) : "");
        if (!s.command.empty())
          o += fmt::format("       $ {}   ({})\n", s.command, RiskName(ShownRisk(s)));
      }
      int next = NextStep(f, attempts);
      if (next > 0 && next > 1)
        o += fmt::format("  next: step {} ({})\n", next, f.runbook[next - 1].step);
      else if (next == 0)
        o += "  every step has been tried: run `mamori diagnose --context` and take the bundle to "
             "someone who can help\n";
      o += fmt::format(
          "  record a result: mamori runbook done {} STEP --result ok|failed "
          "[--note TEXT]\n",
          f.signature);
    }
  }
  if (!r.novel.empty()) {
    o += "\nNovel (error-looking lines no rule knows):\n";
    for (const auto& n : r.novel) {
      o += fmt::format("  {} line{}: {}\n", n.count, n.count == 1 ? "" : "s", n.template_text);
      if (!n.evidence.empty())
        o += fmt::format("    e.g. {}:{}: {}\n", n.evidence[0].file, n.evidence[0].line,
                         n.evidence[0].text);
    }
  }
  return o;
}

std::string ContextBundle(const DiagnoseReport& r, const std::vector<StepAttempt>& attempts,
                          const std::string& data_dir, WallTime now) {
  std::string o = "## Incident context (mamori diagnose --context)\n";
  o += fmt::format("time: {}\n", Iso(now));
  o += HostFacts();

  o += "\n### Failing checks\n";
  SystemClock clock;
  auto store = Store::Open(data_dir, clock, Store::OpenMode::kReadOnly);
  if (!store.ok()) {
    o += fmt::format("(no check history in {})\n", data_dir);
  } else if (auto snaps = (*store)->LoadSnapshots(); snaps.ok()) {
    size_t n = 0;
    for (const auto& s : *snaps) {
      if (s.last == CheckStatus::kOk) continue;
      ++n;
      o += fmt::format("- {} ({}): {} - {}{}\n", s.name, s.type, StatusLabel(s.last), s.summary,
                       s.hard ? fmt::format(" (since {})", Iso(s.hard_since)) : "");
    }
    if (n == 0) o += "(none: every check passes)\n";
  } else {
    o += fmt::format("(cannot read the check history: {})\n", snaps.error().message());
  }

  o += "\n### Findings from the logs\n";
  if (r.findings.empty()) o += "(none)\n";
  size_t i = 0;
  for (const auto& f : r.findings) {
    if (++i > 10) {
      o += fmt::format("... and {} more\n", r.findings.size() - 10);
      break;
    }
    o += fmt::format("{}. [{}] {}: {} ({}x, last {})\n", i, SeverityName(f.severity), f.signature,
                     f.summary, f.count, f.last_seen ? Iso(f.last_seen) : "unknown");
    for (const auto& s : f.suspects) o += fmt::format("   suspect: {}\n", s.what);
    size_t shown = 0;
    for (const auto& e : f.evidence) {
      if (++shown > 3) break;
      o += fmt::format("   {}:{}: {}\n", e.file, e.line, e.text);
    }
    bool any = false;
    for (size_t k = 0; k < f.runbook.size(); ++k) {
      if (const StepAttempt* a = LatestAttempt(attempts, f.signature, static_cast<int>(k + 1))) {
        if (!any) o += "   already tried:\n";
        any = true;
        o += fmt::format("   - step {} \"{}\": {} at {}{}\n", k + 1, f.runbook[k].step,
                         a->ok ? "ok" : "FAILED", Iso(a->time),
                         a->note.empty() ? "" : " - " + a->note);
      }
    }
    int next = NextStep(f, attempts);
    if (next > 0)
      o += fmt::format("   next untried step {}: {}\n", next, f.runbook[next - 1].step);
    else if (!f.runbook.empty())
      o += "   every runbook step has been tried\n";
  }
  if (!r.novel.empty()) {
    o += "\n### Unrecognised error lines\n";
    for (const auto& n : r.novel)
      o += fmt::format("- {}x {}\n", n.count, n.template_text.substr(0, 300));
  }
  o += "\n### Everything tried (oldest first)\n";
  if (attempts.empty()) o += "(nothing recorded with `mamori runbook done`)\n";
  size_t start = attempts.size() > 50 ? attempts.size() - 50 : 0;
  for (size_t k = start; k < attempts.size(); ++k) {
    const auto& a = attempts[k];
    o += fmt::format("- {} {} step {}: {}{}\n", Iso(a.time), a.finding, a.step,
                     a.ok ? "ok" : "failed", a.note.empty() ? "" : " - " + a.note);
  }
  if (!r.problems.empty()) {
    o += "\n### Logs that could not be read\n";
    for (const auto& p : r.problems) o += "- " + p + "\n";
  }
  return o;
}

namespace {

// This boot's start: its first entry in the journal where the journal has
// this boot, else the kernel's btime. In a container /proc/stat's btime is
// the host's boot, hours before the container's own; taking it would count
// the container's earlier boots as this one, and find no boot before it.
Result<WallTime> ThisBootStart() {
  sd_id128_t id{};
  char text[SD_ID128_STRING_MAX];
  if (sd_id128_get_boot(&id) >= 0)
    if (auto cur = FindJournalBoot(sd_id128_to_string(id, text)); cur.ok() && *cur)
      return (*cur)->first;
  return CurrentBootStart();
}

// --since: a duration back from now ("2h"), "boot" (this boot's start) or
// "previous-boot" (from the previous boot's first journal entry to this
// boot's start).
Status ResolveSince(const std::string& since, DiagnoserOptions& dopt) {
  if (since != "boot" && since != "previous-boot") {
    auto d = ParseDuration(since);
    if (!d.ok()) return Error(d.error().message() + " (or say 'boot' or 'previous-boot')");
    dopt.since = dopt.now - std::chrono::duration_cast<WallTime::duration>(*d);
    return Status::Ok();
  }
  auto start = ThisBootStart();
  if (!start.ok()) return start.error();
  if (since == "boot") {
    dopt.since = *start;
    return Status::Ok();
  }
  auto previous = JournalBootBefore(*start);
  if (!previous.ok()) return previous.error();
  if (!*previous)
    return Error(
        "the journal holds no earlier boot (journald keeps only this one where its storage is "
        "volatile: set Storage=persistent in journald.conf); use a duration such as 1d");
  dopt.since = (*previous)->first;
  dopt.until = *start;
  return Status::Ok();
}

// The paths given on the command line that cannot be read, each as
// "PATH: reason". A log the user names and we cannot open is an error, never
// an empty (healthy-looking) report.
std::vector<std::string> UnreadablePaths(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths)
    if (access(p.c_str(), R_OK) != 0) out.push_back(fmt::format("{}: {}", p, std::strerror(errno)));
  return out;
}

}  // namespace

int CollectDiagnosis(const DiagnoseCommandOptions& opt, std::ostream& err, DiagnosisRun* run) {
  DiagnoserOptions dopt;
  dopt.now = std::chrono::system_clock::now();
  dopt.max_evidence = opt.max_evidence;
  if (!opt.since.empty()) {
    if (Status s = ResolveSince(opt.since, dopt); !s.ok()) {
      err << "mamori diagnose: --since " << opt.since << ": " << s.error().message() << "\n";
      return kExitUsage;
    }
  }
  const std::vector<std::string> unreadable = UnreadablePaths(opt.paths);
  for (const auto& u : unreadable) err << "mamori diagnose: " << u << "\n";
  if (!opt.paths.empty() && unreadable.size() == opt.paths.size()) return kExitNoInput;
  auto scanner = LoadScanner(opt.rule_dirs, opt.cache_dir);
  if (!scanner.ok()) {
    err << "mamori diagnose: cannot load the rules:\n" << scanner.error().message() << "\n";
    return kExitUnknown;
  }
  Diagnoser d(**scanner, dopt);
  std::vector<std::string> problems;
  const bool defaults = opt.paths.empty();
  auto files = ExpandLogPaths(defaults ? DefaultLogPaths() : opt.paths, defaults, &problems);
  for (auto& p : problems) d.AddProblem(std::move(p));
  DiagnoseFiles(files, &d);
  if (defaults && opt.journal) DiagnoseJournal(dopt.since, kMaxJournalEntries, &d);
  run->report = d.Finish();
  run->now = dopt.now;
  run->unreadable = !unreadable.empty();
  DiagnoseReport& report = run->report;
  std::vector<StepAttempt>& attempts = run->attempts;
  if (!opt.data_dir.empty()) {
    auto log = RunbookLog::Open(opt.data_dir, false);
    if (log.ok()) {
      if (auto a = (*log)->Attempts(); a.ok())
        attempts = std::move(a).value();
      else
        report.problems.push_back("runbook log: " + a.error().message());
    } else {
      report.problems.push_back("runbook log: " + log.error().message());
    }
  }
  return -1;
}

int RunDiagnoseCommand(const DiagnoseCommandOptions& opt, std::ostream& out, std::ostream& err) {
  DiagnosisRun run;
  if (int code = CollectDiagnosis(opt, err, &run); code >= 0) return code;
  const DiagnoseReport& report = run.report;
  const std::vector<StepAttempt>& attempts = run.attempts;
  if (opt.context)
    out << ContextBundle(report, attempts, opt.data_dir, run.now);
  else if (opt.json)
    out << ReportJson(report, attempts);
  else
    out << ReportText(report, attempts);
  if (run.unreadable) return kExitNoInput;
  if (report.sources.empty() && !report.problems.empty()) return kExitUnknown;
  return ExitFor(report);
}

int RunRunbookDone(const RunbookDoneOptions& opt, std::ostream& out, std::ostream& err) {
  if (opt.result != "ok" && opt.result != "failed") {
    err << "mamori runbook done: --result must be ok or failed\n";
    return kExitUsage;
  }
  if (opt.step < 1) {
    err << "mamori runbook done: STEP is the step's number as diagnose prints it (1, 2, ...)\n";
    return kExitUsage;
  }
  std::vector<RunbookStep> steps;
  bool known = false;
  if (auto rules = LoadRules(opt.rule_dirs); rules.ok()) {
    if (const Signature* s = rules->Find(opt.finding)) {
      steps = s->runbook;
      known = true;
    }
  }
  if (!known && opt.finding == kUncleanShutdownId) {
    steps = DefaultUncleanShutdownRunbook();
    known = true;
  }
  if (!known) {
    err << fmt::format(
        "mamori runbook done: no finding '{}' in the rules; use the id diagnose prints "
        "(e.g. mariadb.innodb-page-corrupted)\n",
        opt.finding);
    return kExitUsage;
  }
  if (static_cast<size_t>(opt.step) > steps.size()) {
    err << fmt::format("mamori runbook done: {} has {} step{}; there is no step {}\n", opt.finding,
                       steps.size(), steps.size() == 1 ? "" : "s", opt.step);
    return kExitUsage;
  }
  auto log = RunbookLog::Open(opt.data_dir, true);
  if (!log.ok()) {
    err << "mamori runbook done: " << log.error().message() << "\n";
    return kExitUnknown;
  }
  StepAttempt a;
  a.finding = opt.finding;
  a.step = opt.step;
  a.ok = opt.result == "ok";
  a.note = opt.note;
  a.time = std::chrono::system_clock::now();
  if (Status s = (*log)->Record(a); !s.ok()) {
    err << "mamori runbook done: " << s.error().message() << "\n";
    return kExitUnknown;
  }
  out << fmt::format("recorded: {} step {} ({}) {}\n", opt.finding, opt.step,
                     steps[opt.step - 1].step, a.ok ? "ok" : "failed");
  auto all = (*log)->Attempts(opt.finding);
  if (all.ok()) {
    for (size_t i = 0; i < steps.size(); ++i) {
      if (!LatestAttempt(*all, opt.finding, static_cast<int>(i + 1))) {
        out << fmt::format("next untried: step {} ({})\n", i + 1, steps[i].step);
        return 0;
      }
    }
    out << "every step of this runbook has been tried\n";
  }
  return 0;
}

}  // namespace mamori::logs
