// What GET /api/v1/events streams: `event: check` with a check's state after a
// result changed it (its status, hard or of the last result, or an event such
// as flapping). The daemon builds the data here and publishes it on the
// web::EventHub the route subscribes to. Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "mamori/core/event.h"

namespace mamori::faces {

// The name of the event on the stream.
inline constexpr const char* kCheckEvent = "check";

// {"name", "type", "status" (hard, "pending" before one), "last" (the last
// result's), "since", "last_run", "summary", "response_ms", "flapping",
// "event" (the kind of event the result made, or null)}.
nlohmann::json CheckEventJson(const CheckSnapshot& s, std::optional<EventKind> kind);

// Whether a result moved `before` to `after` in a way the stream reports.
bool WorthAnEvent(const CheckSnapshot& before, const CheckSnapshot& after, bool made_events);

}  // namespace mamori::faces
