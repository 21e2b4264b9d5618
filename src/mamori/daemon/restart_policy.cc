#include "mamori/daemon/restart_policy.h"

namespace mamori {

void RestartPolicy::Prune() {
  const WallTime now = clock_.Now();
  // A clock set back leaves the entries (they are still the latest restarts).
  while (!restarts_.empty() && now - restarts_.front() >= limits_.within) restarts_.pop_front();
}

int RestartPolicy::restarts_in_window() {
  Prune();
  return static_cast<int>(restarts_.size());
}

RestartPolicy::Action RestartPolicy::OnResult(const Result& r) {
  Prune();
  if (!r.failing) {
    failures_since_restart_ = 0;
    if (gave_up_ && restarts_.empty()) gave_up_ = false;
    return Action::kNone;
  }
  // The streak goes on through a window, so a unit still down when the
  // window ends is restarted at the first failure after it.
  ++failures_since_restart_;
  if (r.in_maintenance) return Action::kNone;
  if (!r.hard_critical || failures_since_restart_ < r.failures || gave_up_) return Action::kNone;
  if (static_cast<int>(restarts_.size()) >= limits_.limit) {
    gave_up_ = true;
    return Action::kGiveUp;
  }
  restarts_.push_back(clock_.Now());
  failures_since_restart_ = 0;
  return Action::kRestart;
}

}  // namespace mamori
