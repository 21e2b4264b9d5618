#include "mamori/daemon/after_maintenance.h"

#include <algorithm>

#include "mamori/engine/runner.h"
#include "mamori/util/units.h"

namespace mamori {

struct AfterMaintenance::Pending {
  uint64_t id = 0;
  MaintenanceOccurrence window;
  std::vector<std::shared_ptr<CheckRuntime>> checks;
  std::vector<std::optional<Observation>> results;  // by position in `checks`
  std::vector<int> stale;  // runs in flight at the end: their results predate it
  std::unique_ptr<boost::asio::steady_timer> timer;
  Duration waited{};
};

AfterMaintenance::AfterMaintenance(boost::asio::io_context& io, const Clock& clock, Hooks hooks)
    : io_(io), clock_(clock), hooks_(std::move(hooks)) {}

AfterMaintenance::~AfterMaintenance() { Cancel(); }

void AfterMaintenance::Begin(const MaintenanceOccurrence& occ,
                             std::vector<std::shared_ptr<CheckRuntime>> covered) {
  auto p = std::make_unique<Pending>();
  p->id = ++ids_;
  p->window = occ;
  Duration longest{};
  for (const auto& rt : covered) {
    p->stale.push_back(rt->in_flight ? 1 : 0);
    longest = std::max(longest, rt->config.timeout);
    if (!rt->in_flight) hooks_.run_now(rt);  // in flight: re-run when it answers
  }
  p->checks = std::move(covered);
  p->results.resize(p->checks.size());
  if (p->checks.empty()) return;
  // A run in flight at the end finishes first, then runs again.
  p->waited = 2 * longest + Runner::kGrace + std::chrono::seconds(1);
  p->timer = std::make_unique<boost::asio::steady_timer>(io_);
  p->timer->expires_after(p->waited);
  p->timer->async_wait([this, id = p->id](const boost::system::error_code& ec) {
    if (!ec) Finish(id);
  });
  pending_.push_back(std::move(p));
}

void AfterMaintenance::OnResult(const std::shared_ptr<CheckRuntime>& rt, const Observation& o) {
  std::vector<uint64_t> complete;
  for (auto& p : pending_) {
    for (size_t k = 0; k < p->checks.size(); ++k) {
      if (p->checks[k] != rt || p->results[k]) continue;
      if (p->stale[k] > 0) {  // started before the window ended: run again
        --p->stale[k];
        hooks_.run_now(rt);
        continue;
      }
      p->results[k] = o;
    }
    bool all = true;
    for (size_t k = 0; k < p->checks.size(); ++k)
      all = all && (p->results[k] || p->checks[k]->retired);
    if (all) complete.push_back(p->id);
  }
  for (uint64_t id : complete) Finish(id);
}

std::optional<std::string> AfterMaintenance::Holding(const CheckRuntime& rt) const {
  for (const auto& p : pending_)
    for (const auto& c : p->checks)
      if (c.get() == &rt) return p->window.name;
  return std::nullopt;
}

void AfterMaintenance::Cancel() {
  for (auto& p : pending_)
    if (p->timer) p->timer->cancel();
}

void AfterMaintenance::Finish(uint64_t id) {
  auto it =
      std::find_if(pending_.begin(), pending_.end(), [id](const auto& p) { return p->id == id; });
  if (it == pending_.end()) return;
  std::unique_ptr<Pending> done = std::move(*it);
  pending_.erase(it);
  if (done->timer) done->timer->cancel();
  hooks_.summary(AfterMaintenanceSummary(done->window.name, done->checks, done->results,
                                         done->waited, clock_.Now()),
                 done->window.name);
}

notify::Notification AfterMaintenanceSummary(
    const std::string& window, const std::vector<std::shared_ptr<CheckRuntime>>& checks,
    const std::vector<std::optional<Observation>>& results, Duration waited, WallTime now) {
  notify::Notification n;
  n.id = notify::NewNotificationId();
  n.kind = notify::Kind::kAfterMaintenance;
  n.time = now;
  n.host = notify::LocalHostName();
  for (size_t k = 0; k < checks.size(); ++k) {
    const auto& rt = checks[k];
    if (rt->retired) continue;
    Observation o = results[k].value_or(Observation::Make(
        CheckStatus::kUnknown,
        fmt::format("no result within {} after the maintenance", FormatDuration(waited))));
    notify::Item item;
    item.check = rt->config.name;
    item.type = rt->config.type;
    item.from = rt->state.snapshot().hard.value_or(CheckStatus::kUnknown);
    item.to = o.status;
    item.summary = o.summary;
    item.details = o.details;
    item.since = o.time == WallTime{} ? n.time : o.time;
    item.labels.emplace_back("maintenance", window);
    for (const auto& tag : rt->config.tags) item.labels.emplace_back("tag", tag);
    n.items.push_back(std::move(item));
  }
  std::stable_partition(n.items.begin(), n.items.end(),
                        [](const notify::Item& i) { return i.firing(); });
  return n;
}

}  // namespace mamori
