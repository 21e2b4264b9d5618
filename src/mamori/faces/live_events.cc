#include "mamori/faces/live_events.h"

#include "mamori/faces/json.h"

namespace mamori::faces {

nlohmann::json CheckEventJson(const CheckSnapshot& s, std::optional<EventKind> kind) {
  return {{"name", s.name},
          {"type", s.type},
          {"status", StatusJson(s.hard)},
          {"last", StatusJson(s.last)},
          {"since", TimeJson(s.hard ? std::optional<WallTime>(s.hard_since) : std::nullopt)},
          {"last_run", TimeJson(s.last_time)},
          {"summary", s.summary},
          {"response_ms", std::chrono::duration<double, std::milli>(s.duration).count()},
          {"flapping", s.flapping},
          {"event", kind ? nlohmann::json(std::string(EventKindName(*kind))) : nlohmann::json()}};
}

bool WorthAnEvent(const CheckSnapshot& before, const CheckSnapshot& after, bool made_events) {
  // The first result of a check moves it out of "never ran".
  return made_events || before.hard != after.hard || before.last != after.last ||
         before.last_time == WallTime{};
}

}  // namespace mamori::faces
