#include "mamori/faces/operator_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <utility>

namespace mamori::faces {
namespace {

constexpr std::string_view kSchema[] = {R"sql(
CREATE TABLE windows(
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  checks TEXT NOT NULL,
  tags TEXT NOT NULL,
  reason TEXT NOT NULL,
  by TEXT NOT NULL
);
CREATE TABLE announcements(
  id INTEGER PRIMARY KEY,
  ts_ms INTEGER NOT NULL,
  level TEXT NOT NULL,
  title TEXT NOT NULL,
  text TEXT NOT NULL
);
CREATE TABLE notes(
  id INTEGER PRIMARY KEY,
  incident TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  text TEXT NOT NULL,
  by TEXT NOT NULL
);
)sql"};

std::string Cut(std::string s) {
  if (s.size() > OperatorStore::kMaxText) s.resize(OperatorStore::kMaxText);
  return s;
}

std::vector<std::string> List(const std::string& json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& v : j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

}  // namespace

std::string_view WindowKindName(WindowKind k) {
  return k == WindowKind::kMaintenance ? "maintenance" : "silence";
}

bool OperatorWindow::Applies(const std::string& check,
                             const std::vector<std::string>& check_tags) const {
  if (checks.empty() && tags.empty()) return true;
  if (std::find(checks.begin(), checks.end(), check) != checks.end()) return true;
  for (const auto& t : tags)
    if (std::find(check_tags.begin(), check_tags.end(), t) != check_tags.end()) return true;
  return false;
}

Result<std::unique_ptr<OperatorStore>> OperatorStore::Open(const std::string& data_dir,
                                                           const Clock& clock) {
  const std::string path = (std::filesystem::path(data_dir) / "faces.db").string();
  sqlite::VersionedOptions o;
  o.settings = "PRAGMA synchronous=FULL;";
  o.hint = "; move it aside or set another data_dir";
  auto db = sqlite::OpenVersioned(path, kSchema, o);
  if (!db.ok()) return db.error();
  std::unique_ptr<OperatorStore> s(new OperatorStore(std::move(db).value(), clock));
  MutexLock lock(s->mu_);
  if (auto st = s->LoadOpen(); !st.ok()) return st.error();
  return s;
}

Status OperatorStore::LoadOpen() {
  auto st = db_.Prepare(
      "SELECT id, kind, start_ms, end_ms, checks, tags, reason, by FROM windows "
      "WHERE end_ms > ? ORDER BY start_ms LIMIT ?");
  if (!st.ok()) return st.error();
  st->Bind(1, ToUnixMillis(clock_.Now())).Bind(2, static_cast<int64_t>(kMaxOpenWindows));
  open_.clear();
  for (;;) {
    auto row = st->Step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    OperatorWindow w;
    w.id = st->ColumnInt(0);
    w.kind = st->ColumnText(1) == "silence" ? WindowKind::kSilence : WindowKind::kMaintenance;
    w.start = FromUnixMillis(st->ColumnInt(2));
    w.end = FromUnixMillis(st->ColumnInt(3));
    w.checks = List(st->ColumnText(4));
    w.tags = List(st->ColumnText(5));
    w.reason = st->ColumnText(6);
    w.by = st->ColumnText(7);
    open_.push_back(std::move(w));
  }
  return Status::Ok();
}

Status OperatorStore::Trim(const char* table) {
  return db_.Exec(fmt::format(
      "DELETE FROM {0} WHERE id IN (SELECT id FROM {0} ORDER BY id DESC LIMIT -1 OFFSET {1})",
      table, kMaxRows));
}

Result<OperatorWindow> OperatorStore::AddWindow(OperatorWindow w) {
  const WallTime now = clock_.Now();
  if (w.end <= w.start) return Error("the window ends before it starts");
  if (w.end <= now) return Error("the window is already over");
  w.reason = Cut(std::move(w.reason));
  w.by = Cut(std::move(w.by));
  MutexLock lock(mu_);
  MoveEnded(now);
  if (open_.size() >= kMaxOpenWindows)
    return Error(fmt::format("{} windows are already open or scheduled", kMaxOpenWindows));
  auto st = db_.Prepare(
      "INSERT INTO windows(kind, start_ms, end_ms, checks, tags, reason, by) "
      "VALUES(?, ?, ?, ?, ?, ?, ?)");
  if (!st.ok()) return st.error();
  st->Bind(1, WindowKindName(w.kind))
      .Bind(2, ToUnixMillis(w.start))
      .Bind(3, ToUnixMillis(w.end))
      .Bind(4, nlohmann::json(w.checks).dump())
      .Bind(5, nlohmann::json(w.tags).dump())
      .Bind(6, w.reason)
      .Bind(7, w.by);
  if (auto s = st->Run(); !s.ok()) return s.error();
  w.id = db_.last_insert_rowid();
  if (auto s = Trim("windows"); !s.ok()) return s.error();
  open_.push_back(w);
  std::stable_sort(open_.begin(), open_.end(),
                   [](const auto& a, const auto& b) { return a.start < b.start; });
  return w;
}

Status OperatorStore::EndWindow(WindowKind kind, int64_t id) {
  const WallTime now = clock_.Now();
  MutexLock lock(mu_);
  auto it = std::find_if(open_.begin(), open_.end(), [&](const OperatorWindow& w) {
    return w.id == id && w.kind == kind && w.end > now;
  });
  if (it == open_.end())
    return Error(fmt::format("no {} window {} is active or scheduled", WindowKindName(kind), id));
  // A scheduled window is dropped; an active one ends now (its past is kept).
  auto st = it->start > now ? db_.Prepare("DELETE FROM windows WHERE id = ?")
                            : db_.Prepare("UPDATE windows SET end_ms = ?2 WHERE id = ?1");
  if (!st.ok()) return st.error();
  st->Bind(1, id);
  if (it->start <= now) st->Bind(2, ToUnixMillis(now));
  if (auto s = st->Run(); !s.ok()) return s;
  if (it->start <= now && kind == WindowKind::kMaintenance && ended_.size() < kMaxOpenWindows) {
    ended_.push_back(*it);
    ended_.back().end = now;
  }
  open_.erase(it);
  return Status::Ok();
}

void OperatorStore::MoveEnded(WallTime now) {
  // A plain loop, not erase_if: the analysis does not carry REQUIRES(mu_)
  // into a lambda.
  size_t kept = 0;
  for (size_t i = 0; i < open_.size(); ++i) {
    OperatorWindow& w = open_[i];
    if (w.end > now) {
      if (kept != i) open_[kept] = std::move(w);
      ++kept;
    } else if (w.kind == WindowKind::kMaintenance && ended_.size() < kMaxOpenWindows) {
      ended_.push_back(std::move(w));
    }
  }
  open_.resize(kept);
}

std::vector<OperatorWindow> OperatorStore::TakeEnded() {
  MutexLock lock(mu_);
  MoveEnded(clock_.Now());
  return std::exchange(ended_, {});
}

std::optional<WallTime> OperatorStore::NextTransition() const {
  const WallTime now = clock_.Now();
  MutexLock lock(mu_);
  std::optional<WallTime> next;
  for (const auto& w : open_)
    for (WallTime t : {w.start, w.end})
      if (t > now && (!next || t < *next)) next = t;
  return next;
}

std::vector<OperatorWindow> OperatorStore::OpenWindows(WindowKind kind) const {
  const WallTime now = clock_.Now();
  MutexLock lock(mu_);
  std::vector<OperatorWindow> out;
  for (const auto& w : open_)
    if (w.kind == kind && w.end > now) out.push_back(w);
  return out;
}

std::optional<OperatorWindow> OperatorStore::Holding(const std::string& check,
                                                     const std::vector<std::string>& tags,
                                                     WallTime t) const {
  MutexLock lock(mu_);
  const OperatorWindow* found = nullptr;
  auto consider = [&](const OperatorWindow& w, bool on) {
    if (on && w.Applies(check, tags) &&
        (!found || (found->kind == WindowKind::kSilence && w.kind == WindowKind::kMaintenance)))
      found = &w;
  };
  // A maintenance window that is over but not yet handed to TakeEnded still
  // holds: until the after-maintenance run takes over, its held problems must
  // not slip out as ordinary alerts.
  for (const auto& w : open_)
    consider(w, w.start <= t && (t < w.end || w.kind == WindowKind::kMaintenance));
  for (const auto& w : ended_) consider(w, true);
  if (!found) return std::nullopt;
  return *found;
}

Result<Announcement> OperatorStore::Announce(Announcement a) {
  if (a.level != "outage" && a.level != "warning" && a.level != "information")
    return Error(fmt::format("level '{}' is not outage, warning or information", a.level));
  a.time = clock_.Now();
  a.title = Cut(std::move(a.title));
  a.text = Cut(std::move(a.text));
  MutexLock lock(mu_);
  auto st = db_.Prepare("INSERT INTO announcements(ts_ms, level, title, text) VALUES(?, ?, ?, ?)");
  if (!st.ok()) return st.error();
  st->Bind(1, ToUnixMillis(a.time)).Bind(2, a.level).Bind(3, a.title).Bind(4, a.text);
  if (auto s = st->Run(); !s.ok()) return s.error();
  a.id = db_.last_insert_rowid();
  if (auto s = Trim("announcements"); !s.ok()) return s.error();
  return a;
}

Result<std::vector<Announcement>> OperatorStore::Announcements(size_t limit) const {
  MutexLock lock(mu_);
  auto st = db_.Prepare(
      "SELECT id, ts_ms, level, title, text FROM announcements ORDER BY id DESC LIMIT ?");
  if (!st.ok()) return st.error();
  st->Bind(1, static_cast<int64_t>(std::min(limit, kMaxRows)));
  std::vector<Announcement> out;
  for (;;) {
    auto row = st->Step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    out.push_back({st->ColumnInt(0), FromUnixMillis(st->ColumnInt(1)), st->ColumnText(2),
                   st->ColumnText(3), st->ColumnText(4)});
  }
  return out;
}

Result<IncidentNote> OperatorStore::AddNote(IncidentNote n) {
  if (n.text.empty()) return Error("the note is empty");
  n.time = clock_.Now();
  n.text = Cut(std::move(n.text));
  n.by = Cut(std::move(n.by));
  MutexLock lock(mu_);
  auto st = db_.Prepare("INSERT INTO notes(incident, ts_ms, text, by) VALUES(?, ?, ?, ?)");
  if (!st.ok()) return st.error();
  st->Bind(1, n.incident).Bind(2, ToUnixMillis(n.time)).Bind(3, n.text).Bind(4, n.by);
  if (auto s = st->Run(); !s.ok()) return s.error();
  n.id = db_.last_insert_rowid();
  if (auto s = Trim("notes"); !s.ok()) return s.error();
  return n;
}

namespace {

Result<std::vector<IncidentNote>> SelectNotes(sqlite::Db& db, size_t limit) {
  auto st = db.Prepare("SELECT id, incident, ts_ms, text, by FROM notes ORDER BY id DESC LIMIT ?");
  if (!st.ok()) return st.error();
  st->Bind(1, static_cast<int64_t>(std::min(limit, OperatorStore::kMaxRows)));
  std::vector<IncidentNote> out;
  for (;;) {
    auto row = st->Step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    out.push_back({st->ColumnInt(0), st->ColumnText(1), FromUnixMillis(st->ColumnInt(2)),
                   st->ColumnText(3), st->ColumnText(4)});
  }
  return out;
}

}  // namespace

Result<std::vector<IncidentNote>> OperatorStore::Notes(size_t limit) const {
  MutexLock lock(mu_);
  return SelectNotes(db_, limit);
}

Result<std::vector<IncidentNote>> OperatorStore::ReadNotes(const std::string& data_dir,
                                                           size_t limit) {
  const std::string path = (std::filesystem::path(data_dir) / "faces.db").string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::vector<IncidentNote>{};
  auto db = sqlite::Db::Open(path, sqlite::Db::Mode::kReadOnly);
  if (!db.ok()) return db.error();
  return SelectNotes(*db, limit);
}

}  // namespace mamori::faces
