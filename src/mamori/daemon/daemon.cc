#include "mamori/daemon/daemon.h"

#include <malloc.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cmath>

#include <csignal>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>

#include "mamori/daemon/after_boot.h"
#include "mamori/daemon/after_maintenance.h"
#include "mamori/daemon/api_server.h"
#include "mamori/daemon/boot_watch.h"
#include "mamori/daemon/check_runtime.h"
#include "mamori/daemon/checks_http_client.h"
#include "mamori/daemon/daemon_health.h"
#include "mamori/daemon/default_config.h"
#include "mamori/daemon/faces_live.h"
#include "mamori/daemon/instance_lock.h"
#include "mamori/daemon/live_events.h"
#include "mamori/daemon/metrics_feed.h"
#include "mamori/daemon/pending_once.h"
#include "mamori/daemon/report_entries.h"
#include "mamori/daemon/run_stats.h"
#include "mamori/daemon/service_notify.h"
#include "mamori/daemon/unit_restarts.h"
#include "mamori/engine/check_state.h"
#include "mamori/engine/maintenance.h"
#include "mamori/engine/runner.h"
#include "mamori/engine/scheduler.h"
#include "mamori/faces/api.h"
#include "mamori/faces/operator_store.h"
#include "mamori/heartbeat/exec.h"
#include "mamori/heartbeat/heartbeat_book.h"
#include "mamori/heartbeat/ping_api.h"
#include "mamori/host/unit_restart.h"
#include "mamori/net/http_client.h"
#include "mamori/notify/alert_service.h"
#include "mamori/notify/notification.h"
#include "mamori/notify/outbox.h"
#include "mamori/remedy/remedy.h"
#include "mamori/store/store.h"
#include "mamori/util/units.h"
#include "mamori/web/http_server.h"

namespace mamori {

namespace asio = boost::asio;

struct Daemon::Impl {
  DaemonOptions options;
  const Clock& clock;
  asio::io_context io;
  asio::thread_pool pool{std::max(4u, std::thread::hardware_concurrency() * 2)};
  std::unique_ptr<HttpClient> http;
  std::unique_ptr<Runner> runner;
  heartbeat::HeartbeatBook heartbeats;  // before store: its commit callbacks write here
  // GET /api/v1/events (live_events.h): outlives the server, whose streams it feeds.
  web::EventHub live_events;
  DaemonHealth health;  // "every check OK", for the baseline check (Housekeeping updates it)
  std::unique_ptr<Store> store;
  std::unique_ptr<notify::Outbox> outbox;  // null without notify: channels
  // Routing, grouping, reminders, acks (notify/alert_service.h). Created once
  // before the HTTP server starts and kept across reloads.
  std::unique_ptr<notify::AlertService> alerts;
  std::unique_ptr<heartbeat::PingApi> ping_api;
  PendingOnce judge_pending;  // heartbeat checks with a judgment posted after a ping
  // Set when the daemon stops (Stop()): read by the server's threads.
  std::atomic<bool> refusing_pings{false};
  std::unique_ptr<ApiServer> server;  // ping and acknowledgement API, own threads
  // API v1, status page and badges (faces/api.h), with what operators write
  // through it (faces.db); created with the server.
  std::unique_ptr<faces::OperatorStore> operator_store;
  std::unique_ptr<faces::FacesApi> faces;
  std::unique_ptr<Config> config;
  std::vector<std::shared_ptr<CheckRuntime>> checks;    // index = scheduler slot
  std::unordered_map<std::string, size_t> check_index;  // name -> index in `checks`
  Scheduler scheduler;
  asio::steady_timer timer{io};
  asio::steady_timer housekeeping{io};
  asio::signal_set signals{io, SIGHUP, SIGTERM, SIGINT};
  bool stopping = false;
  ServiceNotify service{io};  // systemd's Type=notify and watchdog (no-op outside systemd)

  // Maintenance windows (see MaintenanceTick). A window's end is noticed by
  // this timer; the wall clock is re-read at least every kMaintenancePoll so a
  // clock that jumps (a VM resumed after maintenance) is caught up quickly.
  static constexpr Duration kMaintenancePoll = std::chrono::seconds(30);
  asio::steady_timer maintenance_timer{io};
  WallTime maintenance_seen{};               // window ends up to here are handled
  std::set<std::string> maintenance_active;  // for "started" log lines
  // Windows that ended: their checks re-run, their one summary pending.
  AfterMaintenance after_maintenance{
      io, clock,
      AfterMaintenance::Hooks{[this](const std::shared_ptr<CheckRuntime>& rt) { RunNow(rt); },
                              [this](const notify::Notification& n, const std::string& window) {
                                SendMaintenanceSummary(n, window);
                              }}};

  // After a new boot: notifications held until it has settled, then every
  // check runs and one "after boot" summary goes out (through the same path
  // as a maintenance window's).
  AfterBoot after_boot{io, clock, [this] { BeginAfterBoot(); }};
  // `restart:` of checks: restarts through systemd, bounded by each plan.
  host::SystemdRestarter restarter{clock};
  UnitRestarts restarts{
      clock, restarter,
      UnitRestarts::Hooks{[this](const std::string& check, const std::string& summary) {
                            RecordRestartEvent(check, summary);
                          },
                          [this](const UnitRestarts::GiveUp& g) { SendGiveUp(g); },
                          [this](std::function<void()> work, std::function<void()> done) {
                            asio::post(pool, [this, work = std::move(work),
                                              done = std::move(done)]() mutable {
                              work();
                              asio::post(io, std::move(done));
                            });
                          },
                          [this](const std::string& check) {
                            if (auto it = check_index.find(check); it != check_index.end())
                              RunNow(checks[it->second]);
                          }}};

  MetricsBoard metrics;  // GET /metrics renders from this copy, on the server's threads
  RunStats stats;        // figures for the log (and the benchmarks that read it)
  // A compaction runs on the pool (joined before the store goes).
  std::shared_ptr<std::atomic<bool>> compacting = std::make_shared<std::atomic<bool>>(false);
  MonoTime next_stats{}, next_compact{};
  BootWatch boot_watch{clock};  // the boot record in the data dir

  Impl(DaemonOptions o, const Clock& c) : options(std::move(o)), clock(c) {}

  ConfigLoad Load() {
    if (options.config_file.empty())
      return LoadConfigText(DefaultConfigYaml(DefaultDataDir()), "<embedded default>");
    return LoadConfigFile(options.config_file);
  }

  void Apply(std::unique_ptr<Config> next) {
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
      slots.push_back({cc.name, cc.interval});
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
    scheduler.Reset(std::move(slots), clock.Now(), clock.Monotonic());
    AttachProbes();
    if (ping_api) {
      ping_api->set_options(PingApiOptions(config->api));
      ping_api->SetRoutes(PingRoutes(heartbeats));
    }
    if (faces) faces->Configure(config->faces);
  }

  // Every probe files what it needs with the services (heartbeat routes).
  void AttachProbes() {
    heartbeats.ClearRoutes();
    for (const auto& c : checks)
      if (c->config.probe) c->config.probe->Attach(runner->env());
  }

  // The ping API: starts it, or notes that a reload asked for another address.
  bool StartServer() {
    if (config->api.listen.empty()) {
      if (server) spdlog::warn("listen: removed; it takes effect at the next restart");
      return true;
    }
    if (server) {
      if (config->api.listen != server->listen())
        spdlog::warn("listen changed to {}; it takes effect at the next restart (still on {})",
                     config->api.listen, server->listen());
      return true;
    }
    ping_api = std::make_unique<heartbeat::PingApi>(*store, heartbeats, clock,
                                                    PingApiOptions(config->api));
    ping_api->SetRoutes(PingRoutes(heartbeats));
    ping_api->set_on_ping([this](const heartbeat::Ping& p, const std::string& previous_source) {
      // Pings to one check share one judgment (pending_once.h); a changed
      // address is judged on its own, for its event.
      // (Only where the route tracks addresses: elsewhere a move makes no event.)
      bool moved = !previous_source.empty() && previous_source != p.source;
      if (moved) {  // the route is looked up only then: most pings come from where they did
        auto route = heartbeats.RouteOf(p.check);
        moved = route && route->track_ip;
      }
      if (!moved && !judge_pending.Claim(p.check)) return;
      asio::post(io, [this, check = p.check, source = p.source, previous_source, time = p.time,
                      moved] {
        if (!moved) judge_pending.Release(check);
        for (size_t i = 0; i < checks.size(); ++i) {
          auto& rt = checks[i];
          if (rt->config.name != check) continue;
          // Judge the heartbeat at once: a /fail must not wait for the next run.
          scheduler.RunAt(i, clock.Monotonic());
          if (rt->in_flight) rt->judge_again = true;
          auto route = heartbeats.RouteOf(check);
          if (route && route->track_ip && !previous_source.empty() && previous_source != source) {
            Event e;
            e.time = time;
            e.check = check;
            e.kind = EventKind::kAddressChanged;
            e.from = rt->state.snapshot().hard;
            e.to = rt->state.snapshot().last;
            e.summary = fmt::format("{} now at {}, was {}", check, source, previous_source);
            spdlog::warn("{}", e.summary);
            store->RecordEvent(e);
          }
        }
        timer.cancel();
        ArmTimer();
      });
    });
    if (!StartFaces()) return false;
    // Each route's body limit is decided from the request's head.
    // Pings first: they are most of the traffic, and the faces' route table
    // costs far more to consult than one prefix.
    auto admit = [this](const web::Request& head) {
      if (heartbeat::PingApi::IsPingTarget(head.target)) return ping_api->Admit(head);
      if (IsMetricsTarget(head.target)) return web::Admission{0, std::nullopt};
      if (faces::FacesApi::IsTarget(head.target)) return faces->Admit(head);
      if (alerts && notify::AlertService::IsApiTarget(head.target))
        return web::Admission{heartbeat::PingApi::kSmallBody, std::nullopt};
      return ping_api->Admit(head);
    };
    auto s = ApiServer::Start(
        config->api.listen, web::ServerLimits(config->api), admit,
        [this](web::Request r, web::Respond respond) {
          if (heartbeat::PingApi::IsPingTarget(r.target)) {
            if (refusing_pings.load(std::memory_order_acquire)) {
              web::Response busy;
              busy.status = 503;
              busy.body = "shutting down; retry\n";
              return respond(std::move(busy));
            }
            return ping_api->Handle(std::move(r), std::move(respond));
          }
          if (IsMetricsTarget(r.target)) return respond(metrics.Handle(r));
          if (faces::FacesApi::IsTarget(r.target))
            return faces->Handle(std::move(r), std::move(respond));
          if (alerts && notify::AlertService::IsApiTarget(r.target))
            return alerts->HandleApi(std::move(r), std::move(respond));
          ping_api->Handle(std::move(r), std::move(respond));
        },
        options.api_threads);
    if (!s.ok()) {
      spdlog::error("{}", s.error().message());
      return false;
    }
    server = std::move(s.value());
    spdlog::info("ping API listening on {}", config->api.listen);
    return true;
  }

  // The faces' live view of the checks and their hooks; both run on the loop.
  bool StartFaces() {
    auto ops = faces::OperatorStore::Open(config->data_dir, clock);
    if (!ops.ok()) {
      spdlog::error("{}", ops.error().message());
      return false;
    }
    operator_store = std::move(ops).value();
    faces::FacesApi::Hooks hooks;
    hooks.live = [this](std::function<void(std::vector<faces::LiveCheck>)> done) {
      asio::post(io, [this, done = std::move(done)] { done(LiveChecks()); });
    };
    hooks.run = [this](const std::string& name) {
      asio::post(io, [this, name] {
        if (auto it = check_index.find(name); it != check_index.end()) RunNow(checks[it->second]);
      });
    };
    hooks.windows_changed = [this] {
      asio::post(io, [this] {
        if (!stopping) MaintenanceTick();
      });
    };
    hooks.entries = [data_dir = config->data_dir](WallTime since) {
      // Bounded for a page that refreshes; notes are listed on their own.
      std::vector<std::string> warnings;
      auto out = GatherReportEntries(data_dir, since, {false, 2'000, 2'000, 0}, &warnings);
      for (const auto& w : warnings) spdlog::debug("incidents: {}", w);
      return out;
    };
    faces = std::make_unique<faces::FacesApi>(*store, *operator_store, clock, std::move(hooks));
    faces->Configure(config->faces);
    faces->SetEvents(&live_events);
    return true;
  }

  std::vector<faces::LiveCheck> LiveChecks() const {
    const WallTime now = clock.Now();
    return LiveChecksOf(checks, alerts ? alerts->router().Acks() : std::vector<notify::AckView>{},
                        [&](const CheckRuntime& rt) { return HeldByMaintenance(rt, now); });
  }

  // Stops accepting and answering; pings being committed are still stored.
  // Event streams end first, each with what it had queued, so clients see a
  // clean end rather than a reset (bounded: a stuck client is not waited for).
  void StopServer() {
    live_events.Close();
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
         live_events.open() > 0 && std::chrono::steady_clock::now() < until;)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    server.reset();
  }

  // Refills the heartbeat book from the store so a restart forgets no ping.
  void LoadHeartbeats() {
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

  void RestoreFromStore() {
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

  void ArmTimer() {
    if (stopping) return;
    auto next = scheduler.NextDue();
    if (!next) return;
    timer.expires_at(std::chrono::steady_clock::time_point(next->time_since_epoch()));
    timer.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) OnTimer();
    });
  }

  void OnTimer() {
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

  void OnResult(const std::shared_ptr<CheckRuntime>& rt, Observation o) {
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

  // A restart (host/unit_restart.h) is a remedy event, labelled "restart ..."
  // or "gave up ...".
  void RecordRestartEvent(const std::string& check, const std::string& summary) {
    auto it = check_index.find(check);
    if (stopping || it == check_index.end()) return;
    RecordRemedyEvent(checks[it->second], summary);
  }

  // Giving up is told at once to the check's channels, whatever the
  // router already said about the failure: it is news (a person is needed).
  void SendGiveUp(const UnitRestarts::GiveUp& g) {
    spdlog::error("{}: {}", g.check, g.text);
    if (!outbox || !alerts) return;
    auto channels = alerts->router().ChannelsOf(g.check);
    if (channels.empty()) return;
    const notify::Notification n = GiveUpNotification(g, clock.Now());
    if (Status s = outbox->Enqueue(n, channels); !s.ok())
      spdlog::error("{}: the give-up alert was not queued: {}", g.check, s.error().message());
  }

  // A result that changes by itself at a known time (a heartbeat's deadline,
  // metric due_in_s) is judged again right then, whatever the interval.
  void RunAgainAtDeadline(const std::shared_ptr<CheckRuntime>& rt, const Observation& o) {
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

  void RecordRemedyEvent(const std::shared_ptr<CheckRuntime>& rt, std::string summary) {
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
  void MaybeRemedy(const std::shared_ptr<CheckRuntime>& rt, const Event& e) {
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
  void Notify(const std::shared_ptr<CheckRuntime>& rt, const Event& e, const Observation& o) {
    if (e.kind == EventKind::kStateChange && e.from && !config->notify.channels.empty())
      if (auto window = HeldByMaintenance(*rt, e.time))
        spdlog::info("{}: {}: suppressed: in maintenance {}", rt->config.name, Transition(e),
                     *window);
    if (alerts) alerts->OnEvent(e, o, rt->Recent());
  }

  // Start (first call creates the service and hands it the restored check
  // states) and every reload.
  void ConfigureAlerts() {
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
  std::vector<notify::CheckInfo> AlertChecks() const {
    std::vector<notify::CheckInfo> out;
    out.reserve(checks.size());
    for (const auto& rt : checks) {
      const CheckConfig& c = rt->config;
      out.push_back({c.name, c.type, c.tags, c.notify, c.depends_on});
    }
    return out;
  }

  // ---- maintenance windows ----

  // The window holding this check's notifications at `t`: one covering it, or
  // one that ended and whose summary (which will report the check) is not out.
  std::optional<std::string> HeldByMaintenance(const CheckRuntime& rt, WallTime t) const {
    if (auto w = config->maintenance.Covering(rt.config.name, rt.config.tags, t)) return w->name;
    if (after_boot.Holding(t)) return std::string(AfterBoot::kWindow);
    if (operator_store)
      if (auto w = operator_store->Holding(rt.config.name, rt.config.tags, t))
        return fmt::format("{} {} (api)", faces::WindowKindName(w->kind), w->id);
    return after_maintenance.Holding(rt);
  }

  void ArmMaintenance() {
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

  void MaintenanceTick() {
    const WallTime now = clock.Now();
    std::set<std::string> active;
    for (const auto& occ : config->maintenance.Active(now)) {
      active.insert(occ.name);
      if (maintenance_active.count(occ.name)) continue;
      const auto& w = config->maintenance.windows()[occ.window];
      size_t covered = 0;
      for (const auto& c : checks) covered += w.Applies(c->config.name, c->config.tags) ? 1 : 0;
      spdlog::warn("maintenance {} is on until {}: notifications for {} check(s) are held",
                   occ.name, notify::FormatWhen(occ.end), covered);
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
  void BeginAfterApiMaintenance(const faces::OperatorWindow& w) {
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
  void BeginAfterMaintenance(const MaintenanceOccurrence& occ) {
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
  void BeginAfterBoot() {
    after_boot.Settled();
    MaintenanceOccurrence occ;
    occ.name = AfterBoot::kWindow;
    occ.end = clock.Now();
    std::vector<std::shared_ptr<CheckRuntime>> all(checks.begin(), checks.end());
    spdlog::info("after boot: running all {} check(s) now", all.size());
    after_maintenance.Begin(occ, std::move(all));
  }

  // Runs a check at once (out of its schedule).
  void RunNow(const std::shared_ptr<CheckRuntime>& rt) {
    auto it = check_index.find(rt->config.name);
    if (it == check_index.end() || checks[it->second] != rt) return;
    scheduler.RunAt(it->second, clock.Monotonic());
    timer.cancel();
    ArmTimer();
  }

  // The one summary of a window: logged, sent to every channel, and noted
  // as telling them about its checks.
  void SendMaintenanceSummary(notify::Notification n, const std::string& window) {
    std::vector<std::string> failing, fine;
    for (const auto& item : n.items) (item.firing() ? failing : fine).push_back(item.check);
    const bool boot = window == AfterBoot::kWindow;
    if (boot) after_boot.Relabel(n);
    spdlog::log(failing.empty() ? spdlog::level::info : spdlog::level::warn,
                "{}: {} {}{}{}{}, {} {}", boot ? "after boot" : "after maintenance " + window,
                failing.size(), boot ? "not back" : "still failing", failing.empty() ? "" : " (",
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

  void StartOutbox() {
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

  // A heartbeat that missed its run and has a catch_up command: run it once,
  // wrapped like `mamori exec`, so its start and result arrive as pings.
  void MaybeCatchUp(const std::shared_ptr<CheckRuntime>& rt, const Observation& o) {
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

  void SaveSnapshots() {
    for (auto& c : checks) {
      if (!c->dirty) continue;
      store->SaveSnapshot(c->state.snapshot());
      c->dirty = false;
    }
  }

  // A start on a new kernel boot is an event ("booted; previous boot last
  // seen at ..., shut down cleanly"), and notifications wait for it to settle.
  void NoteBootOnStart() {
    auto e = boot_watch.Start(config->data_dir);
    if (!e) return;
    spdlog::info("{}", e->summary);
    store->RecordEvent(*e);
    after_boot.Start(e->summary, config->after_boot_settle);
  }

  void Housekeeping() {
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
  bool Reload() {
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
  std::string RunningText() const {
    return fmt::format("running {} check{}", checks.size(), checks.size() == 1 ? "" : "s");
  }

  void WaitSignal() {
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

  void Stop() {
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

  // Each HTTP check in flight holds a socket. Raise the soft open-file limit
  // to the hard one (systemd and shells often leave it at 1024) and keep
  // room for the store, the ping API and plugins.
  static size_t HttpConcurrency(size_t wanted) {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return std::min<size_t>(wanted, 512);
    if (rl.rlim_cur < rl.rlim_max) {
      rlimit raised = rl;
      raised.rlim_cur =
          rl.rlim_max == RLIM_INFINITY ? 65536 : std::min<rlim_t>(rl.rlim_max, 1 << 20);
      if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
    }
    // Two clients hold sockets at once, each up to the figure returned here
    // (the native one for plain http://, libcurl for the rest): each gets half.
    const size_t room = (rl.rlim_cur > 512 ? static_cast<size_t>(rl.rlim_cur) - 256 : 256) / 2;
    if (room < wanted)
      spdlog::warn(
          "open-file limit {} allows {} HTTP checks in flight (wanted {}); raise LimitNOFILE",
          rl.rlim_cur, room, wanted);
    return std::min(wanted, room);
  }

  int Run() {
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
    // Blocking probes still running finish (they honour their deadlines).
    pool.join();
    boot_watch.CleanStop();
    http.reset();
    StopServer();
    alerts.reset();  // hands what it decided to the outbox first
    outbox.reset();  // undelivered items stay on disk for the next start
    store.reset();   // answers any ping still queued (its response is dropped: io has stopped)
    ping_api.reset();
    faces.reset();
    operator_store.reset();
    return 0;
  }
};

Daemon::Daemon(DaemonOptions options, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), clock)) {}
Daemon::~Daemon() = default;
int Daemon::Run() { return impl_->Run(); }

}  // namespace mamori
