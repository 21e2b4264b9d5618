// CheckStatus: the four Nagios-convention outcomes of a check, and how they
// order. UNKNOWN ("could not tell") is kept distinct from CRITICAL ("the
// service is down"). Pure values, thread-safe.
#pragma once

#include <optional>
#include <string_view>

namespace mamori {

// Numeric values are the Nagios plugin exit codes.
enum class CheckStatus : int { kOk = 0, kWarning = 1, kCritical = 2, kUnknown = 3 };

// Severity order used for "worst of": OK < WARNING < UNKNOWN < CRITICAL
// (as Icinga ranks them): a down service outranks one we could not measure.
constexpr int Severity(CheckStatus s) {
  switch (s) {
    case CheckStatus::kOk:
      return 0;
    case CheckStatus::kWarning:
      return 1;
    case CheckStatus::kUnknown:
      return 2;
    case CheckStatus::kCritical:
      return 3;
  }
  return 2;
}

constexpr CheckStatus Worst(CheckStatus a, CheckStatus b) {
  return Severity(a) >= Severity(b) ? a : b;
}

constexpr int ExitCode(CheckStatus s) { return static_cast<int>(s); }

// "ok", "warning", "critical", "unknown": the JSON and store spelling.
std::string_view StatusName(CheckStatus s);
// "OK", "WARNING", ...: the table spelling.
std::string_view StatusLabel(CheckStatus s);
std::optional<CheckStatus> ParseStatus(std::string_view name);
std::optional<CheckStatus> StatusFromExitCode(int code);

}  // namespace mamori
