// The judgment behind `mamori guard`: is a command line destructive for a
// database on this host, and which data directories does it touch?
//
// Pure: the caller hands in the argv, the data directories found on the host
// and a path resolver (absolute, symlinks followed where they exist), so the
// rules are unit-tested without a real host. What counts as destructive:
// rm/mv/rmdir/shred of a data directory, of anything under it or of a
// directory holding it; dropdb; DROP DATABASE/SCHEMA through psql -c or
// mysql/mariadb -e; pg_ctl stop|restart -m immediate; systemctl
// stop|disable|mask|kill of a database unit; mkfs*; dd of=/dev/...
// Everything else is not. A leading `sudo` (without options) is looked
// through. Stateless and thread-safe.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace mamori::db {

enum class Engine { kPostgres, kMariadb };

// A data directory known on this host; `pid` > 0 when its server runs now.
struct DataDir {
  std::string path;
  Engine engine = Engine::kPostgres;
  int pid = 0;
  std::string socket_dir;  // PostgreSQL: from postmaster.pid; MariaDB: the socket file
  int port = 0;
};

struct GuardVerdict {
  bool destructive = false;
  std::string what;  // "rm of /var/lib/postgresql/15/main (PostgreSQL data directory)"
  std::vector<std::string> data_dirs;  // the data directories it touches, if any
};

using PathResolver = std::function<std::string(const std::string&)>;

GuardVerdict ClassifyCommand(const std::vector<std::string>& argv,
                             const std::vector<DataDir>& data_dirs, const PathResolver& resolve);

// Lexically normal absolute path: "a/../b" from "/x" -> "/x/b"; no trailing '/'.
std::string NormalPath(const std::string& path, const std::string& cwd);

// "postgresql@15-main.service", "mariadb", "mysqld": units of a database server.
bool IsDatabaseUnit(const std::string& unit);

}  // namespace mamori::db
