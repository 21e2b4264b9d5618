#include "mamori/daemon/unit_restarts.h"

#include <fmt/format.h>

#include <unordered_set>

#include "mamori/notify/notification.h"
#include "mamori/notify/notify_config.h"
#include "mamori/util/units.h"

namespace mamori {
namespace {

// As the configuration spells a window: "10m", "1h30m", "90s" (FormatDuration
// would say "10m 0s").
std::string WindowText(Duration d) {
  using namespace std::chrono;
  if (d % seconds(1) != Duration::zero() || d <= Duration::zero()) return FormatDuration(d);
  int64_t s = duration_cast<seconds>(d).count();
  std::string out;
  for (const auto& [unit, size] : {std::pair{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}}) {
    if (s >= size) out += fmt::format("{}{}", s / size, unit);
    s %= size;
  }
  return out;
}

}  // namespace

void UnitRestarts::OnResult(const CheckConfig& c, const CheckSnapshot& s, const Observation& o,
                            bool in_maintenance) {
  if (!c.restart) return;
  const host::RestartPlan& plan = *c.restart;
  auto& slot = entries_[c.name];
  if (!slot) slot = std::make_shared<Entry>(clock_, RestartPolicy::Limits{plan.limit, plan.within});
  Entry& e = *slot;
  e.policy.set_limits({plan.limit, plan.within});
  // A result taken while the unit is being restarted says nothing of the restart.
  if (e.running) return;
  RestartPolicy::Result r;
  r.failing = o.status != CheckStatus::kOk;
  r.hard_critical = s.hard == CheckStatus::kCritical;
  r.in_maintenance = in_maintenance;
  r.failures = c.thresholds.failures_before_alert;
  switch (e.policy.OnResult(r)) {
    case RestartPolicy::Action::kNone:
      return;
    case RestartPolicy::Action::kRestart:
      return Start(c, e, o.summary);
    case RestartPolicy::Action::kGiveUp:
      return GiveUpOn(c, e, o.summary);
  }
}

void UnitRestarts::Start(const CheckConfig& c, Entry& e, const std::string& last_failure) {
  const host::RestartPlan plan = *c.restart;
  const int n = e.policy.restarts_in_window();
  const std::string head = fmt::format("restart {}/{} of {}", n, plan.limit, plan.unit);
  hooks_.record(c.name, fmt::format("{}: starting (failing: {})", head, last_failure));
  e.running = true;
  auto entry = entries_[c.name];
  auto outcome = std::make_shared<std::string>();
  const WallTime at = clock_.Now();
  hooks_.offload(
      [this, plan, outcome] {
        const MonoTime start = clock_.Monotonic();
        auto r = restarter_.Restart(plan.unit, start + plan.timeout);
        const auto took = std::chrono::duration_cast<Millis>(clock_.Monotonic() - start);
        *outcome = r.ok() ? fmt::format("job {} in {}", *r, FormatDuration(took))
                          : fmt::format("failed: {}", r.error().message());
      },
      [this, entry, name = c.name, head, at, outcome, limit = plan.limit] {
        entry->running = false;
        entry->history.push_back(
            fmt::format("{} at {}: {}", head, notify::FormatWhen(at), *outcome));
        while (entry->history.size() > static_cast<size_t>(limit)) entry->history.pop_front();
        hooks_.record(name, fmt::format("{}: {}", head, *outcome));
        hooks_.recheck(name);
      });
}

void UnitRestarts::GiveUpOn(const CheckConfig& c, Entry& e, const std::string& last_failure) {
  const host::RestartPlan& plan = *c.restart;
  GiveUp g;
  g.check = c.name;
  g.type = c.type;
  g.unit = plan.unit;
  g.text = fmt::format("gave up after {} restarts in {}: {}; last failure: {}", plan.limit,
                       WindowText(plan.within), plan.unit, last_failure);
  for (const auto& line : e.history) g.details += line + "\n";
  hooks_.record(c.name, g.text);
  hooks_.alert(g);
}

void UnitRestarts::Retain(const std::vector<CheckConfig>& checks) {
  std::unordered_set<std::string> keep;
  for (const auto& c : checks)
    if (c.restart) keep.insert(c.name);
  for (auto it = entries_.begin(); it != entries_.end();)
    it = keep.count(it->first) ? std::next(it) : entries_.erase(it);
}

notify::Notification GiveUpNotification(const UnitRestarts::GiveUp& g, WallTime now) {
  notify::Notification n;
  n.id = notify::NewNotificationId();
  n.kind = notify::Kind::kProblem;
  n.time = now;
  n.host = notify::LocalHostName();
  notify::Item item;
  item.check = g.check;
  item.type = g.type;
  item.from = CheckStatus::kCritical;
  item.to = CheckStatus::kCritical;
  item.summary = g.text;
  item.details = "Restarts of " + g.unit + " in the window:\n" + g.details;
  item.since = now;
  item.labels.emplace_back("unit", g.unit);
  n.items.push_back(std::move(item));
  return n;
}

}  // namespace mamori
