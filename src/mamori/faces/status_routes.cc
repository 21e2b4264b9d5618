// FacesApi's public handlers: the status page, its JSON and CSS, and badges.
// Only checks that `status_page:` lists are ever loaded; anything else, and
// everything while no status page is configured, is 404.
#include <algorithm>

#include "mamori/faces/api.h"
#include "mamori/faces/status_page.h"

namespace mamori::faces {
namespace {

constexpr int kDays = 90;
constexpr size_t kAnnouncementsShown = 20;

web::Response Public(web::Response r) {
  r.headers.emplace_back("Content-Security-Policy", std::string(kStatusCsp));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Cache-Control", "max-age=30");
  return r;
}

web::Response Svg(std::string body) {
  web::Response r;
  r.content_type = "image/svg+xml";
  r.body = std::move(body);
  return Public(std::move(r));
}

}  // namespace

struct FacesApi::PageData {
  StatusPage page;
};

std::optional<FacesApi::PageData> FacesApi::LoadPage(web::Response& error) {
  const FacesConfig cfg = config();
  if (!cfg.status_page.enabled) {
    error = ErrorResponse(404, "not found", "no status_page is configured");
    return std::nullopt;
  }
  auto live = Live();
  if (!live) {
    error = ErrorResponse(503, "unavailable", "the daemon did not answer in time; retry");
    return std::nullopt;
  }
  std::vector<LiveCheck> listed;
  for (const auto& l : *live)
    if (Listed(cfg.status_page, l.name, l.tags)) listed.push_back(l);
  PageData d;
  d.page.title = cfg.status_page.title;
  d.page.show_response_times = cfg.status_page.show_response_times;
  d.page.generated = clock_.Now();
  auto views = model_.Checks(listed);
  auto incidents = model_.Incidents({}, std::chrono::hours(24 * kDays), kMaxIncidents);
  auto notes = ops_.Notes(OperatorStore::kMaxRows);
  auto announcements = ops_.Announcements(kAnnouncementsShown);
  if (!views.ok() || !incidents.ok() || !notes.ok() || !announcements.ok()) {
    error = ErrorResponse(500, "store", "the history could not be read");
    return std::nullopt;
  }
  for (auto& v : *views) {
    PageCheck pc;
    auto up = model_.Uptime(v.live.name, std::chrono::hours(24 * 30));
    auto days = model_.Daily(v.live.name, kDays);
    if (up.ok()) pc.uptime_30d = *up;
    if (days.ok()) pc.days = std::move(days).value();
    pc.view = std::move(v);
    d.page.checks.push_back(std::move(pc));
  }
  for (auto& i : *incidents)
    if (std::any_of(listed.begin(), listed.end(),
                    [&](const LiveCheck& l) { return l.name == i.check; }))
      d.page.incidents.push_back(std::move(i));
  d.page.notes = std::move(notes).value();
  d.page.announcements = std::move(announcements).value();
  return d;
}

web::Response FacesApi::GetStatusPage(const Call&) {
  web::Response error;
  auto d = LoadPage(error);
  if (!d) return Public(std::move(error));
  web::Response r;
  r.content_type = "text/html; charset=utf-8";
  r.body = RenderStatusHtml(d->page);
  return Public(std::move(r));
}

web::Response FacesApi::GetStatusJson(const Call&) {
  web::Response error;
  auto d = LoadPage(error);
  if (!d) return Public(std::move(error));
  return Public(JsonResponse(200, StatusPageJson(d->page)));
}

web::Response FacesApi::GetStatusCss(const Call&) {
  web::Response r;
  r.content_type = "text/css; charset=utf-8";
  r.body = std::string(StatusCss());
  return Public(std::move(r));
}

web::Response FacesApi::GetBadge(const Call& c) {
  constexpr std::string_view kSuffix = ".svg";
  std::string name = c.args[0];
  if (name.size() <= kSuffix.size() || !name.ends_with(kSuffix))
    return Public(ErrorResponse(404, "not found", "badges end in .svg"));
  name.resize(name.size() - kSuffix.size());
  const FacesConfig cfg = config();
  auto live = Live();
  if (!live) return Public(ErrorResponse(503, "unavailable", "retry"));
  for (const auto& l : *live) {
    if (l.name != name || !Listed(cfg.status_page, l.name, l.tags)) continue;
    auto views = model_.Checks({l});
    if (!views.ok()) return Public(ErrorResponse(500, "store", views.error().message()));
    const auto status = views->front().status;
    return Svg(RenderBadge(name, status ? StatusName(*status) : "pending", StatusColor(status)));
  }
  return Public(ErrorResponse(404, "not found", "no such check on the status page"));
}

web::Response FacesApi::GetUptimeBadge(const Call& c) {
  const std::string& name = c.args[0];
  const std::string& file = c.args[1];
  constexpr std::string_view kPrefix = "uptime-", kSuffix = ".svg";
  if (!file.starts_with(kPrefix) || !file.ends_with(kSuffix) ||
      file.size() <= kPrefix.size() + kSuffix.size())
    return Public(ErrorResponse(404, "not found", "e.g. /badge/NAME/uptime-30d.svg"));
  const std::string window =
      file.substr(kPrefix.size(), file.size() - kPrefix.size() - kSuffix.size());
  auto d = ParseWindow(window);
  if (!d.ok()) return Public(ErrorResponse(404, "not found", d.error().message()));
  const FacesConfig cfg = config();
  auto live = Live();
  if (!live) return Public(ErrorResponse(503, "unavailable", "retry"));
  for (const auto& l : *live) {
    if (l.name != name || !Listed(cfg.status_page, l.name, l.tags)) continue;
    auto counts = model_.Uptime(name, *d);
    if (!counts.ok()) return Public(ErrorResponse(500, "store", counts.error().message()));
    return Svg(RenderBadge("uptime " + window, FormatUptime(counts->uptime()),
                           UptimeColor(counts->uptime())));
  }
  return Public(ErrorResponse(404, "not found", "no such check on the status page"));
}

}  // namespace mamori::faces
