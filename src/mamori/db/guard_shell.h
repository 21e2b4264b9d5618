// The shell functions `mamori guard shell-init bash|zsh` prints: rm, mv,
// rmdir, dropdb, pg_ctl, pg_ctlcluster, systemctl, mkfs(.*) and dd become
// functions that ask `mamori guard --classify` first (no database is asked,
// so the usual call costs one short process) and only a dangerous call goes
// through the guard; `command rm ...` still bypasses them. When the mamori
// binary is gone the commands run unguarded rather than not at all.
// Pure text; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mamori::db {

// nullopt for a shell we have no functions for.
std::optional<std::string> GuardShellInit(const std::string& shell, const std::string& mamori_path);

// The commands the functions wrap.
const std::vector<std::string>& GuardedCommands();

}  // namespace mamori::db
