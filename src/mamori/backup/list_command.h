// `mamori backup list NAME [--json] [-c CONFIG] [--data-dir DIR]`: the
// history of one backup check's artifacts, newest first, as kept in
// <data_dir>/backups.db by the check: when each was written, its size, the
// verdict on its content and size, the restore test's duration and outcome,
// and whether it is still on disk. When the newest artifact is bad but an
// older one was good, the last line says how old the newest good one is:
// the data the operator would lose by restoring today.
//
// The exit code is the newest artifact's verdict (0 ok, 1 warning, 2
// critical, 3 unknown or no history). Reads the history read-only, so it
// works while the daemon runs. Stateless.
#pragma once

#include <ostream>
#include <string>

#include "mamori/util/clock.h"

namespace CLI {
class App;
}

namespace mamori::backup {

struct ListCommandArgs {
  std::string check;
  std::string config_file;  // empty: the embedded default's data_dir
  std::string data_dir;     // overrides the configuration's
  bool json = false;
};

// Adds the `list` subcommand to `backup` with its options bound to `args`.
CLI::App* AddListCommand(CLI::App* backup, ListCommandArgs* args);

// Lists `check` from <data_dir>/backups.db.
int RunBackupList(const std::string& data_dir, const std::string& check, bool json,
                  const Clock& clock, std::ostream& out, std::ostream& err);

}  // namespace mamori::backup
