// Where the database data directories of this host are, and which of them a
// server runs on now: the `mamori guard` and `mamori prompt` view of a host.
//
// Sources, in order: running postmasters and mariadbd/mysqld processes found
// under the proc root (their -D/--datadir, else their working directory,
// which both servers chdir to), $PGDATA, Debian's /var/lib/postgresql/*/main
// and /var/lib/mysql. A PostgreSQL directory found on disk is live when its
// postmaster.pid names a running postgres process. The proc and file-system
// roots are injected so the search is unit-tested on a fake tree.
// Stateless and thread-safe; unreadable entries are skipped, never fatal.
#pragma once

#include <string>
#include <vector>

#include "mamori/db/guard_rules.h"

namespace mamori::db {

struct HostRoots {
  std::string proc = "/proc";
  std::string fs;      // prefix for host paths ("" = the real root)
  std::string pgdata;  // $PGDATA of the caller, if any
};

std::vector<DataDir> FindDataDirs(const HostRoots& roots);

// The process's command name (/proc/PID/comm), "" if gone.
std::string ProcessComm(const std::string& proc_root, int pid);

}  // namespace mamori::db
