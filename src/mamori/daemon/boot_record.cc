#include "mamori/daemon/boot_record.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "mamori/util/atomic_file.h"

namespace mamori {
namespace {

std::string RecordPath(const std::string& data_dir) { return data_dir + "/boot"; }

std::string Utc(WallTime t) {
  const std::time_t s = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(t));
  return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(s));
}

Result<bool> Write(const std::string& data_dir, const std::string& boot_id, WallTime now,
                   bool stopped = false) {
  return WriteFileAtomically(
      RecordPath(data_dir),
      fmt::format("{}\n{}\n{}", boot_id,
                  std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count(),
                  stopped ? "stopped\n" : ""));
}

}  // namespace

Result<std::string> ReadBootId(const std::string& path) {
  std::ifstream in(path);
  std::string id;
  if (!(in >> id) || id.empty()) return Error("cannot read the boot id from " + path);
  return id;
}

Result<std::optional<PreviousBoot>> NoteBoot(const std::string& data_dir,
                                             const std::string& boot_id, WallTime now) {
  std::optional<PreviousBoot> previous;
  {
    std::ifstream in(RecordPath(data_dir));
    PreviousBoot p;
    int64_t seconds = 0;
    if (in >> p.boot_id >> seconds && p.boot_id != boot_id) {
      p.last_seen = WallTime(std::chrono::seconds(seconds));
      std::string mark;
      p.stopped_cleanly = (in >> mark) && mark == "stopped";
      previous = p;
    }
  }
  if (auto w = Write(data_dir, boot_id, now); !w.ok()) return w.error();
  return previous;
}

Result<bool> TouchBoot(const std::string& data_dir, const std::string& boot_id, WallTime now) {
  return Write(data_dir, boot_id, now);
}

Result<bool> MarkCleanStop(const std::string& data_dir, const std::string& boot_id, WallTime now) {
  return Write(data_dir, boot_id, now, /*stopped=*/true);
}

std::string DescribeShutdown(const PreviousBoot& previous) {
  // The journal is the system's own word; mamori's record only says whether
  // mamori itself was stopped before the boot ended.
  if (previous.journal_shutdown.has_value())
    return *previous.journal_shutdown
               ? "shut down cleanly"
               : "ended without a clean shutdown (power cut, crash or reset?)";
  return previous.stopped_cleanly
             ? "mamori was stopped before it ended (a clean shutdown, or mamori was stopped)"
             : "ended without a clean shutdown (power cut, crash or reset?): mamori was still "
               "running";
}

Event BootEvent(const PreviousBoot& previous, const std::string& boot_id, WallTime now) {
  Event e;
  e.time = now;
  e.check = kHostEventCheck;
  // A state change of the pseudo-check "@host" to OK (the host is up): every
  // reader of events shows it as it is, without a kind of its own.
  e.kind = EventKind::kStateChange;
  e.to = CheckStatus::kOk;
  e.summary = fmt::format("booted (boot {}); previous boot {} last seen at {}, {}",
                          boot_id.substr(0, 8), previous.boot_id.substr(0, 8),
                          Utc(previous.last_seen), DescribeShutdown(previous));
  return e;
}

}  // namespace mamori
