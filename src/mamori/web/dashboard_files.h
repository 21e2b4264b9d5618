// The dashboard's static files, compiled into the binary
// (cmake/embed_files.cmake): assets/dashboard/* and the pinned browser
// libraries that scripts/vendor.sh fetched and verified (uPlot). The route
// table maps "/" and "/assets/NAME" here; the data come from the JSON API.
// Stateless and thread-safe: the bytes are static storage.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "mamori/util/embedded_file.h"

namespace mamori::web {

std::span<const util::EmbeddedFile> DashboardFiles();

struct StaticFile {
  std::string_view content_type;
  std::string_view body;
  std::string_view cache_control;
};

// "/" and "/index.html" are the page; "/assets/NAME" one of its files;
// anything else (or a name with a '/') is nullopt.
std::optional<StaticFile> FindDashboardFile(std::string_view target);

// Sent with every dashboard file: scripts, styles, images and API calls only
// from this origin, no framing, no inline script.
inline constexpr std::string_view kDashboardCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

}  // namespace mamori::web
