#include "mamori/db/guard_shell.h"

namespace mamori::db {
namespace {

std::string SingleQuoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

const std::vector<std::string>& GuardedCommands() {
  static const std::vector<std::string> kCommands = {
      "rm",        "mv",   "rmdir",     "dropdb",   "pg_ctl",     "pg_ctlcluster",
      "systemctl", "mkfs", "mkfs.ext4", "mkfs.xfs", "mkfs.btrfs", "mkfs.vfat",
      "dd"};
  return kCommands;
}

std::optional<std::string> GuardShellInit(const std::string& shell,
                                          const std::string& mamori_path) {
  if (shell != "bash" && shell != "zsh") return std::nullopt;
  // `function NAME {` rather than `NAME() {`: an alias of the same name
  // (rm='rm -i') is not expanded in it, so the definition cannot break.
  std::string s = "# mamori guard (" + shell +
                  "): dangerous calls ask first; `command rm ...` bypasses.\n"
                  "__mamori_guard_bin=" +
                  SingleQuoted(mamori_path) +
                  "\n"
                  "function __mamori_guarded {\n"
                  "  if [ ! -x \"$__mamori_guard_bin\" ]; then command \"$@\"; return; fi\n"
                  "  if \"$__mamori_guard_bin\" guard --classify -- \"$@\"; then\n"
                  "    command \"$@\"; return\n"
                  "  fi\n"
                  "  \"$__mamori_guard_bin\" guard -- \"$@\"\n"
                  "}\n";
  for (const auto& c : GuardedCommands()) {
    s += "unalias " + c + " 2>/dev/null\n";
    s += "function " + c + " { __mamori_guarded " + c + " \"$@\"; }\n";
  }
  return s;
}

}  // namespace mamori::db
