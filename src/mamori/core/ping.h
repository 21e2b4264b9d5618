// Ping: one stored heartbeat ping (a job or host reporting in), as the ping
// API receives it and the store keeps it. The URL shapes that make a ping are
// in heartbeat/ping.h. Plain values and pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mamori/util/clock.h"

namespace mamori::heartbeat {

enum class PingKind { kSuccess, kStart, kFail, kLog, kExitCode };
std::string_view PingKindName(PingKind k);  // "success", "start", "fail", "log", "exit"
std::optional<PingKind> PingKindFromName(std::string_view name);

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
