#include "mamori/cli/commands.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "mamori/cli/ask_verbs.h"
#include "mamori/cli/baseline_command.h"
#include "mamori/cli/completion.h"
#include "mamori/cli/guard_command.h"
#include "mamori/cli/report_command.h"
#include "mamori/cli/verbs.h"
#include "mamori/cli/version.h"
#include "mamori/config/diagnostics.h"

namespace mamori::cli {
namespace {

// A first word that names no verb: CLI11 would only say "A subcommand is
// required", so name the word, suggest the nearest verb and list them all.
bool ReportUnknownVerb(CLI::App& app, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return false;
  const std::string word = argv[1];
  std::vector<std::string> names;
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    names.push_back(sub->get_name());
  if (std::find(names.begin(), names.end(), word) != names.end()) return false;
  const std::string near = config::ClosestMatch(word, names);
  std::cerr << "mamori: unknown command '" << word << "'"
            << (near.empty() ? "" : "; did you mean '" + near + "'?") << "\nCommands:";
  for (const auto& n : names) std::cerr << " " << n;
  std::cerr << "\nRun 'mamori --help' for what each does.\n";
  return true;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{
      "mamori: a small, fast watchdog for your own servers.\n"
      "Exit codes follow the Nagios convention: 0 ok, 1 warning, 2 critical, 3 unknown."};
  // CLI11 ends the text with its own newline.
  app.set_version_flag("--version", std::function<std::string()>([] {
                         std::string v = VersionText();
                         if (!v.empty() && v.back() == '\n') v.pop_back();
                         return v;
                       }),
                       "Print the version, the build's git commit and the library versions");
  app.require_subcommand(1);
  app.fallthrough(false);

  // In the order the help lists them.
  std::vector<Verb> verbs;
  for (auto add : {AddDoctor, AddCheck, AddConfigValidate, AddCheckTypes, AddRun, AddStatus,
                   AddHeartbeatNew, AddExec})
    verbs.push_back(add(app));
  for (auto add : {AddLogs, AddNotify, AddBackup})
    for (Verb& v : add(app)) verbs.push_back(std::move(v));
  for (auto add : {AddDiagnose, AddAsk, AddRunbookDone, AddAck, AddBaseline})
    verbs.push_back(add(app));
  for (auto add : {AddGuard, AddPrompt}) verbs.push_back(add(app));
  verbs.push_back(AddReport(app));
  verbs.push_back(AddCompletion(app));

  if (ReportUnknownVerb(app, argc, argv)) return kExitUsage;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  for (const Verb& v : verbs)
    if (*v.command) return v.run();
  return kExitUsage;
}

}  // namespace mamori::cli
