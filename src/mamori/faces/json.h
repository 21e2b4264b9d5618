// The JSON shapes of API v1 (docs/openapi.json describes each; the tests check
// every response they get against it). Pure functions from read-model values
// to nlohmann::json; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "mamori/faces/operator_store.h"
#include "mamori/faces/read_model.h"

namespace mamori::faces {

// {"error": ..., "detail": ...}
nlohmann::json ErrorJson(std::string_view error, std::string_view detail);
// null, or the time as RFC 3339
nlohmann::json TimeJson(std::optional<WallTime> t);
nlohmann::json StatusJson(std::optional<CheckStatus> s);  // "pending" when nullopt
nlohmann::json CheckJson(const CheckView& c);
nlohmann::json CountsJson(const Counts& c);  // counts, uptime (null if none), response times
nlohmann::json BucketJson(const Bucket& b);
nlohmann::json IncidentJson(const Incident& i, const std::vector<IncidentNote>& notes);
nlohmann::json WindowJson(const OperatorWindow& w, WallTime now);
nlohmann::json AnnouncementJson(const Announcement& a);
nlohmann::json NoteJson(const IncidentNote& n);

}  // namespace mamori::faces
