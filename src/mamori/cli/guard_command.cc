#include "mamori/cli/guard_command.h"

#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>

#include "mamori/db/data_dirs.h"
#include "mamori/db/guard_shell.h"
#include "mamori/db/local_role.h"
#include "mamori/util/units.h"

namespace mamori::cli {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr int kExitRefused = 2;
constexpr int kExitNotConfirmed = 1;
constexpr auto kAskBudget = milliseconds(1000);
constexpr auto kWalkBudget = milliseconds(2000);
constexpr int kAnswerTimeoutMs = 300 * 1000;

struct GuardArgs {
  std::vector<std::string> argv;
  bool primary_ok = false;
  bool classify = false;
};

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

std::string Resolve(const std::string& path) {
  std::error_code ec;
  const std::string cwd = fs::current_path(ec).string();
  const fs::path p = fs::weakly_canonical(db::NormalPath(path, cwd.empty() ? "/" : cwd), ec);
  return ec ? db::NormalPath(path, cwd.empty() ? "/" : cwd) : db::NormalPath(p.string(), "/");
}

std::vector<db::DataDir> LocalDataDirs() {
  db::HostRoots roots;
  if (const char* pgdata = std::getenv("PGDATA")) roots.pgdata = pgdata;
  auto dirs = db::FindDataDirs(roots);
  for (auto& d : dirs) d.path = Resolve(d.path);
  return dirs;
}

int Exec(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::cout.flush();
  std::cerr.flush();
  ::execvp(args[0], args.data());
  std::cerr << "mamori guard: cannot run " << argv[0] << ": " << std::strerror(errno) << "\n";
  return errno == ENOENT ? 127 : 126;
}

std::string Ago(std::time_t t) {
  if (t == 0) return "never";
  char when[32];
  std::tm tm{};
  ::localtime_r(&t, &tm);
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
  const auto age = std::chrono::seconds(std::max<std::time_t>(0, std::time(nullptr) - t));
  return fmt::format("{} ({} ago)", when, FormatDuration(age));
}

// Prints what the guard knows of one data directory; true when it belongs to
// a running PRIMARY.
bool Describe(const db::DataDir& d) {
  const char* engine = d.engine == db::Engine::kPostgres ? "PostgreSQL" : "MariaDB";
  const db::ServerFacts f = db::AskServer(d, "", kAskBudget);
  std::string line = fmt::format("  {} {}: ", engine, d.path);
  if (d.pid > 0)
    line += fmt::format("{} ({}), running as pid {}", db::RoleName(f.role), f.source, d.pid);
  else
    line += "no server running on it";
  if (f.clients >= 0) line += fmt::format(", {} client(s) connected", f.clients);
  std::cerr << line << "\n";
  if (!f.error.empty() && d.pid > 0)
    std::cerr << "    (server did not answer: " << f.error << ")\n";
  const db::DirUsage u = db::MeasureDir(d.path, kWalkBudget);
  std::cerr << fmt::format("    data: {}{} in {} files, last write {}{}\n",
                           u.partial ? "at least " : "", FormatBytes(u.bytes), u.files,
                           Ago(u.last_write), u.newest.empty() ? "" : " to " + u.newest);
  return d.pid > 0 && f.role == db::Role::kPrimary;
}

// One line from stdin, waiting at most `timeout_ms`; nullopt on EOF/timeout.
std::optional<std::string> ReadAnswer(int timeout_ms) {
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(timeout_ms);
  while (line.size() < 256) {
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{STDIN_FILENO, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      return std::nullopt;
    char c = 0;
    if (::read(STDIN_FILENO, &c, 1) != 1) return line.empty() ? std::nullopt : std::optional(line);
    if (c == '\n') return line;
    if (c != '\r') line.push_back(c);
  }
  return line;
}

int RunGuard(const GuardArgs& a) {
  if (a.argv.size() >= 1 && a.argv[0] == "shell-init") {
    std::error_code ec;
    const std::string self = fs::read_symlink("/proc/self/exe", ec).string();
    auto text = db::GuardShellInit(a.argv.size() > 1 ? a.argv[1] : "bash", self);
    if (!text) {
      std::cerr << "mamori guard shell-init: unknown shell; use bash or zsh\n";
      return kExitUsage;
    }
    std::cout << *text;
    return 0;
  }
  const auto dirs = LocalDataDirs();
  const db::GuardVerdict v = db::ClassifyCommand(a.argv, dirs, Resolve);
  if (a.classify) return v.destructive ? 1 : 0;
  if (!v.destructive) return Exec(a.argv);

  const std::string host = HostName();
  std::cerr << "mamori guard: " << v.what << "\n  host: " << host << "\n";
  bool primary = false;
  for (const auto& d : dirs) {
    const bool touched =
        std::find(v.data_dirs.begin(), v.data_dirs.end(), d.path) != v.data_dirs.end();
    if (v.data_dirs.empty() || touched) primary |= Describe(d) && touched;
  }
  if (dirs.empty()) std::cerr << "  no database data directory found on this host\n";
  if (primary && !a.primary_ok) {
    std::cerr << "REFUSED: this is the data directory of the running PRIMARY on " << host
              << ". Nothing was run.\n(If that is really what you mean: mamori guard "
                 "--i-know-this-is-the-primary -- ...)\n";
    return kExitRefused;
  }
  std::cerr << "Type this host's name (" << host << ") to run it: " << std::flush;
  const auto answer = ReadAnswer(kAnswerTimeoutMs);
  if (!answer || *answer != host) {
    std::cerr << "\nNot confirmed (" << (answer ? "typed '" + *answer + "'" : "no answer")
              << ", this host is '" << host << "'). Nothing was run.\n";
    return kExitNotConfirmed;
  }
  return Exec(a.argv);
}

int RunPrompt(const std::string& only_dir) {
  std::string host = HostName();
  if (auto dot = host.find('.'); dot != std::string::npos) host.resize(dot);
  db::HostRoots roots;
  roots.pgdata = only_dir;
  db::Role best = db::Role::kUnknown;
  for (const auto& d : db::FindDataDirs(roots)) {
    if (d.pid <= 0 || (!only_dir.empty() && Resolve(d.path) != Resolve(only_dir))) continue;
    const auto f = db::AskServer(d, "", milliseconds(150));
    if (f.role == db::Role::kPrimary || best == db::Role::kUnknown) best = f.role;
  }
  std::cout << host << (best == db::Role::kUnknown ? "" : std::string(" ") + db::RoleName(best))
            << "\n";
  return 0;
}

}  // namespace

Verb AddGuard(CLI::App& app) {
  auto a = std::make_shared<GuardArgs>();
  auto* guard = app.add_subcommand(
      "guard",
      "Run a command, but make a destructive one (rm of a database data directory, dropdb,\n"
      "DROP DATABASE, pg_ctl stop -m immediate, systemctl stop of a database, mkfs, dd\n"
      "of=/dev/...) say which host this is and ask for its name first; refuse (exit 2) on\n"
      "the data directory of a running PRIMARY.\n"
      "  mamori guard -- rm -rf /var/lib/postgresql/15/main\n"
      "  eval \"$(mamori guard shell-init bash)\"   # wrap rm, mv, dropdb, ... in this shell");
  guard->add_flag("--i-know-this-is-the-primary", a->primary_ok,
                  "Allow the command on a running primary's data directory (still asks)");
  guard->add_flag("--classify", a->classify,
                  "Only say: exit 0 when the command is harmless, 1 when it would ask");
  guard
      ->add_option("command", a->argv,
                   "The command and its arguments, after --; or shell-init bash|zsh")
      ->required();
  return {guard, [a] { return RunGuard(*a); }};
}

Verb AddPrompt(CLI::App& app) {
  auto* prompt = app.add_subcommand(
      "prompt",
      "Print this host's identity for PS1: 'db1 PRIMARY', 'db2 standby' or the hostname.\n"
      "  PS1='[$(mamori prompt)] \\w\\$ '");
  auto dir = std::make_shared<std::string>();
  prompt->add_option("-D,--data-dir", *dir,
                     "Only this data directory's server (a host with several clusters)");
  return {prompt, [dir] { return RunPrompt(*dir); }};
}

}  // namespace mamori::cli
