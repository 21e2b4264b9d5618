// How check results are shown: a readable table for people and a JSON array for
// scripts. `mamori check`, `doctor` and `status` print the same shape:
//   [{"name", "type", "status", "summary", "duration_ms", "metrics": {...}}]
// (`status` adds hard-state fields). Pure formatting; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "mamori/check/probe.h"
#include "mamori/engine/check_state.h"

namespace mamori::cli {

struct ResultRow {
  std::string name;
  std::string type;
  CheckStatus status = CheckStatus::kUnknown;
  std::string summary;
  Duration duration{};
  std::vector<Metric> metrics;
  // Only for `status` (from the store):
  std::optional<CheckSnapshot> snapshot;
};

ResultRow RowFromObservation(std::string name, std::string type, const Observation& o);
ResultRow RowFromSnapshot(const CheckSnapshot& s);

// `color`: ANSI colours for the status column (only when writing to a terminal).
std::string FormatTable(const std::vector<ResultRow>& rows, bool color);
nlohmann::json ToJson(const std::vector<ResultRow>& rows);
// "2026-11-23T04:05:06.789Z"
std::string Rfc3339(WallTime t);
CheckStatus WorstStatus(const std::vector<ResultRow>& rows);

}  // namespace mamori::cli
