// Observation: one fact about one target at one time (status, a one-line
// summary, optional details, numeric metrics). Probes produce them, the engine
// judges them, the store keeps them and the faces show them. Plain values;
// thread-compatible.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "mamori/core/status.h"
#include "mamori/util/clock.h"

namespace mamori {

struct Metric {
  std::string name;  // snake_case with a unit suffix where it helps: "total_ms"
  double value = 0;
};

struct Observation {
  CheckStatus status = CheckStatus::kUnknown;
  std::string summary;  // one line, shown in tables and alert subjects
  std::string details;  // optional multi-line text (command output, body excerpt)
  std::vector<Metric> metrics;
  // Filled in by the runner, not the probe:
  WallTime time{};
  Duration duration{};

  static Observation Make(CheckStatus s, std::string summary) {
    Observation o;
    o.status = s;
    o.summary = std::move(summary);
    return o;
  }
  void AddMetric(std::string name, double value) { metrics.push_back({std::move(name), value}); }
};

}  // namespace mamori
