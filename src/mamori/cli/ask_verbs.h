// `mamori ask` (and `mamori diagnose --ask`): the command line of
// logs/ask_command.h, in ask_verbs.cc. Single-threaded, like every verb.
#pragma once

#include <string>

#include "mamori/cli/verbs.h"
#include "mamori/logs/diagnose_command.h"

namespace mamori::cli {

Verb AddAsk(CLI::App& app);

// Diagnoses with `diagnose`'s options and asks the assistant `question`; the
// `assistant:` settings and data_dir come from `config_file` when given.
int RunAsk(const std::string& question, const std::string& config_file, const std::string& data_dir,
           bool show_bundle, logs::DiagnoseCommandOptions diagnose);

}  // namespace mamori::cli
