#include "mamori/faces/status_page.h"

#include <date/date.h>
#include <fmt/format.h>

#include "mamori/faces/json.h"

namespace mamori::faces {
namespace {

std::string_view StatusWord(std::optional<CheckStatus> s) {
  if (!s) return "Pending";
  switch (*s) {
    case CheckStatus::kOk:
      return "Operational";
    case CheckStatus::kWarning:
      return "Degraded";
    case CheckStatus::kCritical:
      return "Down";
    case CheckStatus::kUnknown:
      return "Unknown";
  }
  return "Unknown";
}

std::string_view StatusClass(std::optional<CheckStatus> s) {
  return s ? StatusName(*s) : std::string_view("pending");
}

// A day's bar: its class says what it was, its title (a tooltip) the figure.
std::string DayBar(const Bucket& d) {
  const auto worst = d.counts.worst();
  const std::string_view cls = worst ? StatusName(*worst) : std::string_view("none");
  return fmt::format("<span class=\"day {}\" title=\"{} {}\"></span>", cls,
                     date::format("%F", std::chrono::floor<date::days>(d.start)),
                     FormatUptime(d.counts.uptime()));
}

std::string CheckRow(const PageCheck& c, bool show_response_times) {
  std::string bars;
  for (const auto& d : c.days) bars += DayBar(d);
  std::string rt;
  if (show_response_times && c.view.last_run)
    rt = fmt::format(" <span class=\"rt\">{:.0f} ms</span>",
                     std::chrono::duration<double, std::milli>(c.view.duration).count());
  return fmt::format(
      "<li class=\"check\" data-check=\"{0}\"><div class=\"head\"><span class=\"name\">{0}</span>"
      "<span class=\"state {1}\">{2}</span>{3}</div><p class=\"desc\">{4}</p>"
      "<div class=\"bars\" aria-label=\"90 days\">{5}</div>"
      "<div class=\"foot\"><span>90 days ago</span><span class=\"uptime\">{6} uptime (30 days)"
      "</span><span>today</span></div></li>\n",
      EscapeHtml(c.view.live.name), StatusClass(c.view.status), StatusWord(c.view.status), rt,
      EscapeHtml(c.view.live.description), bars, FormatUptime(c.uptime_30d.uptime()));
}

std::string IncidentItem(const Incident& i, const std::vector<IncidentNote>& notes) {
  std::string entries;
  for (const auto& n : notes)
    if (n.incident == i.id)
      entries += fmt::format("<li class=\"note\"><time>{}</time> {}</li>", FormatTime(n.time),
                             EscapeHtml(n.text));
  for (const auto& t : i.timeline)
    entries += fmt::format("<li><time>{}</time> {}</li>", FormatTime(t.time), EscapeHtml(t.kind));
  return fmt::format(
      "<li class=\"incident\" id=\"incident-{}\"><strong>{}</strong> {} <span class=\"when\">"
      "{} &ndash; {}</span><ul>{}</ul></li>\n",
      i.id, EscapeHtml(i.check), i.ended ? "resolved" : "ongoing", FormatTime(i.started),
      i.ended ? FormatTime(*i.ended) : "now", entries);
}

}  // namespace

std::string EscapeHtml(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string FormatUptime(std::optional<double> uptime) {
  if (!uptime) return "no data";
  return fmt::format("{:.2f}%", *uptime * 100);
}

std::string RenderStatusHtml(const StatusPage& page) {
  std::string announcements;
  for (const auto& a : page.announcements)
    announcements += fmt::format(
        "<li class=\"announcement {0}\"><strong>{1}</strong> <time>{2}</time><p>{3}</p></li>\n",
        EscapeHtml(a.level), EscapeHtml(a.title), FormatTime(a.time), EscapeHtml(a.text));
  std::optional<CheckStatus> overall = CheckStatus::kOk;
  std::string checks;
  for (const auto& c : page.checks) {
    checks += CheckRow(c, page.show_response_times);
    if (c.view.status) overall = Worst(*overall, *c.view.status);
  }
  std::string incidents;
  for (const auto& i : page.incidents) incidents += IncidentItem(i, page.notes);
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>{0}</title><link rel=\"stylesheet\" href=\"/status.css\"></head><body>\n"
      "<header><h1>{0}</h1><p class=\"overall {1}\" id=\"overall\">{2}</p></header>\n"
      "<section id=\"announcements\"><ul>{3}</ul></section>\n"
      "<section><ul id=\"checks\">{4}</ul></section>\n"
      "<section><h2>Incidents</h2><ul id=\"incidents\">{5}</ul></section>\n"
      "<footer>Updated {6} &middot; <a href=\"/status.json\">JSON</a></footer>\n"
      "</body></html>\n",
      EscapeHtml(page.title), StatusClass(overall),
      overall == CheckStatus::kOk ? "All systems operational" : "Some systems are not operational",
      announcements, checks, incidents.empty() ? "<li>No incidents in 90 days.</li>" : incidents,
      FormatTime(page.generated));
}

nlohmann::json StatusPageJson(const StatusPage& page) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : page.checks) {
    nlohmann::json days = nlohmann::json::array();
    for (const auto& d : c.days)
      days.push_back({{"date", date::format("%F", std::chrono::floor<date::days>(d.start))},
                      {"uptime", d.counts.uptime() ? nlohmann::json(*d.counts.uptime()) : nullptr},
                      {"status", d.counts.worst() ? nlohmann::json(StatusName(*d.counts.worst()))
                                                  : nlohmann::json(nullptr)}});
    nlohmann::json j = {
        {"name", c.view.live.name},
        {"description", c.view.live.description},
        {"status", StatusJson(c.view.status)},
        {"since", TimeJson(c.view.since)},
        {"uptime_30d",
         c.uptime_30d.uptime() ? nlohmann::json(*c.uptime_30d.uptime()) : nlohmann::json(nullptr)},
        {"days", std::move(days)}};
    if (page.show_response_times)
      j["response_ms"] = std::chrono::duration<double, std::milli>(c.view.duration).count();
    checks.push_back(std::move(j));
  }
  nlohmann::json incidents = nlohmann::json::array();
  for (const auto& i : page.incidents) incidents.push_back(IncidentJson(i, page.notes));
  nlohmann::json announcements = nlohmann::json::array();
  for (const auto& a : page.announcements) announcements.push_back(AnnouncementJson(a));
  return {{"title", page.title},
          {"generated", FormatTime(page.generated)},
          {"checks", std::move(checks)},
          {"incidents", std::move(incidents)},
          {"announcements", std::move(announcements)}};
}

std::string_view StatusColor(std::optional<CheckStatus> s) {
  if (!s) return "#9f9f9f";
  switch (*s) {
    case CheckStatus::kOk:
      return "#4c1";
    case CheckStatus::kWarning:
      return "#dfb317";
    case CheckStatus::kCritical:
      return "#e05d44";
    case CheckStatus::kUnknown:
      return "#9f9f9f";
  }
  return "#9f9f9f";
}

std::string_view UptimeColor(std::optional<double> uptime) {
  if (!uptime) return "#9f9f9f";
  if (*uptime >= 0.999) return "#4c1";
  if (*uptime >= 0.99) return "#dfb317";
  return "#e05d44";
}

std::string RenderBadge(std::string_view label, std::string_view value, std::string_view color) {
  // Widths from a rough 7 px per character at 11 px Verdana, as shields.io does.
  const int lw = static_cast<int>(label.size()) * 7 + 10;
  const int vw = static_cast<int>(value.size()) * 7 + 10;
  const std::string l = EscapeHtml(label), v = EscapeHtml(value);
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"20\" role=\"img\" "
      "aria-label=\"{3}: {4}\"><title>{3}: {4}</title>"
      "<rect width=\"{1}\" height=\"20\" fill=\"#555\"/>"
      "<rect x=\"{1}\" width=\"{2}\" height=\"20\" fill=\"{5}\"/>"
      "<g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,DejaVu Sans,sans-serif\" "
      "font-size=\"11\"><text x=\"{6}\" y=\"14\">{3}</text><text x=\"{7}\" y=\"14\">{4}</text>"
      "</g></svg>\n",
      lw + vw, lw, vw, l, v, color, lw / 2, lw + vw / 2);
}

std::string_view StatusCss() {
  return R"css(body{font-family:system-ui,sans-serif;max-width:52rem;margin:0 auto;padding:1rem;color:#222;background:#fafafa}
h1{font-size:1.6rem;margin:.5rem 0}ul{list-style:none;padding:0}
.overall{padding:.8rem 1rem;border-radius:6px;color:#fff;font-weight:600}
.overall.ok{background:#2e9e44}.overall.warning{background:#c9a000}.overall.critical,.overall.unknown{background:#d2433a}.overall.pending{background:#888}
.check{background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:.8rem 1rem;margin:.6rem 0}
.head{display:flex;justify-content:space-between;align-items:baseline;gap:1rem}.name{font-weight:600;word-break:break-all}
.state.ok{color:#2e9e44}.state.warning{color:#b58f00}.state.critical,.state.unknown{color:#d2433a}.state.pending{color:#888}
.desc{margin:.2rem 0 .5rem;color:#666;font-size:.9rem}.rt{color:#666;font-size:.85rem}
.bars{display:flex;gap:2px;height:28px}.day{flex:1;border-radius:2px;background:#ddd}
.day.ok{background:#3bb55a}.day.warning{background:#e2b100}.day.critical,.day.unknown{background:#e0483e}
.foot{display:flex;justify-content:space-between;font-size:.75rem;color:#888;margin-top:.3rem}
.announcement{border-left:4px solid #888;background:#fff;padding:.5rem 1rem;margin:.5rem 0}
.announcement.outage{border-color:#d2433a}.announcement.warning{border-color:#e2b100}.announcement.information{border-color:#3a7bd5}
.incident{background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:.6rem 1rem;margin:.5rem 0}
.incident ul{font-size:.85rem;color:#555}.note{color:#222;font-style:italic}.when{color:#888;font-size:.85rem}
time{color:#888;font-size:.85rem}footer{margin-top:2rem;font-size:.8rem;color:#888}
)css";
}

}  // namespace mamori::faces
