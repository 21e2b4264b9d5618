#include "mamori/backup/verify_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "mamori/backup/verify.h"
#include "mamori/util/progress.h"

namespace mamori::backup {

CLI::App* AddVerifyCommand(CLI::App* backup, VerifyCommandArgs* args) {
  auto* verify = backup->add_subcommand(
      "verify",
      "Verify backup files by content (gzip/zstd CRCs, tar, pg_dump, mysqldump, SHA256SUMS); "
      "exit code is the worst status");
  verify->add_flag("--json", args->json, "Print a JSON array instead of one line per artifact");
  verify->add_flag("--sha256", args->sha256, "Also compute and print each file's SHA-256");
  verify->add_flag("--no-manifest", args->no_manifest,
                   "Ignore SHA256SUMS manifests beside the artifacts");
  verify->add_flag("--allow-newer-pg-dump", args->allow_newer_pg_dump,
                   "Accept dumps made by a newer pg_dump than the server (upgrades)");
  verify->add_option("paths", args->paths, "Backup files or pg_dump directory archives")
      ->required();
  return verify;
}

int RunVerifyCommand(const VerifyCommandArgs& args, std::ostream& out, std::ostream& err) {
  if (args.paths.empty()) {
    err << "mamori backup verify: give at least one PATH\n";
    return 64;
  }
  VerifyOptions options;
  options.compute_sha256 = args.sha256;
  options.check_manifest = !args.no_manifest;
  options.allow_newer_pg_dump = args.allow_newer_pg_dump;
  const SystemClock clock;
  Progress progress("", 0, clock, STDERR_FILENO);
  options.on_read = [&progress](std::uint64_t done) { progress.Update(done); };
  CheckStatus worst = CheckStatus::kOk;
  nlohmann::json array = nlohmann::json::array();
  for (const auto& path : args.paths) {
    std::error_code ec;
    const auto size =
        std::filesystem::is_regular_file(path, ec) ? std::filesystem::file_size(path, ec) : 0;
    progress.Restart("verify " + path, ec ? 0 : size);
    ArtifactVerdict v = VerifyArtifact(path, options);
    progress.Clear();
    worst = Worst(worst, v.status);
    if (args.json) {
      nlohmann::json j = {
          {"path", v.path},       {"format", v.format},   {"status", StatusName(v.status)},
          {"summary", v.summary}, {"details", v.details}, {"size_bytes", v.size_bytes}};
      if (v.sha256) j["sha256"] = *v.sha256;
      if (v.pg) {
        j["pg"] = {{"server_version", v.pg->server_version},
                   {"pg_dump_version", v.pg->pg_dump_version},
                   {"server_major", v.pg->server_major},
                   {"pg_dump_major", v.pg->pg_dump_major}};
      }
      array.push_back(std::move(j));
    } else {
      out << fmt::format("{} {} ({}): {}\n", StatusLabel(v.status), v.path, v.format, v.summary);
      if (v.sha256 && args.sha256) out << fmt::format("  sha256 {}\n", *v.sha256);
    }
  }
  if (args.json) out << array.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return ExitCode(worst);
}

}  // namespace mamori::backup
