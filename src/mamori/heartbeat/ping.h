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

#include "mamori/core/ping.h"
#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::heartbeat {

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

}  // namespace mamori::heartbeat
