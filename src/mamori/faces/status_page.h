// The public status page, its JSON twin and the SVG badges, rendered from
// plain values so the HTML is tested without a server. Every text that came
// from a configuration, a check or an operator is escaped (EscapeHtml) and no
// script is used: the page works without JavaScript, under a strict
// Content-Security-Policy (kStatusCsp). Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/faces/operator_store.h"
#include "mamori/faces/read_model.h"

namespace mamori::faces {

struct PageCheck {
  CheckView view;
  Counts uptime_30d;
  std::vector<Bucket> days;  // 90 UTC days, oldest first
};

struct StatusPage {
  std::string title;
  bool show_response_times = false;
  WallTime generated{};
  std::vector<PageCheck> checks;
  std::vector<Incident> incidents;  // of the listed checks only
  std::vector<IncidentNote> notes;
  std::vector<Announcement> announcements;
};

inline constexpr std::string_view kStatusCsp =
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";

std::string EscapeHtml(std::string_view s);
std::string RenderStatusHtml(const StatusPage& page);
nlohmann::json StatusPageJson(const StatusPage& page);
std::string_view StatusCss();
// A shields.io-style badge: "label | value" with the value's colour.
std::string RenderBadge(std::string_view label, std::string_view value, std::string_view color);
// The badge colour for a status or an uptime.
std::string_view StatusColor(std::optional<CheckStatus> s);
std::string_view UptimeColor(std::optional<double> uptime);
// "99.95%", or "no data".
std::string FormatUptime(std::optional<double> uptime);

}  // namespace mamori::faces
