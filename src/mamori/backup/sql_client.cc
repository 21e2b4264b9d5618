#include "mamori/backup/sql_client.h"

#include <libpq-fe.h>
#include <mysql.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <memory>

#include "mamori/util/lazy_libraries.h"

namespace mamori::backup {
namespace {

constexpr size_t kMaxText = 4096;

int SecondsLeft(MonoTime deadline, const Clock& clock) {
  auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline - clock.Monotonic());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 1, 24 * 3600));
}

std::string Clip(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.size() > kMaxText) s.resize(kMaxText);
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return s;
}

// The DSN's parts (PQconninfoParse) with this target's overrides on top.
Result<std::map<std::string, std::string>> PgParams(const SqlTarget& t) {
  std::map<std::string, std::string> out;
  if (!t.dsn.empty()) {
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(t.dsn.c_str(), &err);
    if (!opts) {
      std::string msg = err ? Clip(err) : "cannot parse";
      if (err) PQfreemem(err);
      return Error("invalid dsn: " + msg);
    }
    for (PQconninfoOption* o = opts; o->keyword; ++o)
      if (o->val && *o->val) out[o->keyword] = o->val;
    PQconninfoFree(opts);
  }
  if (!t.host.empty()) out["host"] = t.host;
  if (t.port > 0) out["port"] = std::to_string(t.port);
  if (!t.user.empty()) out["user"] = t.user;
  if (!t.password.empty()) out["password"] = t.password;
  if (!t.database.empty()) out["dbname"] = t.database;
  return out;
}

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgConn = std::unique_ptr<PGconn, PgConnDeleter>;
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

Result<PgConn> PgConnect(const SqlTarget& t, MonoTime deadline, const Clock& clock) {
  auto params = PgParams(t);
  if (!params.ok()) return params.error();
  (*params)["connect_timeout"] = std::to_string(std::min(SecondsLeft(deadline, clock), 30));
  if (!params->count("application_name")) (*params)["application_name"] = "mamori";
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : *params) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PgConn conn(PQconnectdbParams(keys.data(), values.data(), 0));
  if (!conn) return Error(util::Unavailable(util::LazyLibPq(), "out of memory"));
  if (PQstatus(conn.get()) != CONNECTION_OK)
    return Error(
        fmt::format("cannot connect to {}: {}", t.Describe(), Clip(PQerrorMessage(conn.get()))));
  // The statement timeout bounds every query by the check's deadline.
  const std::string st =
      fmt::format("SET statement_timeout = {}", SecondsLeft(deadline, clock) * 1000);
  PgResult r(PQexec(conn.get(), st.c_str()));
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK)
    return Error(fmt::format("{}: {}", t.Describe(), Clip(PQerrorMessage(conn.get()))));
  return conn;
}

// Runs `sql`; rows (first column of the first row) if it returned any.
Result<std::optional<std::string>> PgQuery(const SqlTarget& t, const std::string& sql,
                                           MonoTime deadline, const Clock& clock) {
  auto conn = PgConnect(t, deadline, clock);
  if (!conn.ok()) return conn.error();
  PgResult r(PQexec(conn->get(), sql.c_str()));
  const auto status = PQresultStatus(r.get());
  if (status == PGRES_COMMAND_OK) return std::optional<std::string>();
  if (status != PGRES_TUPLES_OK)
    return Error(
        fmt::format("{} in {}: {}", Clip(PQerrorMessage(conn->get())), t.Describe(), Clip(sql)));
  if (PQntuples(r.get()) < 1 || PQnfields(r.get()) < 1) return std::optional<std::string>();
  if (PQgetisnull(r.get(), 0, 0)) return Error(fmt::format("'{}' returned NULL", Clip(sql)));
  return std::optional<std::string>(Clip(PQgetvalue(r.get(), 0, 0)));
}

struct MyDeleter {
  void operator()(MYSQL* m) const { mysql_close(m); }
};
struct MyResultDeleter {
  void operator()(MYSQL_RES* r) const { mysql_free_result(r); }
};

void MysqlLibraryInit() {
  // mysql_library_init is not thread-safe; a function-local static runs it once.
  static const int rc = mysql_library_init(0, nullptr, nullptr);
  (void)rc;
}

Result<std::optional<std::string>> MyQuery(const SqlTarget& t, const std::string& sql,
                                           MonoTime deadline, const Clock& clock) {
  MysqlLibraryInit();
  std::unique_ptr<MYSQL, MyDeleter> m(mysql_init(nullptr));
  if (!m) return Error(util::Unavailable(util::LazyLibMariaDb(), "out of memory"));
  unsigned connect_timeout = static_cast<unsigned>(std::min(SecondsLeft(deadline, clock), 30));
  unsigned rw_timeout = static_cast<unsigned>(SecondsLeft(deadline, clock));
  mysql_options(m.get(), MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
  mysql_options(m.get(), MYSQL_OPT_READ_TIMEOUT, &rw_timeout);
  mysql_options(m.get(), MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout);
  if (!t.socket.empty() && t.host.empty()) {
    unsigned proto = MYSQL_PROTOCOL_SOCKET;
    mysql_options(m.get(), MYSQL_OPT_PROTOCOL, &proto);
  } else {
    unsigned proto = MYSQL_PROTOCOL_TCP;
    mysql_options(m.get(), MYSQL_OPT_PROTOCOL, &proto);
  }
  const std::string host = t.host.empty() && t.socket.empty() ? "127.0.0.1" : t.host;
  if (!mysql_real_connect(
          m.get(), host.empty() ? nullptr : host.c_str(), t.user.empty() ? nullptr : t.user.c_str(),
          t.password.empty() ? nullptr : t.password.c_str(),
          t.database.empty() ? nullptr : t.database.c_str(), static_cast<unsigned>(t.port),
          t.socket.empty() ? nullptr : t.socket.c_str(), CLIENT_MULTI_STATEMENTS))
    return Error(fmt::format("cannot connect to {}: {}", t.Describe(), Clip(mysql_error(m.get()))));
  if (mysql_real_query(m.get(), sql.data(), sql.size()) != 0)
    return Error(fmt::format("{} in {}: {}", Clip(mysql_error(m.get())), t.Describe(), Clip(sql)));
  std::optional<std::string> first;
  bool have_first = false;
  // Drain every result (multi-statements), keeping the first value.
  while (true) {
    std::unique_ptr<MYSQL_RES, MyResultDeleter> res(mysql_store_result(m.get()));
    if (res) {
      MYSQL_ROW row = mysql_fetch_row(res.get());
      if (!have_first && row && mysql_num_fields(res.get()) > 0) {
        have_first = true;
        if (!row[0]) return Error(fmt::format("'{}' returned NULL", Clip(sql)));
        unsigned long* lengths = mysql_fetch_lengths(res.get());
        first = Clip(std::string(row[0], lengths ? lengths[0] : std::strlen(row[0])));
      }
    } else if (mysql_field_count(m.get()) != 0) {
      return Error(fmt::format("{}: {}", t.Describe(), Clip(mysql_error(m.get()))));
    }
    int next = mysql_next_result(m.get());
    if (next > 0)
      return Error(
          fmt::format("{} in {}: {}", Clip(mysql_error(m.get())), t.Describe(), Clip(sql)));
    if (next < 0) break;
  }
  return first;
}

std::string QuoteConn(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "'";
}

}  // namespace

Result<std::map<std::string, std::string>> PostgresParams(const SqlTarget& t) {
  return PgParams(t);
}

std::string SqlTarget::EffectiveDatabase() const {
  if (kind == Kind::kMariadb) return database;
  auto p = PgParams(*this);
  if (!p.ok()) return database;
  auto it = p->find("dbname");
  return it == p->end() ? "" : it->second;
}

std::string SqlTarget::Describe() const {
  const char* k = kind == Kind::kPostgres ? "postgres" : "mariadb";
  std::string where;
  if (kind == Kind::kPostgres) {
    auto p = PgParams(*this);
    if (p.ok()) {
      std::string host = p->count("host") ? p->at("host") : "localhost";
      where = host + (p->count("port") ? ":" + p->at("port") : "");
      if (p->count("dbname")) where += "/" + p->at("dbname");
    }
  } else {
    where = !socket.empty() && host.empty() ? socket : (host.empty() ? "127.0.0.1" : host);
    if (port > 0) where += ":" + std::to_string(port);
    if (!database.empty()) where += "/" + database;
  }
  return fmt::format("{} {}", k, where);
}

SqlTarget SqlTarget::WithDatabase(std::string db) const {
  SqlTarget t = *this;
  t.database = std::move(db);
  return t;
}

std::pair<std::vector<std::string>, std::vector<std::pair<std::string, std::string>>>
SqlTarget::ClientArgs() const {
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  if (kind == Kind::kPostgres) {
    auto p = PgParams(*this);
    std::string conninfo;
    if (p.ok()) {
      for (const auto& [k, v] : *p) {
        if (k == "password") {
          env.emplace_back("PGPASSWORD", v);
          continue;
        }
        conninfo += (conninfo.empty() ? "" : " ") + k + "=" + QuoteConn(v);
      }
    }
    args = {"-d", conninfo};
  } else {
    args.push_back("--protocol=" + std::string(!socket.empty() && host.empty() ? "socket" : "tcp"));
    if (!socket.empty() && host.empty())
      args.push_back("--socket=" + socket);
    else
      args.push_back("--host=" + (host.empty() ? std::string("127.0.0.1") : host));
    if (port > 0) args.push_back("--port=" + std::to_string(port));
    if (!user.empty()) args.push_back("--user=" + user);
    if (!password.empty()) env.emplace_back("MYSQL_PWD", password);
  }
  return {args, env};
}

std::optional<SqlTarget> ReadSqlTarget(config::ConfigNode& node, SqlTarget::Kind kind,
                                       bool read_database) {
  SqlTarget t;
  t.kind = kind;
  bool ok = true;
  if (auto v = node.GetString("dsn")) {
    if (kind == SqlTarget::Kind::kMariadb) {
      node.ErrorAt("dsn", "MariaDB targets take host/port/user/password/socket, not dsn",
                   "e.g. host: 127.0.0.1, port: 3306, user: backup");
      ok = false;
    } else {
      char* err = nullptr;
      PQconninfoOption* opts = PQconninfoParse(v->c_str(), &err);
      if (!opts) {
        node.ErrorAt("dsn",
                     fmt::format("is not a libpq connection string: {}", err ? Clip(err) : ""),
                     "e.g. \"host=127.0.0.1 port=5432 user=postgres dbname=shop\"");
        ok = false;
      } else {
        t.dsn = *v;
      }
      if (err) PQfreemem(err);
      if (opts) PQconninfoFree(opts);
    }
  }
  t.host = node.GetString("host").value_or("");
  if (auto p = node.GetInt("port", 1, 65535)) t.port = static_cast<int>(*p);
  t.user = node.GetString("user").value_or("");
  t.password = node.GetString("password").value_or("");
  if (auto s = node.GetString("socket")) {
    if (kind == SqlTarget::Kind::kPostgres) {
      node.ErrorAt("socket", "PostgreSQL takes the socket directory as host",
                   "e.g. host: /var/run/postgresql");
      ok = false;
    }
    t.socket = *s;
  }
  if (read_database) t.database = node.GetString("database").value_or("");
  if (!ok) return std::nullopt;
  return t;
}

Result<std::string> ServerVersion(const SqlTarget& t, MonoTime deadline, const Clock& clock) {
  auto r = t.kind == SqlTarget::Kind::kPostgres ? PgQuery(t, "SHOW server_version", deadline, clock)
                                                : MyQuery(t, "SELECT VERSION()", deadline, clock);
  if (!r.ok()) return r.error();
  if (!r->has_value()) return Error(t.Describe() + ": no version returned");
  return **r;
}

Result<std::optional<std::string>> QueryText(const SqlTarget& t, const std::string& query,
                                             MonoTime deadline, const Clock& clock) {
  return t.kind == SqlTarget::Kind::kPostgres ? PgQuery(t, query, deadline, clock)
                                              : MyQuery(t, query, deadline, clock);
}

Result<double> QueryNumber(const SqlTarget& t, const std::string& query, MonoTime deadline,
                           const Clock& clock) {
  auto r = QueryText(t, query, deadline, clock);
  if (!r.ok()) return r.error();
  if (!r->has_value()) return Error(fmt::format("'{}' returned no row", Clip(query)));
  const std::string& s = **r;
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v))
    return Error(fmt::format("'{}' returned '{}', not a number", Clip(query), s.substr(0, 80)));
  return v;
}

Status Execute(const SqlTarget& t, const std::string& sql, MonoTime deadline, const Clock& clock) {
  auto r = QueryText(t, sql, deadline, clock);
  if (!r.ok()) return r.error();
  return Status::Ok();
}

std::string MajorVersion(const std::string& version, SqlTarget::Kind kind) {
  size_t end = 0;
  while (end < version.size() &&
         (std::isdigit(static_cast<unsigned char>(version[end])) || version[end] == '.'))
    ++end;
  std::string v = version.substr(0, end);
  auto first_dot = v.find('.');
  if (first_dot == std::string::npos) return v;
  int major = std::atoi(v.substr(0, first_dot).c_str());
  bool two_parts = kind == SqlTarget::Kind::kMariadb || major < 10;
  if (!two_parts) return v.substr(0, first_dot);
  auto second = v.find('.', first_dot + 1);
  return second == std::string::npos ? v : v.substr(0, second);
}

std::string QuoteIdent(const std::string& name, SqlTarget::Kind kind) {
  const char q = kind == SqlTarget::Kind::kPostgres ? '"' : '`';
  std::string out(1, q);
  for (char c : name) {
    if (c == q) out.push_back(q);
    out.push_back(c);
  }
  out.push_back(q);
  return out;
}

std::string QuoteLiteral(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  return out + "'";
}

}  // namespace mamori::backup
