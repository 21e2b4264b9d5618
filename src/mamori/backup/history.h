// BackupHistory: what backup checks have seen of their artifacts, kept in its
// own SQLite file <data_dir>/backups.db (WAL), apart from the main store so
// its schema and retention stay the backup check's business.
//
// One row per artifact identity (check, path, size, mtime): an artifact that
// is rewritten in place is a new artifact. A row remembers the artifact's
// content verdict (so a 100 GB dump is verified once, not every hour), its
// SHA-256 when computed, the restore test's duration and outcome, when it was
// first and last seen, and when it vanished from disk (a cleanup that deleted
// the older dumps shows up here). Rows are bounded: Sync() keeps the newest
// `keep_per_check` artifacts of a check.
//
// Ownership and threading: a History owns one connection and is used by one
// thread at a time; several History objects (several checks running at once,
// the daemon and `mamori backup list`) may share the file: writers wait for
// each other through SQLite's busy timeout.
//
// Failure: every operation returns a Status/Result carrying SQLite's message
// and the file name; a probe that cannot use the history still judges the
// artifacts it can see and says so.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mamori/core/status.h"
#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::backup {

// Identity of one artifact as found on disk.
struct ArtifactKey {
  std::string path;
  uint64_t size_bytes = 0;
  int64_t mtime_ns = 0;  // modification time, ns since the Unix epoch
};

struct ArtifactRecord {
  std::string check;
  ArtifactKey key;
  WallTime first_seen{};
  WallTime last_seen{};
  std::optional<WallTime> gone;  // first run that no longer found it
  // False for an artifact only seen (listed), not yet verified: older
  // artifacts are recorded so their disappearance is noticed, and verified
  // only when needed.
  bool judged = true;
  std::optional<std::string> sha256;
  std::string format;                           // as the verifier named it
  CheckStatus verdict = CheckStatus::kUnknown;  // content and size of this artifact
  std::string summary;
  std::optional<Duration> restore_duration;
  std::optional<CheckStatus> restore_status;
  std::string restore_summary;

  WallTime mtime() const;
  // Good enough to restore from: its content is OK and, if it was restored,
  // the restore test passed. A dump that decodes but does not restore is
  // neither the "newest good one" nor the size reference.
  bool usable() const {
    return verdict == CheckStatus::kOk && restore_status != CheckStatus::kCritical;
  }
  // The verdict with a failed restore test counted: what this artifact is worth.
  CheckStatus overall() const {
    return restore_status == CheckStatus::kCritical ? CheckStatus::kCritical : verdict;
  }
};

class History {
 public:
  enum class Mode { kReadWrite, kReadOnly };
  static constexpr size_t kDefaultKeep = 1000;

  // Opens (creating in kReadWrite) <data_dir>/backups.db.
  static Result<std::unique_ptr<History>> Open(const std::string& data_dir, Mode mode,
                                               size_t keep_per_check = kDefaultKeep);
  ~History();
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  const std::string& path() const;

  Result<std::optional<ArtifactRecord>> Find(const std::string& check, const ArtifactKey& key);
  // Inserts or replaces the row with the record's identity.
  Status Put(const ArtifactRecord& record);
  // After a run: the artifacts in `present` were seen at `now` (last_seen,
  // gone cleared); every other row of `check` not yet gone is marked gone at
  // `now`. Then trims the check to the newest keep_per_check rows by mtime.
  Status Sync(const std::string& check, const std::vector<ArtifactKey>& present, WallTime now);
  // Newest first (by mtime); at most `limit` rows.
  Result<std::vector<ArtifactRecord>> List(const std::string& check, size_t limit = 200);
  // Names of checks with at least one row, sorted.
  Result<std::vector<std::string>> Checks();

 private:
  struct Impl;
  explicit History(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mamori::backup
