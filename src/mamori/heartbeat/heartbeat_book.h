// HeartbeatBook: what the daemon knows about each heartbeat check's pings
// (last success, last failure, open runs), and Evaluate(), which turns that
// into an observation: on time, late, failed, or running too long.
//
// The ping API adds pings after they are committed to the store; the
// `heartbeat` check type reads the book when it runs; on start the daemon
// refills the book from the store, so a restart forgets nothing. Every method
// is thread-safe (one mutex; each call is a map lookup). Bounded: at most
// kMaxOpenRuns unfinished runs per check are remembered (the oldest go).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include <vector>

#include "mamori/core/observation.h"
#include "mamori/heartbeat/ping.h"
#include "mamori/util/mutex.h"

namespace mamori::heartbeat {

struct HeartbeatRecord {
  std::optional<Ping> last_ping;              // of any kind, including log
  std::optional<Ping> last_end;               // the last ping that ended a run (success or failure)
  std::optional<Ping> last_success;           // the last run that ended well
  std::optional<Ping> last_start;             // the last start ping
  std::map<std::string, WallTime> open_runs;  // rid ("" = none) -> start time
  WallTime first_seen{};                      // when mamori began expecting pings
};

// How pings reach one heartbeat check and what the daemon does for it. Each
// heartbeat probe files its own route when the composition attaches it (at
// start and every reload); the ping API and the daemon read them here.
struct HeartbeatRoute {
  std::string check;
  std::string uuid;  // lower case; may be empty when a slug is set
  std::string slug;
  bool track_ip = false;  // an address change is an event
  // Run once when a scheduled run was missed (as `mamori exec` would).
  std::vector<std::string> catch_up;
  Duration catch_up_timeout = std::chrono::hours(1);
};

class HeartbeatBook {
 public:
  static constexpr size_t kMaxOpenRuns = 64;

  // Sets `ping.duration` when it ends a run whose start is known (by rid, or
  // the last start without rid). Does not change the book.
  void FillDuration(Ping& ping) const;
  // Records a committed ping; returns the source address of the check's
  // previous ping ("" if none), for address-change events.
  std::string Add(const Ping& ping);
  // Starts expecting pings for `check` at `t` unless it already has a record.
  void Expect(const std::string& check, WallTime t);
  std::optional<HeartbeatRecord> Get(const std::string& check) const;

  // Routes: ClearRoutes before a reload re-attaches every probe.
  void SetRoute(HeartbeatRoute route);
  void ClearRoutes();
  std::vector<HeartbeatRoute> Routes() const;
  std::optional<HeartbeatRoute> RouteOf(const std::string& check) const;

 private:
  mutable Mutex mu_;
  std::unordered_map<std::string, HeartbeatRecord> records_ GUARDED_BY(mu_);
  std::map<std::string, HeartbeatRoute> routes_ GUARDED_BY(mu_);  // by check name
};

// When a heartbeat is due.
struct Schedule {
  std::optional<Duration> period;          // a success at least every `period`...
  Duration grace = std::chrono::hours(1);  // ...plus this much slack
  std::optional<Duration> max_runtime;     // a start must end within this
  // For cron schedules: the latest scheduled time at or before `t` (null when
  // the schedule is a period).
  std::function<std::optional<WallTime>(WallTime)> previous_due;
  std::string describe;  // "every 1d (grace 2h)" / "cron '0 3 * * *' Asia/Tokyo (grace 2h)"
};

// The state of one heartbeat at `now`. Without any ping yet, a check is OK
// until its first deadline passes (counted from first_seen).
Observation Evaluate(const Schedule& schedule, const HeartbeatRecord& record, WallTime now);

}  // namespace mamori::heartbeat
