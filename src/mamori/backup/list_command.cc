#include "mamori/backup/list_command.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "mamori/backup/history.h"
#include "mamori/core/status.h"
#include "mamori/util/units.h"

namespace mamori::backup {
namespace {

constexpr int kExitUnknown = 3;

std::string Iso(WallTime t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                     std::chrono::time_point_cast<std::chrono::seconds>(t));
}

Duration Age(WallTime t, WallTime now) {
  auto d = std::chrono::duration_cast<Duration>(now - t);
  return d < Duration(0) ? Duration(0) : d;
}

}  // namespace

CLI::App* AddListCommand(CLI::App* backup, ListCommandArgs* args) {
  auto* list = backup->add_subcommand(
      "list",
      "Show a backup check's artifacts, newest first: time, size, verdict, restore duration");
  list->add_option("name", args->check, "The backup check's name")->required();
  list->add_option("-c,--config", args->config_file,
                   "Configuration file (YAML); default: the embedded default");
  list->add_option("--data-dir", args->data_dir, "Override data_dir from the configuration");
  list->add_flag("--json", args->json, "Print a JSON array instead of a table");
  return list;
}

int RunBackupList(const std::string& data_dir, const std::string& check, bool json,
                  const Clock& clock, std::ostream& out, std::ostream& err) {
  auto h = History::Open(data_dir, History::Mode::kReadOnly);
  if (!h.ok()) {
    err << "mamori backup list: " << h.error().message() << "\n";
    return kExitUnknown;
  }
  auto rows = (*h)->List(check, 1000);
  if (!rows.ok()) {
    err << "mamori backup list: " << rows.error().message() << "\n";
    return kExitUnknown;
  }
  if (rows->empty()) {
    std::string known;
    if (auto c = (*h)->Checks(); c.ok() && !c->empty())
      known = fmt::format(" (checks with history: {})", fmt::join(*c, ", "));
    err << fmt::format("mamori backup list: no history for '{}' in {}{}\n", check, (*h)->path(),
                       known);
    return kExitUnknown;
  }
  const WallTime now = clock.Now();
  // The newest artifact still on disk decides the exit code.
  const ArtifactRecord* newest = nullptr;
  const ArtifactRecord* newest_good = nullptr;
  for (const auto& r : *rows) {
    if (r.gone) continue;
    if (!newest) newest = &r;
    if (!newest_good && r.judged && r.usable()) newest_good = &r;
  }
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : *rows) {
      nlohmann::json j = {{"path", r.key.path},
                          {"mtime", Iso(r.mtime())},
                          {"size_bytes", r.key.size_bytes},
                          {"format", r.format},
                          {"verdict", r.judged ? std::string(StatusName(r.verdict)) : "unverified"},
                          {"summary", r.summary},
                          {"first_seen", Iso(r.first_seen)},
                          {"last_seen", Iso(r.last_seen)},
                          {"on_disk", !r.gone.has_value()}};
      if (r.gone) j["gone"] = Iso(*r.gone);
      if (r.sha256) j["sha256"] = *r.sha256;
      if (r.restore_duration)
        j["restore_s"] = std::chrono::duration<double>(*r.restore_duration).count();
      if (r.restore_status) j["restore_status"] = StatusName(*r.restore_status);
      if (!r.restore_summary.empty()) j["restore_summary"] = r.restore_summary;
      arr.push_back(std::move(j));
    }
    out << arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    out << fmt::format("{:<20} {:>8} {:>10} {:<8} {:>9} {}\n", "MODIFIED", "AGE", "SIZE", "VERDICT",
                       "RESTORE", "ARTIFACT");
    for (const auto& r : *rows) {
      std::string restore = "-";
      if (r.restore_duration)
        restore = FormatDuration(*r.restore_duration) +
                  (r.restore_status && *r.restore_status != CheckStatus::kOk ? "!" : "");
      std::string name = std::filesystem::path(r.key.path).filename().string();
      std::string note = r.gone ? fmt::format("  (gone since {})", Iso(*r.gone)) : "";
      if (r.judged && r.verdict != CheckStatus::kOk) note += "  " + r.summary;
      if (r.restore_status && *r.restore_status != CheckStatus::kOk)
        note += "  restore: " + r.restore_summary;
      out << fmt::format("{:<20} {:>8} {:>10} {:<8} {:>9} {}{}\n", Iso(r.mtime()),
                         FormatDuration(Age(r.mtime(), now)), FormatBytes(r.key.size_bytes),
                         r.judged ? std::string(StatusLabel(r.verdict)) : "-", restore, name, note);
    }
    if (!newest) {
      out << "none of these artifacts is on disk any more\n";
    } else if (newest->overall() != CheckStatus::kOk) {
      if (newest_good)
        out << fmt::format("newest {} is {}{}; the newest good one is {} old ({})\n",
                           std::filesystem::path(newest->key.path).filename().string(),
                           StatusLabel(newest->overall()),
                           newest->verdict == CheckStatus::kOk ? " (its restore test failed)" : "",
                           FormatDuration(Age(newest_good->mtime(), now)),
                           std::filesystem::path(newest_good->key.path).filename().string());
      else
        out << "no good artifact on disk\n";
    }
  }
  return newest ? ExitCode(newest->overall()) : ExitCode(CheckStatus::kCritical);
}

}  // namespace mamori::backup
