// Boots are events: which kernel boot mamori last ran on, so that `mamori run`
// starting on a new boot records "booted; previous boot last seen at ...".
//
// The record is DATA_DIR/boot: the kernel's boot_id
// (/proc/sys/kernel/random/boot_id, new at every boot), the last time mamori
// was seen running on it (unix seconds), and a third line "stopped" when the
// daemon stopped cleanly (SIGTERM, as at a shutdown). The daemon writes it at
// start and refreshes the time from its housekeeping (about once a minute), so
// after a crash or a power cut the previous boot's last known time is at most
// that old, and the missing "stopped" says mamori did not get to stop. Replaced atomically (write,
// fsync, rename): a torn record reads as "no record".
//
// Threading: plain functions; the daemon calls them from its event loop.
// Failure: a record that cannot be read or written is an Error (the daemon
// logs it and carries on; a missing record is simply the first start).
#pragma once

#include <optional>
#include <string>

#include "mamori/core/event.h"
#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori {

// The check name boot events are filed under: '@' is not allowed in a check
// name, so it never collides with a configured check.
inline constexpr const char* kHostEventCheck = "@host";

Result<std::string> ReadBootId(const std::string& path = "/proc/sys/kernel/random/boot_id");

struct PreviousBoot {
  std::string boot_id;
  WallTime last_seen{};
  // The daemon stopped cleanly on that boot (it was told to: a shutdown, or
  // an operator). False: it was still running when the boot ended (a power
  // cut, a crash, a hard reset) or was killed.
  bool stopped_cleanly = false;
  // What the system journal says, when it has that boot: a shutdown was
  // started (systemd's "System is shutting down" message). nullopt: unknown.
  std::optional<bool> journal_shutdown;
};

// Reads DATA_DIR/boot and writes the current boot with `now`. Returns the
// previous boot when the record names another one; nullopt on the same boot
// or when there was no (readable) record.
Result<std::optional<PreviousBoot>> NoteBoot(const std::string& data_dir,
                                             const std::string& boot_id, WallTime now);

// Refreshes the record's last-seen time (the daemon is running).
Result<bool> TouchBoot(const std::string& data_dir, const std::string& boot_id, WallTime now);
// The daemon stops cleanly: the last-seen time, marked "stopped".
Result<bool> MarkCleanStop(const std::string& data_dir, const std::string& boot_id, WallTime now);

// "shut down cleanly" / "ended without a clean shutdown (power cut, crash or
// reset?)" from the evidence in `previous`.
std::string DescribeShutdown(const PreviousBoot& previous);

// The event stored for a new boot.
Event BootEvent(const PreviousBoot& previous, const std::string& boot_id, WallTime now);

}  // namespace mamori
