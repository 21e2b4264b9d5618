// FacesApi's read handlers: each validates its arguments, asks the read
// model (bounded queries) and answers JSON.
#include <fmt/format.h>

#include <algorithm>

#include "mamori/faces/api.h"
#include "mamori/util/units.h"

namespace mamori::faces {
namespace {

const char* const kUptimeWindows[] = {"24h", "7d", "30d", "90d"};

const LiveCheck* FindLive(const std::vector<LiveCheck>& live, const std::string& name) {
  for (const auto& l : live)
    if (l.name == name) return &l;
  return nullptr;
}

web::Response Busy() {
  return ErrorResponse(503, "unavailable", "the daemon did not answer in time; retry");
}

web::Response StoreError(const Error& e) { return ErrorResponse(500, "store", e.message()); }

}  // namespace

web::Response FacesApi::GetChecks(const Call&) {
  auto live = Live();
  if (!live) return Busy();
  auto views = model_.Checks(*live);
  if (!views.ok()) return StoreError(views.error());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& v : *views) list.push_back(CheckJson(v));
  return JsonResponse(200, {{"generated", FormatTime(clock_.Now())}, {"checks", std::move(list)}});
}

web::Response FacesApi::GetCheck(const Call& c) {
  auto live = Live();
  if (!live) return Busy();
  const LiveCheck* l = FindLive(*live, c.args[0]);
  if (!l) return ErrorResponse(404, "no such check", c.args[0]);
  auto views = model_.Checks({*l});
  if (!views.ok()) return StoreError(views.error());
  nlohmann::json j = CheckJson(views->front());
  nlohmann::json uptime = nlohmann::json::object();
  for (const char* w : kUptimeWindows) {
    auto counts = model_.Uptime(l->name, *ParseWindow(w));
    if (!counts.ok()) return StoreError(counts.error());
    uptime[w] = CountsJson(*counts);
  }
  j["uptime"] = std::move(uptime);
  return JsonResponse(200, j);
}

web::Response FacesApi::GetHistory(const Call& c) {
  const WallTime now = clock_.Now();
  WallTime since = now - std::chrono::hours(24), until = now;
  Duration step = std::chrono::hours(1);
  if (auto v = QueryParam(c.query, "since")) {
    auto t = ParseTime(*v);
    if (!t.ok()) return ErrorResponse(400, "bad since", t.error().message());
    since = *t;
  }
  if (auto v = QueryParam(c.query, "until")) {
    auto t = ParseTime(*v);
    if (!t.ok()) return ErrorResponse(400, "bad until", t.error().message());
    until = *t;
  }
  if (auto v = QueryParam(c.query, "step")) {
    auto d = ParseDuration(*v);
    if (!d.ok()) return ErrorResponse(400, "bad step", d.error().message());
    step = *d;
  }
  auto live = Live();
  if (!live) return Busy();
  if (!FindLive(*live, c.args[0])) return ErrorResponse(404, "no such check", c.args[0]);
  auto buckets = model_.History(c.args[0], since, until, step);
  if (!buckets.ok()) return ErrorResponse(400, "bad range", buckets.error().message());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& b : *buckets) list.push_back(BucketJson(b));
  return JsonResponse(
      200, {{"check", c.args[0]},
            {"since", FormatTime(since)},
            {"until", FormatTime(until)},
            {"step_seconds", std::chrono::duration_cast<std::chrono::seconds>(step).count()},
            {"buckets", std::move(list)}});
}

web::Response FacesApi::GetUptime(const Call& c) {
  const std::string window = QueryParam(c.query, "window").value_or("30d");
  auto d = ParseWindow(window);
  if (!d.ok()) return ErrorResponse(400, "bad window", d.error().message());
  auto live = Live();
  if (!live) return Busy();
  auto all = model_.UptimeAll(*d);
  if (!all.ok()) return StoreError(all.error());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& l : *live) {
    auto it = all->find(l.name);
    nlohmann::json j = CountsJson(it == all->end() ? Counts{} : it->second);
    j["name"] = l.name;
    list.push_back(std::move(j));
  }
  return JsonResponse(200, {{"window", window},
                            {"since", FormatTime(clock_.Now() - *d)},
                            {"until", FormatTime(clock_.Now())},
                            {"checks", std::move(list)}});
}

web::Response FacesApi::GetIncidents(const Call& c) {
  const std::string window = QueryParam(c.query, "window").value_or("30d");
  auto d = ParseWindow(window);
  if (!d.ok()) return ErrorResponse(400, "bad window", d.error().message());
  std::vector<std::string> only;
  if (auto check = QueryParam(c.query, "check")) only.push_back(*check);
  auto incidents = model_.Incidents(only, *d, kMaxIncidents);
  if (!incidents.ok()) return StoreError(incidents.error());
  if (hooks_.entries)
    JoinEntries(*incidents,
                hooks_.entries(clock_.Now() - std::chrono::duration_cast<WallTime::duration>(*d)));
  auto notes = ops_.Notes(OperatorStore::kMaxRows);
  if (!notes.ok()) return StoreError(notes.error());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& i : *incidents) list.push_back(IncidentJson(i, *notes));
  return JsonResponse(200, {{"window", window}, {"incidents", std::move(list)}});
}

web::Response FacesApi::GetWindows(const Call& c) {
  const bool silences = c.req.target.rfind("/api/v1/silences", 0) == 0;
  const WallTime now = clock_.Now();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& w : ops_.OpenWindows(silences ? WindowKind::kSilence : WindowKind::kMaintenance))
    list.push_back(WindowJson(w, now));
  return JsonResponse(200, {{silences ? "silences" : "maintenance", std::move(list)}});
}

web::Response FacesApi::GetAnnouncements(const Call&) {
  auto list = ops_.Announcements(100);
  if (!list.ok()) return StoreError(list.error());
  nlohmann::json j = nlohmann::json::array();
  for (const auto& a : *list) j.push_back(AnnouncementJson(a));
  return JsonResponse(200, {{"announcements", std::move(j)}});
}

web::Response FacesApi::GetOpenApi(const Call&) {
  web::Response r;
  r.content_type = "application/json";
  r.body = std::string(OpenApiDocument());
  return r;
}

std::string_view OpenApiDocument() { return OpenApiFiles().front().text; }

}  // namespace mamori::faces
