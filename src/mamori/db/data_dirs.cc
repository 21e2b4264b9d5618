#include "mamori/db/data_dirs.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mamori::db {
namespace {

namespace fs = std::filesystem;

std::string ReadSmall(const std::string& path, size_t limit = 64 * 1024) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::string s(limit, '\0');
  in.read(s.data(), static_cast<std::streamsize>(limit));
  s.resize(static_cast<size_t>(in.gcount()));
  return s;
}

int ToInt(const std::string& s) {
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

int ParentPid(const std::string& proc, int pid) {
  const std::string stat = ReadSmall(proc + "/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(stat.substr(close + 2));
  std::string state;
  int ppid = 0;
  in >> state >> ppid;
  return ppid;
}

bool IsPostgres(const std::string& comm) { return comm == "postgres" || comm == "postmaster"; }
bool IsMariadb(const std::string& comm) { return comm == "mariadbd" || comm == "mysqld"; }

// The value of `-D DIR`/`-DDIR` or `--datadir=DIR` (and friends) in argv.
std::string ArgValue(const std::vector<std::string>& argv, const std::string& shrt,
                     const std::string& lng) {
  for (size_t i = 1; i < argv.size(); ++i) {
    const auto& a = argv[i];
    if (!shrt.empty() && a == shrt && i + 1 < argv.size()) return argv[i + 1];
    if (!shrt.empty() && a.rfind(shrt, 0) == 0 && a.size() > shrt.size()) return a.substr(2);
    if (a.rfind(lng + "=", 0) == 0) return a.substr(lng.size() + 1);
  }
  return "";
}

// postmaster.pid: pid, data dir, start time, port, socket dir, ...
void ReadPostmasterPid(const HostRoots& r, DataDir& d, bool need_live) {
  const auto lines = Lines(ReadSmall(r.fs + d.path + "/postmaster.pid", 4096));
  if (lines.size() < 5) return;
  const int pid = ToInt(lines[0]);
  if (need_live) {
    if (pid <= 0 || !IsPostgres(ProcessComm(r.proc, pid))) return;
    d.pid = pid;
  }
  if (d.pid != pid) return;  // an old file from another run
  d.port = ToInt(lines[3]);
  d.socket_dir = lines[4];
}

void FromProcess(const HostRoots& r, int pid, const std::string& comm, std::vector<DataDir>& out) {
  const std::string base = r.proc + "/" + std::to_string(pid);
  std::vector<std::string> argv;
  for (const auto& a : Lines([&] {
         std::string s = ReadSmall(base + "/cmdline");
         std::replace(s.begin(), s.end(), '\0', '\n');
         return s;
       }()))
    argv.push_back(a);
  std::error_code ec;
  const std::string cwd = fs::read_symlink(base + "/cwd", ec).string();
  DataDir d;
  d.pid = pid;
  if (IsPostgres(comm)) {
    if (IsPostgres(ProcessComm(r.proc, ParentPid(r.proc, pid)))) return;  // a backend
    std::string dir = ArgValue(argv, "-D", "--data-directory");
    d.path = NormalPath(dir.empty() ? cwd : dir, cwd.empty() ? "/" : cwd);
    ReadPostmasterPid(r, d, false);
  } else {
    d.engine = Engine::kMariadb;
    std::string dir = ArgValue(argv, "", "--datadir");
    d.path = NormalPath(dir.empty() ? cwd : dir, cwd.empty() ? "/" : cwd);
    d.socket_dir = ArgValue(argv, "", "--socket");
    if (d.socket_dir.empty()) d.socket_dir = "/run/mysqld/mysqld.sock";
    d.port = ToInt(ArgValue(argv, "", "--port"));
  }
  if (!d.path.empty() && d.path != "/") out.push_back(d);
}

void AddOnDisk(const HostRoots& r, const std::string& path, Engine engine,
               std::vector<DataDir>& out) {
  for (const auto& d : out)
    if (d.path == path) return;
  std::error_code ec;
  const char* marker = engine == Engine::kPostgres ? "/PG_VERSION" : "/mysql";
  if (!fs::exists(r.fs + path + marker, ec)) return;
  DataDir d;
  d.path = path;
  d.engine = engine;
  if (engine == Engine::kPostgres) ReadPostmasterPid(r, d, true);
  out.push_back(d);
}

}  // namespace

std::string ProcessComm(const std::string& proc_root, int pid) {
  if (pid <= 0) return "";
  std::string c = ReadSmall(proc_root + "/" + std::to_string(pid) + "/comm", 64);
  while (!c.empty() && c.back() == '\n') c.pop_back();
  return c;
}

std::vector<DataDir> FindDataDirs(const HostRoots& r) {
  std::vector<DataDir> out;
  if (DIR* dir = ::opendir(r.proc.c_str())) {
    while (const dirent* e = ::readdir(dir)) {
      const int pid = ToInt(e->d_name);
      if (pid <= 0) continue;
      const std::string comm = ProcessComm(r.proc, pid);
      if (IsPostgres(comm) || IsMariadb(comm)) FromProcess(r, pid, comm, out);
    }
    ::closedir(dir);
  }
  if (!r.pgdata.empty()) AddOnDisk(r, NormalPath(r.pgdata, "/"), Engine::kPostgres, out);
  std::error_code ec;
  for (const auto& version : fs::directory_iterator(r.fs + "/var/lib/postgresql", ec))
    AddOnDisk(r, "/var/lib/postgresql/" + version.path().filename().string() + "/main",
              Engine::kPostgres, out);
  AddOnDisk(r, "/var/lib/mysql", Engine::kMariadb, out);
  return out;
}

}  // namespace mamori::db
