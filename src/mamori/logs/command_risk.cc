#include "mamori/logs/command_risk.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <sstream>

namespace mamori::logs {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  char quote = 0;
  for (char c : s) {
    if (quote) {
      if (c == quote)
        quote = 0;
      else
        cur += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

template <size_t N>
bool In(const std::string& w, const std::array<std::string_view, N>& set) {
  return std::find(set.begin(), set.end(), w) != set.end();
}

constexpr std::array<std::string_view, 22> kDestructiveTools = {
    "rm",     "rmdir",      "shred",      "dd",      "mkfs",     "wipefs",   "fdisk",    "sfdisk",
    "parted", "sgdisk",     "truncate",   "userdel", "groupdel", "lvremove", "vgremove", "pvremove",
    "mkswap", "blkdiscard", "xfs_repair", "e2fsck",  "fsck",     "unlink"};
// Words that make any command destructive, wherever they appear.
constexpr std::array<std::string_view, 18> kDestructiveWords = {"drop",     "delete",
                                                                "-delete",  "purge",
                                                                "--purge",  "destroy",
                                                                "wipe",     "--force",
                                                                "--hard",   "prune",
                                                                "flushall", "flushdb",
                                                                "truncate", "--zero-superblock",
                                                                "format",   "reset",
                                                                "-9",       "--no-preserve-root"};
constexpr std::array<std::string_view, 56> kReadOnlyTools = {
    "cat",    "less",     "more",     "tail",      "head",       "grep",  "egrep",    "zgrep",
    "zcat",   "ls",       "df",       "du",        "free",       "ps",    "top",      "htop",
    "uptime", "date",     "stat",     "file",      "find",       "lsof",  "ss",       "netstat",
    "dig",    "host",     "nslookup", "ping",      "traceroute", "id",    "whoami",   "hostname",
    "uname",  "dmesg",    "lsblk",    "blkid",     "findmnt",    "mount", "wc",       "sort",
    "uniq",   "awk",      "echo",     "which",     "getent",     "env",   "printenv", "vmstat",
    "iostat", "smartctl", "nginx",    "apachectl", "openssl",    "test",  "diff",     "mamori"};
// Tools that only look when used with one of these subcommands or flags.
constexpr std::array<std::string_view, 30> kLookingVerbs0 = {"status",
                                                             "show",
                                                             "is-active",
                                                             "is-enabled",
                                                             "is-failed",
                                                             "list-units",
                                                             "list-unit-files",
                                                             "cat",
                                                             "-t",
                                                             "configtest",
                                                             "-v",
                                                             "-V",
                                                             "--version",
                                                             "--detail",
                                                             "list",
                                                             "info",
                                                             "get",
                                                             "check",
                                                             "--check",
                                                             "-l",
                                                             "-a",
                                                             "--list",
                                                             "tracking",
                                                             "sources",
                                                             "sourcestats",
                                                             "x509",
                                                             "s_client",
                                                             "-T",
                                                             "timesync-status",
                                                             "--help"};

// Tools whose subcommand says whether they look or change.
constexpr std::array<std::string_view, 30> kVerbTools = {
    "systemctl",       "service", "ip",         "docker",        "podman",
    "zpool",           "zfs",     "mdadm",      "chronyc",       "timedatectl",
    "certbot",         "apt",     "apt-get",    "dpkg",          "redis-cli",
    "fail2ban-client", "ufw",     "iptables",   "nft",           "git",
    "sysctl",          "crontab", "loginctl",   "resolvectl",    "pg_lsclusters",
    "pg_ctlcluster",   "kubectl", "mysqladmin", "mariadb-admin", "pg_isready"};
constexpr std::array<std::string_view, 7> kRemovingVerbs = {
    "rm", "rmi", "remove", "autoremove", "-r", "--remove", "uninstall"};
constexpr std::array<std::string_view, 14> kMoreLooking = {
    "ps",     "logs", "inspect", "addr",  "route", "link",     "ping",
    "policy", "log",  "diff",    "query", "-q",    "--detail", "--examine"};
constexpr std::array<std::string_view, 40> kChangingVerbs = {
    "start",  "stop",     "restart",  "reload",     "try-restart",   "reload-or-restart",
    "enable", "disable",  "mask",     "unmask",     "daemon-reload", "reset-failed",
    "edit",   "set",      "add",      "del",        "flush",         "replace",
    "change", "install",  "upgrade",  "update",     "renew",         "import",
    "export", "online",   "offline",  "scrub",      "clear",         "unban",
    "banip",  "allow",    "deny",     "--now",      "set-ntp",       "-w",
    "-e",     "makestep", "set-time", "--configure"};

bool Looking(const std::string& w) { return In(w, kLookingVerbs0) || In(w, kMoreLooking); }

// Like In() over a sub-command's words, skipping options.
bool HasWord(const std::vector<std::string>& words, std::string_view w) {
  return std::find(words.begin(), words.end(), w) != words.end();
}

StepRisk ClassifySimple(const std::vector<std::string>& all) {
  size_t i = 0;
  // Prefixes that do not change what the command is.
  while (i < all.size() &&
         (all[i] == "sudo" || all[i] == "doas" || all[i] == "nice" || all[i] == "ionice" ||
          all[i] == "timeout" || all[i] == "env" || all[i].find('=') != std::string::npos ||
          all[i] == "-u" || (i > 0 && all[i - 1] == "-u") || (i > 0 && all[i - 1] == "timeout")))
    ++i;
  if (i >= all.size()) return StepRisk::kReadOnly;
  std::vector<std::string> w(all.begin() + static_cast<long>(i), all.end());
  for (auto& x : w) x = Lower(x);
  const std::string tool =
      w[0].substr(w[0].rfind('/') == std::string::npos ? 0 : w[0].rfind('/') + 1);
  if (In(tool, kDestructiveTools) || tool.rfind("mkfs", 0) == 0) return StepRisk::kDestructive;
  for (size_t k = 1; k < w.size(); ++k)
    if (In(w[k], kDestructiveWords) || w[k].find("drop ") != std::string::npos ||
        w[k].find("delete from") != std::string::npos ||
        w[k].find("truncate ") != std::string::npos || w[k].rfind("--vacuum", 0) == 0)
      return StepRisk::kDestructive;
  if (tool == "find" && (HasWord(w, "-exec") || HasWord(w, "-execdir")))
    return StepRisk::kReversible;
  if (tool == "curl" || tool == "wget") {
    for (const auto& x : w)
      if (x == "-x" || x == "--request" || x == "-d" || x.rfind("--data", 0) == 0 || x == "-o" ||
          x == "-t" || x == "--upload-file" || x == "-O")
        return StepRisk::kReversible;
    return StepRisk::kReadOnly;
  }
  if (tool == "mysql" || tool == "mariadb" || tool == "psql" || tool == "sqlite3") {
    for (std::string_view verb : {"update ", "insert ", "alter ", "create ", "set ", "grant ",
                                  "repair ", "optimize ", "kill "})
      for (const auto& x : w)
        if (x.find(verb) != std::string::npos) return StepRisk::kReversible;
    return StepRisk::kReadOnly;
  }
  if (tool == "mysqlcheck" || tool == "mariadb-check")
    return HasWord(w, "--repair") || HasWord(w, "-r") || HasWord(w, "--auto-repair")
               ? StepRisk::kReversible
               : StepRisk::kReadOnly;
  if (In(tool, kReadOnlyTools)) {
    if (tool == "mount" && w.size() > 1) return StepRisk::kReversible;
    if ((tool == "nginx" || tool == "apachectl") && !(w.size() > 1 && Looking(w[1])))
      return StepRisk::kReversible;
    if (tool == "smartctl" && HasWord(w, "-t")) return StepRisk::kReversible;
    return StepRisk::kReadOnly;
  }
  if (tool == "journalctl") return StepRisk::kReadOnly;  // --vacuum-* was caught above
  if (In(tool, kVerbTools)) {
    bool looks = w.size() == 1, changes = false;
    for (size_t k = 1; k < w.size(); ++k) {
      if (In(w[k], kRemovingVerbs)) return StepRisk::kDestructive;
      looks = looks || Looking(w[k]);
      changes = changes || In(w[k], kChangingVerbs) || w[k].find('=') != std::string::npos;
    }
    return looks && !changes ? StepRisk::kReadOnly : StepRisk::kReversible;
  }
  return StepRisk::kReversible;
}

// Splits on ;, &&, ||, | and newlines (outside quotes); notes output
// redirections that write a file.
std::vector<std::string> Split(std::string_view cmd, bool* writes_file) {
  std::vector<std::string> parts;
  std::string cur;
  char quote = 0;
  for (size_t i = 0; i < cmd.size(); ++i) {
    const char c = cmd[i];
    if (quote) {
      if (c == quote) quote = 0;
      cur += c;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      cur += c;
    } else if (c == ';' || c == '|' || c == '&' || c == '\n') {
      if (!cur.empty()) parts.push_back(std::move(cur));
      cur.clear();
    } else if (c == '>') {
      // "2>&1", ">/dev/null", ">> log" append; "> file" replaces a file.
      const bool append = i + 1 < cmd.size() && cmd[i + 1] == '>';
      size_t j = i + (append ? 2 : 1);
      while (j < cmd.size() && cmd[j] == ' ') ++j;
      const std::string_view target = cmd.substr(j);
      if (!target.empty() && target[0] != '&' && target.rfind("/dev/", 0) != 0) *writes_file = true;
      if (append) ++i;
      cur += ' ';
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) parts.push_back(std::move(cur));
  return parts;
}

}  // namespace

StepRisk MaxRisk(StepRisk a, StepRisk b) {
  return static_cast<int>(a) >= static_cast<int>(b) ? a : b;
}

StepRisk ClassifyCommand(std::string_view command) {
  bool writes_file = false;
  StepRisk risk = StepRisk::kReadOnly;
  for (const auto& part : Split(command, &writes_file)) {
    auto words = Words(part);
    if (words.empty()) continue;
    risk = MaxRisk(risk, ClassifySimple(words));
  }
  if (writes_file) risk = MaxRisk(risk, StepRisk::kReversible);
  return risk;
}

std::vector<AnswerCommand> ExtractCommands(std::string_view answer) {
  std::vector<AnswerCommand> out;
  std::istringstream in{std::string(answer)};
  std::string line;
  bool in_block = false, console = false, continued = false;
  size_t n = 0;
  auto strip = [](std::string s) {
    size_t b = s.find_first_not_of(" \t");
    s = b == std::string::npos ? "" : s.substr(b);
    while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
  };
  for (; std::getline(in, line); ++n) {
    std::string t = strip(line);
    if (t.rfind("```", 0) == 0) {
      if (!in_block) {
        const std::string lang = Lower(strip(t.substr(3)));
        in_block = true;
        console = lang == "console" || lang == "shell-session";
        // A block of another language (yaml, ini, sql...) holds no commands.
        if (!lang.empty() && lang != "sh" && lang != "bash" && lang != "shell" && !console &&
            lang != "zsh")
          in_block = false, console = false, t = "```skip";
        if (t == "```skip") {
          while (std::getline(in, line) && strip(line).rfind("```", 0) != 0) ++n;
          ++n;
        }
      } else {
        in_block = false;
      }
      continued = false;
      continue;
    }
    bool prompt = t.rfind("$ ", 0) == 0 || t.rfind("# ", 0) == 0;
    if (continued && !out.empty()) {
      std::string& c = out.back().command;
      while (!c.empty() && c.back() == ' ') c.pop_back();
      c += " " + t;
    } else if (in_block) {
      if (t.empty() || (t[0] == '#' && !prompt) || (console && !prompt)) continue;
      if (!console && t.rfind("# ", 0) == 0) continue;  // a comment in a script block
      out.push_back({n, prompt ? t.substr(2) : t});
    } else if (t.rfind("$ ", 0) == 0) {
      out.push_back({n, t.substr(2)});
    } else {
      continue;
    }
    continued = !out.back().command.empty() && out.back().command.back() == '\\';
    if (continued) out.back().command.pop_back();
  }
  return out;
}

}  // namespace mamori::logs
