// CheckRuntime: everything the daemon keeps per check: its configuration, its
// state machine and the bookkeeping of runs, repairs and catch-ups. Shared
// (shared_ptr) with in-flight runs, so a result arriving after a reload either
// lands on the surviving state or is dropped (`retired`). Not thread-safe:
// touched only on the daemon's event loop.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "mamori/check/check_config.h"
#include "mamori/engine/check_state.h"
#include "mamori/notify/notification.h"
#include "mamori/remedy/remedy.h"

namespace mamori {

struct CheckRuntime {
  explicit CheckRuntime(CheckConfig c)
      : config(std::move(c)), state(config.name, config.type, config.thresholds) {}

  CheckConfig config;
  CheckState state;
  // A run started and not yet returned (even if the runner already reported
  // it as timed out): the probe is never started twice at once.
  bool in_flight = false;
  // A ping came while a run was in flight: that run may have read the book
  // before it, so the check runs again as soon as it returns.
  bool judge_again = false;
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
  // A ring written in place on every result (the hot path): after the first
  // kRecentKept results no summary allocates again.
  void Remember(const Observation& o) {
    next_recent_ = (next_recent_ + 1) % kRecentKept;
    notify::ObservationLine& slot = recent_[next_recent_];
    slot.time = o.time;
    slot.status = o.status;
    slot.summary.assign(o.summary, 0, kRecentSummaryBytes);
    if (recent_count_ < kRecentKept) ++recent_count_;
  }
  // The remembered results, newest first (only built when an event needs them).
  std::vector<notify::ObservationLine> Recent() const {
    std::vector<notify::ObservationLine> out;
    out.reserve(recent_count_);
    for (size_t i = 0; i < recent_count_; ++i)
      out.push_back(recent_[(next_recent_ + kRecentKept - i) % kRecentKept]);
    return out;
  }

 private:
  std::array<notify::ObservationLine, kRecentKept> recent_{};
  size_t next_recent_ = kRecentKept - 1;  // the newest slot
  size_t recent_count_ = 0;
};

// "OK -> CRITICAL", "PENDING -> WARNING": for log lines.
inline std::string Transition(const Event& e) {
  std::string from = e.from ? std::string(StatusLabel(*e.from)) : "PENDING";
  return fmt::format("{} -> {}", from, StatusLabel(e.to));
}

}  // namespace mamori
