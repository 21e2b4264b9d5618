#include "mamori/engine/check_state.h"

namespace mamori {
namespace {

constexpr size_t kFlapWindow = 21;  // results; 20 possible changes, as in Nagios
constexpr double kFlapHigh = 50.0;
constexpr double kFlapLow = 25.0;

}  // namespace

CheckState::CheckState(std::string name, std::string type, Thresholds thresholds)
    : thresholds_(thresholds) {
  snap_.name = std::move(name);
  snap_.type = std::move(type);
}

void CheckState::Restore(const CheckSnapshot& snap) {
  std::string name = snap_.name, type = snap_.type;
  snap_ = snap;
  snap_.name = std::move(name);
  snap_.type = std::move(type);
  // Rebuild the streak counters so a restart neither forgets a failing streak
  // nor invents one.
  failures_ = snap.last != CheckStatus::kOk ? snap.attempts : 0;
  successes_ = snap.last == CheckStatus::kOk ? snap.attempts : 0;
  history_.clear();
}

double CheckState::FlapPercent() const {
  if (history_.size() < 2) return 0;
  // Changes weigh from 0.8 (oldest) to 1.2 (newest), over a window of 20.
  double total = 0;
  const size_t changes_possible = kFlapWindow - 1;
  const size_t first = kFlapWindow - history_.size();  // position of history_[0] in a full window
  for (size_t i = 1; i < history_.size(); ++i) {
    if (history_[i] == history_[i - 1]) continue;
    size_t pos = first + i - 1;  // 0..19
    total += 0.8 + 0.4 * static_cast<double>(pos) / static_cast<double>(changes_possible - 1);
  }
  return total * 100.0 / static_cast<double>(changes_possible);
}

std::vector<Event> CheckState::Apply(const Observation& obs) {
  std::vector<Event> events;
  auto make = [&](EventKind kind, std::optional<CheckStatus> from, CheckStatus to) {
    Event e;
    e.time = obs.time;
    e.check = snap_.name;
    e.kind = kind;
    e.from = from;
    if (from && snap_.hard_since != WallTime{}) e.from_since = snap_.hard_since;
    e.to = to;
    e.summary = obs.summary;
    events.push_back(std::move(e));
  };

  snap_.last = obs.status;
  snap_.last_time = obs.time;
  snap_.summary = obs.summary;
  snap_.duration = obs.duration;
  snap_.metrics = obs.metrics;

  history_.push_back(obs.status);
  if (history_.size() > kFlapWindow) history_.erase(history_.begin());
  const double flap = FlapPercent();
  if (!snap_.flapping && flap > kFlapHigh) {
    snap_.flapping = true;
    make(EventKind::kFlappingStarted, snap_.hard, obs.status);
  } else if (snap_.flapping && flap < kFlapLow) {
    snap_.flapping = false;
    make(EventKind::kFlappingStopped, snap_.hard, obs.status);
  }

  if (obs.status == CheckStatus::kOk) {
    failures_ = 0;
    ++successes_;
    snap_.attempts = successes_;
    if (!snap_.hard) {
      make(EventKind::kStateChange, std::nullopt, CheckStatus::kOk);
      snap_.hard = CheckStatus::kOk;
      snap_.hard_since = obs.time;
    } else if (*snap_.hard != CheckStatus::kOk &&
               successes_ >= thresholds_.successes_before_recovery) {
      make(EventKind::kStateChange, snap_.hard, CheckStatus::kOk);
      snap_.hard = CheckStatus::kOk;
      snap_.hard_since = obs.time;
    }
  } else {
    successes_ = 0;
    ++failures_;
    snap_.attempts = failures_;
    const bool hard_failing = snap_.hard && *snap_.hard != CheckStatus::kOk;
    if (hard_failing) {
      if (obs.status != *snap_.hard) {  // WARNING -> CRITICAL and the like: at once
        make(EventKind::kStateChange, snap_.hard, obs.status);
        snap_.hard = obs.status;
        snap_.hard_since = obs.time;
      }
    } else if (failures_ >= thresholds_.failures_before_alert) {
      make(EventKind::kStateChange, snap_.hard, obs.status);
      snap_.hard = obs.status;
      snap_.hard_since = obs.time;
    }
  }
  snap_.soft_failing = !snap_.hard || *snap_.hard != obs.status;
  return events;
}

}  // namespace mamori
