// MariaDbServer: a real, throw-away MariaDB server started for one test.
// mariadb-install-db creates a fresh data directory in a temporary directory;
// mariadbd then runs with --no-defaults (no /etc/mysql config leaks in) as
// --user=root, listening on 127.0.0.1 at a port picked free a moment before
// and on a unix socket in the same directory. The root account has no
// password (--auth-root-authentication-method=normal), so clients connect
// with `-uroot` over TCP or the socket.
//
// Ownership: the object owns the server process and the directory; the
// destructor stops the server (SIGTERM, then SIGKILL) and removes the
// directory. Not thread-safe; one per test (or per suite).
// Failure: Start() returns the reason with the server's error log; helpers
// return Result errors carrying the client's stderr.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "mamori/util/result.h"

namespace mamori::testing {

class MariaDbServer {
 public:
  struct Options {
    std::string database = "mamori_test";  // created after start-up
    // Lines of a [mariadbd] section ("server-id=2\ninnodb_force_recovery=1"),
    // written to DIR/my.cnf and read with --defaults-file, as a server reads
    // its configuration; empty: --no-defaults.
    std::string config;
    bool binary_log = false;  // --log-bin, for a primary that replicas follow
  };

  // Empty when the server binaries are installed; otherwise what is missing,
  // for GTEST_SKIP.
  static std::string MissingBinaries();

  MariaDbServer();
  explicit MariaDbServer(Options options);
  ~MariaDbServer();
  MariaDbServer(const MariaDbServer&) = delete;
  MariaDbServer& operator=(const MariaDbServer&) = delete;

  // install-db, start, wait until the server answers queries, create the
  // test database. Returns "" on success, else the reason (with the log).
  std::string Start();

  std::string host() const { return "127.0.0.1"; }
  int port() const { return port_; }
  std::string socket() const { return dir_ + "/mariadb.sock"; }
  const std::string& socket_dir() const { return dir_; }
  std::string user() const { return "root"; }
  const std::string& database() const { return options_.database; }
  const std::string& dir() const { return dir_; }
  std::string data_dir() const { return dir_ + "/data"; }

  // Runs `sql` with the mariadb client (batch mode, no column names) in
  // `database` (default: the test database); returns its stdout.
  Result<std::string> Sql(const std::string& sql, const std::string& database = "") const;
  // Runs mariadb-dump with connection options plus `args` (e.g.
  // {"--single-transaction", "mamori_test"}); returns its stdout (the dump
  // unless --result-file is given).
  Result<std::string> Dump(const std::vector<std::string>& args) const;
  // Any client program (mariadb, mariadb-dump, mariadb-admin, ...) with the
  // connection options prepended.
  Result<std::string> RunClient(const std::string& program, const std::vector<std::string>& args,
                                const std::optional<std::string>& stdin_data = std::nullopt) const;
  // "10.11.19-MariaDB-0+deb12u1", as SELECT VERSION() returns it.
  Result<std::string> ServerVersion() const;

  // The server's error log so far.
  std::string Log() const;

 private:
  Options options_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace mamori::testing
