#include "mamori/core/status.h"

namespace mamori {

std::string_view StatusName(CheckStatus s) {
  switch (s) {
    case CheckStatus::kOk:
      return "ok";
    case CheckStatus::kWarning:
      return "warning";
    case CheckStatus::kCritical:
      return "critical";
    case CheckStatus::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::string_view StatusLabel(CheckStatus s) {
  switch (s) {
    case CheckStatus::kOk:
      return "OK";
    case CheckStatus::kWarning:
      return "WARNING";
    case CheckStatus::kCritical:
      return "CRITICAL";
    case CheckStatus::kUnknown:
      return "UNKNOWN";
  }
  return "UNKNOWN";
}

std::optional<CheckStatus> ParseStatus(std::string_view name) {
  if (name == "ok") return CheckStatus::kOk;
  if (name == "warning") return CheckStatus::kWarning;
  if (name == "critical") return CheckStatus::kCritical;
  if (name == "unknown") return CheckStatus::kUnknown;
  return std::nullopt;
}

std::optional<CheckStatus> StatusFromExitCode(int code) {
  if (code < 0 || code > 3) return std::nullopt;
  return static_cast<CheckStatus>(code);
}

}  // namespace mamori
