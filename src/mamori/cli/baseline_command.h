// `mamori baseline show|accept|forget`: look at and edit what the `baseline`
// check learned (DATA_DIR/baseline.json, host/baseline_file.h).
//   show [--json]   every item, when it was learned, and whether it is here now
//   accept          take what this host has now as the baseline, at once
//   forget NAME     remove one item ("443/tcp", "nginx.service", a path)
// Each takes -c FILE (default: the embedded default) and --data-dir DIR; the
// include:/ignore: keys of the configuration's first baseline check apply.
//
// Exit codes: 0 done, 1 nothing to forget by that name, 3 the baseline or the
// configuration could not be read or written, 64 usage.
#pragma once

#include <CLI/CLI.hpp>

#include "mamori/cli/verbs.h"

namespace mamori::cli {

// Adds the `baseline` subcommand to `app`; like every verb (verbs.h), it runs
// after parsing when the user chose it.
Verb AddBaseline(CLI::App& app);

}  // namespace mamori::cli
