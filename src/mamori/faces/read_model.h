// ReadModel: what the faces (JSON API, status page, badges) show, computed
// from the store's rows: the checks with their state, history in buckets,
// uptime over windows and per day, and incidents rebuilt from the recorded
// state changes. The bucketing, uptime and incident logic are pure functions
// over rows (tested without a daemon); ReadModel only fetches the rows.
//
// Every query is bounded: a history spans at most kMaxRange and kMaxBuckets
// buckets and reads at most kMaxObservations raw rows (older buckets come from
// the hourly rollups); incidents read at most kMaxEvents events.
//
// Ownership: ReadModel borrows the Store and the Clock, which must outlive it.
// Threading: every method may be called from any thread (the store
// serialises its reads). Failure: store errors come back as values; bad
// arguments (a range too long, a step too small) as errors naming the limit.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "mamori/core/event.h"
#include "mamori/core/status.h"
#include "mamori/store/store.h"
#include "mamori/util/clock.h"
#include "mamori/util/mutex.h"
#include "mamori/util/result.h"

namespace mamori::faces {

// What the daemon knows about a check beyond the store (its configuration and
// the alerting state), gathered on its event loop.
struct LiveCheck {
  std::string name;
  std::string type;
  std::string description;
  std::vector<std::string> tags;
  bool acknowledged = false;
  std::string ack_by;
  std::optional<WallTime> ack_at;
  std::string maintenance;  // the window holding it now, "" if none
};

// One check as the faces show it.
struct CheckView {
  LiveCheck live;
  std::optional<CheckStatus> status;  // nullopt: pending (no hard state yet)
  std::optional<WallTime> since;      // start of the hard state
  std::optional<WallTime> last_run;
  std::string summary;
  Duration duration{};
  bool flapping = false;
};

// Counts of results in one span of time.
struct Counts {
  int64_t ok = 0, warning = 0, critical = 0, unknown = 0;
  Duration duration_sum{};
  Duration duration_max{};
  int64_t total() const { return ok + warning + critical + unknown; }
  // OK and WARNING count as up; nullopt when nothing was measured.
  std::optional<double> uptime() const;
  // The worst status seen, nullopt when nothing was measured.
  std::optional<CheckStatus> worst() const;
  void Add(CheckStatus s, Duration d);
  void Add(const Rollup& r);
};

struct Bucket {
  WallTime start{};
  Counts counts;
};

struct TimelineEntry {
  WallTime time{};
  std::string
      kind;  // "failed", "changed", "recovered", "flapping", "remedy", "address", "acknowledged"
  std::string text;
};

struct Incident {
  std::string id;  // stable: derived from the check and the start
  std::string check;
  WallTime started{};
  std::optional<WallTime> ended;  // nullopt: still open
  CheckStatus worst = CheckStatus::kCritical;
  std::string summary;  // what the first failure said
  std::vector<TimelineEntry> timeline;
};

// ---- pure functions over rows ----

// Buckets [since, until) into `step`s (the last may be cut at `until`);
// observations outside are ignored. Observations in any order.
std::vector<Bucket> BucketObservations(const std::vector<StoredObservation>& rows, WallTime since,
                                       WallTime until, Duration step);
// The same from hourly rollups (`step` a whole number of hours).
std::vector<Bucket> BucketRollups(const std::vector<Rollup>& rows, WallTime since, WallTime until,
                                  Duration step);
// Sum of rollups whose hour starts in [since, until).
Counts SumRollups(const std::vector<Rollup>& rows, WallTime since, WallTime until);
// `days` UTC days ending with the one holding `now`, oldest first.
std::vector<Bucket> DailyBuckets(const std::vector<Rollup>& rows, WallTime now, int days);
// Incidents from events (any order), newest first. A check's incident opens
// at a hard change away from OK and closes at the change back to OK; an
// incident already open before the first event read starts at its
// `from_since`.
std::vector<Incident> BuildIncidents(std::vector<Event> events);
std::string IncidentId(const std::string& check, WallTime started);

// "24h", "7d", "30d", "90d", "1h", "15m": a window length; error otherwise.
Result<Duration> ParseWindow(std::string_view text);

class ReadModel {
 public:
  static constexpr Duration kMaxRange = std::chrono::hours(24 * 400);
  static constexpr size_t kMaxBuckets = 2000;
  static constexpr size_t kMaxObservations = 20'000;
  static constexpr size_t kMaxEvents = 5'000;
  static constexpr Duration kMinStep = std::chrono::seconds(60);

  ReadModel(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Every check in `live` joined with its snapshot, in the order given.
  Result<std::vector<CheckView>> Checks(const std::vector<LiveCheck>& live);
  // History of one check; steps of whole hours come from the rollups,
  // shorter ones from raw observations (kept 7 days by default).
  Result<std::vector<Bucket>> History(const std::string& check, WallTime since, WallTime until,
                                      Duration step);
  Result<Counts> Uptime(const std::string& check, Duration window);
  // The same for every check with results, by name, from one query over the
  // last two hours; the hours before come from a cache made once an hour per
  // window (with 10,000 checks a 30-day window is 7 million rollups).
  Result<std::unordered_map<std::string, Counts>> UptimeAll(Duration window);
  Result<std::vector<Bucket>> Daily(const std::string& check, int days);
  // Incidents that were open at some time in [now - window, now), newest
  // first, at most `limit`; of one check or of those named in `only`.
  Result<std::vector<Incident>> Incidents(const std::vector<std::string>& only, Duration window,
                                          size_t limit);

 private:
  // Sums of whole hours in [since, settled) per check, for one window.
  struct SettledUptime {
    WallTime since{}, settled{};
    std::unordered_map<std::string, Counts> counts;
  };
  static constexpr size_t kMaxCachedWindows = 16;

  Store& store_;
  const Clock& clock_;
  Mutex cache_mu_;  // API threads share the cache
  std::map<Duration, SettledUptime> uptime_cache_ GUARDED_BY(cache_mu_);
};

// RFC 3339 in UTC with seconds ("2026-12-07T04:12:22Z").
std::string FormatTime(WallTime t);
// Accepts RFC 3339 ("...Z" or with an offset) or unix seconds.
Result<WallTime> ParseTime(std::string_view text);

}  // namespace mamori::faces
