// Ping URLs and ping records of the heartbeat API. The URL shapes are those of
// healthchecks.io, so existing cron wrappers (curl one-liners, runitor) work
// unchanged against mamori:
//
//   /ping/<uuid>                  success
//   /ping/<uuid>/start            the job started
//   /ping/<uuid>/fail             the job failed
//   /ping/<uuid>/log              output only; changes no state
//   /ping/<uuid>/<0-255>          the job's exit code (0 = success)
//   /ping/<key>/<slug>[/...]      the same, by project key and check slug
//   ...?rid=<uuid>                a run id pairing a start with its end
//
// ParsePingTarget is the only way a URL becomes a ping: it accepts exactly
// these shapes with strict character sets and lengths, so nothing from the
// request line reaches the store or a file name unchecked. Pure functions;
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::heartbeat {

enum class PingKind { kSuccess, kStart, kFail, kLog, kExitCode };
std::string_view PingKindName(PingKind k);  // "success", "start", "fail", "log", "exit"
std::optional<PingKind> PingKindFromName(std::string_view name);

struct PingTarget {
  std::string uuid;  // lower case; empty when addressed by slug
  std::string key;   // project key (slug URLs)
  std::string slug;  // check slug (slug URLs)
  PingKind kind = PingKind::kSuccess;
  int exit_code = -1;  // 0-255 for kExitCode (and 0 for kSuccess, 1 for kFail), -1 otherwise
  std::string rid;     // run id (uuid) or empty
};

// Parses a request target ("/ping/...?rid=..."). Error messages are short and
// safe to send back to the client.
Result<PingTarget> ParsePingTarget(std::string_view target);

// 8-4-4-4-12 hex digits, either case.
bool IsUuid(std::string_view s);
// Lower case letters, digits, '-' and '_', 1-100 characters.
bool IsSlug(std::string_view s);
// A random (version 4) UUID from the OS's random source.
std::string NewUuid();

// One stored ping.
struct Ping {
  std::string check;  // check name
  WallTime time{};
  PingKind kind = PingKind::kSuccess;
  int exit_code = -1;
  std::string rid;
  std::string source;      // the client address (after trusted-proxy handling)
  std::string user_agent;  // capped
  std::string body;        // capped at the configured limit
  bool body_truncated = false;
  std::optional<Duration> duration;  // end ping with a matching start
};

// A ping that ends a run (success, fail, exit code); start and log do not.
inline bool EndsRun(const Ping& p) {
  return p.kind != PingKind::kStart && p.kind != PingKind::kLog;
}
// Did the run this ping ends fail?
inline bool IsFailure(const Ping& p) {
  return p.kind == PingKind::kFail || (p.kind == PingKind::kExitCode && p.exit_code != 0);
}

}  // namespace mamori::heartbeat
