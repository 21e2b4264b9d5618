#include "mamori/db/local_role.h"

#include <libpq-fe.h>
#include <mysql.h>
#include <poll.h>
#include <pwd.h>
#include <sys/stat.h>

#include <charconv>
#include <filesystem>
#include <memory>

#include "mamori/util/lazy_libraries.h"

namespace mamori::db {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

int ToInt(const std::string& s) {
  int v = -1;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// When the server did not answer: a replica's marker file in the data
// directory means standby; a live server without one is taken as PRIMARY.
void RoleFromFiles(const std::string& dir, std::initializer_list<const char*> standby_files,
                   int pid, ServerFacts& f) {
  for (const char* file : standby_files) {
    if (Exists(dir + "/" + file)) {
      f.role = Role::kStandby;
      f.source = file;
      return;
    }
  }
  if (pid > 0) {
    f.role = Role::kPrimary;
    f.source = std::string("running, no ") + *standby_files.begin();
  }
}

std::string OwnerName(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "postgres";
  const passwd* pw = ::getpwuid(st.st_uid);
  return pw ? pw->pw_name : "postgres";
}

// Waits until libpq's socket is ready for `events` or the deadline passes.
bool WaitSocket(PGconn* c, short events, SteadyClock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  if (left.count() <= 0) return false;
  pollfd p{PQsocket(c), events, 0};
  return ::poll(&p, 1, static_cast<int>(left.count())) > 0;
}

struct PgFinish {
  void operator()(PGconn* c) const { PQfinish(c); }
};

// One row of `sql`, asked without ever blocking past the deadline.
std::vector<std::string> PgRow(const DataDir& d, const std::string& fs_root, const std::string& sql,
                               SteadyClock::time_point deadline, std::string& error) {
  const std::string port = std::to_string(d.port > 0 ? d.port : 5432);
  const std::string user = OwnerName(fs_root + d.path);
  const char* keys[] = {"host", "port", "user", "dbname", "application_name", nullptr};
  const char* vals[] = {d.socket_dir.empty() ? "/var/run/postgresql" : d.socket_dir.c_str(),
                        port.c_str(),
                        user.c_str(),
                        "postgres",
                        "mamori-guard",
                        nullptr};
  std::unique_ptr<PGconn, PgFinish> c(PQconnectStartParams(keys, vals, 0));
  if (!c || PQstatus(c.get()) == CONNECTION_BAD) {
    error = c ? PQerrorMessage(c.get()) : util::Unavailable(util::LazyLibPq(), "out of memory");
    return {};
  }
  for (auto st = PGRES_POLLING_WRITING; st != PGRES_POLLING_OK;) {
    if (st == PGRES_POLLING_FAILED) {
      error = PQerrorMessage(c.get());
      return {};
    }
    if (!WaitSocket(c.get(), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline)) {
      error = "no answer in time";
      return {};
    }
    st = PQconnectPoll(c.get());
  }
  if (!PQsendQuery(c.get(), sql.c_str())) {
    error = PQerrorMessage(c.get());
    return {};
  }
  std::vector<std::string> row;
  while (true) {
    while (PQisBusy(c.get())) {
      if (!WaitSocket(c.get(), POLLIN, deadline) || !PQconsumeInput(c.get())) {
        error = "no answer in time";
        return {};  // PQfinish closes the connection; the server ends the query
      }
    }
    PGresult* r = PQgetResult(c.get());
    if (!r) break;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
      for (int i = 0; i < PQnfields(r); ++i) row.emplace_back(PQgetvalue(r, 0, i));
    else if (PQresultStatus(r) != PGRES_TUPLES_OK)
      error = PQresultErrorMessage(r);
    PQclear(r);
  }
  return row;
}

ServerFacts AskPostgres(const DataDir& d, const std::string& fs_root,
                        std::chrono::milliseconds budget) {
  ServerFacts f;
  if (d.pid > 0) {
    const auto row = PgRow(d, fs_root,
                           "SELECT pg_is_in_recovery(), (SELECT count(*) FROM pg_stat_activity "
                           "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid())",
                           SteadyClock::now() + budget, f.error);
    if (row.size() == 2) {
      f.role = row[0] == "t" ? Role::kStandby : Role::kPrimary;
      f.source = "pg_is_in_recovery()";
      f.clients = ToInt(row[1]);
      return f;
    }
    while (!f.error.empty() && (f.error.back() == '\n' || f.error.back() == ' '))
      f.error.pop_back();
  }
  RoleFromFiles(fs_root + d.path, {"standby.signal", "recovery.signal", "recovery.conf"}, d.pid, f);
  return f;
}

struct MyClose {
  void operator()(MYSQL* m) const { mysql_close(m); }
};

// Rows of a statement: the first column of each, or nothing on error.
int MyCount(MYSQL* m, const char* sql, std::string* first) {
  if (mysql_query(m, sql) != 0) return -1;
  MYSQL_RES* res = mysql_store_result(m);
  if (!res) return -1;
  const int n = static_cast<int>(mysql_num_rows(res));
  if (MYSQL_ROW row = mysql_fetch_row(res); row && row[0] && first) *first = row[0];
  mysql_free_result(res);
  return n;
}

ServerFacts AskMariadb(const DataDir& d, const std::string& fs_root) {
  ServerFacts f;
  if (d.pid > 0) {
    static const int init = mysql_library_init(0, nullptr, nullptr);
    (void)init;
    std::unique_ptr<MYSQL, MyClose> m(mysql_init(nullptr));
    unsigned timeout = 1, proto = MYSQL_PROTOCOL_SOCKET;
    mysql_options(m.get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_options(m.get(), MYSQL_OPT_READ_TIMEOUT, &timeout);
    mysql_options(m.get(), MYSQL_OPT_WRITE_TIMEOUT, &timeout);
    mysql_options(m.get(), MYSQL_OPT_PROTOCOL, &proto);
    if (mysql_real_connect(m.get(), nullptr, "root", nullptr, nullptr, 0, d.socket_dir.c_str(),
                           0)) {
      std::string read_only, clients;
      const int replica = MyCount(m.get(), "SHOW SLAVE STATUS", nullptr);
      MyCount(m.get(), "SELECT @@read_only", &read_only);
      MyCount(m.get(),
              "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() "
              "AND USER <> 'system user'",
              &clients);
      if (replica >= 0) {
        f.role = replica > 0 || read_only == "1" ? Role::kStandby : Role::kPrimary;
        f.source = replica > 0 ? "SHOW SLAVE STATUS" : "@@read_only";
        f.clients = ToInt(clients);
        return f;
      }
    }
    f.error = mysql_error(m.get());
  }
  RoleFromFiles(fs_root + d.path, {"master.info", "relay-log.info"}, d.pid, f);
  return f;
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kPrimary:
      return "PRIMARY";
    case Role::kStandby:
      return "standby";
    case Role::kUnknown:
      break;
  }
  return "unknown";
}

ServerFacts AskServer(const DataDir& dir, const std::string& fs_root,
                      std::chrono::milliseconds budget) {
  return dir.engine == Engine::kPostgres ? AskPostgres(dir, fs_root, budget)
                                         : AskMariadb(dir, fs_root);
}

DirUsage MeasureDir(const std::string& path, std::chrono::milliseconds budget) {
  DirUsage u;
  const auto deadline = SteadyClock::now() + budget;
  std::error_code ec;
  fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if ((++u.files & 255) == 0 && SteadyClock::now() > deadline) {
      u.partial = true;
      break;
    }
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    u.bytes += static_cast<uint64_t>(st.st_size);
    if (st.st_mtime >= u.last_write) {
      u.last_write = st.st_mtime;
      u.newest = it->path().string();
    }
  }
  return u;
}

}  // namespace mamori::db
