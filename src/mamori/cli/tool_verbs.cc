// The verbs that work on files and the daemon's records: logs (mine,
// evaluate, scan), notify (test, log), backup (verify, list), diagnose,
// runbook done and ack. Their logic lives with their domain; this file only
// wires the command line to it.
#include <iostream>

#include "mamori/backup/list_command.h"
#include "mamori/backup/verify_command.h"
#include "mamori/cli/ack_command.h"
#include "mamori/cli/ask_verbs.h"
#include "mamori/cli/verbs.h"
#include "mamori/daemon/default_config.h"
#include "mamori/logs/diagnose_command.h"
#include "mamori/logs/mine_command.h"
#include "mamori/logs/scan_command.h"
#include "mamori/notify/log_command.h"
#include "mamori/notify/test_command.h"
#include "mamori_source_dir.h"

namespace mamori::cli {
namespace {

// The data_dir of diagnose and runbook done: --data-dir, else the one of -c
// FILE, else the default. Returns false when FILE does not load.
bool ResolveDataDir(const std::string& file, std::string& dir) {
  if (dir.empty() && !file.empty()) {
    auto config = LoadOrReport(file, "");
    if (!config) return false;
    dir = config->data_dir;
  }
  if (dir.empty()) dir = DefaultDataDir();
  return true;
}

}  // namespace

std::vector<Verb> AddLogs(CLI::App& app) {
  struct Args {
    std::vector<std::string> mine_files;
    std::string mine_format = "csv";
    std::string loghub_dir = std::string(MAMORI_SOURCE_DIR) + "/../shared/loghub";
    logs::ScanOptions scan;
  };
  auto a = std::make_shared<Args>();
  auto* logs = AddGroup(app, "logs", "Work with log files");
  auto* mine = logs->add_subcommand(
      "mine", "Group log lines into templates; prints LineId,EventId,EventTemplate");
  mine->add_option("--format", a->mine_format, "Output format (csv)")
      ->check(CLI::IsMember({"csv"}));
  mine->add_option("files", a->mine_files, "Log files (raw lines, any format)")->required();
  auto* evaluate = logs->add_subcommand("evaluate",
                                        "Measure template mining against labelled Loghub samples "
                                        "(Group Accuracy per dataset)");
  evaluate->add_option("loghub,--loghub", a->loghub_dir,
                       "Directory holding <Dataset>/<Dataset>_2k.log[_structured.csv]");
  // logs scan (signature knowledge base)
  auto* scan = logs::AddScanSubcommand(logs, &a->scan);
  return {
      {mine,
       [a] { return logs::RunMineCommand(a->mine_files, a->mine_format, std::cout, std::cerr); }},
      {evaluate, [a] { return logs::RunMineEvaluate(a->loghub_dir, std::cout); }},
      {scan, [a] { return logs::RunScanCommand(a->scan, std::cout, std::cerr); }},
  };
}

std::vector<Verb> AddNotify(CLI::App& app) {
  struct Args {
    std::string test_file, test_channel, log_file;
    notify::NotifyLogOptions log;
  };
  auto a = std::make_shared<Args>();
  auto* notify = AddGroup(app, "notify", "Work with notification channels");
  auto* test = notify->add_subcommand(
      "test", "Send a test notification through each channel and print the server's answer");
  test->add_option("-c,--config", a->test_file, "Configuration file (YAML)")->required();
  test->add_option("channel", a->test_channel, "Only this channel");
  auto* log = notify->add_subcommand(
      "log", "Delivery attempts with each receiver's answer (newest first), and what waits");
  log->add_option("-c,--config", a->log_file, "Configuration file (for data_dir)");
  log->add_option("--data-dir", a->log.data_dir, "Where outbox.db lives");
  log->add_option("--channel", a->log.channel, "Only this channel");
  log->add_option("-n,--limit", a->log.limit, "Attempts shown (default 50)")
      ->check(CLI::Range(1, 100000));
  log->add_flag("--json", a->log.json, "Print JSON");
  auto run_test = [a] {
    auto config = LoadOrReport(a->test_file, "");
    if (!config) return kExitUnknown;
    return notify::RunNotifyTest(config->notify, a->test_channel, std::cout, std::cerr);
  };
  auto run_log = [a] {
    if (a->log.data_dir.empty()) {
      auto config = LoadOrReport(a->log_file, "");
      if (!config) return kExitUnknown;
      a->log.data_dir = config->data_dir;
    }
    return notify::RunNotifyLog(a->log, std::cout, std::cerr);
  };
  return {{test, run_test}, {log, run_log}};
}

std::vector<Verb> AddBackup(CLI::App& app) {
  struct Args {
    backup::VerifyCommandArgs verify;
    backup::ListCommandArgs list;
  };
  auto a = std::make_shared<Args>();
  auto* backup_cmd = AddGroup(app, "backup", "Verify backups");
  auto* verify = backup::AddVerifyCommand(backup_cmd, &a->verify);
  auto* list = backup::AddListCommand(backup_cmd, &a->list);
  auto run_list = [a] {
    auto config = LoadOrReport(a->list.config_file, a->list.data_dir);
    if (!config) return kExitUnknown;
    SystemClock clock;
    return backup::RunBackupList(config->data_dir, a->list.check, a->list.json, clock, std::cout,
                                 std::cerr);
  };
  return {{verify, [a] { return backup::RunVerifyCommand(a->verify, std::cout, std::cerr); }},
          {list, run_list}};
}

// diagnose (logic in logs/diagnose_command.h)
Verb AddDiagnose(CLI::App& app) {
  struct Args {
    logs::DiagnoseCommandOptions opts;
    std::string file, data_dir;
    bool ask = false;
  };
  auto a = std::make_shared<Args>();
  auto* diagnose = app.add_subcommand(
      "diagnose",
      "Read logs and say what broke: findings ranked by severity and recency, with evidence,\n"
      "explanation and runbook. With no FILE|DIR: this machine's usual logs and the journal.");
  diagnose->add_flag("--json", a->opts.json,
                     "Print JSON ({\"findings\": [...], \"novel\": [...]})");
  diagnose->add_option("--since", a->opts.since,
                       "Only lines newer than this: a duration (2h), boot or previous-boot");
  diagnose->add_option("--rules", a->opts.rule_dirs,
                       "Rule directory or file, or @builtin (repeatable; default: the shipped "
                       "rules and /etc/mamori/rules.d)");
  diagnose->add_flag("--context", a->opts.context,
                     "Print a compact incident bundle (host, failing checks, findings, steps "
                     "tried) for a ticket");
  diagnose->add_option("-c,--config", a->file, "Configuration file (for data_dir)");
  diagnose->add_option("--data-dir", a->data_dir, "Where runbook.db and the store live");
  diagnose->add_option("paths", a->opts.paths, "Log files or directories");
  diagnose->add_flag("--ask", a->ask,
                     "Send the findings (redacted) to the configured assistant and print its "
                     "answer (see `mamori ask`)");
  return {diagnose, [a] {
            if (a->ask)
              return RunAsk("What is wrong on this server, and what should I do next?", a->file,
                            a->data_dir, false, a->opts);
            if (!ResolveDataDir(a->file, a->data_dir)) return kExitUnknown;
            a->opts.data_dir = a->data_dir;
            return logs::RunDiagnoseCommand(a->opts, std::cout, std::cerr);
          }};
}

// runbook done (logic in logs/diagnose_command.h)
Verb AddRunbookDone(CLI::App& app) {
  struct Args {
    logs::RunbookDoneOptions opts;
    std::string file, data_dir;
  };
  auto a = std::make_shared<Args>();
  auto* runbook = AddGroup(app, "runbook", "Record what was tried from a runbook");
  auto* done = runbook->add_subcommand(
      "done", "Record a runbook step's outcome; diagnose then marks it and offers the next");
  done->add_option("finding", a->opts.finding, "Finding id, as diagnose prints it")->required();
  done->add_option("step", a->opts.step, "Step number, as diagnose prints it")->required();
  done->add_option("--result", a->opts.result, "ok or failed")
      ->required()
      ->check(CLI::IsMember({"ok", "failed"}));
  done->add_option("--note", a->opts.note, "What happened, in a few words");
  done->add_option("--rules", a->opts.rule_dirs,
                   "Rule directory or file, or @builtin (repeatable; default: the shipped rules "
                   "and /etc/mamori/rules.d)");
  done->add_option("-c,--config", a->file, "Configuration file (for data_dir)");
  done->add_option("--data-dir", a->data_dir, "Where runbook.db lives");
  return {done, [a] {
            if (!ResolveDataDir(a->file, a->data_dir)) return kExitUnknown;
            a->opts.data_dir = a->data_dir;
            return logs::RunRunbookDone(a->opts, std::cout, std::cerr);
          }};
}

// ack (cli/ack_command.h)
Verb AddAck(CLI::App& app) {
  auto ack = std::make_shared<notify::AckOptions>();
  notify::AddAckCommand(app, *ack);
  return {ack->command, [ack] { return notify::RunAckCommand(*ack, std::cout, std::cerr); }};
}

}  // namespace mamori::cli
