// `mamori guard -- COMMAND ARGS...` and `mamori prompt`: the verbs that make a
// destructive command say which host it runs on before it runs (incident 4:
// the wipe meant for the standby ran on the primary).
//
// guard classifies the command (db/guard_rules.h); a harmless one is exec'd
// at once (its exit code and signals are its own). A destructive one prints
// the host's identity (hostname, each touched database's role, clients, data
// directory size and last write) to stderr, refuses with exit 2 when it
// touches the data directory of a running PRIMARY (unless
// --i-know-this-is-the-primary), and otherwise runs only after the hostname
// is typed back on stdin (exit 1 when it is not). Every database question is
// bounded (a hung server costs a second at most); so is waiting for the
// answer. Single-threaded.
#pragma once

#include "mamori/cli/verbs.h"

namespace mamori::cli {

Verb AddGuard(CLI::App& app);
Verb AddPrompt(CLI::App& app);

}  // namespace mamori::cli
