#include "testing/postgres.h"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
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

std::string BinDir(const std::string& version) { return "/usr/lib/postgresql/" + version + "/bin"; }

std::string Describe(const ProcessResult& r) {
  std::string s = r.timed_out ? "timed out" : "exit " + std::to_string(r.exit_code);
  if (!r.err.empty()) s += ": " + r.err;
  return s;
}

}  // namespace

std::string PostgresServer::MissingBinaries(const std::string& version) {
  std::string missing;
  for (const char* prog : {"initdb", "postgres", "psql", "pg_dump"}) {
    const std::string p = BinDir(version) + "/" + prog;
    if (::access(p.c_str(), X_OK) != 0) missing += (missing.empty() ? "" : ", ") + p;
  }
  if (::getpwnam("postgres") == nullptr)
    missing += std::string(missing.empty() ? "" : ", ") + "system user postgres";
  if (missing.empty()) return "";
  return "PostgreSQL " + version + " not installed (missing " + missing +
         "; scripts/bootstrap.sh installs it)";
}

PostgresServer::PostgresServer() : PostgresServer(Options{}) {}
PostgresServer::PostgresServer(Options options) : options_(std::move(options)) {}

std::string PostgresServer::bin_dir() const { return BinDir(options_.version); }

std::string PostgresServer::Start() {
  if (std::string m = MissingBinaries(options_.version); !m.empty()) return m;
  const passwd* pw = ::getpwnam("postgres");
  const uid_t uid = pw->pw_uid;
  const gid_t gid = pw->pw_gid;

  std::string tmpl = (fs::temp_directory_path() / "mamori-pg-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) return "mkdtemp failed";
  dir_ = tmpl;
  if (::chown(dir_.c_str(), uid, gid) != 0) return "chown " + dir_ + " to postgres failed";

  if (std::string e = CreateDataDir(); !e.empty()) return e;
  if (options_.standby) {
    const std::string signal = data_dir() + "/standby.signal";
    if (!std::ofstream(signal) || ::chown(signal.c_str(), uid, gid) != 0)
      return "cannot write " + signal;
    options_.database.clear();  // a standby is read-only
  }

  const std::string postgres = bin_dir() + "/postgres";
  const std::string data = dir_ + "/data";
  const std::string log = dir_ + "/postgres.log";
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = PickFreePort();
    const std::string port = std::to_string(port_);
    SpawnSpec spec;
    spec.argv = {postgres,
                 "-D",
                 data,
                 "-k",
                 dir_,
                 "-h",
                 "127.0.0.1",
                 "-p",
                 port,
                 "-c",
                 "fsync=off",
                 "-c",
                 "full_page_writes=off",
                 "-c",
                 "synchronous_commit=off"};
    for (const std::string& setting : options_.settings) {
      spec.argv.push_back("-c");
      spec.argv.push_back(setting);
    }
    spec.output = log;
    spec.uid = uid;
    spec.gid = gid;
    pid_ = SpawnServer(spec);
    if (pid_ < 0) return "fork failed";
    const std::string conninfo = ConnInfo("postgres") + " connect_timeout=2";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    bool exited = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (PQping(conninfo.c_str()) == PQPING_OK) {
        if (options_.database.empty() || options_.database == "postgres" || options_.standby_of)
          return "";
        auto r = Sql("CREATE DATABASE \"" + options_.database + "\"", "postgres");
        return r.ok() ? "" : "creating database " + options_.database + ": " + r.error().message();
      }
      if (ServerExited(pid_)) {
        exited = true;
        break;  // most likely the port was taken in between; try another
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!exited) break;
  }
  return "postgres did not start: " + Log();
}

std::string PostgresServer::CreateDataDir() {
  ProcessOptions init;
  init.timeout = std::chrono::seconds(60);
  if (const PostgresServer* primary = options_.standby_of) {
    init.argv = {"runuser",
                 "-u",
                 "postgres",
                 "--",
                 bin_dir() + "/pg_basebackup",
                 "-h",
                 "127.0.0.1",
                 "-p",
                 std::to_string(primary->port()),
                 "-U",
                 "postgres",
                 "-D",
                 dir_ + "/data",
                 "-R",
                 "--checkpoint=fast",
                 "-X",
                 "stream",
                 "--no-sync"};
  } else {
    init.argv = {"runuser",   "-u",           "postgres", "--",        bin_dir() + "/initdb",
                 "-D",        dir_ + "/data", "-U",       "postgres",  "--auth=trust",
                 "--no-sync", "-E",           "UTF8",     "--locale=C"};
  }
  auto ir = RunProcess(init);
  if (!ir.ok()) return ir.error().message();
  if (ir->exit_code != 0) return init.argv[4] + " failed: " + Describe(*ir) + ir->out;
  return "";
}

pid_t PostgresServer::SpawnClient(const std::string& program, const std::vector<std::string>& args,
                                  const std::string& name) const {
  const passwd* pw = ::getpwnam("postgres");
  if (!pw) return -1;
  SpawnSpec spec;
  spec.argv = {bin_dir() + "/" + program};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.output = dir_ + "/" + name + ".log";
  spec.uid = pw->pw_uid;
  spec.gid = pw->pw_gid;
  return SpawnServer(spec);
}

PostgresServer::~PostgresServer() {
  StopProcess(pid_, SIGINT, std::chrono::seconds(10),
              /*group=*/false);  // fast shutdown: abort sessions, checkpoint, exit
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

std::string PostgresServer::ConnInfo(const std::string& database) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) +
         " user=postgres dbname=" + (database.empty() ? options_.database : database);
}

Result<std::string> PostgresServer::RunClient(const std::string& program,
                                              const std::vector<std::string>& args,
                                              const std::optional<std::string>& stdin_data) const {
  ProcessOptions o;
  o.argv = {bin_dir() + "/" + program};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env = {{"PGHOST", "127.0.0.1"},
           {"PGPORT", std::to_string(port_)},
           {"PGUSER", "postgres"},
           {"PGCONNECT_TIMEOUT", "5"}};
  o.stdin_data = stdin_data;
  o.max_output = 256 << 20;
  o.timeout = std::chrono::seconds(120);
  auto r = RunProcess(o);
  if (!r.ok()) return r.error();
  if (r->exit_code != 0) return Error(program + " failed: " + Describe(*r));
  return std::move(r->out);
}

Result<std::string> PostgresServer::Sql(const std::string& sql, const std::string& database) const {
  return RunClient("psql",
                   {"-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                    database.empty() ? options_.database : database, "-f", "-"},
                   sql);
}

Result<std::string> PostgresServer::PgDump(const std::vector<std::string>& args,
                                           const std::string& database) const {
  std::vector<std::string> a = args;
  a.push_back(database.empty() ? options_.database : database);
  return RunClient("pg_dump", a);
}

Result<std::string> PostgresServer::ServerVersion() const {
  auto r = Sql("SHOW server_version", "postgres");
  if (!r.ok()) return r;
  std::string v = *r;
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

std::string PostgresServer::Log() const { return ReadFile(dir_ + "/postgres.log"); }

}  // namespace mamori::testing
