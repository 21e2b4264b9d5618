#include "mamori/notify/alert_config.h"

#include "mamori/check/check_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <set>
#include <unordered_map>

#include "mamori/notify/notify_config.h"
#include "mamori/util/units.h"

namespace mamori::notify {

namespace {

std::string NameList(const std::vector<std::string>& names) {
  return names.empty() ? "(none)" : fmt::format("{}", fmt::join(names, ", "));
}

std::string UnknownChannelHint(const std::string& name, const std::vector<std::string>& known) {
  std::string best = config::ClosestMatch(name, known);
  if (!best.empty()) return fmt::format("did you mean '{}'?", best);
  return fmt::format("channels defined under notify: {}", NameList(known));
}

}  // namespace

std::optional<int> ParseClockTime(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!digit(text[0]) || !digit(text[1]) || !digit(text[3]) || !digit(text[4])) return std::nullopt;
  const int h = (text[0] - '0') * 10 + (text[1] - '0');
  const int m = (text[3] - '0') * 10 + (text[4] - '0');
  if (h > 24 || m > 59 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

bool QuietHours::Contains(WallTime t) const {
  if (from_minute == to_minute) return false;
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  const int64_t utc = secs.time_since_epoch().count();
  const int64_t local = utc + (zone ? zone->OffsetAt(utc) : 0);
  const int minute = static_cast<int>(((local % 86400) + 86400) % 86400 / 60);
  if (from_minute < to_minute) return minute >= from_minute && minute < to_minute;
  return minute >= from_minute || minute < to_minute;  // spans midnight
}

const ChannelPolicy& AlertConfig::Policy(const std::string& channel) const {
  static const ChannelPolicy kDefault;
  auto it = channels.find(channel);
  return it == channels.end() ? kDefault : it->second;
}

void ReadChannelPolicy(config::ConfigNode& n, ChannelPolicy& out) {
  if (auto v = n.GetString("min_severity")) {
    auto s = ParseStatus(*v);
    if (!s || *s == CheckStatus::kOk)
      n.ErrorAt("min_severity", fmt::format("'{}' is not a severity", *v),
                "use warning (every problem), unknown or critical");
    else
      out.min_severity = *s;
  }
  if (auto v = n.GetDuration("reminder_every")) {
    if (*v != Duration(0) && (*v < std::chrono::seconds(1) || *v > std::chrono::hours(24 * 7)))
      n.ErrorAt("reminder_every", "must be between 1s and 7d (or 0 for no reminders)",
                "e.g. 4h: a reminder every 4 hours while the check still fails");
    else
      out.reminder_every = *v;
  }
  if (auto v = n.GetDuration("escalate_after")) {
    if (*v != Duration(0) && (*v < std::chrono::seconds(1) || *v > std::chrono::hours(24 * 7)))
      n.ErrorAt("escalate_after", "must be between 1s and 7d",
                "e.g. 30m: unacknowledged problems go to escalate_to after 30 minutes");
    else
      out.escalate_after = *v;
  }
  if (auto v = n.GetStringList("escalate_to")) {
    out.escalate_to = *v;
    out.escalate_to_at = n.ValueLocation("escalate_to");
  }
  if ((out.escalate_after > Duration(0)) != !out.escalate_to.empty())
    n.Error("escalate_after and escalate_to go together",
            "e.g. escalate_after: 30m and escalate_to: [boss-mail]");
  if (auto q = n.GetMap("quiet_hours")) {
    QuietHours qh;
    bool ok = true;
    for (const char* key : {"from", "to"}) {
      auto v = q->GetString(key);
      auto m = v ? ParseClockTime(*v) : std::nullopt;
      if (!v) {
        q->Error(fmt::format("missing '{}'", key),
                 "e.g. quiet_hours: {from: \"22:00\", to: \"07:00\"}");
        ok = false;
      } else if (!m) {
        q->ErrorAt(key, fmt::format("'{}' is not a time of day", *v),
                   "write HH:MM, e.g. \"07:00\"");
        ok = false;
      } else {
        (std::string_view(key) == "from" ? qh.from_minute : qh.to_minute) = *m;
      }
    }
    if (auto tz = q->GetString("tz")) {
      if (auto zone = q->Zone(*tz); !zone.ok()) {
        q->ErrorAt("tz", zone.error().message());
        ok = false;
      } else {
        qh.zone = *zone;
      }
    }
    if (auto b = q->GetString("bypass")) {
      if (*b == "critical")
        qh.bypass_critical = true;
      else if (*b != "none") {
        q->ErrorAt("bypass", fmt::format("'{}' is not critical or none", *b),
                   "bypass: critical sends CRITICAL problems even in quiet hours");
        ok = false;
      }
    }
    if (ok) out.quiet_hours = qh;
  }
}

void ReadAlerting(config::ConfigNode& top, const std::vector<std::string>& channel_names,
                  AlertConfig& out) {
  const std::set<std::string> known(channel_names.begin(), channel_names.end());
  for (auto& [name, policy] : out.channels) {
    for (const auto& target : policy.escalate_to) {
      if (target == name)
        top.diagnostics().Add(
            policy.escalate_to_at,
            fmt::format("notify channel '{}': 'escalate_to': escalates to itself", name),
            "name another channel");
      else if (!known.count(target))
        top.diagnostics().Add(
            policy.escalate_to_at,
            fmt::format("notify channel '{}': 'escalate_to': no channel named '{}'", name, target),
            UnknownChannelHint(target, channel_names));
    }
  }
  if (auto a = top.GetMap("alerting")) {
    if (auto v = a->GetDuration("group_wait")) {
      if (*v < Duration(0) || *v > std::chrono::minutes(5))
        a->ErrorAt("group_wait", "must be between 0s and 5m",
                   "changes within this time are sent as one message; the default is 2s");
      else
        out.group_wait = *v;
    }
    if (auto v = a->GetInt("channel_failing_after", 1, 1000))
      out.channel_failing_after = static_cast<int>(*v);
  }
  if (auto routes = top.GetMapList("routes")) {
    for (auto& r : *routes) {
      Route route;
      route.tags = r.GetStringList("tags").value_or(std::vector<std::string>{});
      route.notify = r.GetStringList("notify").value_or(std::vector<std::string>{});
      bool ok = true;
      if (route.tags.empty()) {
        r.Error("a route needs tags", "e.g. {tags: [db], notify: [dba-mail]}");
        ok = false;
      }
      if (route.notify.empty()) {
        r.Error("a route needs notify: channel names", "e.g. {tags: [db], notify: [dba-mail]}");
        ok = false;
      }
      for (const auto& c : route.notify) {
        if (!known.count(c)) {
          r.ErrorAt("notify", fmt::format("no channel named '{}'", c),
                    UnknownChannelHint(c, channel_names));
          ok = false;
        }
      }
      if (ok) out.routes.push_back(std::move(route));
    }
  }
}

void ValidateAlertRouting(const NotifyConfig& notify, const std::vector<CheckConfig>& checks,
                          config::Diagnostics& diag) {
  std::vector<std::string> channel_names;
  for (const auto& c : notify.channels) channel_names.push_back(c->name());
  const std::set<std::string> channels(channel_names.begin(), channel_names.end());
  std::unordered_map<std::string, const CheckConfig*> by_name;
  std::vector<std::string> check_names;
  for (const auto& c : checks) {
    by_name[c.name] = &c;
    check_names.push_back(c.name);
  }
  bool deps_ok = true;
  for (const auto& c : checks) {
    for (const auto& ch : c.notify) {
      if (!channels.count(ch))
        diag.Add(c.notify_at,
                 fmt::format("check '{}': 'notify': no channel named '{}'", c.name, ch),
                 UnknownChannelHint(ch, channel_names));
    }
    for (const auto& d : c.depends_on) {
      if (d == c.name) {
        diag.Add(c.depends_on_at,
                 fmt::format("check '{}': 'depends_on': depends on itself", c.name),
                 "list the checks this one needs, e.g. the router or the database");
        deps_ok = false;
      } else if (!by_name.count(d)) {
        std::string best = config::ClosestMatch(d, check_names);
        diag.Add(c.depends_on_at,
                 fmt::format("check '{}': 'depends_on': no check named '{}'", c.name, d),
                 best.empty() ? "name a check defined under checks:"
                              : fmt::format("did you mean '{}'?", best));
        deps_ok = false;
      }
    }
  }
  if (!deps_ok) return;
  // Cycles: iterative depth-first search, colouring white/grey/black; a grey
  // node met again closes a cycle, reported once at the check that closes it.
  std::unordered_map<std::string, int> colour;  // 0 white, 1 grey, 2 black
  for (const auto& start : checks) {
    if (colour[start.name] != 0) continue;
    std::vector<std::pair<const CheckConfig*, size_t>> stack{{&start, 0}};
    colour[start.name] = 1;
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next == node->depends_on.size()) {
        colour[node->name] = 2;
        stack.pop_back();
        continue;
      }
      const std::string& dep = node->depends_on[next++];
      const CheckConfig* d = by_name[dep];
      if (colour[dep] == 1) {
        std::vector<std::string> path;
        bool on = false;
        for (const auto& [n, i] : stack) {
          if (n->name == dep) on = true;
          if (on) path.push_back(n->name);
        }
        path.push_back(dep);
        diag.Add(node->depends_on_at,
                 fmt::format("check '{}': 'depends_on': dependency cycle {}", node->name,
                             fmt::join(path, " -> ")),
                 "a check cannot (indirectly) depend on itself; remove one of these links");
      } else if (colour[dep] == 0) {
        colour[dep] = 1;
        stack.emplace_back(d, 0);
      }
    }
  }
}

}  // namespace mamori::notify
