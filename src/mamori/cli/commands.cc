#include "mamori/cli/commands.h"

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "mamori/cli/baseline_command.h"
#include "mamori/cli/verbs.h"

namespace mamori::cli {

int Main(int argc, char** argv) {
  CLI::App app{
      "mamori: a small, fast watchdog for your own servers.\n"
      "Exit codes follow the Nagios convention: 0 ok, 1 warning, 2 critical, 3 unknown."};
  app.set_version_flag("--version", std::string("mamori ") + MAMORI_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  // In the order the help lists them.
  std::vector<Verb> verbs;
  for (auto add : {AddDoctor, AddCheck, AddConfigValidate, AddCheckTypes, AddRun, AddStatus,
                   AddHeartbeatNew, AddExec})
    verbs.push_back(add(app));
  for (auto add : {AddLogs, AddNotify, AddBackup})
    for (Verb& v : add(app)) verbs.push_back(std::move(v));
  for (auto add : {AddDiagnose, AddRunbookDone, AddAck}) verbs.push_back(add(app));
  AddBaselineCommand(app);  // runs and exits from its own callback

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
