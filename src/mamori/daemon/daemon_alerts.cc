// What the daemon tells and repairs: the alert router and the outbox
// (configured at start and on every reload), remedies run on the worker pool,
// restarts and give-ups recorded as events. Part of Daemon::Impl
// (daemon_impl.h); runs on the loop.
#include <spdlog/spdlog.h>

#include <utility>

#include "mamori/daemon/check_runtime.h"
#include "mamori/daemon/daemon_impl.h"
#include "mamori/remedy/remedy.h"
#include "mamori/util/units.h"

namespace mamori {

// A restart (host/unit_restart.h) is a remedy event, labelled "restart ..."
// or "gave up ...".
void Daemon::Impl::RecordRestartEvent(const std::string& check, const std::string& summary) {
  auto it = check_index.find(check);
  if (stopping || it == check_index.end()) return;
  RecordRemedyEvent(checks[it->second], summary);
}

// Giving up is told at once to the check's channels, whatever the
// router already said about the failure: it is news (a person is needed).
void Daemon::Impl::SendGiveUp(const UnitRestarts::GiveUp& g) {
  spdlog::error("{}: {}", g.check, g.text);
  if (!outbox || !alerts) return;
  auto channels = alerts->router().ChannelsOf(g.check);
  if (channels.empty()) return;
  const notify::Notification n = GiveUpNotification(g, clock.Now());
  if (Status s = outbox->Enqueue(n, channels); !s.ok())
    spdlog::error("{}: the give-up alert was not queued: {}", g.check, s.error().message());
}

void Daemon::Impl::RecordRemedyEvent(const std::shared_ptr<CheckRuntime>& rt, std::string summary) {
  Event e;
  e.time = clock.Now();
  e.check = rt->config.name;
  e.kind = EventKind::kRemedy;
  e.from = rt->state.snapshot().hard;
  e.to = rt->state.snapshot().last;
  e.summary = std::move(summary);
  spdlog::warn("{}: {}", e.check, e.summary);
  store->RecordEvent(e);
}

// A check that turned hard CRITICAL and has a `remedy:` gets it, within its
// rate limit, on the worker pool; then it is re-checked at once. Every run
// is an event before and after, so the history says what mamori touched.
void Daemon::Impl::MaybeRemedy(const std::shared_ptr<CheckRuntime>& rt, const Event& e) {
  const auto plan = rt->config.remedy;
  if (!plan || e.kind != EventKind::kStateChange || e.to != CheckStatus::kCritical ||
      rt->remedy_running)
    return;
  if (!rt->remedy_guard.TryAcquire(*plan, clock.Now())) {
    RecordRemedyEvent(rt, fmt::format("remedy not run: already tried {} time(s) within {}; "
                                      "this needs a person",
                                      plan->max_attempts, FormatDuration(plan->window)));
    return;
  }
  std::string steps;
  for (const auto& s : plan->steps) steps += (steps.empty() ? "" : ", ") + s->Describe();
  RecordRemedyEvent(rt, "remedy starting: " + steps);
  rt->remedy_running = true;
  asio::post(pool, [this, rt, plan] {
    remedy::Outcome out = remedy::Execute(*plan);
    asio::post(io, [this, rt, out = std::move(out)] {
      rt->remedy_running = false;
      if (rt->retired || stopping) return;
      RecordRemedyEvent(rt, out.Summary());
      for (size_t i = 0; i < checks.size(); ++i) {
        if (checks[i] != rt) continue;
        scheduler.RunAt(i, clock.Monotonic());
        timer.cancel();
        ArmTimer();
      }
    });
  });
}

// The alert router decides who hears about it, and when.
void Daemon::Impl::Notify(const std::shared_ptr<CheckRuntime>& rt, const Event& e,
                          const Observation& o) {
  if (e.kind == EventKind::kStateChange && e.from && !config->notify.channels.empty())
    if (auto window = HeldByMaintenance(*rt, e.time))
      spdlog::info("{}: {}: suppressed: in maintenance {}", rt->config.name, Transition(e),
                   *window);
  if (alerts) alerts->OnEvent(e, o, rt->Recent());
}

// Start (first call creates the service and hands it the restored check
// states) and every reload.
void Daemon::Impl::ConfigureAlerts() {
  if (!alerts) {
    auto a = notify::AlertService::Start(io, clock, config->data_dir);
    if (!a.ok()) {
      spdlog::error("alerting is off: {}", a.error().message());
      return;
    }
    alerts = std::move(a.value());
    // The router holds everything about a check in a window (and until the
    // window's summary is out; the summary then counts as telling).
    alerts->set_in_maintenance([this](std::string_view name, WallTime t) {
      if (config->maintenance.empty() && after_maintenance.empty() && !after_boot.Holding(t) &&
          !operator_store)
        return false;
      auto it = check_index.find(std::string(name));
      return it != check_index.end() && HeldByMaintenance(*checks[it->second], t).has_value();
    });
    alerts->Configure(config->notify, AlertChecks(), config->api.read_key, outbox.get());
    for (const auto& c : checks) alerts->Seed(c->state.snapshot());
    return;
  }
  alerts->Configure(config->notify, AlertChecks(), config->api.read_key, outbox.get());
}

// What the alert router knows of each check (Apply moved the configs into
// the runtimes, so they are read there).
std::vector<notify::CheckInfo> Daemon::Impl::AlertChecks() const {
  std::vector<notify::CheckInfo> out;
  out.reserve(checks.size());
  for (const auto& rt : checks) {
    const CheckConfig& c = rt->config;
    out.push_back({c.name, c.type, c.tags, c.notify, c.depends_on});
  }
  return out;
}

void Daemon::Impl::StartOutbox() {
  if (config->notify.channels.empty()) {
    if (outbox) outbox->SetChannels(config->notify.channels);
    return;
  }
  if (!outbox) {
    notify::OutboxOptions opts;
    opts.policy = config->notify.outbox;
    auto ob = notify::Outbox::Open(config->data_dir, clock, opts);
    if (!ob.ok()) {
      spdlog::error("notifications are off: {}", ob.error().message());
      return;
    }
    outbox = std::move(ob.value());
  }
  outbox->SetChannels(config->notify.channels);
}

}  // namespace mamori
