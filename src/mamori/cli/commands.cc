#include "mamori/cli/commands.h"

#include <fmt/format.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstdio>
#include <iostream>

#include <spdlog/spdlog.h>
#include <algorithm>
#include "mamori/backup/list_command.h"
#include "mamori/backup/verify_command.h"
#include "mamori/cli/ack_command.h"
#include "mamori/cli/baseline_command.h"
#include "mamori/cli/output.h"
#include "mamori/daemon/config_file.h"
#include "mamori/daemon/daemon.h"
#include "mamori/daemon/default_config.h"
#include "mamori/engine/runner.h"
#include "mamori/heartbeat/exec.h"
#include "mamori/heartbeat/heartbeat_book.h"
#include "mamori/logs/diagnose_command.h"
#include "mamori/logs/mine_command.h"
#include "mamori/logs/scan_command.h"
#include "mamori/net/http_client.h"
#include "mamori/notify/log_command.h"
#include "mamori/notify/notification.h"
#include "mamori/notify/test_command.h"
#include "mamori/store/store.h"
#include "mamori/util/units.h"
#include "mamori_source_dir.h"

namespace mamori::cli {
namespace {

constexpr int kExitUsage = 64;   // sysexits.h EX_USAGE
constexpr int kExitConfig = 78;  // sysexits.h EX_CONFIG (`config validate`)
constexpr int kExitUnknown = 3;  // Nagios UNKNOWN: we could not check

std::string Dump(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool UsesType(const Config& c, std::string_view type) {
  for (const auto& k : c.checks)
    if (k.type == type) return true;
  return false;
}

// Loads -c FILE, or the embedded default when `file` is empty. Prints the
// diagnostics and returns null on error.
std::unique_ptr<Config> LoadOrReport(const std::string& file,
                                     const std::string& data_dir_override) {
  ConfigLoad load = file.empty()
                        ? LoadConfigText(DefaultConfigYaml(DefaultDataDir()), "<embedded default>")
                        : LoadConfigFile(file);
  if (!load.config) {
    std::cerr << load.diagnostics.ToString();
    std::cerr << fmt::format("mamori: {} error{} in {}\n", load.diagnostics.size(),
                             load.diagnostics.size() == 1 ? "" : "s",
                             file.empty() ? "the embedded default" : file);
    return nullptr;
  }
  if (!data_dir_override.empty()) load.config->data_dir = data_dir_override;
  return std::move(load.config);
}

// The heartbeat book as the daemon left it in the store, for these checks.
std::unique_ptr<heartbeat::HeartbeatBook> BookFromStore(Store& store,
                                                        const std::vector<CheckConfig>& checks) {
  auto book = std::make_unique<heartbeat::HeartbeatBook>();
  for (const auto& c : checks) {
    if (c.type != "heartbeat") continue;
    auto pings = store.Pings(c.name, heartbeat::HeartbeatBook::kMaxOpenRuns * 4);
    if (!pings.ok()) continue;
    for (auto it = pings->rbegin(); it != pings->rend(); ++it) book->Add(*it);
  }
  return book;
}

// Summaries that speak of time ("last success 3m ago") are computed now, not
// when the daemon last ran the check: heartbeats are judged again from the
// stored pings (their status stays the daemon's).
void RefreshTimeSummaries(Store& store, const Config& config, std::vector<ResultRow>& rows) {
  std::vector<CheckConfig> beats;
  std::vector<size_t> at;
  for (size_t i = 0; i < config.checks.size() && i < rows.size(); ++i)
    if (config.checks[i].type == "heartbeat" && rows[i].summary != "not checked yet") {
      beats.push_back(config.checks[i]);
      at.push_back(i);
    }
  if (beats.empty()) return;
  auto book = BookFromStore(store, beats);
  ProbeServices services;
  services.Provide(book.get());
  SystemClock clock;
  auto fresh = RunChecksOnce(beats, config.data_dir, clock, nullptr, services);
  for (size_t k = 0; k < fresh.size(); ++k) rows[at[k]].summary = fresh[k].summary;
}

int RunOnceAndPrint(const Config& config, bool json, const std::vector<std::string>& only) {
  Config subset;
  const Config* use = &config;
  if (!only.empty()) {
    subset.file = config.file;
    subset.data_dir = config.data_dir;
    for (const auto& name : only) {
      const CheckConfig* c = config.FindCheck(name);
      if (!c) {
        std::cerr << fmt::format("mamori: no check named '{}' in {}\n", name, config.file);
        return kExitUnknown;
      }
      subset.checks.push_back(*c);
    }
    use = &subset;
  }
  SystemClock clock;
  std::unique_ptr<HttpClient> http;
  if (UsesType(*use, "http")) http = MakeCurlHttpClient();
  // Heartbeats are judged from the pings the daemon stored, when it has run.
  std::unique_ptr<heartbeat::HeartbeatBook> heartbeats;
  if (UsesType(*use, "heartbeat"))
    if (auto store = Store::Open(use->data_dir, clock, Store::OpenMode::kReadOnly); store.ok())
      heartbeats = BookFromStore(**store, use->checks);
  ProbeServices services;
  services.Provide(heartbeats.get());
  std::vector<Observation> obs =
      RunChecksOnce(use->checks, use->data_dir, clock, http.get(), services);
  std::vector<ResultRow> rows;
  for (size_t i = 0; i < obs.size(); ++i)
    rows.push_back(RowFromObservation(use->checks[i].name, use->checks[i].type, obs[i]));
  if (json) {
    std::cout << Dump(ToJson(rows)) << "\n";
  } else {
    std::cout << FormatTable(rows, isatty(STDOUT_FILENO));
  }
  return ExitCode(WorstStatus(rows));
}

int StatusCommand(const std::string& file, const std::string& data_dir, bool json) {
  auto config = LoadOrReport(file, data_dir);
  if (!config) return kExitUnknown;
  SystemClock clock;
  auto store = Store::Open(config->data_dir, clock, Store::OpenMode::kReadOnly);
  if (!store.ok()) {
    std::cerr << "mamori status: " << store.error().message() << "\n";
    return kExitUnknown;
  }
  auto snaps = (*store)->LoadSnapshots();
  if (!snaps.ok()) {
    std::cerr << "mamori status: " << snaps.error().message() << "\n";
    return kExitUnknown;
  }
  std::vector<ResultRow> rows;
  for (const auto& c : config->checks) {
    auto it = std::find_if(snaps->begin(), snaps->end(),
                           [&](const CheckSnapshot& s) { return s.name == c.name; });
    if (it != snaps->end() && it->type == c.type) {
      rows.push_back(RowFromSnapshot(*it));
    } else {
      CheckSnapshot pending;
      pending.name = c.name;
      pending.type = c.type;
      pending.last = CheckStatus::kUnknown;
      pending.summary = "not checked yet";
      rows.push_back(RowFromSnapshot(pending));
    }
  }
  RefreshTimeSummaries(**store, *config, rows);
  // Maintenance windows: checks in one are marked (the table's summary, and a
  // "maintenance" object in the JSON).
  std::vector<std::optional<MaintenanceOccurrence>> held;
  for (const auto& c : config->checks)
    held.push_back(config->maintenance.Covering(c.name, c.tags, clock.Now()));
  if (json) {
    nlohmann::json j = ToJson(rows);
    for (size_t i = 0; i < held.size() && i < j.size(); ++i)
      if (held[i])
        j[i]["maintenance"] = {{"window", held[i]->name},
                               {"start", Rfc3339(held[i]->start)},
                               {"end", Rfc3339(held[i]->end)}};
    std::cout << Dump(j) << "\n";
  } else {
    for (size_t i = 0; i < held.size() && i < rows.size(); ++i)
      if (held[i])
        rows[i].summary = fmt::format("[in maintenance {} until {}] {}", held[i]->name,
                                      notify::FormatWhen(held[i]->end), rows[i].summary);
    std::cout << FormatTable(rows, isatty(STDOUT_FILENO));
  }
  return ExitCode(WorstStatus(rows));
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{
      "mamori: a small, fast watchdog for your own servers.\n"
      "Exit codes follow the Nagios convention: 0 ok, 1 warning, 2 critical, 3 unknown."};
  app.set_version_flag("--version", std::string("mamori ") + MAMORI_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  // doctor
  bool doctor_json = false, print_config = false;
  auto* doctor =
      app.add_subcommand("doctor",
                         "Check this machine with no configuration: filesystems, memory, load, "
                         "TCP listeners, time sync");
  doctor->add_flag("--json", doctor_json, "Print a JSON array instead of a table");
  doctor->add_flag("--print-config", print_config,
                   "Print the generated configuration (a starting point for -c) and exit");

  // check
  std::string check_file;
  bool check_json = false;
  std::vector<std::string> only;
  auto* check =
      app.add_subcommand("check", "Run every configured check once and print the results");
  check->add_option("-c,--config", check_file, "Configuration file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  check->add_flag("--json", check_json, "Print a JSON array instead of a table");
  check->add_option("--only", only, "Run only these checks (repeatable)");

  // config validate
  auto* cfg = app.add_subcommand("config", "Work with configuration files");
  cfg->require_subcommand(1);
  std::string validate_file;
  auto* validate = cfg->add_subcommand(
      "validate", "Exit 0 if the file is valid, else print every error as FILE:LINE:COL");
  validate->add_option("-c,--config", validate_file, "Configuration file (YAML)")->required();
  auto* types = app.add_subcommand("check-types", "List the check types this build knows");

  // run
  std::string run_file, run_data_dir, log_level = "info";
  std::string stats_every = "60s";
  auto* run = app.add_subcommand(
      "run",
      "Run the daemon: schedule every check, keep history in DATA_DIR/mamori.db.\n"
      "SIGHUP reloads the configuration; SIGTERM/SIGINT stop cleanly.");
  run->add_option("-c,--config", run_file,
                  "Configuration file (YAML); default: the embedded default for this machine");
  run->add_option("--data-dir", run_data_dir, "Override data_dir from the configuration");
  run->add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  run->add_option("--stats-interval", stats_every, "How often to log scheduler figures (e.g. 60s)");

  // status
  std::string status_file, status_data_dir;
  bool status_json = false;
  auto* status = app.add_subcommand("status",
                                    "Show the current state of every check, read from the store "
                                    "(works whether or not the daemon runs)");
  status->add_option("-c,--config", status_file,
                     "Configuration file (YAML); default: the embedded default");
  status->add_option("--data-dir", status_data_dir, "Override data_dir from the configuration");
  status->add_flag("--json", status_json, "Print a JSON array instead of a table");

  // heartbeat new
  auto* hb = app.add_subcommand("heartbeat", "Work with heartbeat (dead man's switch) checks");
  hb->require_subcommand(1);
  bool hb_key = false;
  auto* hb_new =
      hb->add_subcommand("new", "Print a fresh random UUID for a heartbeat check's uuid:");
  hb_new->add_flag("--key", hb_key,
                   "Print a fresh api.ping_key instead (for /ping/<key>/<slug> URLs)");

  // exec
  std::string exec_url, exec_check, exec_file;
  std::vector<std::string> exec_argv;
  auto* exec = app.add_subcommand(
      "exec",
      "Run a job and report it to a heartbeat check: /start, the command (output passed through),\n"
      "then its exit code with the output tail. Exits with the command's status.\n"
      "  mamori exec --url http://127.0.0.1:8470/ping/<uuid> -- /usr/local/bin/backup.sh\n"
      "  mamori exec -c /etc/mamori.yaml --check nightly-backup -- /usr/local/bin/backup.sh");
  exec->add_option("--url", exec_url,
                   "The check's ping URL (any healthchecks.io-compatible server)");
  exec->add_option("--check", exec_check, "A heartbeat check in the configuration given with -c");
  exec->add_option("-c,--config", exec_file,
                   "Configuration file, for --check (uses its listen: address)");
  std::string exec_timeout;
  exec->add_option("--timeout", exec_timeout,
                   "Kill the command (its whole process group) after this long, e.g. 2h; exit 124");
  std::string exec_ping_timeout = "10s";
  exec->add_option("--ping-timeout", exec_ping_timeout,
                   "How long each ping may take, retries included (default 10s); the command "
                   "never waits for them");
  exec->add_option("command", exec_argv, "The command and its arguments, after --")->required();

  // logs
  auto* logs = app.add_subcommand("logs", "Work with log files");
  logs->require_subcommand(1);
  std::vector<std::string> mine_files;
  std::string mine_format = "csv";
  auto* mine = logs->add_subcommand(
      "mine", "Group log lines into templates; prints LineId,EventId,EventTemplate");
  mine->add_option("--format", mine_format, "Output format (csv)")->check(CLI::IsMember({"csv"}));
  mine->add_option("files", mine_files, "Log files (raw lines, any format)")->required();
  std::string loghub_dir = std::string(MAMORI_SOURCE_DIR) + "/../shared/loghub";
  auto* evaluate = logs->add_subcommand("evaluate",
                                        "Measure template mining against labelled Loghub samples "
                                        "(Group Accuracy per dataset)");
  evaluate->add_option("loghub,--loghub", loghub_dir,
                       "Directory holding <Dataset>/<Dataset>_2k.log[_structured.csv]");

  // logs scan (signature knowledge base)
  logs::ScanOptions scan_options;
  auto* scan = logs::AddScanSubcommand(logs, &scan_options);

  // notify test
  std::string notify_file, notify_channel;
  auto* notify = app.add_subcommand("notify", "Work with notification channels");
  notify->require_subcommand(1);
  auto* notify_test = notify->add_subcommand(
      "test", "Send a test notification through each channel and print the server's answer");
  notify_test->add_option("-c,--config", notify_file, "Configuration file (YAML)")->required();
  notify_test->add_option("channel", notify_channel, "Only this channel");
  notify::NotifyLogOptions notify_log_opts;
  std::string notify_log_file;
  auto* notify_log = notify->add_subcommand(
      "log", "Delivery attempts with each receiver's answer (newest first), and what waits");
  notify_log->add_option("-c,--config", notify_log_file, "Configuration file (for data_dir)");
  notify_log->add_option("--data-dir", notify_log_opts.data_dir, "Where outbox.db lives");
  notify_log->add_option("--channel", notify_log_opts.channel, "Only this channel");
  notify_log->add_option("-n,--limit", notify_log_opts.limit, "Attempts shown (default 50)")
      ->check(CLI::Range(1, 100000));
  notify_log->add_flag("--json", notify_log_opts.json, "Print JSON");

  // backup verify
  auto* backup_cmd = app.add_subcommand("backup", "Verify backups");
  backup_cmd->require_subcommand(1);
  backup::VerifyCommandArgs backup_verify_args;
  auto* backup_verify = backup::AddVerifyCommand(backup_cmd, &backup_verify_args);
  backup::ListCommandArgs backup_list_args;
  auto* backup_list = backup::AddListCommand(backup_cmd, &backup_list_args);
  // diagnose, runbook done (logic in logs/diagnose_command.h)
  logs::DiagnoseCommandOptions diag_opts;
  std::string diag_file, diag_data_dir;
  auto* diagnose = app.add_subcommand(
      "diagnose",
      "Read logs and say what broke: findings ranked by severity and recency, with evidence,\n"
      "explanation and runbook. With no FILE|DIR: this machine's usual logs and the journal.");
  diagnose->add_flag("--json", diag_opts.json,
                     "Print JSON ({\"findings\": [...], \"novel\": [...]})");
  diagnose->add_option("--since", diag_opts.since, "Only lines newer than this, e.g. 2h");
  diagnose->add_option("--rules", diag_opts.rule_dirs, "Rule directory or file (repeatable)");
  diagnose->add_flag("--context", diag_opts.context,
                     "Print a compact incident bundle (host, failing checks, findings, steps "
                     "tried) for a ticket");
  diagnose->add_option("-c,--config", diag_file, "Configuration file (for data_dir)");
  diagnose->add_option("--data-dir", diag_data_dir, "Where runbook.db and the store live");
  diagnose->add_option("paths", diag_opts.paths, "Log files or directories");
  auto* runbook = app.add_subcommand("runbook", "Record what was tried from a runbook");
  runbook->require_subcommand(1);
  logs::RunbookDoneOptions rb_opts;
  std::string rb_file, rb_data_dir;
  auto* rb_done = runbook->add_subcommand(
      "done", "Record a runbook step's outcome; diagnose then marks it and offers the next");
  rb_done->add_option("finding", rb_opts.finding, "Finding id, as diagnose prints it")->required();
  rb_done->add_option("step", rb_opts.step, "Step number, as diagnose prints it")->required();
  rb_done->add_option("--result", rb_opts.result, "ok or failed")
      ->required()
      ->check(CLI::IsMember({"ok", "failed"}));
  rb_done->add_option("--note", rb_opts.note, "What happened, in a few words");
  rb_done->add_option("--rules", rb_opts.rule_dirs, "Rule directory or file (repeatable)");
  rb_done->add_option("-c,--config", rb_file, "Configuration file (for data_dir)");
  rb_done->add_option("--data-dir", rb_data_dir, "Where runbook.db lives");
  // ack (notify/ack_command.h)
  notify::AckOptions ack;
  notify::AddAckCommand(app, ack);
  AddBaselineCommand(app);  // runs and exits from its own callback

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }

  if (*doctor) {
    if (print_config) {
      std::cout << DefaultConfigYaml(DefaultDataDir());
      return 0;
    }
    auto config = LoadOrReport("", "");
    if (!config) return kExitUnknown;
    return RunOnceAndPrint(*config, doctor_json, {});
  }
  if (*check) {
    auto config = LoadOrReport(check_file, "");
    if (!config) return kExitUnknown;
    return RunOnceAndPrint(*config, check_json, only);
  }
  if (*exec) {
    heartbeat::ExecOptions eo;
    eo.argv = exec_argv;
    if (!exec_timeout.empty()) {
      auto t = ParseDuration(exec_timeout);
      if (!t.ok() || *t <= Duration::zero()) {
        std::cerr << "mamori exec: --timeout: "
                  << (t.ok() ? "must be positive" : t.error().message()) << "\n";
        return kExitUsage;
      }
      eo.command_timeout = *t;
    }
    if (auto t = ParseDuration(exec_ping_timeout); t.ok() && *t > Duration::zero()) {
      eo.ping_timeout = *t;
    } else {
      std::cerr << "mamori exec: --ping-timeout: "
                << (t.ok() ? "must be positive" : t.error().message()) << "\n";
      return kExitUsage;
    }
    if (!exec_url.empty() == !exec_check.empty()) {
      std::cerr << "mamori exec: give exactly one of --url URL or --check NAME (with -c FILE)\n";
      return kExitUsage;
    }
    if (!exec_url.empty()) {
      if (exec_url.rfind("http://", 0) != 0 && exec_url.rfind("https://", 0) != 0) {
        std::cerr << "mamori exec: --url must be an http:// or https:// URL\n";
        return kExitUsage;
      }
      eo.ping_url = exec_url;
    } else {
      if (exec_file.empty()) {
        std::cerr << "mamori exec: --check needs the configuration: add -c FILE\n";
        return kExitUsage;
      }
      auto config = LoadOrReport(exec_file, "");
      if (!config) return kExitUnknown;
      const CheckConfig* c = config->FindCheck(exec_check);
      // The heartbeat files its ping address with a book when attached.
      heartbeat::HeartbeatBook book;
      if (c && c->probe) {
        boost::asio::io_context io;
        boost::asio::thread_pool pool(1);
        SystemClock clock;
        ProbeEnv env{clock, io, pool, nullptr};
        env.services.Provide(&book);
        c->probe->Attach(env);
      }
      auto hb = book.RouteOf(exec_check);
      if (!hb || hb->uuid.empty()) {
        std::cerr << fmt::format("mamori exec: {} has no heartbeat check '{}' with a uuid\n",
                                 exec_file, exec_check);
        return kExitUsage;
      }
      eo.ping_url = fmt::format("http://{}/ping/{}", config->api.listen, hb->uuid);
      eo.max_body = config->api.max_body;
    }
    return heartbeat::RunExec(eo);
  }
  if (*hb_new) {
    if (hb_key) {
      // 16 URL-safe characters drawn from a fresh random UUID.
      std::string u = heartbeat::NewUuid(), key;
      u.erase(std::remove(u.begin(), u.end(), '-'), u.end());
      for (size_t i = 0; i + 1 < u.size() && key.size() < 22; i += 2) {
        static const char kAlphabet[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        key.push_back(kAlphabet[std::stoi(u.substr(i, 2), nullptr, 16) % 64]);
      }
      std::cout << key << "\n";
    } else {
      std::cout << heartbeat::NewUuid() << "\n";
    }
    return 0;
  }
  if (*validate) {
    ConfigLoad load = LoadConfigFile(validate_file);
    if (!load.config) {
      std::cerr << load.diagnostics.ToString();
      std::cerr << fmt::format("{}: {} error{}\n", validate_file, load.diagnostics.size(),
                               load.diagnostics.size() == 1 ? "" : "s");
      return kExitConfig;
    }
    std::cout << fmt::format("{}: valid ({} check{}, data_dir {})\n", validate_file,
                             load.config->checks.size(), load.config->checks.size() == 1 ? "" : "s",
                             load.config->data_dir);
    return 0;
  }
  if (*run) {
    auto every = ParseDuration(stats_every);
    if (!every.ok() || *every <= Duration(0)) {
      std::cerr << "mamori run: --stats-interval: "
                << (every.ok() ? "must be positive" : every.error().message()) << "\n";
      return kExitUsage;
    }
    spdlog::set_level(spdlog::level::from_str(log_level));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
    DaemonOptions opts;
    opts.config_file = run_file;
    opts.data_dir_override = run_data_dir;
    opts.stats_interval = *every;
    SystemClock clock;
    Daemon daemon(opts, clock);
    return daemon.Run();
  }
  if (*notify_test) {
    auto config = LoadOrReport(notify_file, "");
    if (!config) return kExitUnknown;
    return notify::RunNotifyTest(config->notify, notify_channel, std::cout, std::cerr);
  }
  if (*notify_log) {
    if (notify_log_opts.data_dir.empty()) {
      auto config = LoadOrReport(notify_log_file, "");
      if (!config) return kExitUnknown;
      notify_log_opts.data_dir = config->data_dir;
    }
    return notify::RunNotifyLog(notify_log_opts, std::cout, std::cerr);
  }
  if (*backup_verify) return backup::RunVerifyCommand(backup_verify_args, std::cout, std::cerr);
  if (*backup_list) {
    auto config = LoadOrReport(backup_list_args.config_file, backup_list_args.data_dir);
    if (!config) return kExitUnknown;
    SystemClock clock;
    return backup::RunBackupList(config->data_dir, backup_list_args.check, backup_list_args.json,
                                 clock, std::cout, std::cerr);
  }
  if (*diagnose || *rb_done) {
    std::string& file = *diagnose ? diag_file : rb_file;
    std::string dir = *diagnose ? diag_data_dir : rb_data_dir;
    if (dir.empty() && !file.empty()) {
      auto config = LoadOrReport(file, "");
      if (!config) return kExitUnknown;
      dir = config->data_dir;
    }
    if (dir.empty()) dir = DefaultDataDir();
    if (*diagnose) {
      diag_opts.data_dir = dir;
      return logs::RunDiagnoseCommand(diag_opts, std::cout, std::cerr);
    }
    rb_opts.data_dir = dir;
    return logs::RunRunbookDone(rb_opts, std::cout, std::cerr);
  }
  if (*ack.command) return notify::RunAckCommand(ack, std::cout, std::cerr);
  if (*status) return StatusCommand(status_file, status_data_dir, status_json);
  if (*mine) return logs::RunMineCommand(mine_files, mine_format, std::cout, std::cerr);
  if (*evaluate) return logs::RunMineEvaluate(loghub_dir, std::cout);
  if (*scan) return logs::RunScanCommand(scan_options, std::cout, std::cerr);
  if (*types) {
    for (const auto& [name, entry] : BuiltinProbes().entries())
      std::cout << fmt::format("{:<12} {}\n", name, entry.description);
    return 0;
  }
  return kExitUsage;
}

}  // namespace mamori::cli
