#include "mamori/db/mariadb_session.h"

#include <fmt/format.h>
#include <mysql.h>

#include <algorithm>
#include <memory>

#include "mamori/util/lazy_libraries.h"

namespace mamori::db {
namespace {

struct Close {
  void operator()(MYSQL* m) const { mysql_close(m); }
};
struct Free {
  void operator()(MYSQL_RES* r) const { mysql_free_result(r); }
};

Result<std::vector<MariadbRow>> Rows(MYSQL* m, const std::string& sql) {
  if (mysql_real_query(m, sql.data(), sql.size()) != 0) return Error(mysql_error(m));
  std::unique_ptr<MYSQL_RES, Free> res(mysql_store_result(m));
  if (!res) return Error(mysql_field_count(m) ? mysql_error(m) : "no result");
  const unsigned n = mysql_num_fields(res.get());
  const MYSQL_FIELD* fields = mysql_fetch_fields(res.get());
  std::vector<MariadbRow> rows;
  while (MYSQL_ROW row = mysql_fetch_row(res.get())) {
    const unsigned long* len = mysql_fetch_lengths(res.get());
    MariadbRow r;
    for (unsigned i = 0; i < n; ++i)
      r[fields[i].name] = row[i] ? std::string(row[i], len[i]) : std::string();
    rows.push_back(std::move(r));
  }
  return rows;
}

// SHOW ... STATUS/VARIABLES rows as one name -> value map.
Result<MariadbRow> NameValues(MYSQL* m, const std::string& sql) {
  auto rows = Rows(m, sql);
  if (!rows.ok()) return rows.error();
  MariadbRow out;
  for (auto& r : *rows) out[r["Variable_name"]] = r["Value"];
  return out;
}

}  // namespace

std::string MariadbTarget::Describe() const {
  if (host.empty() && !socket.empty()) return "mariadb " + socket;
  return fmt::format("mariadb {}:{}", host.empty() ? "127.0.0.1" : host, port);
}

Result<MariadbRead> ReadMariadb(const MariadbTarget& t, std::chrono::seconds timeout) {
  // mysql_library_init is not thread-safe; a function-local static runs it once.
  static const int init = mysql_library_init(0, nullptr, nullptr);
  (void)init;
  std::unique_ptr<MYSQL, Close> m(mysql_init(nullptr));
  if (!m) return Error(util::Unavailable(util::LazyLibMariaDb(), "out of memory"));
  const unsigned secs = static_cast<unsigned>(std::clamp<int64_t>(timeout.count(), 1, 3600));
  const unsigned connect = std::min(secs, 10u);
  mysql_options(m.get(), MYSQL_OPT_CONNECT_TIMEOUT, &connect);
  mysql_options(m.get(), MYSQL_OPT_READ_TIMEOUT, &secs);
  mysql_options(m.get(), MYSQL_OPT_WRITE_TIMEOUT, &secs);
  const bool use_socket = t.host.empty() && !t.socket.empty();
  unsigned proto = use_socket ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;
  mysql_options(m.get(), MYSQL_OPT_PROTOCOL, &proto);
  const std::string host = use_socket ? "localhost" : (t.host.empty() ? "127.0.0.1" : t.host);
  if (!mysql_real_connect(m.get(), host.c_str(), t.user.empty() ? nullptr : t.user.c_str(),
                          t.password.empty() ? nullptr : t.password.c_str(), nullptr,
                          static_cast<unsigned>(t.port), use_socket ? t.socket.c_str() : nullptr,
                          0))
    return Error(fmt::format("cannot connect to {}: {}", t.Describe(), mysql_error(m.get())));
  MariadbRead out;
  auto status = NameValues(m.get(), "SHOW GLOBAL STATUS");
  if (!status.ok()) return status.error().Wrap(t.Describe() + ": SHOW GLOBAL STATUS");
  out.facts.status = std::move(*status);
  auto vars = NameValues(m.get(),
                         "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('max_connections', "
                         "'innodb_force_recovery', 'read_only', 'version')");
  if (!vars.ok()) return vars.error().Wrap(t.Describe() + ": SHOW GLOBAL VARIABLES");
  out.facts.variables = std::move(*vars);
  auto replicas = Rows(m.get(), "SHOW ALL SLAVES STATUS");
  if (replicas.ok())
    out.facts.replicas = std::move(*replicas);
  else
    out.note = "replica status not readable: " + replicas.error().message();
  return out;
}

}  // namespace mamori::db
