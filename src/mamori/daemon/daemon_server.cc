// The daemon's HTTP face: the server behind `listen:`, which routes each
// request to the ping API, /metrics, the faces (API v1, status page) or the
// acknowledgement API, and the faces' hooks into the check loop. Part of
// Daemon::Impl (daemon_impl.h); the request handlers run on the server's
// threads and post to the loop.
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "mamori/daemon/daemon_impl.h"
#include "mamori/daemon/faces_live.h"
#include "mamori/daemon/metrics_feed.h"
#include "mamori/daemon/report_entries.h"

namespace mamori {

// The ping API: starts it, or notes that a reload asked for another address.
bool Daemon::Impl::StartServer() {
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
  ping_api =
      std::make_unique<heartbeat::PingApi>(*store, heartbeats, clock, PingApiOptions(config->api));
  ping_api->SetRoutes(PingRoutes(heartbeats));
  ping_api->set_on_ping([this](const heartbeat::Ping& p, const std::string& previous_source) {
    OnPing(p, previous_source);
  });
  if (!StartFaces()) return false;
  auto s = ApiServer::Start(
      config->api.listen, web::ServerLimits(config->api),
      [this](const web::Request& head) { return Admit(head); },
      [this](web::Request r, web::Respond respond) { Route(std::move(r), std::move(respond)); },
      options.api_threads);
  if (!s.ok()) {
    spdlog::error("{}", s.error().message());
    return false;
  }
  server = std::move(s.value());
  spdlog::info("ping API listening on {}", config->api.listen);
  return true;
}

// A ping: its check is judged again at once (on the loop). Runs on the
// server's threads.
void Daemon::Impl::OnPing(const heartbeat::Ping& p, const std::string& previous_source) {
  // Pings to one check share one judgment (pending_once.h); a changed
  // address is judged on its own, for its event.
  // (Only where the route tracks addresses: elsewhere a move makes no event.)
  bool moved = !previous_source.empty() && previous_source != p.source;
  if (moved) {  // the route is looked up only then: most pings come from where they did
    auto route = heartbeats.RouteOf(p.check);
    moved = route && route->track_ip;
  }
  if (!moved && !judge_pending.Claim(p.check)) return;
  asio::post(io, [this, check = p.check, source = p.source, previous_source, time = p.time, moved] {
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
}

// Each route's body limit is decided from the request's head.
// Pings first: they are most of the traffic, and the faces' route table
// costs far more to consult than one prefix.
web::Admission Daemon::Impl::Admit(const web::Request& head) {
  if (heartbeat::PingApi::IsPingTarget(head.target)) return ping_api->Admit(head);
  if (IsMetricsTarget(head.target)) return web::Admission{0, std::nullopt};
  if (faces::FacesApi::IsTarget(head.target)) return faces->Admit(head);
  if (alerts && notify::AlertService::IsApiTarget(head.target))
    return web::Admission{heartbeat::PingApi::kSmallBody, std::nullopt};
  return ping_api->Admit(head);
}

// Hands a request to the part that serves its target (server threads).
void Daemon::Impl::Route(web::Request r, web::Respond respond) {
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
  if (faces::FacesApi::IsTarget(r.target)) return faces->Handle(std::move(r), std::move(respond));
  if (alerts && notify::AlertService::IsApiTarget(r.target))
    return alerts->HandleApi(std::move(r), std::move(respond));
  ping_api->Handle(std::move(r), std::move(respond));
}

// The faces' live view of the checks and their hooks; both run on the loop.
bool Daemon::Impl::StartFaces() {
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

std::vector<faces::LiveCheck> Daemon::Impl::LiveChecks() const {
  const WallTime now = clock.Now();
  return LiveChecksOf(checks, alerts ? alerts->router().Acks() : std::vector<notify::AckView>{},
                      [&](const CheckRuntime& rt) { return HeldByMaintenance(rt, now); });
}

// Stops accepting and answering; pings being committed are still stored.
// Event streams end first, each with what it had queued, so clients see a
// clean end rather than a reset (bounded: a stuck client is not waited for).
void Daemon::Impl::StopServer() {
  live_events.Close();
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
       live_events.open() > 0 && std::chrono::steady_clock::now() < until;)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (server && store) {
    // The server's threads are joined first, so no ping reaches the store
    // after the flush; the flush then answers the ones a server thread
    // handed over after Stop()'s first flush. Those answers go to the halted
    // loop and are dropped with it (the client saw no 200), never posted to
    // a destroyed one.
    server->Halt();
    if (Status s = store->Flush(); !s.ok())
      spdlog::error("store flush failed: {}", s.error().message());
  }
  server.reset();
}

// Each HTTP check in flight holds a socket. Raise the soft open-file limit
// to the hard one (systemd and shells often leave it at 1024) and keep
// room for the store, the ping API and plugins.
size_t Daemon::Impl::HttpConcurrency(size_t wanted) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return std::min<size_t>(wanted, 512);
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 65536 : std::min<rlim_t>(rl.rlim_max, 1 << 20);
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

}  // namespace mamori
