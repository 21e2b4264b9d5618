// The judgment of the `mariadb` check, on rows a MariaDB server returned:
// SHOW GLOBAL STATUS, a few SHOW GLOBAL VARIABLES and SHOW ALL SLAVES STATUS.
//
// What it judges: connections in use against max_connections (percent, with
// Max_used_connections as the high-water mark), Aborted_connects and
// Innodb_deadlocks new since the previous run (counters: the first run only
// records them), each replica connection's IO and SQL threads (a stopped one
// is CRITICAL with its last error), Seconds_Behind_Master, innodb_force_recovery
// left non-zero (CRITICAL: InnoDB runs in rescue mode), the InnoDB history
// list length, and read_only against what the check expects. Every figure
// is a metric. Pure: no I/O. MariadbCounters is the only state; the caller
// owns it and serialises runs.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mamori/core/observation.h"

namespace mamori::db {

using MariadbRow = std::map<std::string, std::string>;  // column -> value ("" for NULL)

struct MariadbFacts {
  MariadbRow status;                 // Variable_name -> Value of SHOW GLOBAL STATUS
  MariadbRow variables;              // likewise for the variables read
  std::vector<MariadbRow> replicas;  // SHOW ALL SLAVES STATUS, one row per connection
};

struct MariadbLimits {
  double connections_warning = 80, connections_critical = 90;   // percent of max_connections
  double lag_warning = 60, lag_critical = 300;                  // seconds behind the primary
  double history_warning = 100000, history_critical = 1000000;  // undo records not purged
  double aborted_warning = 10, aborted_critical = 100;          // new aborted connects per run
  double deadlocks_warning = 5, deadlocks_critical = 50;        // new deadlocks per run
  std::optional<bool> read_only;                                // expected state, if any
  bool replica = false;                                         // must replicate
};

struct MariadbCounters {
  std::optional<double> aborted_connects, deadlocks;
};

Observation JudgeMariadb(const MariadbFacts& facts, const MariadbLimits& limits,
                         MariadbCounters& counters);

}  // namespace mamori::db
