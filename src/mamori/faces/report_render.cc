// Rendering of reports and post-mortem drafts. Each is first laid out as a
// small document (headings, paragraphs, tables, lists) and that one layout is
// written as text, Markdown or HTML, so the three never disagree on content.
#include <date/date.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "mamori/faces/json.h"
#include "mamori/faces/report.h"
#include "mamori/faces/status_page.h"
#include "mamori/util/units.h"

namespace mamori::faces {
namespace {

struct Section {
  std::string heading;
  std::vector<std::string> paragraphs;
  std::vector<std::string> head;  // a table when not empty
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> bullets;
  bool sub = false;  // a part of the section before it
};

struct Doc {
  std::string title;
  std::vector<Section> sections;
};

std::string When(WallTime t) {
  return date::format("%F %T UTC", std::chrono::floor<std::chrono::seconds>(t));
}
std::string Took(const std::optional<Duration>& d) { return d ? FormatDuration(*d) : "-"; }
std::string Percent(std::optional<double> v) {
  return v ? fmt::format("{:.3f}%", 100.0 * *v) : "no data";
}

std::string IncidentLine(const ReportIncident& r) {
  const Incident& i = r.incident;
  std::string s = fmt::format("{} {} from {}", i.check, StatusLabel(i.worst), When(i.started));
  s += i.ended ? fmt::format(", recovered {} (time to recover {})", When(*i.ended),
                             Took(r.time_to_recover))
               : ", still open";
  if (r.first_alert) s += fmt::format("; first alert {}", When(*r.first_alert));
  if (r.acknowledged)
    s += fmt::format("; acknowledged {} (after {})", When(*r.acknowledged),
                     Took(r.time_to_acknowledge));
  return s + ". " + i.summary;
}

Section Timeline(const Incident& i, std::string heading) {
  Section s{std::move(heading), {}, {"time", "what", "detail"}, {}, {}};
  for (const auto& t : i.timeline) s.rows.push_back({When(t.time), t.kind, t.text});
  return s;
}

Doc ReportDoc(const Report& r) {
  Doc d{fmt::format("mamori report {} to {} ({})", When(r.since), When(r.until), r.window), {}};
  Section avail{
      "Availability", {}, {"check", "availability", "results", "downtime", "incidents"}, {}, {}};
  for (const auto& c : r.checks)
    avail.rows.push_back({c.check, Percent(c.counts.uptime()), std::to_string(c.counts.total()),
                          c.downtime == Duration::zero() ? "0s" : FormatDuration(c.downtime),
                          std::to_string(c.incidents)});
  d.sections.push_back(std::move(avail));
  if (r.incidents.empty()) {
    d.sections.push_back({"Incidents", {"None in this window."}, {}, {}, {}});
    return d;
  }
  d.sections.push_back({"Incidents (newest first)", {}, {}, {}, {}});
  for (const auto& i : r.incidents) {
    Section s = Timeline(i.incident, "Incident " + i.incident.id);
    s.paragraphs.push_back(IncidentLine(i));
    s.sub = true;
    d.sections.push_back(std::move(s));
  }
  return d;
}

std::vector<std::string> OfKind(const Incident& i, std::initializer_list<std::string_view> kinds) {
  std::vector<std::string> out;
  for (const auto& t : i.timeline)
    if (std::find(kinds.begin(), kinds.end(), t.kind) != kinds.end())
      out.push_back(When(t.time) + ": " + t.text);
  return out;
}

Section Listing(std::string heading, std::vector<std::string> items, std::string none) {
  Section s{std::move(heading), {}, {}, {}, std::move(items)};
  if (s.bullets.empty()) s.paragraphs.push_back(std::move(none));
  return s;
}

Doc PostMortemDoc(const PostMortem& p) {
  const ReportIncident& r = p.incident;
  const Incident& i = r.incident;
  Doc d{
      fmt::format("Post-mortem draft: {} {} ({})", i.check, StatusLabel(i.worst), When(i.started)),
      {}};
  d.sections.push_back({"Summary", {"Incident " + i.id + ".", IncidentLine(r)}, {}, {}, {}});
  d.sections.push_back(Timeline(i, "Timeline"));
  d.sections.push_back(Listing("What the check said", p.findings,
                               "No failing result is kept for this span (raw results are kept "
                               "7 days by default)."));
  d.sections.push_back(Listing("Runbook steps taken", OfKind(i, {"runbook"}),
                               "None recorded (`mamori runbook done` records them)."));
  d.sections.push_back(Listing("After-boot and after-maintenance summaries", OfKind(i, {"summary"}),
                               "None during this incident."));
  d.sections.push_back(Listing("Operator notes", OfKind(i, {"note"}), "None."));
  for (const char* h : {"Cause", "What went well", "What to improve", "Action items"})
    d.sections.push_back({h, {"(to be written)"}, {}, {}, {}});
  return d;
}

// ---- writers ----

std::string Text(const Doc& d) {
  std::string out = d.title + "\n" + std::string(d.title.size(), '=') + "\n";
  for (const auto& s : d.sections) {
    out += "\n" + s.heading + "\n";
    for (const auto& p : s.paragraphs) out += "  " + p + "\n";
    if (!s.head.empty()) {
      std::vector<size_t> w(s.head.size());
      for (size_t c = 0; c < w.size(); ++c) w[c] = s.head[c].size();
      for (const auto& row : s.rows)
        for (size_t c = 0; c < w.size() && c < row.size(); ++c)
          w[c] = std::max(w[c], row[c].size());
      auto line = [&](const std::vector<std::string>& row) {
        std::string l;
        for (size_t c = 0; c < row.size(); ++c)
          l += "  " + (c + 1 < row.size() ? fmt::format("{:<{}}", row[c], w[c]) : row[c]);
        return l + "\n";
      };
      std::vector<std::string> upper;
      for (std::string h : s.head) {
        for (char& c : h) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        upper.push_back(std::move(h));
      }
      out += line(upper);
      for (const auto& row : s.rows) out += line(row);
    }
    for (const auto& b : s.bullets) out += "  - " + b + "\n";
  }
  return out;
}

// Markdown readers render inline HTML, so names are escaped as in HTML; a
// '|' would end a table cell and a line break would end the row.
std::string Md(std::string_view s) {
  std::string out;
  for (char c : EscapeHtml(s)) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string Markdown(const Doc& d) {
  std::string out = "# " + Md(d.title) + "\n";
  for (const auto& s : d.sections) {
    out += (s.sub ? "\n### " : "\n## ") + Md(s.heading) + "\n\n";
    for (const auto& p : s.paragraphs) out += Md(p) + "\n\n";
    if (!s.head.empty()) {
      out += "|";
      for (const auto& h : s.head) out += " " + Md(h) + " |";
      out += "\n|";
      for (size_t c = 0; c < s.head.size(); ++c) out += " --- |";
      out += "\n";
      for (const auto& row : s.rows) {
        out += "|";
        for (const auto& cell : row) out += " " + Md(cell) + " |";
        out += "\n";
      }
    }
    for (const auto& b : s.bullets) out += "- " + Md(b) + "\n";
  }
  return out;
}

constexpr std::string_view kHtmlStyle =
    "body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:70em}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;"
    "text-align:left;vertical-align:top}";

std::string Html(const Doc& d) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
      "'unsafe-inline'\"><title>" +
      EscapeHtml(d.title) + "</title><style>" + std::string(kHtmlStyle) + "</style></head><body>\n";
  out += "<h1>" + EscapeHtml(d.title) + "</h1>\n";
  for (const auto& s : d.sections) {
    const char* h = s.sub ? "h3" : "h2";
    out += fmt::format("<{}>{}</{}>\n", h, EscapeHtml(s.heading), h);
    for (const auto& p : s.paragraphs) out += "<p>" + EscapeHtml(p) + "</p>\n";
    if (!s.head.empty()) {
      out += "<table><tr>";
      for (const auto& h : s.head) out += "<th>" + EscapeHtml(h) + "</th>";
      out += "</tr>\n";
      for (const auto& row : s.rows) {
        out += "<tr>";
        for (const auto& cell : row) out += "<td>" + EscapeHtml(cell) + "</td>";
        out += "</tr>\n";
      }
      out += "</table>\n";
    }
    if (!s.bullets.empty()) {
      out += "<ul>";
      for (const auto& b : s.bullets) out += "<li>" + EscapeHtml(b) + "</li>";
      out += "</ul>\n";
    }
  }
  return out + "</body></html>\n";
}

std::string Write(const Doc& d, ReportFormat f) {
  switch (f) {
    case ReportFormat::kText:
      return Text(d);
    case ReportFormat::kMarkdown:
      return Markdown(d);
    case ReportFormat::kHtml:
      return Html(d);
    case ReportFormat::kJson:
      break;
  }
  return "";
}

// Seconds with millisecond precision; null when unknown.
nlohmann::json Seconds(const std::optional<Duration>& d) {
  if (!d) return nullptr;
  return static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(*d).count()) /
         1000.0;
}

nlohmann::json ReportIncidentJson(const ReportIncident& r) {
  nlohmann::json j = IncidentJson(r.incident, {});
  j.erase("notes");  // notes are timeline entries of kind "note" here
  j["first_alert"] = TimeJson(r.first_alert);
  j["acknowledged"] = TimeJson(r.acknowledged);
  j["time_to_recover_seconds"] = Seconds(r.time_to_recover);
  j["time_to_acknowledge_seconds"] = Seconds(r.time_to_acknowledge);
  return j;
}

}  // namespace

nlohmann::json ReportJson(const Report& r) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : r.checks) {
    const auto up = c.counts.uptime();
    checks.push_back({{"check", c.check},
                      {"availability", up ? nlohmann::json(*up) : nlohmann::json(nullptr)},
                      {"results",
                       {{"ok", c.counts.ok},
                        {"warning", c.counts.warning},
                        {"critical", c.counts.critical},
                        {"unknown", c.counts.unknown},
                        {"total", c.counts.total()}}},
                      {"incidents", c.incidents},
                      {"downtime_seconds", Seconds(c.downtime)}});
  }
  nlohmann::json incidents = nlohmann::json::array();
  for (const auto& i : r.incidents) incidents.push_back(ReportIncidentJson(i));
  return {{"since", FormatTime(r.since)},
          {"until", FormatTime(r.until)},
          {"window", r.window},
          {"checks", std::move(checks)},
          {"incidents", std::move(incidents)}};
}

nlohmann::json PostMortemJson(const PostMortem& p) {
  return {{"incident", ReportIncidentJson(p.incident)}, {"findings", p.findings}};
}

std::string RenderReport(const Report& r, ReportFormat f) {
  if (f == ReportFormat::kJson)
    return ReportJson(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return Write(ReportDoc(r), f);
}

std::string RenderPostMortem(const PostMortem& p, ReportFormat f) {
  if (f == ReportFormat::kJson)
    return PostMortemJson(p).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return Write(PostMortemDoc(p), f);
}

}  // namespace mamori::faces
