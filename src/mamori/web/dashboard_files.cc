#include "mamori/web/dashboard_files.h"

namespace mamori::web {
namespace {

std::string_view ContentType(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "text/plain; charset=utf-8";
}

}  // namespace

std::optional<StaticFile> FindDashboardFile(std::string_view target) {
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  std::string_view name;
  if (target == "/" || target == "/index.html")
    name = "index.html";
  else if (target.starts_with("/assets/"))
    name = target.substr(8);
  else
    return std::nullopt;
  if (name.empty() || name.find('/') != std::string_view::npos) return std::nullopt;
  for (const auto& f : DashboardFiles()) {
    if (f.name != name) continue;
    // The page must always be fresh (it names the other files); the rest
    // may be kept for a while, revalidated after an upgrade within a day.
    return StaticFile{ContentType(name), f.text,
                      name == "index.html" ? "no-cache" : "public, max-age=86400"};
  }
  return std::nullopt;
}

}  // namespace mamori::web
