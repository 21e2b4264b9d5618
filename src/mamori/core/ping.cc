#include "mamori/core/ping.h"

namespace mamori::heartbeat {

std::string_view PingKindName(PingKind k) {
  switch (k) {
    case PingKind::kSuccess:
      return "success";
    case PingKind::kStart:
      return "start";
    case PingKind::kFail:
      return "fail";
    case PingKind::kLog:
      return "log";
    case PingKind::kExitCode:
      return "exit";
  }
  return "success";
}

std::optional<PingKind> PingKindFromName(std::string_view name) {
  for (PingKind k :
       {PingKind::kSuccess, PingKind::kStart, PingKind::kFail, PingKind::kLog, PingKind::kExitCode})
    if (PingKindName(k) == name) return k;
  return std::nullopt;
}

}  // namespace mamori::heartbeat
