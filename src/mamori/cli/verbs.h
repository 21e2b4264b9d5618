// The verbs of the command line, one Add<Verb>() each: it adds the verb's
// subcommand (and its options) to the app and returns what runs when the verb
// is chosen. cli::Main adds them in help order, parses, and runs the chosen
// one. Grouped by file: check_verbs.cc (doctor, check, config validate,
// check-types, status), daemon_verbs.cc (run, heartbeat new, exec) and
// tool_verbs.cc (logs, notify, backup, diagnose, runbook, ack); completion.cc
// (completion, generated from the parser itself).
//
// Ownership: each verb's options live in the returned Verb (its `run` holds
// them), so keep the Verb alive until after app.parse(). Single-threaded.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mamori/daemon/config_file.h"

namespace mamori::cli {

inline constexpr int kExitUsage = 64;   // sysexits.h EX_USAGE
inline constexpr int kExitConfig = 78;  // sysexits.h EX_CONFIG (`config validate`)
inline constexpr int kExitUnknown = 3;  // Nagios UNKNOWN: we could not check

// One chosen-or-not subcommand and its action (the process exit code).
struct Verb {
  CLI::App* command = nullptr;
  std::function<int()> run;
};

Verb AddDoctor(CLI::App& app);
Verb AddCheck(CLI::App& app);
Verb AddConfigValidate(CLI::App& app);
Verb AddCheckTypes(CLI::App& app);
Verb AddRun(CLI::App& app);
Verb AddStatus(CLI::App& app);
Verb AddHeartbeatNew(CLI::App& app);
Verb AddExec(CLI::App& app);
std::vector<Verb> AddLogs(CLI::App& app);    // logs mine, logs evaluate, logs scan
std::vector<Verb> AddNotify(CLI::App& app);  // notify test, notify log
std::vector<Verb> AddBackup(CLI::App& app);  // backup verify, backup list
Verb AddDiagnose(CLI::App& app);
Verb AddRunbookDone(CLI::App& app);
Verb AddAck(CLI::App& app);

// A group of verbs (`mamori logs ...`): one of its subcommands is required.
inline CLI::App* AddGroup(CLI::App& app, const std::string& name, const std::string& description) {
  CLI::App* group = app.add_subcommand(name, description);
  group->require_subcommand(1);
  return group;
}

// Loads -c FILE, or the embedded default when `file` is empty. Prints the
// diagnostics and returns null on error.
std::unique_ptr<Config> LoadOrReport(const std::string& file, const std::string& data_dir_override);

}  // namespace mamori::cli
