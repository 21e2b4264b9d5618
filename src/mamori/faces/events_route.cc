// GET /api/v1/events: the live updates the dashboard listens to, as
// Server-Sent Events from the hub the daemon publishes on (live_events.h).
#include <fmt/format.h>

#include "mamori/faces/api.h"

namespace mamori::faces {

web::Response FacesApi::GetEvents(const Call&) {
  web::EventHub* hub = events_.load();
  if (!hub) return ErrorResponse(503, "unavailable", "live events are not available here; poll");
  web::Response r;
  r.stream = hub->Subscribe();
  if (!r.stream) {
    r = ErrorResponse(503, "too many streams",
                      fmt::format("at most {} event streams at once; poll /api/v1/checks instead",
                                  hub->limits().max_streams));
    r.headers.emplace_back("Retry-After", "30");
  }
  return r;
}

}  // namespace mamori::faces
