// CommandRisk: what running a shell command can do to the machine, judged
// from its text: read-only (looks), reversible (changes something that can
// be changed back: a restart, a config edit, a package install) or
// destructive (loses data or state: rm, dd, mkfs, DROP, purge, --force...).
//
// One classifier for both places commands are shown: runbook steps (diagnose
// shows a step's declared risk or this, whichever is higher) and the answers
// of `mamori ask` (every command is shown with its mark; nothing is run).
// It errs upwards: a command it does not know is reversible, a destructive
// word anywhere in it makes it destructive; it never calls anything read-only
// that it does not recognise as such.
//
// Pure functions; thread-safe; never fail.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mamori/logs/rule.h"

namespace mamori::logs {

StepRisk ClassifyCommand(std::string_view command);

// The higher of two risks.
StepRisk MaxRisk(StepRisk a, StepRisk b);

// The shell commands in a chat answer (Markdown): each line of a fenced code
// block (```sh, ```bash, ```console, or a bare fence; comment lines and, in
// console blocks, output lines without a prompt skipped; "\" continuations
// joined) and every line outside blocks that starts with "$ " or "# ". A
// leading "$ " or "# " prompt is removed.
struct AnswerCommand {
  size_t line = 0;  // 0-based line of the answer where the command starts
  std::string command;
};
std::vector<AnswerCommand> ExtractCommands(std::string_view answer);

}  // namespace mamori::logs
