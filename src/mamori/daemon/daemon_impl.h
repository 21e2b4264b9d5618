// Daemon::Impl: the daemon's state and the declarations of its parts, shared
// by the files that define them. Internal to the daemon folder: nothing else
// includes it. daemon.cc holds construction, loading and applying the config,
// the check loop, housekeeping, reload, signals and Run/Stop;
// daemon_server.cc the HTTP server and the faces; daemon_maintenance.cc
// maintenance windows and the after-boot run; daemon_alerts.cc alerts,
// notifications, remedies and restarts.
//
// Ownership: Impl owns everything below; Run() releases it in order once the
// loop has stopped. Threading: everything runs on `io`'s thread (the one
// calling Run()) except where a comment says otherwise: OnPing, Admit and
// Route run on the server's threads and only post to `io` or read what is
// safe there; work posted to `pool` posts its results back to `io`.
// Failure: problems are logged; Run() returns the exit code.
#pragma once

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <csignal>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "mamori/daemon/after_boot.h"
#include "mamori/daemon/after_maintenance.h"
#include "mamori/daemon/api_server.h"
#include "mamori/daemon/boot_watch.h"
#include "mamori/daemon/check_runtime.h"
#include "mamori/daemon/daemon.h"
#include "mamori/daemon/daemon_health.h"
#include "mamori/daemon/metrics_exposition.h"
#include "mamori/daemon/pending_once.h"
#include "mamori/daemon/run_stats.h"
#include "mamori/daemon/service_notify.h"
#include "mamori/daemon/unit_restarts.h"
#include "mamori/engine/maintenance.h"
#include "mamori/engine/runner.h"
#include "mamori/engine/scheduler.h"
#include "mamori/faces/api.h"
#include "mamori/faces/operator_store.h"
#include "mamori/heartbeat/heartbeat_book.h"
#include "mamori/heartbeat/ping_api.h"
#include "mamori/host/unit_restart.h"
#include "mamori/net/http_client.h"
#include "mamori/notify/alert_service.h"
#include "mamori/notify/notification.h"
#include "mamori/notify/notify_config.h"
#include "mamori/notify/outbox.h"
#include "mamori/store/store.h"
#include "mamori/web/event_stream.h"
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
  // Shifts the scheduler's batches, so hosts checking one target do not
  // all start their batches at the same instants.
  const std::string host_name = notify::LocalHostName();
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

  // daemon.cc: the config, the check loop, housekeeping, reload, signals.
  ConfigLoad Load();
  void Apply(std::unique_ptr<Config> next);
  void AttachProbes();
  void LoadHeartbeats();
  void RestoreFromStore();
  void ArmTimer();
  void OnTimer();
  void OnResult(const std::shared_ptr<CheckRuntime>& rt, Observation o);
  void RunAgainAtDeadline(const std::shared_ptr<CheckRuntime>& rt, const Observation& o);
  void MaybeCatchUp(const std::shared_ptr<CheckRuntime>& rt, const Observation& o);
  void SaveSnapshots();
  void NoteBootOnStart();
  void Housekeeping();
  bool Reload();
  std::string RunningText() const;
  void WaitSignal();
  void Stop();
  int Run();
  void TearDown();

  // daemon_server.cc: the HTTP server behind `listen:` and the faces.
  bool StartServer();
  void OnPing(const heartbeat::Ping& p, const std::string& previous_source);  // server threads
  web::Admission Admit(const web::Request& head);                             // server threads
  void Route(web::Request r, web::Respond respond);                           // server threads
  bool StartFaces();
  std::vector<faces::LiveCheck> LiveChecks() const;
  void StopServer();
  static size_t HttpConcurrency(size_t wanted);

  // daemon_maintenance.cc: maintenance windows, the after-boot run, RunNow.
  std::optional<std::string> HeldByMaintenance(const CheckRuntime& rt, WallTime t) const;
  void ArmMaintenance();
  void MaintenanceTick();
  void BeginAfterApiMaintenance(const faces::OperatorWindow& w);
  void BeginAfterMaintenance(const MaintenanceOccurrence& occ);
  void BeginAfterBoot();
  void RunNow(const std::shared_ptr<CheckRuntime>& rt);
  void SendMaintenanceSummary(notify::Notification n, const std::string& window);

  // daemon_alerts.cc: alerting, the outbox, remedies and restarts.
  void RecordRestartEvent(const std::string& check, const std::string& summary);
  void SendGiveUp(const UnitRestarts::GiveUp& g);
  void RecordRemedyEvent(const std::shared_ptr<CheckRuntime>& rt, std::string summary);
  void MaybeRemedy(const std::shared_ptr<CheckRuntime>& rt, const Event& e);
  void Notify(const std::shared_ptr<CheckRuntime>& rt, const Event& e, const Observation& o);
  void ConfigureAlerts();
  std::vector<notify::CheckInfo> AlertChecks() const;
  void StartOutbox();
};

}  // namespace mamori
