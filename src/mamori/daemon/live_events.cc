#include "mamori/daemon/live_events.h"

#include "mamori/faces/live_events.h"

namespace mamori {

CheckSnapshot StatusMark(const CheckSnapshot& s) {
  CheckSnapshot mark;
  mark.hard = s.hard;
  mark.last = s.last;
  mark.last_time = s.last_time;
  return mark;
}

void PublishCheckState(web::EventHub& hub, const CheckSnapshot& before, const CheckSnapshot& after,
                       const std::vector<Event>& made) {
  if (!faces::WorthAnEvent(before, after, !made.empty())) return;
  // Nobody listening (the usual case on a server): skip building the JSON.
  if (hub.open() == 0) return;
  std::optional<EventKind> kind;
  if (!made.empty()) kind = made.back().kind;
  hub.Publish(faces::kCheckEvent,
              faces::CheckEventJson(after, kind)
                  .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace mamori
