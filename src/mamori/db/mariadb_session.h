// The `mariadb` check's edge: one connection to a MariaDB (or MySQL) server
// with libmariadb, bounded by connect/read/write timeouts, that reads the
// rows db/mariadb_state.h judges, then closes.
//
// Failure: a refused or timed-out connection, or a denied login, is an Error
// carrying the server's words and the target ("cannot connect to mariadb
// 127.0.0.1:3306: Access denied for user 'mamori'@'localhost' (using
// password: YES)"); the password itself is never part of a message. A
// replica status the account may not read (no SLAVE MONITOR privilege) is a
// note, not a failure. Stateless; thread-safe (one connection per call).
#pragma once

#include <chrono>
#include <string>

#include "mamori/db/mariadb_state.h"
#include "mamori/util/result.h"

namespace mamori::db {

struct MariadbTarget {
  std::string host;  // empty with a socket: the socket is used
  int port = 3306;
  std::string socket;
  std::string user;
  std::string password;
  // "mariadb 127.0.0.1:3306" or "mariadb /run/mysqld/mysqld.sock" (never the password).
  std::string Describe() const;
};

struct MariadbRead {
  MariadbFacts facts;
  std::string note;  // what could not be read, if anything
};

Result<MariadbRead> ReadMariadb(const MariadbTarget& target, std::chrono::seconds timeout);

}  // namespace mamori::db
