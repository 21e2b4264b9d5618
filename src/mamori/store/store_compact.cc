// The retention: Compact deletes what is past it (observations, rollups,
// events, old pings) in short writer tasks, so queued writes go between two
// of them, then hands the freed pages back to the file system.
#include <optional>
#include <vector>

#include "mamori/store/store.h"
#include "mamori/store/store_internal.h"

namespace mamori {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

// Rows deleted per writer task: a compaction of millions of old rows is many
// short transactions, so pings and observations queued meanwhile are
// committed between two of them (tens of milliseconds), not after all of them.
constexpr int64_t kCompactChunkRows = 20'000;

int64_t Ms(Duration d) { return duration_cast<milliseconds>(d).count(); }

}  // namespace

Status Store::CompactChunks(const std::string& sql, int64_t check_id, int64_t cut,
                            uint64_t* deleted) {
  for (;;) {
    int changes = 0;
    Status s = RunTask([&](Writer& w) -> Status {
      auto del = w.db.Prepare(sql);
      if (!del.ok()) return del.error();
      del->Bind(1, check_id).Bind(2, cut).Bind(3, kCompactChunkRows);
      if (Status r = del->Run(); !r.ok()) return r;
      changes = w.db.changes();
      return Status::Ok();
    });
    if (!s.ok()) return s;
    *deleted += static_cast<uint64_t>(changes);
    if (changes < kCompactChunkRows) return Status::Ok();
  }
}

Status Store::Writer::PrunePingsAndEvents(const std::vector<int64_t>& ids,
                                          std::optional<int64_t> raw_cut,
                                          std::optional<int64_t> event_cut) {
  auto body = [&]() -> Status {
    auto tx = sqlite::Transaction::Begin(db);
    if (!tx.ok()) return tx.error();
    // Pings: the newest kPingsKeptPerCheck per check, and always the last
    // of each kind (a monthly job's last success must outlive raw retention).
    if (raw_cut) {
      auto del_pings = db.Prepare(
          "DELETE FROM pings WHERE ts_ms < ?1 AND id "
          "NOT IN (SELECT max(id) FROM pings GROUP BY "
          "check_id, kind)");
      if (!del_pings.ok()) return del_pings.error();
      del_pings->Bind(1, *raw_cut);
      if (Status s = del_pings->Run(); !s.ok()) return s;
    }
    {
      auto trim = db.Prepare(
          "DELETE FROM pings WHERE check_id = ?1 AND id < "
          "(SELECT id FROM pings WHERE check_id = "
          "?1 "
          "ORDER BY id DESC LIMIT 1 OFFSET ?2) AND id NOT "
          "IN (SELECT max(id) FROM pings GROUP BY "
          "check_id, kind)");
      if (!trim.ok()) return trim.error();
      for (int64_t id : ids) {
        trim->Reset();
        trim->Bind(1, id).Bind(2, static_cast<int64_t>(kPingsKeptPerCheck - 1));
        if (Status s = trim->Run(); !s.ok()) return s;
      }
    }
    if (event_cut) {
      auto del_ev = db.Prepare("DELETE FROM events WHERE ts_ms < ?1");
      if (!del_ev.ok()) return del_ev.error();
      del_ev->Bind(1, *event_cut);
      if (Status s = del_ev->Run(); !s.ok()) return s;
    }
    return tx->Commit();
  };
  Status s = body();
  if (!s.ok()) checks.clear();
  return s;
}

Status Store::Compact(const RetentionConfig& retention, uint64_t* deleted_rows) {
  if (mode_ != OpenMode::kReadWrite) return Error(path_ + " is open read-only");
  if (Status s = Flush(); !s.ok()) return s;
  const int64_t now = ToUnixMillis(clock_.Now());
  // A zero or negative retention keeps everything: deleting history is never
  // the fallback for a strange setting.
  auto cutoff = [&](Duration keep) -> std::optional<int64_t> {
    if (keep <= Duration::zero()) return std::nullopt;
    return now - Ms(keep);
  };
  const auto raw_cut = cutoff(retention.raw);
  const auto rollup_cut = cutoff(retention.rollups);
  const auto event_cut = cutoff(retention.events);
  uint64_t deleted = 0;
  auto wrap = [&](Status s) -> Status {
    if (deleted_rows) *deleted_rows = deleted;
    return s.ok() ? s : s.error().Wrap("compacting " + path_);
  };

  std::vector<int64_t> ids;
  Status listed = RunTask([&](Writer& w) -> Status {
    auto st = w.db.Prepare("SELECT id FROM checks");
    if (!st.ok()) return st.error();
    for (;;) {
      auto r = st->Step();
      if (!r.ok()) return r.error();
      if (!*r) return Status::Ok();
      ids.push_back(st->ColumnInt(0));
    }
  });
  if (!listed.ok()) return wrap(listed);
  // Per check, so each delete walks an index range instead of the table.
  for (int64_t id : ids) {
    if (raw_cut) {
      Status s = CompactChunks(
          "DELETE FROM observations WHERE id IN (SELECT "
          "id FROM observations WHERE check_id = ?1 "
          "AND ts_ms < ?2 LIMIT ?3)",
          id, *raw_cut, &deleted);
      if (!s.ok()) return wrap(s);
    }
    if (rollup_cut) {
      Status s = CompactChunks(
          "DELETE FROM rollups WHERE check_id = ?1 AND "
          "hour_ts IN (SELECT hour_ts FROM rollups "
          "WHERE check_id = ?1 AND hour_ts < ?2 LIMIT ?3)",
          id, *rollup_cut, &deleted);
      if (!s.ok()) return wrap(s);
    }
  }
  Status pruned =
      RunTask([=](Writer& w) -> Status { return w.PrunePingsAndEvents(ids, raw_cut, event_cut); });
  if (!pruned.ok()) return wrap(pruned);
  if (Status s = GiveBackFreePages(); !s.ok()) return wrap(s);
  return wrap(RunTask([](Writer& w) -> Status {
    // TRUNCATE leaves a zero-length WAL; if a reader holds an old snapshot it
    // reports "busy" in its row instead of failing, and the WAL shrinks later.
    auto cp = w.db.Prepare("PRAGMA wal_checkpoint(TRUNCATE)");
    if (!cp.ok()) return cp.error();
    return cp->Run();
  }));
}

Status Store::GiveBackFreePages() {
  // The free pages go back to the file system a few thousand at a time, for
  // the same reason as the deletes: a queued write waits for one step only.
  for (;;) {
    int64_t left = 0;
    Status s = RunTask([&](Writer& w) -> Status {
      if (Status r = w.db.Exec("PRAGMA incremental_vacuum(2000)"); !r.ok()) return r;
      auto count = w.db.Prepare("PRAGMA freelist_count");
      if (!count.ok()) return count.error();
      auto row = count->Step();
      if (!row.ok()) return row.error();
      left = *row ? count->ColumnInt(0) : 0;
      return Status::Ok();
    });
    if (!s.ok() || left == 0) return s;
  }
}

}  // namespace mamori
