// The dashboard's routes: "/" (the page) and "/assets/NAME" (its script,
// style and uPlot), static files compiled into the binary
// (web/dashboard_files.h). They are public like the status page: the page
// holds no data; what it shows comes from the API, which asks callers from
// elsewhere for a read token.
#include <string>

#include "mamori/faces/api.h"
#include "mamori/web/dashboard_files.h"

namespace mamori::faces {
namespace {

web::Response Serve(const std::string& target) {
  auto f = web::FindDashboardFile(target);
  if (!f) return ErrorResponse(404, "not found", target);
  web::Response r;
  r.content_type = std::string(f->content_type);
  r.body = std::string(f->body);
  r.headers.emplace_back("Content-Security-Policy", std::string(web::kDashboardCsp));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cache-Control", std::string(f->cache_control));
  return r;
}

}  // namespace

web::Response FacesApi::GetDashboard(const Call&) { return Serve("/"); }

web::Response FacesApi::GetDashboardAsset(const Call& c) { return Serve("/assets/" + c.args[0]); }

}  // namespace mamori::faces
