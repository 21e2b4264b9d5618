// Boots as the systemd journal knows them: when a boot's entries begin and
// end, and whether a shutdown was started in it (systemd logs "System is
// shutting down" with a fixed MESSAGE_ID when it begins one). Used to tell a
// clean shutdown from a power cut, and for `diagnose --since previous-boot`.
//
// Plain functions; each opens and closes its own sd_journal (not shared
// between threads). A machine without a journal, or a journal that does not
// keep earlier boots (volatile storage in /run), gives nullopt, not an error:
// "unknown" is an honest answer there. Errors are libsystemd's own words.
#pragma once

#include <optional>
#include <string>

#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::logs {

struct JournalBoot {
  std::string boot_id;  // 32 hex digits, as the journal writes _BOOT_ID
  WallTime first{};     // its first entry
  WallTime last{};      // its last entry
  bool shutdown_started = false;
};

// "0b0b...-..." (the kernel's form, with dashes) to the journal's form.
std::string JournalBootId(std::string_view kernel_boot_id);

// The boot `boot_id` (either form) in the journal under `dir` ("" = the local
// system journal); nullopt when the journal has no entry of it.
Result<std::optional<JournalBoot>> FindJournalBoot(std::string_view boot_id,
                                                   const std::string& dir = "");

// The boot that wrote the last entry before `before` (pass the current boot's
// start to get the previous boot); nullopt when there is none.
Result<std::optional<JournalBoot>> JournalBootBefore(WallTime before, const std::string& dir = "");

// When this boot started: the kernel's btime from /proc/stat.
Result<WallTime> CurrentBootStart(const std::string& proc_root = "/proc");

}  // namespace mamori::logs
