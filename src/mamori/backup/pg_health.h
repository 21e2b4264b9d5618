// The judgment of the `postgres` check type over plain rows: what a DBA looks
// at on a primary (standbys and their lag, replication slots and the WAL they
// hold back, WAL senders, connections, archiving, long and idle-in-transaction
// sessions, lock waits, transaction ID age, base backups in flight) and on a
// standby (the WAL receiver, receive vs replay position, replay lag, paused
// recovery). Kept apart from libpq (pg_session.h reads the rows) so every rule
// is tested with recorded facts.
//
// Replay lag in seconds on a standby is "now - last replayed commit", which
// grows forever on an idle primary; it only counts when the standby has
// received WAL it has not replayed yet (positions first, timestamps second).
//
// A fact the server could not give (a view too new or too old for its
// version) is listed in `missing` and named in the summary; it never fails
// the check. Plain values and a pure function; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mamori/core/observation.h"

namespace mamori::backup::pg {

// One row of pg_stat_replication (sessions in state "backup" are base
// backups and are not listed here).
struct Standby {
  std::string name;         // application_name
  std::string client_addr;  // "" for a Unix socket
  std::string state;        // streaming, catchup, startup, stopping
  std::optional<double> sent_lag_bytes, write_lag_bytes, flush_lag_bytes, replay_lag_bytes;
  std::optional<double> replay_lag_seconds;  // NULL when the standby is caught up and idle
};

struct Slot {
  std::string name;
  std::string type;  // physical, logical
  bool active = false;
  std::optional<double> retained_bytes;  // NULL when the slot reserves no WAL yet
  std::string wal_status;                // reserved, extended, unreserved, lost ("" before 13)
};

// A session with an open transaction (or an active query) and how long.
struct Transaction {
  int pid = 0;
  std::string who;    // "user@db (application)"
  std::string state;  // active, idle in transaction, idle in transaction (aborted)
  double xact_seconds = 0;
  bool waiting_on_lock = false;
  double wait_seconds = 0;  // since the current query started, when waiting on a lock
};

struct BaseBackup {
  int pid = 0;
  std::string client;     // "127.0.0.1 (pg_basebackup)"
  std::string phase;      // "waiting for checkpoint to finish", "streaming database files", ...
  double seconds = 0;     // since the BASE_BACKUP command started
  double done_bytes = 0;  // backup_streamed
  std::optional<double> total_bytes;
};

struct Facts {
  std::string version;  // "15.18"
  bool in_recovery = false;
  int connections = 0, max_connections = 0, reserved_connections = 0;
  std::vector<Transaction> transactions;  // open transactions, oldest first (bounded by the reader)
  std::optional<double> oldest_xid_age;
  std::string oldest_xid_database;

  // Primary.
  std::vector<Standby> standbys;
  std::vector<Slot> slots;
  std::optional<int> wal_senders;  // walsender processes now
  int max_wal_senders = 0;
  std::optional<int64_t> archive_failed_count;
  bool archive_failing = false;  // the last failure is newer than the last success
  std::string archive_last_failed_wal;
  std::vector<BaseBackup> base_backups;

  // Standby.
  std::optional<std::string> receiver_status;  // nullopt: no WAL receiver at all
  std::string upstream;                        // sender host:port
  std::optional<double> receive_replay_bytes;  // received but not replayed yet
  std::optional<double> replay_timestamp_age;  // now - pg_last_xact_replay_timestamp()
  bool replay_paused = false;

  // Features this server does not have: "pg_stat_progress_basebackup (13+)".
  std::vector<std::string> missing;
};

struct Limit {
  double warning = 0, critical = 0;
};

struct Limits {
  Limit lag_bytes{16.0 * 1024 * 1024, 256.0 * 1024 * 1024};
  Limit lag_seconds{60, 300};
  Limit retained_wal{1024.0 * 1024 * 1024, 4096.0 * 1024 * 1024};
  Limit connections{80, 90};  // percent of max_connections - superuser_reserved_connections
  Limit long_transaction{300, 1800};
  Limit lock_wait{30, 300};
  Limit basebackup_checkpoint_wait{60, 300};
  Limit xid_age{1.0e9, 1.5e9};  // wraparound stops writes near 2^31 (2.1e9)
};

// Status, summary (problems first, each naming its standby/slot/session, with
// the runbook where there is one), details (one line per standby, slot, base
// backup) and every figure as a metric.
Observation Judge(const Facts& facts, const Limits& limits);

}  // namespace mamori::backup::pg
