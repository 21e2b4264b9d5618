// Who a local database server is, asked quickly: its role (PRIMARY, standby,
// unknown), how many clients are connected, and how big its data directory
// is and when it was last written. For `mamori guard` and `mamori prompt`.
//
// PostgreSQL is asked pg_is_in_recovery() over its unix socket (from
// postmaster.pid) as the data directory's owner, with libpq's non-blocking
// calls so a hung server costs at most the budget; without an answer the
// data directory decides: standby.signal/recovery.signal (or recovery.conf)
// mean standby, a live server without them is taken as PRIMARY (the safe
// guess for a guard). MariaDB is asked @@read_only and SHOW SLAVE STATUS over
// its socket (connect/read timeouts of one second); without an answer
// master.info/relay-log.info mean replica. Stateless and thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

#include "mamori/db/guard_rules.h"

namespace mamori::db {

enum class Role { kUnknown, kPrimary, kStandby };

struct ServerFacts {
  Role role = Role::kUnknown;
  std::string source;  // how the role was learnt: "pg_is_in_recovery()", "standby.signal", ...
  int clients = -1;    // connected client sessions; -1 when not known
  std::string error;   // why the server itself did not answer, if it did not
};

// `fs_root` prefixes host paths (tests); "" for the real host.
ServerFacts AskServer(const DataDir& dir, const std::string& fs_root,
                      std::chrono::milliseconds budget);

struct DirUsage {
  uint64_t bytes = 0;
  uint64_t files = 0;
  std::time_t last_write = 0;
  std::string newest;    // the most recently written file
  bool partial = false;  // the walk stopped at its budget: bytes is a lower bound
};

DirUsage MeasureDir(const std::string& path, std::chrono::milliseconds budget);

// "PRIMARY", "standby", "unknown".
const char* RoleName(Role role);

}  // namespace mamori::db
