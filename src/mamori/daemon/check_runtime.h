// CheckRuntime: everything the daemon keeps per check: its configuration, its
// state machine and the bookkeeping of runs, repairs and catch-ups. Shared
// (shared_ptr) with in-flight runs, so a result arriving after a reload either
// lands on the surviving state or is dropped (`retired`). Not thread-safe:
// touched only on the daemon's event loop.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "mamori/check/check_config.h"
#include "mamori/engine/check_state.h"
#include "mamori/notify/notification.h"
#include "mamori/remedy/remedy.h"

namespace mamori {

struct CheckRuntime {
  CheckConfig config;
  CheckState state;
  // A run started and not yet returned (even if the runner already reported
  // it as timed out): the probe is never started twice at once.
  bool in_flight = false;
  bool dirty = false;  // snapshot not yet saved
  // Heartbeat catch-up: running now, and the last success it was run after
  // (one catch-up per missed run).
  std::shared_ptr<std::atomic<bool>> catch_up_running = std::make_shared<std::atomic<bool>>(false);
  std::optional<double> catch_up_after;
  bool retired = false;        // removed by a reload
  remedy::Guard remedy_guard;  // attempts within the plan's window
  bool remedy_running = false;
  // The last results, newest first: the evidence each alert carries. Few and
  // short, since every check keeps them (10,000 checks: ~5 MB at most).
  static constexpr size_t kRecentKept = 5;
  static constexpr size_t kRecentSummaryBytes = 160;
  std::deque<notify::ObservationLine> recent;
  void Remember(const Observation& o) {
    recent.push_front({o.time, o.status, o.summary.substr(0, kRecentSummaryBytes)});
    if (recent.size() > kRecentKept) recent.pop_back();
  }
  explicit CheckRuntime(CheckConfig c)
      : config(std::move(c)), state(config.name, config.type, config.thresholds) {}
};

// "OK -> CRITICAL", "PENDING -> WARNING": for log lines.
inline std::string Transition(const Event& e) {
  std::string from = e.from ? std::string(StatusLabel(*e.from)) : "PENDING";
  return fmt::format("{} -> {}", from, StatusLabel(e.to));
}

}  // namespace mamori
