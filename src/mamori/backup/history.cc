#include "mamori/backup/history.h"

#include <fmt/format.h>

#include <filesystem>
#include <set>

#include "mamori/store/sqlite.h"

namespace mamori::backup {
namespace {

using sqlite::Db;
using sqlite::Statement;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS artifacts (
  check_name TEXT NOT NULL,
  path TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  gone_ms INTEGER,
  sha256 TEXT,
  format TEXT NOT NULL DEFAULT '',
  verdict TEXT NOT NULL,
  summary TEXT NOT NULL DEFAULT '',
  restore_ms INTEGER,
  restore_status TEXT,
  restore_summary TEXT NOT NULL DEFAULT '',
  judged INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (check_name, path, size, mtime_ns)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS artifacts_by_mtime ON artifacts (check_name, mtime_ns);
)sql";
// One step per schema version (sqlite::OpenVersioned).
constexpr std::string_view kMigrations[] = {kSchema};

constexpr const char* kColumns =
    "check_name, path, size, mtime_ns, first_seen_ms, last_seen_ms, gone_ms, sha256, format, "
    "verdict, summary, restore_ms, restore_status, restore_summary, judged";

ArtifactRecord ReadRow(const Statement& s) {
  ArtifactRecord r;
  r.check = s.ColumnText(0);
  r.key.path = s.ColumnText(1);
  r.key.size_bytes = static_cast<uint64_t>(s.ColumnInt(2));
  r.key.mtime_ns = s.ColumnInt(3);
  r.first_seen = FromUnixMillis(s.ColumnInt(4));
  r.last_seen = FromUnixMillis(s.ColumnInt(5));
  if (auto g = s.ColumnOptionalInt(6)) r.gone = FromUnixMillis(*g);
  if (!s.IsNull(7)) r.sha256 = s.ColumnText(7);
  r.format = s.ColumnText(8);
  r.verdict = ParseStatus(s.ColumnText(9)).value_or(CheckStatus::kUnknown);
  r.summary = s.ColumnText(10);
  if (auto ms = s.ColumnOptionalInt(11)) r.restore_duration = Millis(*ms);
  if (!s.IsNull(12)) r.restore_status = ParseStatus(s.ColumnText(12));
  r.restore_summary = s.ColumnText(13);
  r.judged = s.ColumnInt(14) != 0;
  return r;
}

}  // namespace

WallTime ArtifactRecord::mtime() const {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(Duration(key.mtime_ns)));
}

struct History::Impl {
  std::string path;
  Db db;
  size_t keep = kDefaultKeep;
};

History::History(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
History::~History() = default;

const std::string& History::path() const { return impl_->path; }

Result<std::unique_ptr<History>> History::Open(const std::string& data_dir, Mode mode,
                                               size_t keep_per_check) {
  auto impl = std::make_unique<Impl>();
  impl->path = (std::filesystem::path(data_dir) / "backups.db").string();
  impl->keep = std::max<size_t>(1, keep_per_check);
  if (mode == Mode::kReadWrite) {
    std::error_code ec;
    std::filesystem::create_directories(data_dir, ec);
    if (ec) return Error(fmt::format("cannot create {}: {}", data_dir, ec.message()));
  } else if (!std::filesystem::exists(impl->path)) {
    return Error(
        fmt::format("{} does not exist (no backup check has run with this data_dir)", impl->path));
  }
  sqlite::VersionedOptions vo;
  vo.mode = mode == Mode::kReadWrite ? Db::Mode::kReadWriteCreate : Db::Mode::kReadOnly;
  vo.settings = "PRAGMA synchronous = NORMAL";
  auto db = sqlite::OpenVersioned(impl->path, kMigrations, vo);
  if (!db.ok()) return db.error();
  impl->db = std::move(*db);
  return std::unique_ptr<History>(new History(std::move(impl)));
}

Result<std::optional<ArtifactRecord>> History::Find(const std::string& check,
                                                    const ArtifactKey& key) {
  auto s = impl_->db.Prepare(
      fmt::format("SELECT {} FROM artifacts WHERE check_name = ?1 AND path = ?2 AND size = ?3 AND "
                  "mtime_ns = ?4",
                  kColumns));
  if (!s.ok()) return s.error();
  s->Bind(1, check)
      .Bind(2, key.path)
      .Bind(3, static_cast<int64_t>(key.size_bytes))
      .Bind(4, key.mtime_ns);
  auto row = s->Step();
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<ArtifactRecord>();
  return std::optional<ArtifactRecord>(ReadRow(*s));
}

Status History::Put(const ArtifactRecord& r) {
  auto s = impl_->db.Prepare(
      fmt::format("INSERT OR REPLACE INTO artifacts ({}) VALUES "
                  "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                  kColumns));
  if (!s.ok()) return s.error();
  s->Bind(1, r.check)
      .Bind(2, r.key.path)
      .Bind(3, static_cast<int64_t>(r.key.size_bytes))
      .Bind(4, r.key.mtime_ns)
      .Bind(5, ToUnixMillis(r.first_seen))
      .Bind(6, ToUnixMillis(r.last_seen));
  if (r.gone)
    s->Bind(7, ToUnixMillis(*r.gone));
  else
    s->BindNull(7);
  s->Bind(8, r.sha256).Bind(9, r.format).Bind(10, StatusName(r.verdict)).Bind(11, r.summary);
  if (r.restore_duration)
    s->Bind(12,
            static_cast<int64_t>(std::chrono::duration_cast<Millis>(*r.restore_duration).count()));
  else
    s->BindNull(12);
  if (r.restore_status)
    s->Bind(13, StatusName(*r.restore_status));
  else
    s->BindNull(13);
  s->Bind(14, r.restore_summary).Bind(15, r.judged ? 1 : 0);
  return s->Run();
}

Status History::Sync(const std::string& check, const std::vector<ArtifactKey>& present,
                     WallTime now) {
  auto tx = sqlite::Transaction::Begin(impl_->db);
  if (!tx.ok()) return tx.error();
  const int64_t now_ms = ToUnixMillis(now);
  {
    auto mark = impl_->db.Prepare(
        "UPDATE artifacts SET last_seen_ms = ?5, gone_ms = NULL WHERE check_name = ?1 AND "
        "path = ?2 AND size = ?3 AND mtime_ns = ?4");
    if (!mark.ok()) return mark.error();
    for (const auto& k : present) {
      mark->Bind(1, check)
          .Bind(2, k.path)
          .Bind(3, static_cast<int64_t>(k.size_bytes))
          .Bind(4, k.mtime_ns)
          .Bind(5, now_ms);
      if (Status s = mark->Run(); !s.ok()) return s;
      mark->Reset();
    }
    // Rows not seen in this run (last_seen older than now) are gone.
    auto gone = impl_->db.Prepare(
        "UPDATE artifacts SET gone_ms = ?2 WHERE check_name = ?1 AND gone_ms IS NULL AND "
        "last_seen_ms < ?2");
    if (!gone.ok()) return gone.error();
    gone->Bind(1, check).Bind(2, now_ms);
    if (Status s = gone->Run(); !s.ok()) return s;
    auto trim = impl_->db.Prepare(
        "DELETE FROM artifacts WHERE check_name = ?1 AND (path, size, mtime_ns) NOT IN "
        "(SELECT path, size, mtime_ns FROM artifacts WHERE check_name = ?1 "
        "ORDER BY mtime_ns DESC LIMIT ?2)");
    if (!trim.ok()) return trim.error();
    trim->Bind(1, check).Bind(2, static_cast<int64_t>(impl_->keep));
    if (Status s = trim->Run(); !s.ok()) return s;
  }
  return tx->Commit();
}

Result<std::vector<ArtifactRecord>> History::List(const std::string& check, size_t limit) {
  auto s = impl_->db.Prepare(fmt::format(
      "SELECT {} FROM artifacts WHERE check_name = ?1 ORDER BY mtime_ns DESC, path DESC LIMIT ?2",
      kColumns));
  if (!s.ok()) return s.error();
  s->Bind(1, check).Bind(2, static_cast<int64_t>(std::min<size_t>(limit, 1'000'000)));
  std::vector<ArtifactRecord> out;
  while (true) {
    auto row = s->Step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    out.push_back(ReadRow(*s));
  }
  return out;
}

Result<std::vector<std::string>> History::Checks() {
  auto s = impl_->db.Prepare("SELECT DISTINCT check_name FROM artifacts ORDER BY check_name");
  if (!s.ok()) return s.error();
  std::vector<std::string> out;
  while (true) {
    auto row = s->Step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    out.push_back(s->ColumnText(0));
  }
  return out;
}

}  // namespace mamori::backup
