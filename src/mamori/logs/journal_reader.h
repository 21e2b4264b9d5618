// JournalReader: reads the systemd journal through libsystemd's sd_journal,
// from a point in time or from a saved cursor, optionally only some units.
//
// Machines without systemd (a FreeBSD jail, a container, a host running
// another init) have no journal; OpenLocal() then says so plainly instead of
// returning an empty reader that looks like "nothing happened"
// (JournalAbsentReason()). Entries are bounded: a message is cut at
// max_message_bytes, and Read() returns at most `max` entries per call, so a
// huge backlog is taken in slices.
//
// Not thread-safe (sd_journal objects must stay on one thread at a time); the
// owner closes it by destroying the reader. Errors from libsystemd are
// returned with its own words (strerror of the negative errno).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mamori/util/clock.h"
#include "mamori/util/result.h"

struct sd_journal;

namespace mamori::logs {

struct JournalEntry {
  WallTime time{};
  std::string unit;        // _SYSTEMD_UNIT, e.g. "mariadb.service"
  std::string identifier;  // SYSLOG_IDENTIFIER, e.g. "mariadbd"
  int64_t pid = 0;
  int priority = 6;  // syslog priority, 0 emerg .. 7 debug
  std::string message;
  std::string cursor;
};

// Why this machine has no journal to read ("no systemd journal: neither
// /run/log/journal nor /var/log/journal holds journal files"), or nullopt when
// one exists. `root` prefixes the paths (tests).
std::optional<std::string> JournalAbsentReason(const std::string& root = "");

class JournalReader {
 public:
  static constexpr size_t kMaxMessageBytes = 64 * 1024;

  // The local system journal; an error when there is none (see above).
  static Result<std::unique_ptr<JournalReader>> OpenLocal();
  // The journal files in one directory (sd_journal_open_directory).
  static Result<std::unique_ptr<JournalReader>> OpenDirectory(const std::string& dir);
  ~JournalReader();
  JournalReader(const JournalReader&) = delete;
  JournalReader& operator=(const JournalReader&) = delete;

  // Only entries of these units (OR). Call before seeking.
  Status MatchUnits(const std::vector<std::string>& units);
  Status SeekSince(WallTime since);
  // Continues after the entry `cursor` names (a saved position).
  Status SeekAfterCursor(const std::string& cursor);
  // Only entries written from now on.
  Status SeekTail();

  // Hands up to `max` next entries to `sink`; returns how many.
  Result<size_t> Read(size_t max, const std::function<void(const JournalEntry&)>& sink);
  // The cursor of the last entry read ("" before the first).
  const std::string& cursor() const { return cursor_; }

 private:
  explicit JournalReader(sd_journal* j) : j_(j) {}
  sd_journal* j_;
  std::string cursor_;
  bool skip_one_ = false;  // after SeekAfterCursor: the cursor's own entry
  std::string expect_cursor_;
};

}  // namespace mamori::logs
