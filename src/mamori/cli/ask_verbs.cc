// `mamori ask`: the command line of logs/ask_command.h. Also serves
// `mamori diagnose --ask` (tool_verbs.cc).
#include <iostream>

#include "mamori/cli/ask_verbs.h"
#include "mamori/daemon/default_config.h"
#include "mamori/logs/ask_command.h"
#include "mamori/logs/scanner_cache.h"

namespace mamori::cli {

int RunAsk(const std::string& question, const std::string& config_file, const std::string& data_dir,
           bool show_bundle, logs::DiagnoseCommandOptions diagnose) {
  logs::AskOptions o;
  o.question = question;
  o.show_bundle = show_bundle;
  if (!config_file.empty()) {
    auto config = LoadOrReport(config_file, data_dir);
    if (!config) return kExitUnknown;
    auto assistant = logs::LoadAssistantConfig(config_file);
    if (!assistant.ok()) {
      std::cerr << assistant.error().message() << "\n";
      return kExitUnknown;
    }
    o.assistant = *assistant;
    diagnose.data_dir = config->data_dir;
    o.state_dir = config->data_dir;
  } else {
    // No configuration: no store to read, and round history in the cache.
    diagnose.data_dir = data_dir;
    o.state_dir = data_dir.empty() ? logs::DefaultScannerCacheDir() : data_dir;
    if (o.state_dir.empty()) o.state_dir = ".";
  }
  o.diagnose = std::move(diagnose);
  return logs::RunAskCommand(o, std::cout, std::cerr);
}

Verb AddAsk(CLI::App& app) {
  struct Args {
    logs::DiagnoseCommandOptions opts;
    std::string question, file, data_dir;
    bool show_bundle = false;
  };
  auto a = std::make_shared<Args>();
  auto* ask = app.add_subcommand(
      "ask",
      "Diagnose the logs and ask an AI assistant (any OpenAI-compatible endpoint set in\n"
      "`assistant:`) what to do next. Secrets are redacted before anything leaves the host;\n"
      "commands in the answer are marked read-only/reversible/destructive and never run.");
  ask->add_option("question", a->question, "What you want to know")->required();
  ask->add_option("-c,--config", a->file, "Configuration file (assistant:, data_dir)");
  ask->add_option("--data-dir", a->data_dir,
                  "Where the store, runbook.db and the round history live");
  ask->add_option("--log", a->opts.paths,
                  "Log file or directory to read (repeatable; default: "
                  "this machine's usual logs and the journal)")
      ->allow_extra_args(false);
  ask->add_option("--since", a->opts.since,
                  "Only lines newer than this: 2h, boot or previous-boot");
  ask->add_option("--rules", a->opts.rule_dirs, "Rule directory or file (repeatable)")
      ->allow_extra_args(false);
  ask->add_flag("--show-bundle", a->show_bundle,
                "Print exactly the request that would be sent, and send nothing");
  return {ask, [a] { return RunAsk(a->question, a->file, a->data_dir, a->show_bundle, a->opts); }};
}

}  // namespace mamori::cli
