#include "mamori/logs/runbook_log.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

namespace mamori::logs {
namespace {

// One step per schema version (sqlite::OpenVersioned). Releases before
// versioning created `attempts` without a user_version.
constexpr std::string_view kMigrations[] = {
    "CREATE TABLE IF NOT EXISTS attempts(id INTEGER PRIMARY KEY, finding TEXT NOT NULL,"
    " step INTEGER NOT NULL, ok INTEGER NOT NULL, note TEXT, time_ms INTEGER NOT NULL)",
};

}  // namespace

Result<std::unique_ptr<RunbookLog>> RunbookLog::Open(const std::string& data_dir, bool create) {
  std::string path = data_dir + "/runbook.db";
  std::error_code ec;
  if (!create && !std::filesystem::exists(path, ec))
    return std::unique_ptr<RunbookLog>(new RunbookLog(std::nullopt));
  if (create) {
    std::filesystem::create_directories(data_dir, ec);
    if (ec) return Error("cannot create " + data_dir + ": " + ec.message());
  }
  sqlite::VersionedOptions vo;
  vo.mode = create ? sqlite::Db::Mode::kReadWriteCreate : sqlite::Db::Mode::kReadOnly;
  vo.unversioned_tables = {"attempts"};
  auto db = sqlite::OpenVersioned(path, kMigrations, vo);
  if (!db.ok()) return db.error();
  return std::unique_ptr<RunbookLog>(new RunbookLog(std::move(db).value()));
}

Status RunbookLog::Record(const StepAttempt& a) {
  if (!db_) return Error("the runbook log was opened read-only");
  auto st = db_->Prepare(
      "INSERT INTO attempts(finding, step, ok, note, time_ms) VALUES(?1, ?2, ?3, ?4, ?5)");
  if (!st.ok()) return st.error();
  std::string_view note = a.note;
  if (note.size() > kMaxNoteBytes) note = note.substr(0, kMaxNoteBytes);
  st->Bind(1, a.finding)
      .Bind(2, a.step)
      .Bind(3, a.ok ? 1 : 0)
      .Bind(4, note)
      .Bind(5, ToUnixMillis(a.time));
  return st->Run();
}

Result<std::vector<StepAttempt>> RunbookLog::Attempts(const std::string& finding) const {
  std::vector<StepAttempt> out;
  if (!db_) return out;
  auto st = db_->Prepare(
      "SELECT finding, step, ok, note, time_ms FROM attempts"
      " WHERE ?1 = '' OR finding = ?1 ORDER BY id DESC LIMIT ?2");
  if (!st.ok()) {
    // A database created by a newer or failed run without the table.
    if (db_->last_error_code() == 1) return out;
    return st.error();
  }
  st->Bind(1, finding).Bind(2, static_cast<int64_t>(kMaxAttemptsRead));
  for (;;) {
    auto row = st->Step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    StepAttempt a;
    a.finding = st->ColumnText(0);
    a.step = static_cast<int>(st->ColumnInt(1));
    a.ok = st->ColumnInt(2) != 0;
    a.note = st->ColumnText(3);
    a.time = FromUnixMillis(st->ColumnInt(4));
    out.push_back(std::move(a));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

const StepAttempt* LatestAttempt(const std::vector<StepAttempt>& attempts,
                                 const std::string& finding, int step) {
  for (auto it = attempts.rbegin(); it != attempts.rend(); ++it)
    if (it->finding == finding && it->step == step) return &*it;
  return nullptr;
}

}  // namespace mamori::logs
