#include "mamori/cli/report_command.h"

#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "mamori/config/diagnostics.h"
#include "mamori/daemon/report_entries.h"
#include "mamori/store/store.h"

namespace mamori::cli {
namespace {

struct ReportArgs {
  std::string file, data_dir, since = "30d", format = "text", incident;
  std::vector<std::string> checks;
  CLI::App* incident_command = nullptr;
};

// --since: a window (30d, 24h, 90m) or a time (RFC 3339, unix seconds).
Result<Duration> SinceWindow(const std::string& text, WallTime now) {
  if (auto w = faces::ParseWindow(text); w.ok()) return *w;
  if (auto t = faces::ParseTime(text); t.ok() && *t < now) return Duration(now - *t);
  return Error(fmt::format(
      "--since '{}' is neither a window (24h, 7d, 30d) nor a past time (2026-12-01T00:00:00Z)",
      text));
}

// The configured checks, or those named by --check (each must exist).
Result<std::vector<std::string>> ChosenChecks(const Config& config,
                                              const std::vector<std::string>& wanted) {
  std::vector<std::string> names;
  for (const auto& c : config.checks) names.push_back(c.name);
  if (wanted.empty()) return names;
  for (const auto& w : wanted) {
    if (std::find(names.begin(), names.end(), w) != names.end()) continue;
    const std::string near = config::ClosestMatch(w, names);
    return Error(fmt::format("no check named '{}' in {}{}", w, config.file,
                             near.empty() ? "" : "; did you mean '" + near + "'?"));
  }
  return wanted;
}

int RunReport(const ReportArgs& a) {
  auto usage = [](const std::string& message) {
    std::cerr << "mamori report: " << message << "\n";
    return kExitUsage;
  };
  auto format = faces::ParseReportFormat(a.format);
  if (!format.ok()) return usage(format.error().message());
  SystemClock clock;
  const WallTime now = clock.Now();
  auto window = SinceWindow(a.since, now);
  if (!window.ok()) return usage(window.error().message());
  auto config = LoadOrReport(a.file, a.data_dir);
  if (!config) return kExitUnknown;
  auto checks = ChosenChecks(*config, a.checks);
  if (!checks.ok()) return usage(checks.error().message());
  auto store = Store::Open(config->data_dir, clock, Store::OpenMode::kReadOnly);
  if (!store.ok()) {
    std::cerr << "mamori report: " << store.error().message() << "\n";
    return kExitUnknown;
  }
  faces::ReadModel model(**store, clock);
  std::vector<std::string> warnings;
  const bool one = a.incident_command->parsed();
  // A post-mortem may be about an incident older than the window.
  const WallTime since = one ? now - faces::ReadModel::kMaxRange
                             : now - std::chrono::duration_cast<WallTime::duration>(*window);
  const auto entries = GatherReportEntries(config->data_dir, since, {}, &warnings);
  for (const auto& w : warnings) std::cerr << "mamori report: " << w << "\n";
  if (one) {
    auto p = faces::BuildPostMortem(model, **store, a.incident, *checks, entries);
    if (!p.ok()) return usage(p.error().message());
    std::cout << faces::RenderPostMortem(*p, *format);
    return 0;
  }
  faces::ReportOptions options{a.since, *window, *checks};
  auto r = faces::BuildReport(model, options, entries, now);
  if (!r.ok()) {
    std::cerr << "mamori report: " << r.error().message() << "\n";
    return kExitUnknown;
  }
  std::cout << faces::RenderReport(*r, *format);
  return 0;
}

}  // namespace

Verb AddReport(CLI::App& app) {
  auto a = std::make_shared<ReportArgs>();
  auto* report = app.add_subcommand(
      "report",
      "Availability per check and the incidents of a window, each with its timeline (first\n"
      "failure, alert sent, acknowledgement, recovery, time to recover); `report incident ID`\n"
      "prints one incident as a post-mortem draft. Works whether or not the daemon runs.\n"
      "  mamori report -c /etc/mamori/mamori.yaml --since 7d --format md\n"
      "  mamori report -c /etc/mamori/mamori.yaml incident 5f0c2a4e9d1b7c33");
  report->add_option("-c,--config", a->file,
                     "Configuration file (default: the embedded zero-config default)");
  report->add_option("--data-dir", a->data_dir, "Override data_dir from the configuration");
  report
      ->add_option("--since", a->since,
                   "How far back: a window (24h, 7d, 30d; default 30d) or a time")
      ->capture_default_str();
  report->add_option("--check", a->checks, "Only these checks (repeatable)");
  report->add_option("--format", a->format, "text, md, html or json (docs/report.md)")
      ->check(CLI::IsMember({"text", "md", "html", "json"}))
      ->capture_default_str();
  report->require_subcommand(0, 1);
  a->incident_command = report->add_subcommand(
      "incident", "One incident as a post-mortem draft (ids: mamori report)");
  a->incident_command->add_option("id", a->incident, "The incident's id")->required();
  a->incident_command->fallthrough(true);
  return {report, [a] { return RunReport(*a); }};
}

}  // namespace mamori::cli
