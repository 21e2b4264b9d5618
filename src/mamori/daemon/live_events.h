// The daemon's side of GET /api/v1/events: after each result, the check's new
// state goes to the web::EventHub when the result changed it
// (faces/live_events.h says what is worth an event and what it carries).
// Called on the daemon's event loop; the hub is thread-safe and never waits
// for a reader.
#pragma once

#include <vector>

#include "mamori/core/event.h"
#include "mamori/web/event_stream.h"

namespace mamori {

// What WorthAnEvent compares, copied before a result is applied (a whole
// snapshot would carry every metric along).
CheckSnapshot StatusMark(const CheckSnapshot& s);
// Publishes `after` when it differs from `before` or the result made events.
void PublishCheckState(web::EventHub& hub, const CheckSnapshot& before, const CheckSnapshot& after,
                       const std::vector<Event>& made);

}  // namespace mamori
