// FacesApi's write handlers (a write token was checked before the body was
// read): each parses its JSON body, validates it against the configured
// checks and writes through the OperatorStore or asks the daemon.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "mamori/faces/api.h"
#include "mamori/util/units.h"

namespace mamori::faces {
namespace {

std::optional<nlohmann::json> Body(const web::Request& req, web::Response& error) {
  if (req.body.empty()) return nlohmann::json::object();
  auto j = nlohmann::json::parse(req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    error = ErrorResponse(400, "bad body", "send a JSON object");
    return std::nullopt;
  }
  return j;
}

std::optional<std::string> String(const nlohmann::json& j, const char* key, web::Response& error) {
  if (!j.contains(key)) return std::string();
  if (!j[key].is_string()) {
    error = ErrorResponse(400, "bad body", fmt::format("'{}' must be a string", key));
    return std::nullopt;
  }
  return j[key].get<std::string>();
}

std::optional<std::vector<std::string>> Strings(const nlohmann::json& j, const char* key,
                                                web::Response& error) {
  std::vector<std::string> out;
  if (!j.contains(key)) return out;
  if (!j[key].is_array() || j[key].size() > 1000) {
    error = ErrorResponse(400, "bad body", fmt::format("'{}' must be a list of strings", key));
    return std::nullopt;
  }
  for (const auto& v : j[key]) {
    if (!v.is_string()) {
      error = ErrorResponse(400, "bad body", fmt::format("'{}' must be a list of strings", key));
      return std::nullopt;
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

// start (default now) and end, or start and duration.
bool ReadSpan(const nlohmann::json& j, WallTime now, OperatorWindow& w, web::Response& error) {
  auto start = String(j, "start", error);
  auto end = String(j, "end", error);
  auto duration = String(j, "duration", error);
  if (!start || !end || !duration) return false;
  w.start = now;
  if (!start->empty()) {
    auto t = ParseTime(*start);
    if (!t.ok()) return error = ErrorResponse(400, "bad start", t.error().message()), false;
    w.start = *t;
  }
  if (end->empty() == duration->empty()) {
    error = ErrorResponse(400, "bad body", "give exactly one of 'end' and 'duration'");
    return false;
  }
  if (!end->empty()) {
    auto t = ParseTime(*end);
    if (!t.ok()) return error = ErrorResponse(400, "bad end", t.error().message()), false;
    w.end = *t;
  } else {
    auto d = ParseDuration(*duration);
    if (!d.ok() || *d <= Duration::zero() || *d > ReadModel::kMaxRange)
      return error = ErrorResponse(400, "bad duration", "e.g. \"2h\"; at most 400d"), false;
    w.end = w.start + std::chrono::duration_cast<WallTime::duration>(*d);
  }
  return true;
}

std::string UnknownScope(const OperatorWindow& w, const std::vector<LiveCheck>& live) {
  for (const auto& c : w.checks)
    if (std::none_of(live.begin(), live.end(), [&](const LiveCheck& l) { return l.name == c; }))
      return "no check named " + c;
  for (const auto& t : w.tags)
    if (std::none_of(live.begin(), live.end(), [&](const LiveCheck& l) {
          return std::find(l.tags.begin(), l.tags.end(), t) != l.tags.end();
        }))
      return "no check has the tag " + t;
  return "";
}

}  // namespace

web::Response FacesApi::PostRun(const Call& c) {
  auto live = Live();
  if (!live) return ErrorResponse(503, "unavailable", "the daemon did not answer in time; retry");
  if (std::none_of(live->begin(), live->end(),
                   [&](const LiveCheck& l) { return l.name == c.args[0]; }))
    return ErrorResponse(404, "no such check", c.args[0]);
  hooks_.run(c.args[0]);
  return JsonResponse(202, {{"check", c.args[0]}, {"queued", true}});
}

web::Response FacesApi::PostMaintenance(const Call& c) {
  return PostWindow(c, WindowKind::kMaintenance);
}
web::Response FacesApi::PostSilence(const Call& c) { return PostWindow(c, WindowKind::kSilence); }
web::Response FacesApi::DeleteMaintenance(const Call& c) {
  return DeleteWindow(c, WindowKind::kMaintenance);
}
web::Response FacesApi::DeleteSilence(const Call& c) {
  return DeleteWindow(c, WindowKind::kSilence);
}

web::Response FacesApi::PostWindow(const Call& c, WindowKind kind) {
  web::Response error;
  auto j = Body(c.req, error);
  if (!j) return error;
  OperatorWindow w;
  w.kind = kind;
  auto checks = Strings(*j, "checks", error);
  auto tags = Strings(*j, "tags", error);
  auto reason = String(*j, "reason", error);
  auto by = String(*j, "by", error);
  if (!checks || !tags || !reason || !by || !ReadSpan(*j, clock_.Now(), w, error)) return error;
  w.checks = std::move(*checks);
  w.tags = std::move(*tags);
  w.reason = std::move(*reason);
  w.by = by->empty() ? "api" : *by;
  if (kind == WindowKind::kSilence && w.checks.empty() && w.tags.empty())
    return ErrorResponse(400, "bad body", "a silence names its 'checks' or 'tags'");
  auto live = Live();
  if (!live) return ErrorResponse(503, "unavailable", "the daemon did not answer in time; retry");
  if (auto why = UnknownScope(w, *live); !why.empty()) return ErrorResponse(400, "bad scope", why);
  auto added = ops_.AddWindow(std::move(w));
  if (!added.ok()) return ErrorResponse(400, "refused", added.error().message());
  if (hooks_.windows_changed) hooks_.windows_changed();
  return JsonResponse(201, WindowJson(*added, clock_.Now()));
}

web::Response FacesApi::DeleteWindow(const Call& c, WindowKind kind) {
  int64_t id = 0;
  const std::string& text = c.args[0];
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || p != text.data() + text.size())
    return ErrorResponse(400, "bad id", text + " is not a number");
  if (auto s = ops_.EndWindow(kind, id); !s.ok())
    return ErrorResponse(404, "not found", s.error().message());
  if (hooks_.windows_changed) hooks_.windows_changed();
  return JsonResponse(200, {{"id", id}, {"ended", true}});
}

web::Response FacesApi::PostAnnouncement(const Call& c) {
  web::Response error;
  auto j = Body(c.req, error);
  if (!j) return error;
  auto level = String(*j, "level", error);
  auto title = String(*j, "title", error);
  auto text = String(*j, "text", error);
  if (!level || !title || !text) return error;
  if (title->empty()) return ErrorResponse(400, "bad body", "an announcement needs a 'title'");
  auto a = ops_.Announce({0, {}, *level, *title, *text});
  if (!a.ok()) return ErrorResponse(400, "refused", a.error().message());
  return JsonResponse(201, AnnouncementJson(*a));
}

web::Response FacesApi::PostNote(const Call& c) {
  web::Response error;
  auto j = Body(c.req, error);
  if (!j) return error;
  auto text = String(*j, "text", error);
  auto by = String(*j, "by", error);
  if (!text || !by) return error;
  const std::string& id = c.args[0];
  if (id.size() != 16 || id.find_first_not_of("0123456789abcdef") != std::string::npos)
    return ErrorResponse(404, "no such incident", id);
  auto incidents = model_.Incidents({}, ReadModel::kMaxRange, kMaxIncidents);
  if (!incidents.ok()) return ErrorResponse(500, "store", incidents.error().message());
  if (std::none_of(incidents->begin(), incidents->end(),
                   [&](const Incident& i) { return i.id == id; }))
    return ErrorResponse(404, "no such incident", id);
  auto n = ops_.AddNote({0, id, {}, *text, by->empty() ? "api" : *by});
  if (!n.ok()) return ErrorResponse(400, "refused", n.error().message());
  return JsonResponse(201, NoteJson(*n));
}

}  // namespace mamori::faces
