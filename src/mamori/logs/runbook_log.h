// RunbookLog: what was already tried for a finding, so advice never loops.
//
// `mamori runbook done FINDING STEP --result ok|failed [--note TEXT]` records
// one attempt; `mamori diagnose` reads them back to mark steps ("[tried 14:02:
// failed - note]"), to point at the next untried step, and to list them in the
// --context bundle. Stored in <data_dir>/runbook.db (SQLite, WAL), one row per
// attempt, never updated in place: the history is the record.
//
// One connection, used by one thread at a time. Notes are bounded
// (kMaxNoteBytes); finding ids and step numbers are validated by the caller
// against the rules. Failures (unwritable directory, corrupt file) are
// returned as errors.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mamori/store/sqlite.h"
#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::logs {

struct StepAttempt {
  std::string finding;  // signature id, e.g. "mariadb.innodb-page-corrupted"
  int step = 0;         // 1-based, as diagnose prints them
  bool ok = false;
  std::string note;
  WallTime time{};
};

class RunbookLog {
 public:
  static constexpr size_t kMaxNoteBytes = 2000;
  static constexpr size_t kMaxAttemptsRead = 10000;

  // `create` false: a missing file is not an error (an empty log).
  static Result<std::unique_ptr<RunbookLog>> Open(const std::string& data_dir, bool create);

  Status Record(const StepAttempt& attempt);
  // Every attempt, oldest first (bounded); for one finding when not empty.
  Result<std::vector<StepAttempt>> Attempts(const std::string& finding = "") const;

 private:
  explicit RunbookLog(std::optional<sqlite::Db> db) : db_(std::move(db)) {}
  mutable std::optional<sqlite::Db> db_;  // empty when the file does not exist
};

// The latest attempt of `step` among `attempts` (which are oldest first).
const StepAttempt* LatestAttempt(const std::vector<StepAttempt>& attempts,
                                 const std::string& finding, int step);

}  // namespace mamori::logs
