#include "mamori/faces/json.h"

namespace mamori::faces {
namespace {

double Ms(Duration d) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(d).count()) /
         1000.0;
}

}  // namespace

nlohmann::json ErrorJson(std::string_view error, std::string_view detail) {
  return {{"error", error}, {"detail", detail}};
}

nlohmann::json TimeJson(std::optional<WallTime> t) {
  return t ? nlohmann::json(FormatTime(*t)) : nlohmann::json(nullptr);
}

nlohmann::json StatusJson(std::optional<CheckStatus> s) {
  return s ? std::string(StatusName(*s)) : std::string("pending");
}

nlohmann::json CheckJson(const CheckView& c) {
  return {{"name", c.live.name},
          {"type", c.live.type},
          {"description", c.live.description},
          {"tags", c.live.tags},
          {"status", StatusJson(c.status)},
          {"since", TimeJson(c.since)},
          {"last_run", TimeJson(c.last_run)},
          {"summary", c.summary},
          {"response_ms", Ms(c.duration)},
          {"flapping", c.flapping},
          {"acknowledged", c.live.acknowledged},
          {"acknowledged_by", c.live.ack_by},
          {"in_maintenance", !c.live.maintenance.empty()},
          {"maintenance", c.live.maintenance}};
}

nlohmann::json CountsJson(const Counts& c) {
  nlohmann::json j = {{"ok", c.ok},
                      {"warning", c.warning},
                      {"critical", c.critical},
                      {"unknown", c.unknown},
                      {"uptime", nullptr},
                      {"avg_response_ms", nullptr},
                      {"max_response_ms", nullptr}};
  if (auto u = c.uptime()) j["uptime"] = *u;
  if (c.total() > 0) {
    j["avg_response_ms"] = Ms(c.duration_sum / c.total());
    j["max_response_ms"] = Ms(c.duration_max);
  }
  return j;
}

nlohmann::json BucketJson(const Bucket& b) {
  nlohmann::json j = CountsJson(b.counts);
  j["start"] = FormatTime(b.start);
  auto worst = b.counts.worst();
  j["status"] = worst ? nlohmann::json(std::string(StatusName(*worst))) : nlohmann::json(nullptr);
  return j;
}

nlohmann::json IncidentJson(const Incident& i, const std::vector<IncidentNote>& notes) {
  nlohmann::json timeline = nlohmann::json::array();
  for (const auto& t : i.timeline)
    timeline.push_back({{"time", FormatTime(t.time)}, {"kind", t.kind}, {"text", t.text}});
  nlohmann::json ns = nlohmann::json::array();
  for (const auto& n : notes)
    if (n.incident == i.id) ns.push_back(NoteJson(n));
  return {{"id", i.id},
          {"check", i.check},
          {"started", FormatTime(i.started)},
          {"ended", TimeJson(i.ended)},
          {"status", StatusName(i.worst)},
          {"summary", i.summary},
          {"timeline", std::move(timeline)},
          {"notes", std::move(ns)}};
}

nlohmann::json WindowJson(const OperatorWindow& w, WallTime now) {
  return {{"id", w.id},
          {"kind", WindowKindName(w.kind)},
          {"start", FormatTime(w.start)},
          {"end", FormatTime(w.end)},
          {"active", w.start <= now && now < w.end},
          {"checks", w.checks},
          {"tags", w.tags},
          {"reason", w.reason},
          {"by", w.by}};
}

nlohmann::json AnnouncementJson(const Announcement& a) {
  return {{"id", a.id},
          {"time", FormatTime(a.time)},
          {"level", a.level},
          {"title", a.title},
          {"text", a.text}};
}

nlohmann::json NoteJson(const IncidentNote& n) {
  return {{"id", n.id},
          {"incident", n.incident},
          {"time", FormatTime(n.time)},
          {"text", n.text},
          {"by", n.by}};
}

}  // namespace mamori::faces
