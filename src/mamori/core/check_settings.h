// The timing and threshold settings every check shares, and the store's
// retention: plain values read by the config loader and used by the engine and
// the store. Defaults here are the documented defaults (docs/CONFIGURATION.md).
#pragma once

#include <chrono>

#include "mamori/util/clock.h"

namespace mamori {

struct Thresholds {
  int failures_before_alert = 3;      // consecutive non-OK results before a hard failure
  int successes_before_recovery = 2;  // consecutive OK results before a hard recovery
};

struct CheckDefaults {
  Duration interval = std::chrono::seconds(60);
  Duration timeout = std::chrono::seconds(10);
  Thresholds thresholds;
};

struct RetentionConfig {
  Duration raw = std::chrono::hours(24 * 7);        // individual observations
  Duration rollups = std::chrono::hours(24 * 400);  // hourly summaries
  Duration events = std::chrono::hours(24 * 400);
  // How often the daemon applies these (the first time a minute after start,
  // or sooner when this is shorter).
  Duration compact_every = std::chrono::hours(1);
};

}  // namespace mamori
