// Maintenance windows and the after-boot run: which window holds a check's
// notifications, noticing a window's start and end (configured or through
// the API), re-running its checks when it ends and sending its one summary.
// Part of Daemon::Impl (daemon_impl.h); runs on the loop.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <utility>

#include "mamori/daemon/daemon_impl.h"

namespace mamori {

// The window holding this check's notifications at `t`: one covering it, or
// one that ended and whose summary (which will report the check) is not out.
std::optional<std::string> Daemon::Impl::HeldByMaintenance(const CheckRuntime& rt,
                                                           WallTime t) const {
  if (auto w = config->maintenance.Covering(rt.config.name, rt.config.tags, t)) return w->name;
  if (after_boot.Holding(t)) return std::string(AfterBoot::kWindow);
  if (operator_store)
    if (auto w = operator_store->Holding(rt.config.name, rt.config.tags, t))
      return fmt::format("{} {} (api)", faces::WindowKindName(w->kind), w->id);
  return after_maintenance.Holding(rt);
}

void Daemon::Impl::ArmMaintenance() {
  maintenance_timer.cancel();
  if (stopping || (config->maintenance.empty() && !operator_store)) return;
  const WallTime now = clock.Now();
  Duration wait = kMaintenancePoll;
  if (auto next = config->maintenance.NextTransition(now))
    wait = std::clamp<Duration>(*next - now, std::chrono::milliseconds(1), kMaintenancePoll);
  if (auto next = operator_store ? operator_store->NextTransition() : std::nullopt)
    wait = std::clamp<Duration>(*next - now, std::chrono::milliseconds(1), wait);
  maintenance_timer.expires_after(wait);
  maintenance_timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) MaintenanceTick();
  });
}

void Daemon::Impl::MaintenanceTick() {
  const WallTime now = clock.Now();
  std::set<std::string> active;
  for (const auto& occ : config->maintenance.Active(now)) {
    active.insert(occ.name);
    if (maintenance_active.count(occ.name)) continue;
    const auto& w = config->maintenance.windows()[occ.window];
    size_t covered = 0;
    for (const auto& c : checks) covered += w.Applies(c->config.name, c->config.tags) ? 1 : 0;
    spdlog::warn("maintenance {} is on until {}: notifications for {} check(s) are held", occ.name,
                 notify::FormatWhen(occ.end), covered);
  }
  maintenance_active = std::move(active);
  if (now > maintenance_seen) {
    for (const auto& occ : config->maintenance.EndedBetween(maintenance_seen, now))
      BeginAfterMaintenance(occ);
  }
  maintenance_seen = now;  // a clock set back does not replay old ends
  if (operator_store)
    for (const auto& w : operator_store->TakeEnded()) BeginAfterApiMaintenance(w);
  ArmMaintenance();
}

// The same for a window started through the API, ended or cut short.
void Daemon::Impl::BeginAfterApiMaintenance(const faces::OperatorWindow& w) {
  MaintenanceOccurrence occ;
  // "api #3 (disk swap)": the id DELETE /api/v1/maintenance/3 took, and why.
  occ.name =
      fmt::format("api #{}{}", w.id, w.reason.empty() ? "" : " (" + w.reason.substr(0, 60) + ")");
  occ.start = w.start;
  occ.end = w.end;
  const WallTime now = clock.Now();
  std::vector<std::shared_ptr<CheckRuntime>> covered;
  for (const auto& rt : checks) {
    const auto& c = rt->config;
    const auto other = operator_store->Holding(c.name, c.tags, now);
    if (w.Applies(c.name, c.tags) && !config->maintenance.Covers(c.name, c.tags, now) &&
        !(other && other->kind == faces::WindowKind::kMaintenance))
      covered.push_back(rt);
  }
  spdlog::warn("maintenance {} ended: running its {} check(s) now", occ.name, covered.size());
  after_maintenance.Begin(occ, std::move(covered));
}

// A window ended: run every check it covered (and that no other window
// still covers) at once, then wait for their results.
void Daemon::Impl::BeginAfterMaintenance(const MaintenanceOccurrence& occ) {
  const auto& w = config->maintenance.windows()[occ.window];
  const WallTime now = clock.Now();
  std::vector<std::shared_ptr<CheckRuntime>> covered;
  for (const auto& rt : checks)
    if (w.Applies(rt->config.name, rt->config.tags) &&
        !config->maintenance.Covers(rt->config.name, rt->config.tags, now))
      covered.push_back(rt);
  spdlog::warn("maintenance {} ended: running its {} check(s) now", occ.name, covered.size());
  after_maintenance.Begin(occ, std::move(covered));
}

// The boot has settled: every check runs now; AfterMaintenance waits for
// the results and hands the summary to SendMaintenanceSummary.
void Daemon::Impl::BeginAfterBoot() {
  after_boot.Settled();
  MaintenanceOccurrence occ;
  occ.name = AfterBoot::kWindow;
  occ.end = clock.Now();
  std::vector<std::shared_ptr<CheckRuntime>> all(checks.begin(), checks.end());
  spdlog::info("after boot: running all {} check(s) now", all.size());
  after_maintenance.Begin(occ, std::move(all));
}

// Runs a check at once (out of its schedule).
void Daemon::Impl::RunNow(const std::shared_ptr<CheckRuntime>& rt) {
  auto it = check_index.find(rt->config.name);
  if (it == check_index.end() || checks[it->second] != rt) return;
  scheduler.RunAt(it->second, clock.Monotonic());
  timer.cancel();
  ArmTimer();
}

// The one summary of a window: logged, sent to every channel, and noted
// as telling them about its checks.
void Daemon::Impl::SendMaintenanceSummary(notify::Notification n, const std::string& window) {
  std::vector<std::string> failing, fine;
  for (const auto& item : n.items) (item.firing() ? failing : fine).push_back(item.check);
  const bool boot = window == AfterBoot::kWindow;
  if (boot) after_boot.Relabel(n);
  spdlog::log(failing.empty() ? spdlog::level::info : spdlog::level::warn, "{}: {} {}{}{}{}, {} {}",
              boot ? "after boot" : "after maintenance " + window, failing.size(),
              boot ? "not back" : "still failing", failing.empty() ? "" : " (",
              fmt::join(failing, ", "), failing.empty() ? "" : ")", fine.size(),
              boot ? "back" : "fine");
  if (n.items.empty() || !outbox) return;
  std::vector<std::string> names;
  for (const auto& c : config->notify.channels) names.push_back(c->name());
  if (names.empty()) return;
  if (Status s = outbox->Enqueue(n, names); !s.ok()) {
    spdlog::error("after maintenance {}: summary not queued: {}", window, s.error().message());
    return;
  }
  if (alerts)
    for (const auto& item : n.items) alerts->router().NoteSummarySent(item.check, names);
}

}  // namespace mamori
