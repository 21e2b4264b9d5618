#include "mamori/db/guard_rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace mamori::db {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string BaseName(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// `a` is `b` or lies under it.
bool Within(const std::string& a, const std::string& b) {
  if (b == "/") return true;
  return a == b || (StartsWith(a, b) && a.size() > b.size() && a[b.size()] == '/');
}

const char* EngineName(Engine e) { return e == Engine::kPostgres ? "PostgreSQL" : "MariaDB"; }

GuardVerdict Destructive(std::string what) {
  GuardVerdict v;
  v.destructive = true;
  v.what = std::move(what);
  return v;
}

// rm, mv, rmdir, shred: every operand that is, holds or lies under a data
// directory. For mv the destination counts too (it may be overwritten).
GuardVerdict FileCommand(const std::string& verb, const std::vector<std::string>& args,
                         const std::vector<DataDir>& dirs, const PathResolver& resolve) {
  GuardVerdict v;
  bool operands_only = false;
  for (const auto& a : args) {
    if (!operands_only && a == "--") {
      operands_only = true;
      continue;
    }
    if (!operands_only && a.size() > 1 && a[0] == '-') continue;
    const std::string path = resolve(a);
    for (const auto& d : dirs) {
      if (!Within(path, d.path) && !Within(d.path, path)) continue;
      if (std::find(v.data_dirs.begin(), v.data_dirs.end(), d.path) == v.data_dirs.end())
        v.data_dirs.push_back(d.path);
      if (!v.destructive)
        v.what = fmt::format("{} of {} ({} data directory {})", verb, path, EngineName(d.engine),
                             d.path);
      v.destructive = true;
    }
  }
  return v;
}

// The SQL given on the command line: psql -c/--command, mysql -e/--execute.
std::vector<std::string> InlineSql(const std::vector<std::string>& args, const std::string& shrt,
                                   const std::string& lng) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if ((a == shrt || a == lng) && i + 1 < args.size()) {
      out.push_back(args[++i]);
    } else if (StartsWith(a, lng + "=")) {
      out.push_back(a.substr(lng.size() + 1));
    } else if (StartsWith(a, shrt) && a.size() > shrt.size() && a[1] != '-') {
      out.push_back(a.substr(shrt.size()));
    }
  }
  return out;
}

bool DropsDatabase(const std::string& sql) {
  std::string flat;
  for (char c : Lower(sql)) {
    const char s = std::isspace(static_cast<unsigned char>(c)) ? ' ' : c;
    if (s == ' ' && !flat.empty() && flat.back() == ' ') continue;
    flat.push_back(s);
  }
  // MySQL's DROP SCHEMA is DROP DATABASE under another name.
  return flat.find("drop database") != std::string::npos ||
         flat.find("drop schema") != std::string::npos;
}

bool ImmediateStop(const std::vector<std::string>& args) {
  bool stop = false, immediate = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "stop" || a == "restart") stop = true;
    std::string mode;
    if ((a == "-m" || a == "--mode") && i + 1 < args.size()) mode = args[i + 1];
    if (StartsWith(a, "--mode=")) mode = a.substr(7);
    if (StartsWith(a, "-m") && a.size() > 2 && a[1] == 'm') mode = a.substr(2);
    if (!mode.empty() && StartsWith("immediate", mode)) immediate = true;
  }
  return stop && immediate;
}

GuardVerdict Systemctl(const std::vector<std::string>& args) {
  static const std::vector<std::string> kVerbs = {"stop", "disable", "mask", "kill"};
  std::string verb;
  for (const auto& a : args) {
    if (a.empty() || a[0] == '-') continue;
    if (verb.empty()) {
      if (std::find(kVerbs.begin(), kVerbs.end(), a) == kVerbs.end()) return {};
      verb = a;
      continue;
    }
    if (IsDatabaseUnit(a)) return Destructive(fmt::format("systemctl {} {}", verb, a));
  }
  return {};
}

}  // namespace

std::string NormalPath(const std::string& path, const std::string& cwd) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::path(cwd) / p;
  std::string s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

bool IsDatabaseUnit(const std::string& unit) {
  const std::string u = Lower(unit);
  for (const char* prefix : {"postgresql", "postgres", "mariadb", "mysql", "mysqld", "patroni"})
    if (StartsWith(u, prefix)) return true;
  return false;
}

GuardVerdict ClassifyCommand(const std::vector<std::string>& argv_in,
                             const std::vector<DataDir>& data_dirs, const PathResolver& resolve) {
  std::vector<std::string> argv = argv_in;
  if (!argv.empty() && BaseName(argv[0]) == "sudo") argv.erase(argv.begin());
  if (argv.empty()) return {};
  const std::string prog = BaseName(argv[0]);
  const std::vector<std::string> args(argv.begin() + 1, argv.end());
  if (prog == "rm" || prog == "mv" || prog == "rmdir" || prog == "shred")
    return FileCommand(prog, args, data_dirs, resolve);
  if (prog == "dropdb") return Destructive("dropdb " + (args.empty() ? "" : args.back()));
  if (prog == "psql" || prog == "mysql" || prog == "mariadb") {
    const bool pg = prog == "psql";
    for (const auto& sql : InlineSql(args, pg ? "-c" : "-e", pg ? "--command" : "--execute"))
      if (DropsDatabase(sql)) return Destructive(fmt::format("{} running '{}'", prog, sql));
    return {};
  }
  if ((prog == "pg_ctl" || prog == "pg_ctlcluster") && ImmediateStop(args))
    return Destructive(prog + " stop in immediate mode (no checkpoint, crash recovery at start)");
  if (prog == "systemctl") return Systemctl(args);
  if (prog == "mkfs" || StartsWith(prog, "mkfs.") || prog == "mke2fs")
    return Destructive(prog + " (makes a new, empty file system)");
  if (prog == "dd")
    for (const auto& a : args)
      if (StartsWith(a, "of=/dev/")) return Destructive("dd writing to " + a.substr(3));
  return {};
}

}  // namespace mamori::db
