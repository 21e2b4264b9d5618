#include "mamori/logs/journal_boots.h"

#include <systemd/sd-journal.h>

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "mamori/logs/journal_reader.h"

namespace mamori::logs {
namespace {

// Messages only a shutdown writes (systemd/sd-messages.h): logind's "System
// is powering down" (SD_MESSAGE_SHUTDOWN) and journald's "Journal stopped"
// (SD_MESSAGE_JOURNAL_STOP), which it writes when it is stopped, as at the
// end of a shutdown; a power cut writes neither.
constexpr const char* kShutdownMessageIds[] = {"98268866d1d54a499c4e98921d93bc40",
                                               "d93fb3c9c24d451a97cea615ce59c00b"};

struct JournalCloser {
  void operator()(sd_journal* j) const { sd_journal_close(j); }
};
using JournalPtr = std::unique_ptr<sd_journal, JournalCloser>;

Error SdFailure(const std::string& what, int rc) {
  return Error(fmt::format("{}: {}", what, std::strerror(-rc)));
}

// nullopt (not an error) where the machine keeps no journal at all.
Result<std::optional<JournalPtr>> Open(const std::string& dir) {
  sd_journal* j = nullptr;
  if (dir.empty()) {
    if (JournalAbsentReason()) return std::optional<JournalPtr>();
    if (int rc = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY); rc < 0)
      return SdFailure("opening the systemd journal", rc);
  } else if (int rc = sd_journal_open_directory(&j, dir.c_str(), 0); rc < 0) {
    return SdFailure("opening the journal in " + dir, rc);
  }
  return std::optional<JournalPtr>(JournalPtr(j));
}

WallTime EntryTime(sd_journal* j) {
  uint64_t usec = 0;
  sd_journal_get_realtime_usec(j, &usec);
  return WallTime(std::chrono::microseconds(usec));
}

Result<bool> AddMatch(sd_journal* j, const std::string& field, const std::string& value) {
  const std::string m = field + "=" + value;
  if (int rc = sd_journal_add_match(j, m.data(), m.size()); rc < 0)
    return SdFailure("matching " + m, rc);
  return true;
}

}  // namespace

std::string JournalBootId(std::string_view kernel_boot_id) {
  std::string out;
  for (char c : kernel_boot_id)
    if (c != '-') out.push_back(c);
  return out;
}

Result<std::optional<JournalBoot>> FindJournalBoot(std::string_view boot_id,
                                                   const std::string& dir) {
  auto opened = Open(dir);
  if (!opened.ok()) return opened.error();
  if (!*opened) return std::optional<JournalBoot>();
  sd_journal* j = (*opened)->get();
  JournalBoot boot;
  boot.boot_id = JournalBootId(boot_id);
  if (auto m = AddMatch(j, "_BOOT_ID", boot.boot_id); !m.ok()) return m.error();
  if (sd_journal_seek_head(j) < 0 || sd_journal_next(j) <= 0) return std::optional<JournalBoot>();
  boot.first = EntryTime(j);
  if (sd_journal_seek_tail(j) >= 0 && sd_journal_previous(j) > 0) boot.last = EntryTime(j);
  // A shutdown message within the same boot: sd_journal ORs matches on one
  // field and ANDs the fields.
  for (const char* id : kShutdownMessageIds)
    if (auto m = AddMatch(j, "MESSAGE_ID", id); !m.ok()) return m.error();
  boot.shutdown_started = sd_journal_seek_head(j) >= 0 && sd_journal_next(j) > 0;
  return std::optional<JournalBoot>(std::move(boot));
}

Result<std::optional<JournalBoot>> JournalBootBefore(WallTime before, const std::string& dir) {
  std::string id;
  {
    auto opened = Open(dir);
    if (!opened.ok()) return opened.error();
    if (!*opened) return std::optional<JournalBoot>();
    sd_journal* j = (*opened)->get();
    const auto usec =
        std::chrono::duration_cast<std::chrono::microseconds>(before.time_since_epoch()).count();
    if (int rc = sd_journal_seek_realtime_usec(j, static_cast<uint64_t>(usec)); rc < 0)
      return SdFailure("seeking the journal", rc);
    // Seeking lands on the first entry at or after `before`; the one before
    // it is the last entry written earlier.
    if (sd_journal_previous(j) <= 0) return std::optional<JournalBoot>();
    if (EntryTime(j) >= before && sd_journal_previous(j) <= 0) return std::optional<JournalBoot>();
    sd_id128_t boot{};
    if (int rc = sd_journal_get_monotonic_usec(j, nullptr, &boot); rc < 0)
      return SdFailure("reading an entry's boot id", rc);
    char text[SD_ID128_STRING_MAX];
    id = sd_id128_to_string(boot, text);
  }
  return FindJournalBoot(id, dir);
}

Result<WallTime> CurrentBootStart(const std::string& proc_root) {
  std::ifstream in(proc_root + "/stat");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("btime ", 0) != 0) continue;
    long long seconds = 0;
    std::istringstream ls(line.substr(6));
    if (ls >> seconds && seconds > 0) return WallTime(std::chrono::seconds(seconds));
  }
  return Error("cannot read the boot time (btime) from " + proc_root + "/stat");
}

}  // namespace mamori::logs
