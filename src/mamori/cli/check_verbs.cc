// The verbs that run or show checks: doctor, check, config validate,
// check-types, status.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>

#include "mamori/cli/output.h"
#include "mamori/cli/status_freshness.h"
#include "mamori/cli/verbs.h"
#include "mamori/daemon/daemon.h"
#include "mamori/daemon/default_config.h"
#include "mamori/daemon/instance_lock.h"
#include "mamori/engine/runner.h"
#include "mamori/heartbeat/heartbeat_book.h"
#include "mamori/net/http_client.h"
#include "mamori/notify/notification.h"
#include "mamori/notify/stored_acks.h"
#include "mamori/store/store.h"

namespace mamori::cli {
namespace {

std::string Dump(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool UsesType(const Config& c, std::string_view type) {
  for (const auto& k : c.checks)
    if (k.type == type) return true;
  return false;
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

// Narrows `config` to the checks named in `only` (all when empty), in that
// order. An unknown name is reported and returns false.
bool KeepOnly(Config& config, const std::vector<std::string>& only) {
  if (only.empty()) return true;
  std::vector<CheckConfig> kept;
  for (const auto& name : only) {
    const CheckConfig* c = config.FindCheck(name);
    if (!c) {
      std::cerr << fmt::format("mamori: no check named '{}' in {}\n", name, config.file);
      return false;
    }
    kept.push_back(*c);
  }
  config.checks = std::move(kept);
  return true;
}

int RunOnceAndPrint(Config& config, bool json, const std::vector<std::string>& only) {
  if (!KeepOnly(config, only)) return kExitUnknown;
  const Config* use = &config;
  SystemClock clock;
  std::unique_ptr<HttpClient> http;
  if (UsesType(*use, "http")) http = MakeHttpClient();
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

// Acknowledged checks as the daemon saved them (none when unreadable: the
// table still shows, with a note).
std::map<std::string, notify::AckView> AcksByCheck(const std::string& data_dir, WallTime now) {
  std::map<std::string, notify::AckView> out;
  auto acks = notify::StoredAcks(data_dir, now);
  if (!acks.ok()) {
    std::cerr << "mamori status: acknowledgements not shown: " << acks.error().message() << "\n";
    return out;
  }
  for (auto& a : *acks) out[a.check] = a;
  return out;
}

int StatusCommand(const std::string& file, const std::string& data_dir, bool json,
                  const std::vector<std::string>& only) {
  auto config = LoadOrReport(file, data_dir);
  if (!config) return kExitUnknown;
  if (!KeepOnly(*config, only)) return kExitUnknown;
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
  // Staleness: whether a daemon still updates these rows.
  const Freshness fresh =
      JudgeFreshness(rows, config->checks, InstanceLockHolder(config->data_dir), clock.Now());
  const auto acks = AcksByCheck(config->data_dir, clock.Now());
  if (json) {
    nlohmann::json j = ToJson(rows);
    for (size_t i = 0; i < j.size() && i < fresh.stale.size(); ++i) {
      j[i]["stale"] = fresh.stale[i];
      j[i]["daemon_running"] = fresh.daemon_pid.has_value();
      if (auto a = acks.find(rows[i].name); a != acks.end())
        j[i]["acknowledged"] = {{"by", a->second.by}, {"at", Rfc3339(a->second.at)}};
    }
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
    for (size_t i = 0; i < rows.size() && i < fresh.stale.size(); ++i) {
      if (auto a = acks.find(rows[i].name); a != acks.end())
        rows[i].summary = fmt::format("[acknowledged by {}] {}", a->second.by, rows[i].summary);
      if (fresh.stale[i]) rows[i].summary = "[stale] " + rows[i].summary;
    }
    std::cout << FreshnessLine(fresh, config->data_dir, clock.Now());
    std::cout << FormatTable(rows, isatty(STDOUT_FILENO));
  }
  return ExitCode(WorstStatus(rows));
}

}  // namespace

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

Verb AddDoctor(CLI::App& app) {
  struct Args {
    bool json = false, print_config = false;
  };
  auto a = std::make_shared<Args>();
  auto* doctor =
      app.add_subcommand("doctor",
                         "Check this machine with no configuration: disks, memory, load, "
                         "listeners, the clock and, as after a reboot, systemd units, the time "
                         "daemon, the network, stale files, mounts, the kernel, deleted "
                         "libraries and the learned baseline");
  doctor->add_flag("--json", a->json, "Print a JSON array instead of a table");
  doctor->add_flag("--print-config", a->print_config,
                   "Print the generated configuration (a starting point for -c) and exit");
  return {doctor, [a] {
            if (a->print_config) {
              std::cout << DefaultConfigYaml(DefaultDataDir());
              return 0;
            }
            auto config = LoadOrReport("", "");
            if (!config) return kExitUnknown;
            return RunOnceAndPrint(*config, a->json, {});
          }};
}

Verb AddCheck(CLI::App& app) {
  struct Args {
    std::string file;
    bool json = false;
    std::vector<std::string> only;
  };
  auto a = std::make_shared<Args>();
  auto* check =
      app.add_subcommand("check", "Run every configured check once and print the results");
  check
      ->add_option("-c,--config", a->file,
                   "Configuration file (YAML); default: the embedded default")
      ->check(CLI::ExistingFile);
  check->add_flag("--json", a->json, "Print a JSON array instead of a table");
  check->add_option("--only", a->only, "Run only these checks (repeatable)");
  return {check, [a] {
            auto config = LoadOrReport(a->file, "");
            if (!config) return kExitUnknown;
            return RunOnceAndPrint(*config, a->json, a->only);
          }};
}

Verb AddConfigValidate(CLI::App& app) {
  auto file = std::make_shared<std::string>();
  auto* cfg = AddGroup(app, "config", "Work with configuration files");
  auto* validate = cfg->add_subcommand(
      "validate", "Exit 0 if the file is valid, else print every error as FILE:LINE:COL");
  validate->add_option("-c,--config", *file, "Configuration file (YAML)")->required();
  return {validate, [file] {
            const std::string& validate_file = *file;
            ConfigLoad load = LoadConfigFile(validate_file);
            if (!load.config) {
              std::cerr << load.diagnostics.ToString();
              std::cerr << fmt::format("{}: {} error{}\n", validate_file, load.diagnostics.size(),
                                       load.diagnostics.size() == 1 ? "" : "s");
              return kExitConfig;
            }
            std::cout << fmt::format(
                "{}: valid ({} check{}, data_dir {})\n", validate_file, load.config->checks.size(),
                load.config->checks.size() == 1 ? "" : "s", load.config->data_dir);
            return 0;
          }};
}

Verb AddCheckTypes(CLI::App& app) {
  auto* types = app.add_subcommand("check-types", "List the check types this build knows");
  return {types, [] {
            for (const auto& [name, entry] : BuiltinProbes().entries())
              std::cout << fmt::format("{:<12} {}\n", name, entry.description);
            return 0;
          }};
}

Verb AddStatus(CLI::App& app) {
  struct Args {
    std::string file, data_dir;
    bool json = false;
    std::vector<std::string> only;
  };
  auto a = std::make_shared<Args>();
  auto* status = app.add_subcommand("status",
                                    "Show the current state of every check, read from the store "
                                    "(works whether or not the daemon runs)");
  status->add_option("-c,--config", a->file,
                     "Configuration file (YAML); default: the embedded default");
  status->add_option("--data-dir", a->data_dir, "Override data_dir from the configuration");
  status->add_flag("--json", a->json, "Print a JSON array instead of a table");
  status->add_option("--only", a->only, "Show only these checks (repeatable)");
  return {status, [a] { return StatusCommand(a->file, a->data_dir, a->json, a->only); }};
}

}  // namespace mamori::cli
