// OperatorStore: what operators write through the API, kept in
// <data_dir>/faces.db: maintenance windows and silences started or scheduled
// at run time, status-page announcements (outage / warning / information,
// past ones kept) and notes on incidents.
//
// A maintenance window here works like one from the configuration while it
// lasts (notifications about covered checks are held); a silence holds
// notifications the same way but is meant for one alert, not planned work.
// When a maintenance window that was under way ends (its end comes, or
// EndWindow cuts it short), TakeEnded hands it to the daemon once, which
// re-runs the checks it covered and sends the after-maintenance summary, as
// for a configured window. A silence ends without one: it held one alert's
// noise, and the alert's own reminders resume. Windows that are active or scheduled are
// also kept in memory, so Holding() (asked by the daemon for every
// notification) never touches the disk.
//
// Bounds: at most kMaxOpenWindows windows active or scheduled, kMaxRows rows
// per table (the oldest past rows go first), texts cut at kMaxText bytes.
//
// Ownership: Open returns the sole owner; it borrows the Clock. Threading:
// every method may be called from any thread (one mutex). Failure: SQLite
// errors come back as values; nothing is written unless a method is called.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mamori/store/sqlite.h"
#include "mamori/util/clock.h"
#include "mamori/util/mutex.h"
#include "mamori/util/result.h"

namespace mamori::faces {

enum class WindowKind { kMaintenance, kSilence };

struct OperatorWindow {
  int64_t id = 0;
  WindowKind kind = WindowKind::kMaintenance;
  WallTime start{}, end{};          // covers [start, end)
  std::vector<std::string> checks;  // scope by name; with tags empty too: every check
  std::vector<std::string> tags;
  std::string reason;
  std::string by;
  bool Applies(const std::string& check, const std::vector<std::string>& check_tags) const;
};

struct Announcement {
  int64_t id = 0;
  WallTime time{};
  std::string level;  // "outage", "warning", "information"
  std::string title;
  std::string text;
};

struct IncidentNote {
  int64_t id = 0;
  std::string incident;
  WallTime time{};
  std::string text;
  std::string by;
};

class OperatorStore {
 public:
  static constexpr size_t kMaxOpenWindows = 1000;
  static constexpr size_t kMaxRows = 10'000;
  static constexpr size_t kMaxText = 4096;

  static Result<std::unique_ptr<OperatorStore>> Open(const std::string& data_dir,
                                                     const Clock& clock);

  // Validates (end after start, not over), stores and returns it with its id.
  Result<OperatorWindow> AddWindow(OperatorWindow w);
  // Ends an active window now, or drops a scheduled one. Error when no such
  // window is active or scheduled.
  Status EndWindow(WindowKind kind, int64_t id);
  // Maintenance windows that were under way and are over now, each returned
  // once (at most kMaxOpenWindows are remembered between two calls).
  std::vector<OperatorWindow> TakeEnded();
  // The soonest start or end of an open window after now, if any.
  std::optional<WallTime> NextTransition() const;
  // Active and scheduled windows of a kind, by start.
  std::vector<OperatorWindow> OpenWindows(WindowKind kind) const;
  // The first window (maintenance before silence) covering the check at `t`;
  // an ended maintenance window covers until TakeEnded hands it over.
  std::optional<OperatorWindow> Holding(const std::string& check,
                                        const std::vector<std::string>& tags, WallTime t) const;

  Result<Announcement> Announce(Announcement a);
  Result<std::vector<Announcement>> Announcements(size_t limit) const;
  Result<IncidentNote> AddNote(IncidentNote n);
  Result<std::vector<IncidentNote>> Notes(size_t limit) const;
  // The newest notes of <data_dir>/faces.db, opened read-only (no settings,
  // no migration), while a daemon may be writing it; none if it is missing.
  static Result<std::vector<IncidentNote>> ReadNotes(const std::string& data_dir, size_t limit);

 private:
  OperatorStore(sqlite::Db db, const Clock& clock) : db_(std::move(db)), clock_(clock) {}
  Status LoadOpen() REQUIRES(mu_);
  Status Trim(const char* table) REQUIRES(mu_);
  // Moves windows whose end has passed out of open_ (maintenance ones that
  // had started into ended_).
  void MoveEnded(WallTime now) REQUIRES(mu_);

  mutable Mutex mu_;
  mutable sqlite::Db db_ GUARDED_BY(mu_);
  const Clock& clock_;
  std::vector<OperatorWindow> open_ GUARDED_BY(mu_);
  std::vector<OperatorWindow> ended_ GUARDED_BY(mu_);
};

std::string_view WindowKindName(WindowKind k);

}  // namespace mamori::faces
