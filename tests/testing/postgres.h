// PostgresServer: a real, throw-away PostgreSQL cluster started for one test.
// initdb and postgres run as the `postgres` system user (PostgreSQL refuses
// to run as root) in a temporary directory that user owns; the server listens
// on 127.0.0.1 at a port picked free a moment before, and on a unix socket in
// the same directory. Authentication is `trust` for the superuser "postgres",
// so clients need no password. fsync is off: the data is disposable.
//
// Ownership: the object owns the server process and the directory; the
// destructor stops the server (SIGINT = fast shutdown, then SIGKILL) and
// removes the directory. Not thread-safe; one per test (or per suite).
// Failure: Start() returns the reason with the server's log; helpers return
// Result errors carrying the client's stderr.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "mamori/util/result.h"

namespace mamori::testing {

class PostgresServer {
 public:
  struct Options {
    std::string version = "15";            // /usr/lib/postgresql/<version>/bin
    std::string database = "mamori_test";  // created after start-up
    // Extra server settings, "name=value", each passed as -c.
    std::vector<std::string> settings;
    // When set, the cluster is a streaming standby of this running primary:
    // its data directory comes from pg_basebackup -R (--checkpoint=fast)
    // instead of initdb, and no database is created.
    const PostgresServer* standby_of = nullptr;
    // Start as a standby of nothing: standby.signal in the fresh cluster (it
    // stays in recovery, read-only), no test database created.
    bool standby = false;
  };

  // Empty when the server binaries are installed; otherwise what is missing,
  // for GTEST_SKIP.
  static std::string MissingBinaries(const std::string& version = "15");

  PostgresServer();
  explicit PostgresServer(Options options);
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // initdb, start, wait until the server accepts queries, create the test
  // database. Returns "" on success, else the reason (with the server log).
  std::string Start();

  std::string host() const { return "127.0.0.1"; }
  int port() const { return port_; }
  const std::string& socket_dir() const { return dir_; }
  std::string user() const { return "postgres"; }
  const std::string& database() const { return options_.database; }
  const std::string& dir() const { return dir_; }
  std::string data_dir() const { return dir_ + "/data"; }
  std::string bin_dir() const;
  // libpq connection string: "host=127.0.0.1 port=N user=postgres dbname=DB".
  std::string ConnInfo(const std::string& database = "") const;
  // "15.18 (Debian 15.18-0+deb12u1)", as SHOW server_version prints it.
  Result<std::string> ServerVersion() const;

  // Runs `sql` with psql (-X -A -t, ON_ERROR_STOP) in `database` (default:
  // the test database); returns psql's stdout.
  Result<std::string> Sql(const std::string& sql, const std::string& database = "") const;
  // Runs pg_dump against the test database with extra arguments, e.g.
  // {"-Fc", "-f", "/tmp/x.dump"}; returns pg_dump's stdout (the dump itself
  // for plain format without -f). pg_dump runs as the calling user, so output
  // files belong to it.
  Result<std::string> PgDump(const std::vector<std::string>& args,
                             const std::string& database = "") const;
  // Same for any client program of this version's bin dir (pg_restore, ...).
  Result<std::string> RunClient(const std::string& program, const std::vector<std::string>& args,
                                const std::optional<std::string>& stdin_data = std::nullopt) const;

  // Runs a client program as the postgres system user in the background
  // (pg_basebackup into a directory that user owns, ...); its pid, stopped by
  // the caller with StopProcess. Output goes to dir()/NAME.log.
  pid_t SpawnClient(const std::string& program, const std::vector<std::string>& args,
                    const std::string& name) const;

  // The server's log so far.
  std::string Log() const;

 private:
  Options options_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;

  std::string CreateDataDir();
};

}  // namespace mamori::testing
