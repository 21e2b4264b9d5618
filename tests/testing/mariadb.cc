#include "testing/mariadb.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "mamori/util/subprocess.h"
#include "testing/ports.h"
#include "testing/spawn.h"

namespace mamori::testing {
namespace fs = std::filesystem;

namespace {

const char* FindBinary(std::initializer_list<const char*> candidates) {
  for (const char* p : candidates)
    if (::access(p, X_OK) == 0) return p;
  return nullptr;
}

const char* Mariadbd() { return FindBinary({"/usr/sbin/mariadbd", "/usr/bin/mariadbd"}); }
const char* InstallDb() {
  return FindBinary({"/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db"});
}

std::string Describe(const ProcessResult& r) {
  std::string s = r.timed_out ? "timed out" : "exit " + std::to_string(r.exit_code);
  if (!r.err.empty()) s += ": " + r.err;
  return s;
}

}  // namespace

std::string MariaDbServer::MissingBinaries() {
  std::string missing;
  if (!Mariadbd()) missing = "mariadbd";
  if (!InstallDb()) missing += std::string(missing.empty() ? "" : ", ") + "mariadb-install-db";
  for (const char* c : {"/usr/bin/mariadb", "/usr/bin/mariadb-dump"})
    if (::access(c, X_OK) != 0) missing += std::string(missing.empty() ? "" : ", ") + c;
  if (missing.empty()) return "";
  return "MariaDB not installed (missing " + missing + "; scripts/bootstrap.sh installs it)";
}

MariaDbServer::MariaDbServer() : MariaDbServer(Options{}) {}
MariaDbServer::MariaDbServer(Options options) : options_(std::move(options)) {}

std::string MariaDbServer::Start() {
  if (std::string m = MissingBinaries(); !m.empty()) return m;
  std::string tmpl = (fs::temp_directory_path() / "mamori-mariadb-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) return "mkdtemp failed";
  dir_ = tmpl;
  const std::string data = dir_ + "/data";
  // A private tmpdir: two servers bootstrapping at once in the shared /tmp
  // collide on their internal temporary table names ("Error on delete of
  // '/tmp/#sql-temptable-...'").
  const std::string tmp = dir_ + "/tmp";
  std::error_code mk;
  fs::create_directory(tmp, mk);

  ProcessOptions init;
  init.argv = {InstallDb(),
               "--no-defaults",
               "--datadir=" + data,
               "--user=root",
               "--auth-root-authentication-method=normal",
               "--skip-test-db",
               "--skip-name-resolve",
               "--tmpdir=" + tmp};
  init.timeout = std::chrono::seconds(60);
  init.merge_stderr = true;
  auto ir = RunProcess(init);
  if (!ir.ok()) return ir.error().message();
  if (ir->exit_code != 0) return "mariadb-install-db failed: " + Describe(*ir) + ir->out;

  const std::string log = dir_ + "/error.log";
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = PickFreePort();
    std::vector<std::string> args = {"mariadbd",
                                     "--no-defaults",
                                     "--datadir=" + data,
                                     "--socket=" + socket(),
                                     "--port=" + std::to_string(port_),
                                     "--bind-address=127.0.0.1",
                                     "--user=root",
                                     "--skip-name-resolve",
                                     "--pid-file=" + dir_ + "/mariadbd.pid",
                                     "--log-error=" + log,
                                     "--tmpdir=" + tmp,
                                     "--innodb-buffer-pool-size=16M",
                                     "--innodb-flush-log-at-trx-commit=0",
                                     "--skip-log-bin"};
    args[0] = Mariadbd();
    if (options_.binary_log) args.back() = "--log-bin=mariadb-bin";
    if (!options_.config.empty()) {
      const std::string cnf = dir_ + "/my.cnf";
      std::ofstream(cnf) << "[mariadbd]\n" << options_.config << "\n";
      args[1] = "--defaults-file=" + cnf;
    }
    SpawnSpec spec;
    spec.argv = args;
    spec.output = log;
    pid_ = SpawnServer(spec);
    if (pid_ < 0) return "fork failed";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    bool exited = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (AcceptsOnLoopback(port_)) {
        // Accepting TCP is not the same as answering queries yet.
        auto ping = Sql("SELECT 1", "mysql");
        if (ping.ok()) {
          if (options_.database.empty()) return "";
          auto r = Sql("CREATE DATABASE `" + options_.database + "`", "mysql");
          return r.ok() ? ""
                        : "creating database " + options_.database + ": " + r.error().message();
        }
      }
      if (ServerExited(pid_)) {
        exited = true;
        break;  // most likely the port was taken in between; try another
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!exited) break;
  }
  return "mariadbd did not start: " + Log();
}

MariaDbServer::~MariaDbServer() {
  StopProcess(pid_, SIGTERM, std::chrono::seconds(10), /*group=*/false);  // orderly shutdown
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

Result<std::string> MariaDbServer::RunClient(const std::string& program,
                                             const std::vector<std::string>& args,
                                             const std::optional<std::string>& stdin_data) const {
  ProcessOptions o;
  o.argv = {program,
            "--no-defaults",
            "--protocol=tcp",
            "--host=127.0.0.1",
            "--port=" + std::to_string(port_),
            "--user=root"};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.stdin_data = stdin_data;
  o.max_output = 256 << 20;
  o.timeout = std::chrono::seconds(120);
  auto r = RunProcess(o);
  if (!r.ok()) return r.error();
  if (r->exit_code != 0) return Error(program + " failed: " + Describe(*r));
  return std::move(r->out);
}

Result<std::string> MariaDbServer::Sql(const std::string& sql, const std::string& database) const {
  return RunClient(
      "mariadb",
      {"--batch", "--skip-column-names", database.empty() ? options_.database : database}, sql);
}

Result<std::string> MariaDbServer::Dump(const std::vector<std::string>& args) const {
  return RunClient("mariadb-dump", args);
}

Result<std::string> MariaDbServer::ServerVersion() const {
  auto r = Sql("SELECT VERSION()", "mysql");
  if (!r.ok()) return r;
  std::string v = *r;
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

std::string MariaDbServer::Log() const { return ReadFile(dir_ + "/error.log"); }

}  // namespace mamori::testing
