// FacesApi: API v1 over HTTP (checks, history, uptime, incidents, operator
// windows, announcements, OpenAPI document), the public status page
// (/status, /status.json, /status.css) and the badges (/badge/...). Every route
// is in one table (api.cc); docs/API.md describes them.
//
// Who may do what: the status page, its JSON, badges and /api/v1/openapi.json
// are public (and show only the checks `status_page:` lists). API reads
// answer callers on this host (a loopback peer without X-Forwarded-For, as
// /api/v1/heartbeats does) and otherwise need `Authorization: Bearer <token>`
// of scope read or write. Writes always need a write token, so a browser
// cannot be tricked into one (no cookies, no CSRF). Tokens are compared in
// constant time. Authentication is decided from the request's head, before
// its body is read: an unauthenticated request costs no body and no disk
// write. Each source address may send kRatePerSecond requests a second
// (bursts of twice that; 429 beyond). Bodies are limited to kMaxWriteBody
// (kMaxReadBody for reads); errors are JSON
// {"error": ..., "detail": ...} with the matching status code.
//
// The daemon's live state (configured checks, acknowledgements, maintenance)
// is asked for through Hooks::live on its event loop; a handler waits at most
// kLiveDeadline for it (503 after). Store reads run on the server's threads.
//
// Ownership: borrows the Store, the OperatorStore and the Clock (they must
// outlive it). Threading: Configure on any thread; Admit and Handle are
// thread-safe (a mutex guards the configuration).
#pragma once

#include <atomic>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mamori/faces/faces_config.h"
#include "mamori/faces/json.h"
#include "mamori/faces/operator_store.h"
#include "mamori/faces/read_model.h"
#include "mamori/faces/report.h"
#include "mamori/store/store.h"
#include "mamori/util/embedded_file.h"
#include "mamori/util/mutex.h"
#include "mamori/web/event_stream.h"
#include "mamori/web/http_server.h"

namespace mamori::faces {

class FacesApi {
 public:
  struct Hooks {
    // Calls `done` (from any thread) with every configured check's live state.
    std::function<void(std::function<void(std::vector<LiveCheck>)> done)> live;
    // Runs a check now (a known name).
    std::function<void(const std::string& check)> run;
    // A maintenance window or silence was added or ended (may be empty).
    std::function<void()> windows_changed;
    // What incident timelines show beyond the store's events (deliveries,
    // acknowledgements, runbook steps) from `since` on; may be empty.
    std::function<std::vector<ReportEntry>(WallTime since)> entries;
  };
  static constexpr size_t kMaxWriteBody = 16 * 1024;
  static constexpr size_t kMaxReadBody = 1024;
  static constexpr Duration kLiveDeadline = std::chrono::seconds(3);
  static constexpr size_t kMaxIncidents = 500;
  // Requests per second per source address (bursts of twice that); 429 beyond.
  static constexpr double kRatePerSecond = 50;
  static constexpr size_t kMaxSources = 10'000;  // remembered for rate limiting

  FacesApi(Store& store, OperatorStore& ops, const Clock& clock, Hooks hooks);

  void Configure(FacesConfig config);
  // The hub GET /api/v1/events subscribes to (events_route.cc); without one
  // that route answers 503. Set before serving; the hub must outlive this.
  void SetEvents(web::EventHub* hub) { events_ = hub; }
  // Whether the path is one of these routes (the daemon sends the others on).
  static bool IsTarget(std::string_view target);
  web::Admission Admit(const web::Request& head);
  void Handle(web::Request request, web::Respond respond);

  // One route: method, path pattern ({} matches one segment), who may call.
  enum class Access { kPublic, kRead, kWrite };
  struct Call {
    const web::Request& req;
    std::vector<std::string> args;  // the {} segments
    std::string query;
  };
  using Fn = web::Response (FacesApi::*)(const Call&);
  struct Route {
    std::string_view method;
    std::string_view pattern;
    Access access;
    Fn fn;
  };

 private:
  static const std::vector<Route>& Routes();              // every route, in one place (api.cc)
  web::Admission Decide(const web::Request& head) const;  // route and authenticate
  bool Allow(const std::string& source);
  const Route* Find(std::string_view method, std::string_view path, std::vector<std::string>* args,
                    bool* path_known) const;
  std::optional<web::Response> Refuse(const web::Request& head, Access access) const;
  std::optional<std::vector<LiveCheck>> Live() const;
  FacesConfig config() const;

  // reads (api_reads.cc)
  web::Response GetChecks(const Call& c);
  web::Response GetCheck(const Call& c);
  web::Response GetHistory(const Call& c);
  web::Response GetUptime(const Call& c);
  web::Response GetIncidents(const Call& c);
  web::Response GetWindows(const Call& c);
  web::Response GetAnnouncements(const Call& c);
  web::Response GetOpenApi(const Call& c);
  web::Response GetEvents(const Call& c);  // Server-Sent Events (events_route.cc)
  // writes (api_writes.cc)
  web::Response PostRun(const Call& c);
  web::Response PostMaintenance(const Call& c);
  web::Response PostSilence(const Call& c);
  web::Response DeleteMaintenance(const Call& c);
  web::Response DeleteSilence(const Call& c);
  web::Response PostAnnouncement(const Call& c);
  web::Response PostNote(const Call& c);
  web::Response PostWindow(const Call& c, WindowKind kind);
  web::Response DeleteWindow(const Call& c, WindowKind kind);
  // public faces (status_page.cc)
  web::Response GetStatusPage(const Call& c);
  web::Response GetStatusJson(const Call& c);
  web::Response GetStatusCss(const Call& c);
  web::Response GetDashboard(const Call& c);
  web::Response GetDashboardAsset(const Call& c);
  web::Response GetBadge(const Call& c);
  web::Response GetUptimeBadge(const Call& c);
  struct PageData;
  std::optional<PageData> LoadPage(web::Response& error);

  Store& store_;
  OperatorStore& ops_;
  const Clock& clock_;
  Hooks hooks_;
  std::atomic<web::EventHub*> events_{nullptr};
  ReadModel model_;
  mutable Mutex mu_;
  FacesConfig config_ GUARDED_BY(mu_);
  struct Bucket {
    double tokens = 0;
    MonoTime last{};
  };
  Mutex rate_mu_;
  std::unordered_map<std::string, Bucket> buckets_ GUARDED_BY(rate_mu_);
};

// ---- helpers shared by the handlers ----
web::Response JsonResponse(int status, const nlohmann::json& body);
web::Response ErrorResponse(int status, std::string_view error, std::string_view detail);
// The value of `key` in a query string ("a=1&b=2"), percent-decoded.
std::optional<std::string> QueryParam(std::string_view query, std::string_view key);
// The embedded docs/openapi.json (generated at build time).
std::string_view OpenApiDocument();
// docs/openapi.json as compiled in (cmake/embed_files.cmake).
std::span<const util::EmbeddedFile> OpenApiFiles();

}  // namespace mamori::faces
