// `mamori completion bash|zsh`: a shell completion script generated from the
// command line's own parser (every verb, sub-verb and option CLI11 knows), so
// the completions shipped in the package can never drift from the binary.
// Pure text generation; single-threaded; no failure modes beyond an unknown
// shell name (a usage error).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "mamori/cli/verbs.h"

namespace mamori::cli {

// The script for `shell` ("bash" or "zsh") completing the commands of `app`;
// empty for another shell.
std::string CompletionScript(const CLI::App& app, const std::string& shell);

// Adds `completion SHELL`; its action prints CompletionScript for `app`, which
// must outlive the returned Verb.
Verb AddCompletion(CLI::App& app);

}  // namespace mamori::cli
