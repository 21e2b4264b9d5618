// AlertConfig: who hears about what, and when. The routing and life-cycle
// settings of the alert router (router.h), read from the configuration:
//
//   notify:                         # per channel, next to its type keys
//     - name: pager
//       min_severity: critical      # warning (default) | unknown | critical
//       reminder_every: 4h          # while still failing and not acknowledged
//       escalate_after: 30m         # unacknowledged this long ...
//       escalate_to: [boss-mail]    # ... then these channels hear too
//       quiet_hours: {from: "22:00", to: "07:00", tz: Europe/Berlin, bypass: critical}
//   routes:                         # checks with these tags go to these channels
//     - {tags: [db], notify: [dba-mail]}
//   alerting: {group_wait: 2s, channel_failing_after: 3}
//   checks:
//     - {name: web, ..., notify: [ops-mail], depends_on: [router]}
//
// Plain values, immutable once loaded (part of Config); thread-safe as values
// are. Readers report problems as config diagnostics (FILE:LINE:COL with a
// hint) and leave the default in place.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mamori/config/node.h"
#include "mamori/core/status.h"
#include "mamori/util/clock.h"
#include "mamori/util/time_zone.h"

namespace mamori {
struct CheckConfig;
}

namespace mamori::notify {

struct NotifyConfig;

// A daily period in a time zone during which a channel stays silent; what
// would have been sent is sent as one group when it ends.
struct QuietHours {
  int from_minute = 0;  // minutes after local midnight
  int to_minute = 0;    // may be earlier than from (the period spans midnight)
  std::shared_ptr<const util::TimeZone> zone;  // null: UTC
  bool bypass_critical = false;                // CRITICAL problems are sent anyway

  bool Contains(WallTime t) const;
};

struct ChannelPolicy {
  // Problems less severe than this are not sent (order: warning < unknown <
  // critical). Recoveries go to every channel that got the problem.
  CheckStatus min_severity = CheckStatus::kWarning;
  Duration reminder_every{0};  // 0: no reminders
  Duration escalate_after{0};  // 0: no escalation
  std::vector<std::string> escalate_to;
  config::Location escalate_to_at;  // for errors found once every channel is known
  std::optional<QuietHours> quiet_hours;
};

struct Route {
  std::vector<std::string> tags;    // a check with any of these tags matches
  std::vector<std::string> notify;  // channel names
};

struct AlertConfig {
  std::map<std::string, ChannelPolicy> channels;  // by channel name; absent = defaults
  std::vector<Route> routes;
  // Changes are held this long and then sent as one notification per channel
  // (one e-mail listing them all), so a burst becomes one message.
  Duration group_wait = std::chrono::seconds(2);
  // A channel with this many failed deliveries in a row is itself alerted on
  // the other channels.
  int channel_failing_after = 3;

  const ChannelPolicy& Policy(const std::string& channel) const;
};

// Reads the routing keys of one `notify:` entry (min_severity, reminder_every,
// escalate_after, escalate_to, quiet_hours). Channel names in escalate_to are
// checked later by ReadAlerting, when every channel is known.
void ReadChannelPolicy(config::ConfigNode& channel, ChannelPolicy& out);

// Reads the top-level `routes:` and `alerting:` keys and checks every channel
// name used by them and by escalate_to against `channel_names`.
void ReadAlerting(config::ConfigNode& top, const std::vector<std::string>& channel_names,
                  AlertConfig& out);

// Checks the per-check `notify:` and `depends_on:` lists of a loaded config:
// unknown channel or check names ("did you mean"), a check depending on
// itself, and dependency cycles ("a -> b -> a").
void ValidateAlertRouting(const NotifyConfig& notify, const std::vector<CheckConfig>& checks,
                          config::Diagnostics& diag);

// "HH:MM" -> minutes after midnight.
std::optional<int> ParseClockTime(std::string_view text);

}  // namespace mamori::notify
