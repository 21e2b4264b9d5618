// The daemon's core: construction, loading and applying the configuration,
// the check loop (timer, results, catch-ups), housekeeping and snapshots,
// reload, signals and Run/Stop. The other parts of Daemon::Impl are in
// daemon_server.cc, daemon_maintenance.cc and daemon_alerts.cc
// (daemon_impl.h says what runs where).
#include "mamori/daemon/daemon.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "mamori/daemon/checks_http_client.h"
#include "mamori/daemon/daemon_impl.h"
#include "mamori/daemon/default_config.h"
#include "mamori/daemon/instance_lock.h"
#include "mamori/daemon/live_events.h"
#include "mamori/daemon/metrics_feed.h"
#include "mamori/engine/check_state.h"
#include "mamori/heartbeat/exec.h"

namespace mamori {

ConfigLoad Daemon::Impl::Load() {
  if (options.config_file.empty())
    return LoadConfigText(DefaultConfigYaml(DefaultDataDir()), "<embedded default>");
  return LoadConfigFile(options.config_file);
}

void Daemon::Impl::Apply(std::unique_ptr<Config> next) {
  std::unordered_map<std::string, std::shared_ptr<CheckRuntime>> old;
  for (auto& c : checks) old[c->config.name] = c;
  std::vector<std::shared_ptr<CheckRuntime>> fresh;
  std::vector<Scheduler::Slot> slots;
  fresh.reserve(next->checks.size());
  slots.reserve(next->checks.size());
  restarts.Retain(next->checks);
  ConfigureMetrics(metrics, *next);
  for (auto& cc : next->checks) {
    auto it = old.find(cc.name);
    std::shared_ptr<CheckRuntime> rt;
    slots.push_back({cc.name, cc.interval, !(cc.probe && cc.probe->UsesWorkerPool())});
    if (it != old.end() && it->second->config.type == cc.type) {
      rt = it->second;
      rt->state.set_thresholds(cc.thresholds);
      rt->config = std::move(cc);
      old.erase(it);
    } else {
      rt = std::make_shared<CheckRuntime>(std::move(cc));
    }
    fresh.push_back(std::move(rt));
  }
  for (auto& [name, rt] : old) rt->retired = true;
  // The runtimes own the checks from here on; a second copy of every
  // CheckConfig in `config` cost ~600 bytes per check (AlertChecks() gives
  // the alert router what it needs).
  next->checks.clear();
  next->checks.shrink_to_fit();
  checks = std::move(fresh);
  check_index.clear();
  check_index.reserve(checks.size());
  for (size_t i = 0; i < checks.size(); ++i) check_index[checks[i]->config.name] = i;
  config = std::move(next);
  scheduler.Reset(std::move(slots), clock.Now(), clock.Monotonic(), host_name);
  AttachProbes();
  if (ping_api) {
    ping_api->set_options(PingApiOptions(config->api));
    ping_api->SetRoutes(PingRoutes(heartbeats));
  }
  if (faces) faces->Configure(config->faces);
}

// Every probe files what it needs with the services (heartbeat routes).
void Daemon::Impl::AttachProbes() {
  heartbeats.ClearRoutes();
  for (const auto& c : checks)
    if (c->config.probe) c->config.probe->Attach(runner->env());
}

// Refills the heartbeat book from the store so a restart forgets no ping.
void Daemon::Impl::LoadHeartbeats() {
  for (const auto& c : checks) {
    if (c->config.type != "heartbeat") continue;
    auto pings = store->Pings(c->config.name, heartbeat::HeartbeatBook::kMaxOpenRuns * 4);
    if (!pings.ok()) {
      spdlog::warn("could not read the pings of {}: {}", c->config.name, pings.error().message());
      continue;
    }
    for (auto it = pings->rbegin(); it != pings->rend(); ++it) heartbeats.Add(*it);
  }
}

void Daemon::Impl::RestoreFromStore() {
  auto snaps = store->LoadSnapshots();
  if (!snaps.ok()) {
    spdlog::warn("could not read saved check state: {}; starting fresh", snaps.error().message());
    return;
  }
  std::unordered_map<std::string, const CheckSnapshot*> by_name;
  for (const auto& s : *snaps) by_name[s.name] = &s;
  size_t restored = 0;
  for (auto& c : checks) {
    auto it = by_name.find(c->config.name);
    if (it != by_name.end() && it->second->type == c->config.type) {
      c->state.Restore(*it->second);
      ++restored;
      // A heartbeat that never pinged is late counted from when mamori
      // began expecting it; without this a restart would reset that clock.
      if (c->config.type == "heartbeat" && it->second->hard_since != WallTime{})
        heartbeats.Expect(c->config.name, it->second->hard_since);
    }
  }
  if (restored)
    spdlog::info("restored the state of {} check(s) from {}", restored, config->data_dir);
}

void Daemon::Impl::ArmTimer() {
  if (stopping) return;
  auto next = scheduler.NextDue();
  if (!next) return;
  timer.expires_at(std::chrono::steady_clock::time_point(next->time_since_epoch()));
  timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) OnTimer();
  });
}

void Daemon::Impl::OnTimer() {
  const MonoTime now = clock.Monotonic();
  for (const auto& due : scheduler.PopDue(now)) {
    auto rt = checks[due.index];
    stats.Due(now - due.when);
    if (rt->in_flight) {
      stats.Skipped();
      spdlog::debug("{}: previous run still in flight, skipping this slot", rt->config.name);
      continue;
    }
    rt->in_flight = true;
    stats.Ran();
    runner->Run(
        rt->config.probe, rt->config.timeout,
        [this, rt](Observation o) { OnResult(rt, std::move(o)); },
        [this, rt] {
          rt->in_flight = false;
          if (std::exchange(rt->judge_again, false) && !rt->retired && !stopping) RunNow(rt);
        });
  }
  ArmTimer();
}

void Daemon::Impl::OnResult(const std::shared_ptr<CheckRuntime>& rt, Observation o) {
  stats.Result();
  if (rt->retired || stopping) return;
  store->Record(rt->config.name, rt->config.type, o);
  rt->Remember(o);
  MaybeCatchUp(rt, o);
  RunAgainAtDeadline(rt, o);
  const CheckSnapshot before = StatusMark(rt->state.snapshot());
  const std::vector<Event> made = rt->state.Apply(o);
  for (const auto& e : made) {
    if (e.kind == EventKind::kStateChange) {
      auto level = e.to == CheckStatus::kOk ? spdlog::level::info : spdlog::level::warn;
      spdlog::log(level, "{}: {}: {}", e.check, Transition(e), e.summary);
    } else {
      spdlog::warn("{}: {} ({:.0f}% state changes)", e.check, EventKindName(e.kind),
                   rt->state.FlapPercent());
    }
    store->RecordEvent(e);
    Notify(rt, e, o);
    MaybeRemedy(rt, e);
  }
  metrics.Record(rt->config.name, rt->state.snapshot().hard, o);
  PublishCheckState(live_events, before, rt->state.snapshot(), made);
  after_maintenance.OnResult(rt, o);
  if (rt->config.restart)
    restarts.OnResult(
        rt->config, rt->state.snapshot(), o,
        config->maintenance.Covering(rt->config.name, rt->config.tags, o.time).has_value());
  rt->dirty = true;
}

// A result that changes by itself at a known time (a heartbeat's deadline,
// metric due_in_s) is judged again right then, whatever the interval.
void Daemon::Impl::RunAgainAtDeadline(const std::shared_ptr<CheckRuntime>& rt,
                                      const Observation& o) {
  for (const auto& m : o.metrics) {
    if (m.name != "due_in_s" || !(m.value >= 0)) continue;
    auto it = check_index.find(rt->config.name);
    if (it == check_index.end() || checks[it->second] != rt) return;
    const auto wait = std::chrono::duration_cast<Duration>(
        std::chrono::duration<double>(std::min(m.value, 1e7)) + std::chrono::milliseconds(20));
    scheduler.RunBy(it->second, clock.Monotonic() + wait);
    timer.cancel();
    ArmTimer();
    return;
  }
}

// A heartbeat that missed its run and has a catch_up command: run it once,
// wrapped like `mamori exec`, so its start and result arrive as pings.
void Daemon::Impl::MaybeCatchUp(const std::shared_ptr<CheckRuntime>& rt, const Observation& o) {
  auto hb = heartbeats.RouteOf(rt->config.name);
  if (!hb || hb->catch_up.empty() || config->api.listen.empty()) return;
  bool late = false;
  double since_success = -1;
  for (const auto& m : o.metrics) {
    if (m.name == "late") late = m.value > 0;
    if (m.name == "since_success_s") since_success = m.value;
  }
  if (!late || rt->catch_up_running->load()) return;
  // The episode: the last success's time (or none), as seen now.
  const double episode =
      since_success < 0
          ? -1
          : std::chrono::duration<double>(clock.Now().time_since_epoch()).count() - since_success;
  if (rt->catch_up_after && std::abs(*rt->catch_up_after - episode) < 1.0) return;
  rt->catch_up_after = episode;
  rt->catch_up_running->store(true);
  heartbeat::ExecOptions eo;
  eo.ping_url = fmt::format("http://{}/ping/{}", LoopbackFor(config->api.listen), hb->uuid);
  eo.argv = hb->catch_up;
  eo.max_body = config->api.max_body;
  eo.pass_through = false;
  eo.forward_signals = false;
  eo.command_timeout = hb->catch_up_timeout;
  spdlog::warn("{}: a scheduled run was missed; running the catch-up: {}", rt->config.name,
               fmt::join(eo.argv, " "));
  asio::post(pool, [eo, running = rt->catch_up_running, name = rt->config.name] {
    int code = heartbeat::RunExec(eo);
    spdlog::log(code == 0 ? spdlog::level::info : spdlog::level::warn,
                "{}: catch-up finished with exit code {}", name, code);
    running->store(false);
  });
}

void Daemon::Impl::SaveSnapshots() {
  for (auto& c : checks) {
    if (!c->dirty) continue;
    store->SaveSnapshot(c->state.snapshot());
    c->dirty = false;
  }
}

// A start on a new kernel boot is an event ("booted; previous boot last
// seen at ..., shut down cleanly"), and notifications wait for it to settle.
void Daemon::Impl::NoteBootOnStart() {
  auto e = boot_watch.Start(config->data_dir);
  if (!e) return;
  spdlog::info("{}", e->summary);
  store->RecordEvent(*e);
  after_boot.Start(e->summary, config->after_boot_settle);
}

void Daemon::Impl::Housekeeping() {
  SaveSnapshots();
  health.Update(checks);
  metrics.SetSources(&heartbeats, outbox.get());
  RefreshMetricsFlags(metrics, checks, *config, alerts.get(), clock.Now());
  const MonoTime now = clock.Monotonic();
  boot_watch.Tick();
  if (now >= next_stats) {
    spdlog::info("{}", stats.TakeWindow(now, checks.size(), store->dropped_observations()));
    next_stats = now + options.stats_interval;
  }
  if (now >= next_compact && !compacting->exchange(true)) {
    // Compaction (DELETE + VACUUM) takes seconds on a slow disk: on the
    // worker pool, never on the loop that schedules the checks.
    asio::post(pool, [store = store.get(), retention = config->retention, running = compacting] {
      const auto began = std::chrono::steady_clock::now();
      uint64_t deleted = 0;
      if (Status s = store->Compact(retention, &deleted); !s.ok())
        spdlog::warn("store compaction failed: {}", s.error().message());
      else if (deleted > 0)
        spdlog::info("store compacted: {} old rows deleted in {} ms", deleted,
                     std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - began)
                         .count());
      running->store(false);
    });
    next_compact = now + config->retention.compact_every;
  }
  if (stopping) return;
  housekeeping.expires_after(std::chrono::seconds(1));
  housekeeping.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Housekeeping();
  });
}

// False: the new configuration was refused and the previous one runs on.
bool Daemon::Impl::Reload() {
  spdlog::info("SIGHUP: reloading {}",
               options.config_file.empty() ? "the embedded default" : options.config_file);
  ConfigLoad load = Load();
  if (!load.config) {
    for (const auto& d : load.diagnostics.items()) spdlog::error("{}", d.ToString());
    spdlog::error("reload rejected: {} error(s); the previous configuration keeps running",
                  load.diagnostics.size());
    return false;
  }
  if (!options.data_dir_override.empty()) load.config->data_dir = options.data_dir_override;
  if (!options.listen_override.empty()) load.config->api.listen = options.listen_override;
  if (load.config->data_dir != config->data_dir) {
    spdlog::warn("data_dir changed to {}; it takes effect at the next restart (still using {})",
                 load.config->data_dir, config->data_dir);
    load.config->data_dir = config->data_dir;
  }
  const size_t before = checks.size();
  Apply(std::move(load.config));
  StartOutbox();
  if (alerts) ConfigureAlerts();
  // The YAML document is gone; hand its memory back (glibc keeps freed
  // heap otherwise, and a large config's parse tree is most of the peak).
  ::malloc_trim(0);
  if (!StartServer())
    spdlog::error("the ping API stays off until the address is fixed and mamori reloaded");
  spdlog::info("reloaded: {} checks (was {})", checks.size(), before);
  timer.cancel();
  ArmTimer();
  ArmMaintenance();
  return true;
}

// "running 1 check", "running 12 checks": the status line systemd shows.
std::string Daemon::Impl::RunningText() const {
  return fmt::format("running {} check{}", checks.size(), checks.size() == 1 ? "" : "s");
}

void Daemon::Impl::WaitSignal() {
  signals.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      service.Reloading();
      const bool ok = Reload();
      service.Ready(RunningText() + (ok ? "" : "; the last reload was refused (see the log)"));
      WaitSignal();
      return;
    }
    spdlog::info("{}: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    Stop();
  });
}

void Daemon::Impl::Stop() {
  stopping = true;
  service.Stopping();
  timer.cancel();
  maintenance_timer.cancel();
  after_maintenance.Cancel();
  after_boot.Cancel();
  housekeeping.cancel();
  // Pings are refused from here, and the ones the store holds are committed
  // and answered while the server can still send the answers: an answer
  // posted to a server already destroyed would touch freed memory.
  refusing_pings.store(true, std::memory_order_release);
  if (Status s = store->Flush(); !s.ok())
    spdlog::error("store flush failed: {}", s.error().message());
  StopServer();
  if (alerts) alerts->Stop();
  SaveSnapshots();
  if (Status s = store->Flush(); !s.ok())
    spdlog::error("store flush failed: {}", s.error().message());
  spdlog::info("{}", stats.Total(clock.Monotonic()));
  signals.cancel();
  io.stop();
}

int Daemon::Impl::Run() {
  ConfigLoad load = Load();
  if (!load.config) {
    for (const auto& d : load.diagnostics.items()) spdlog::error("{}", d.ToString());
    spdlog::error("not starting: {} configuration error(s)", load.diagnostics.size());
    return 78;  // EX_CONFIG
  }
  if (!options.data_dir_override.empty()) load.config->data_dir = options.data_dir_override;
  if (!options.listen_override.empty()) load.config->api.listen = options.listen_override;
  auto lock = InstanceLock::Acquire(load.config->data_dir);
  if (!lock.ok()) {
    spdlog::error("not starting: {}", lock.error().message());
    return 75;  // EX_TEMPFAIL: try again once the other one has stopped
  }
  auto st = Store::Open(load.config->data_dir, clock, Store::OpenMode::kReadWrite);
  if (!st.ok()) {
    spdlog::error("cannot open the store: {}", st.error().message());
    return 73;  // EX_CANTCREAT
  }
  store = std::move(st.value());
  // Plain http:// on this loop unless the checks would keep one core busy.
  http = MakeChecksHttpClient(io, load.config->checks, HttpConcurrency(options.http_concurrency));
  runner = std::make_unique<Runner>(clock, io, pool, http.get());
  runner->env().services.Provide(&heartbeats);
  runner->env().services.Provide<HostHealth>(&health);
  runner->env().data_dir = load.config->data_dir;
  Apply(std::move(load.config));
  // The YAML document is gone; hand its memory back (glibc keeps freed
  // heap otherwise, and a large config's parse tree is most of the peak).
  ::malloc_trim(0);
  RestoreFromStore();
  NoteBootOnStart();
  LoadHeartbeats();
  StartOutbox();
  ConfigureAlerts();
  if (!StartServer()) return 71;  // EX_OSERR: cannot listen
  spdlog::info("mamori {} {} from {}, data in {}", MAMORI_VERSION, RunningText(), config->file,
               config->data_dir);
  const MonoTime started = clock.Monotonic();
  stats.Start(started);
  next_stats = started + options.stats_interval;
  next_compact =
      started + std::min<Duration>(std::chrono::minutes(1), config->retention.compact_every);
  WaitSignal();
  ArmTimer();
  maintenance_seen = clock.Now();
  MaintenanceTick();
  Housekeeping();
  // READY=1 from the running loop once the first check round is scheduled
  // (docs/SYSTEMD.md says why not after every check's first result).
  asio::post(io, [this] { service.Ready(RunningText()); });
  io.run();
  TearDown();
  return 0;
}

// After the loop has stopped: what is left goes in order.
void Daemon::Impl::TearDown() {
  // Blocking probes still running finish (they honour their deadlines).
  pool.join();
  boot_watch.CleanStop();
  http.reset();
  StopServer();
  alerts.reset();  // hands what it decided to the outbox first
  outbox.reset();  // undelivered items stay on disk for the next start
  store.reset();   // no ping is left to answer: StopServer flushed after the server's threads
  ping_api.reset();
  faces.reset();
  operator_store.reset();
}

Daemon::Daemon(DaemonOptions options, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), clock)) {}
Daemon::~Daemon() = default;
int Daemon::Run() { return impl_->Run(); }

}  // namespace mamori
