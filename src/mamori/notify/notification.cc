#include "mamori/notify/notification.h"

#include <fmt/format.h>
#include <time.h>

#include <cstdio>
#include <random>
#include <sstream>

#include "mamori/util/units.h"

namespace mamori::notify {

using nlohmann::json;

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kProblem:
      return "problem";
    case Kind::kRecovery:
      return "recovery";
    case Kind::kReminder:
      return "reminder";
    case Kind::kFlapping:
      return "flapping";
    case Kind::kTest:
      return "test";
    case Kind::kAfterMaintenance:
      return "after-maintenance";
    case Kind::kAfterBoot:
      return "after-boot";
  }
  return "problem";
}

std::optional<Kind> ParseKind(std::string_view name) {
  for (Kind k : {Kind::kProblem, Kind::kRecovery, Kind::kReminder, Kind::kFlapping, Kind::kTest,
                 Kind::kAfterMaintenance, Kind::kAfterBoot})
    if (KindName(k) == name) return k;
  return std::nullopt;
}

std::string NewNotificationId() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  uint64_t hi = gen(), lo = gen();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff,
                     hi & 0xffff, lo >> 48, lo & 0xffffffffffffULL);
}

std::string CapUtf8(std::string s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t cut = max_bytes > 3 ? max_bytes - 3 : 0;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s + "...";
}

void Clamp(Notification& n) {
  if (n.items.size() > kMaxItems) n.items.resize(kMaxItems);
  n.host = CapUtf8(std::move(n.host), 255);
  for (auto& it : n.items) {
    it.check = CapUtf8(std::move(it.check), 255);
    it.summary = CapUtf8(std::move(it.summary), kMaxSummaryBytes);
    it.details = CapUtf8(std::move(it.details), kMaxDetailsBytes);
    if (it.observations.size() > kMaxObservations) it.observations.resize(kMaxObservations);
    for (auto& o : it.observations) o.summary = CapUtf8(std::move(o.summary), kMaxSummaryBytes);
    if (it.labels.size() > 64) it.labels.resize(64);
  }
}

std::string FormatWhen(WallTime t) {
  time_t secs = std::chrono::system_clock::to_time_t(t);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string Rfc3339(WallTime t) {
  const int64_t ms = ToUnixMillis(t);
  time_t secs = static_cast<time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  const int frac = static_cast<int>(ms - static_cast<int64_t>(secs) * 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, frac);
}

Result<WallTime> ParseRfc3339(std::string_view s) {
  struct tm tm {};
  int ms = 0;
  const std::string str(s.substr(0, 64));
  int consumed = 0;
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    return Error(fmt::format("'{}' is not an RFC 3339 UTC time", str));
  std::string_view rest = std::string_view(str).substr(static_cast<size_t>(consumed));
  if (!rest.empty() && rest[0] == '.') {
    rest.remove_prefix(1);
    int digits = 0;
    while (!rest.empty() && rest[0] >= '0' && rest[0] <= '9') {
      if (digits < 3) ms = ms * 10 + (rest[0] - '0');
      ++digits;
      rest.remove_prefix(1);
    }
    for (int d = digits; d < 3; ++d) ms *= 10;
  }
  if (rest != "Z") return Error(fmt::format("'{}' is not an RFC 3339 UTC time", str));
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const time_t secs = timegm(&tm);
  return FromUnixMillis(static_cast<int64_t>(secs) * 1000 + ms);
}

namespace {

std::string Label(CheckStatus s) { return std::string(StatusLabel(s)); }

std::string ItemTitle(const Item& it) {
  if (!it.firing()) return fmt::format("{} is OK (was {})", it.check, Label(it.from));
  return fmt::format("{} {}", it.check, Label(it.to));
}

std::string Since(WallTime since, WallTime now) {
  std::string s = FormatWhen(since);
  if (now > since)
    s += fmt::format(" ({} ago)",
                     FormatDuration(std::chrono::duration_cast<std::chrono::seconds>(now - since)));
  return s;
}

// ---- after maintenance: one summary of every check a window covered ----
// The window's name travels as the label "maintenance" of each item (labels
// survive the outbox); items that are still failing come first.

std::string MaintenanceName(const Notification& n) {
  for (const auto& it : n.items)
    for (const auto& [k, v] : it.labels)
      if (k == "maintenance") return v;
  return "";
}

std::vector<const Item*> FailingFirst(const Notification& n) {
  std::vector<const Item*> out;
  for (const auto& it : n.items)
    if (it.firing()) out.push_back(&it);
  for (const auto& it : n.items)
    if (!it.firing()) out.push_back(&it);
  return out;
}

std::string AfterMaintenanceTitle(const Notification& n) {
  size_t failing = 0;
  for (const auto& it : n.items) failing += it.firing() ? 1 : 0;
  const std::string name = MaintenanceName(n);
  std::string t = name.empty() ? "after maintenance: " : "after maintenance " + name + ": ";
  if (failing == 0) return t + fmt::format("all {} fine", n.items.size());
  t += fmt::format("{} still failing, {} fine", failing, n.items.size() - failing);
  return t;
}

// ---- after boot: what came back and what did not ----
// The boot's description ("booted (boot 1a2b3c4d); previous boot ... shut
// down cleanly") travels as the label "boot" of each item.

std::string BootDescription(const Notification& n) {
  for (const auto& it : n.items)
    for (const auto& [k, v] : it.labels)
      if (k == "boot") return v;
  return "";
}

std::string AfterBootTitle(const Notification& n) {
  size_t failing = 0;
  for (const auto& it : n.items) failing += it.firing() ? 1 : 0;
  if (failing == 0) return fmt::format("after boot: all {} back", n.items.size());
  return fmt::format("after boot: {} not back, {} back", failing, n.items.size() - failing);
}

// One summary after an interruption (a maintenance window, a boot): the
// failing items with their heading, then the fine ones, then the details.
std::string SummaryBody(const Notification& n, std::string intro, std::string_view failing_title,
                        std::string_view fine_title) {
  std::string b = std::move(intro);
  const auto items = FailingFirst(n);
  size_t failing = 0;
  for (const Item* it : items) failing += it->firing() ? 1 : 0;
  auto line = [](const Item& it) {
    return fmt::format("  {:<24} {:<8} {}\n", it.check, Label(it.to), it.summary);
  };
  if (failing > 0) {
    b += fmt::format("\n{} ({}):\n", failing_title, failing);
    for (size_t i = 0; i < failing; ++i) b += line(*items[i]);
  }
  if (failing < items.size()) {
    b += fmt::format("\n{} ({}):\n", fine_title, items.size() - failing);
    for (size_t i = failing; i < items.size(); ++i) b += line(*items[i]);
  }
  for (size_t i = 0; i < failing; ++i) {
    const Item& it = *items[i];
    if (it.details.empty()) continue;
    b += fmt::format("\nDetails of {}:\n{}", it.check, it.details);
    if (it.details.back() != '\n') b += "\n";
  }
  b += fmt::format("\n-- \nmamori on {}, {}\nnotification {} ({})\n",
                   n.host.empty() ? "(unknown host)" : n.host, FormatWhen(n.time), n.id,
                   KindName(n.kind));
  return b;
}

// What the learned baseline expected and is not there: the failing
// `baseline` checks' details, one missing thing a line, as a section of its
// own (nobody wrote a check for any of them, so they are the news a reader
// would otherwise miss among the checks). Those items are taken out of `n`.
std::string MissingFromBaseline(Notification& n) {
  std::vector<std::string> lines;
  // WARNING is what the baseline check says of missing items; its UNKNOWN
  // (an unreadable baseline) stays a row like any other check's.
  auto is_missing = [](const Item& it) {
    return it.type == "baseline" && it.to == CheckStatus::kWarning;
  };
  for (const auto& it : n.items) {
    if (!is_missing(it)) continue;
    std::istringstream in(it.details.empty() ? it.summary : it.details);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) lines.push_back(line);
  }
  std::erase_if(n.items, is_missing);
  if (lines.empty()) return "";
  std::string out = fmt::format("\nMissing from the baseline ({}):\n", lines.size());
  for (const auto& l : lines) out += "  " + l + "\n";
  return out;
}

std::string AfterBootBody(const Notification& n) {
  const std::string boot = BootDescription(n);
  std::string intro = boot.empty() ? "The host booted.\n" : "The host " + boot + ".\n";
  intro += "Every check ran again once the boot had settled.\n";
  Notification rest = n;
  intro += MissingFromBaseline(rest);
  return SummaryBody(rest, std::move(intro), "Not back", "Back");
}

std::string AfterMaintenanceBody(const Notification& n) {
  const std::string name = MaintenanceName(n);
  return SummaryBody(
      n,
      fmt::format("Maintenance{} is over. Every check it covered was run again right away.\n",
                  name.empty() ? "" : " " + name),
      "Still failing", "Fine");
}

}  // namespace

std::string Title(const Notification& n) {
  if (n.kind == Kind::kAfterMaintenance) return AfterMaintenanceTitle(n);
  if (n.kind == Kind::kAfterBoot) return AfterBootTitle(n);
  if (n.kind == Kind::kTest && n.items.empty())
    return fmt::format("test notification from {}", n.host.empty() ? "mamori" : n.host);
  if (n.items.size() == 1) {
    const Item& it = n.items[0];
    std::string prefix;
    switch (n.kind) {
      case Kind::kRecovery:
        prefix = "RECOVERED";
        break;
      case Kind::kReminder:
        prefix = "STILL " + Label(it.to);
        break;
      case Kind::kFlapping:
        prefix = "FLAPPING";
        break;
      case Kind::kTest:
        prefix = "TEST";
        break;
      case Kind::kAfterMaintenance:
        prefix = "AFTER MAINTENANCE " + Label(it.to);
        break;
      case Kind::kAfterBoot:
        prefix = "AFTER BOOT " + Label(it.to);
        break;
      case Kind::kProblem:
        prefix = it.firing() ? Label(it.to) : "RECOVERED";
        break;
    }
    if (!it.firing()) {
      std::string was = Label(it.from);
      if (it.previous_since && it.since > *it.previous_since)
        was += " for " + FormatDuration(std::chrono::duration_cast<std::chrono::seconds>(
                             it.since - *it.previous_since));
      return fmt::format("{}: {} is OK (was {})", prefix, it.check, was);
    }
    return fmt::format("{}: {} (was {})", prefix, it.check, Label(it.from));
  }
  std::string t = fmt::format("{} changes", n.items.size());
  if (n.kind == Kind::kAfterMaintenance) t = "after maintenance, " + t;
  if (n.kind == Kind::kReminder) t = fmt::format("{} checks still failing", n.items.size());
  t += ": ";
  for (size_t i = 0; i < n.items.size() && i < 5; ++i) {
    if (i) t += ", ";
    t += n.items[i].check + " " + Label(n.items[i].to);
  }
  if (n.items.size() > 5) t += ", ...";
  return t;
}

std::string TextBody(const Notification& n) {
  if (n.kind == Kind::kAfterMaintenance) return AfterMaintenanceBody(n);
  if (n.kind == Kind::kAfterBoot) return AfterBootBody(n);
  std::string b;
  if (n.kind == Kind::kTest)
    b += "This is a test notification from mamori. If you read this, the channel works.\n\n";
  for (size_t i = 0; i < n.items.size(); ++i) {
    const Item& it = n.items[i];
    if (i) b += "\n----------------------------------------\n\n";
    b += ItemTitle(it) + "\n";
    if (it.firing()) {
      b += fmt::format("State:   {} (was {})\n", Label(it.to), Label(it.from));
      b += fmt::format("Since:   {}\n", Since(it.since, n.time));
      b += fmt::format("What:    {}\n", it.summary);
    } else {
      b += fmt::format("State:   OK (was {})\n", Label(it.from));
      if (it.previous_since)
        b += fmt::format("Failing: since {}\n", FormatWhen(*it.previous_since));
      b += fmt::format("OK since {}\n", FormatWhen(it.since));
      b += fmt::format("Now:     {}\n", it.summary);
    }
    if (!it.type.empty()) b += fmt::format("Check:   {} ({})\n", it.check, it.type);
    if (!it.details.empty()) {
      b += "\nDetails:\n";
      b += it.details;
      if (it.details.back() != '\n') b += "\n";
    }
    if (!it.observations.empty()) {
      b += "\nLast observations (newest first):\n";
      for (const auto& o : it.observations)
        b += fmt::format("  {}  {:<8}  {}\n", FormatWhen(o.time), Label(o.status), o.summary);
    }
  }
  b += fmt::format("\n-- \nmamori on {}, {}\nnotification {} ({})\n",
                   n.host.empty() ? "(unknown host)" : n.host, FormatWhen(n.time), n.id,
                   KindName(n.kind));
  return b;
}

json ToJson(const Notification& n, bool rendered) {
  json j;
  j["id"] = n.id;
  j["kind"] = std::string(KindName(n.kind));
  j["time"] = Rfc3339(n.time);
  j["host"] = n.host;
  if (rendered) {
    j["title"] = Title(n);
    j["text"] = TextBody(n);
  }
  json items = json::array();
  for (const auto& it : n.items) {
    json ji;
    ji["check"] = it.check;
    ji["type"] = it.type;
    ji["from"] = std::string(StatusName(it.from));
    ji["to"] = std::string(StatusName(it.to));
    ji["summary"] = it.summary;
    ji["details"] = it.details;
    ji["since"] = Rfc3339(it.since);
    if (it.previous_since) ji["previous_since"] = Rfc3339(*it.previous_since);
    json obs = json::array();
    for (const auto& o : it.observations)
      obs.push_back({{"time", Rfc3339(o.time)},
                     {"status", std::string(StatusName(o.status))},
                     {"summary", o.summary}});
    ji["observations"] = std::move(obs);
    json labels = json::object();
    for (const auto& [k, v] : it.labels) labels[k] = v;
    ji["labels"] = std::move(labels);
    items.push_back(std::move(ji));
  }
  j["items"] = std::move(items);
  return j;
}

namespace {

Result<std::string> Str(const json& j, const char* key, bool required = true) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return Error(fmt::format("missing \"{}\"", key));
    return std::string();
  }
  if (!it->is_string()) return Error(fmt::format("\"{}\" is not a string", key));
  return it->get<std::string>();
}

Result<CheckStatus> StatusField(const json& j, const char* key) {
  auto s = Str(j, key);
  if (!s.ok()) return s.error();
  auto st = ParseStatus(*s);
  if (!st) return Error(fmt::format("\"{}\": unknown status '{}'", key, *s));
  return *st;
}

Result<WallTime> TimeField(const json& j, const char* key) {
  auto s = Str(j, key);
  if (!s.ok()) return s.error();
  return ParseRfc3339(*s);
}

}  // namespace

Result<Notification> FromJson(const json& j) {
  if (!j.is_object()) return Error("a notification must be a JSON object");
  Notification n;
  auto id = Str(j, "id");
  if (!id.ok()) return id.error();
  n.id = *id;
  auto kind = Str(j, "kind");
  if (!kind.ok()) return kind.error();
  auto k = ParseKind(*kind);
  if (!k) return Error(fmt::format("unknown kind '{}'", *kind));
  n.kind = *k;
  auto t = TimeField(j, "time");
  if (!t.ok()) return t.error();
  n.time = *t;
  auto host = Str(j, "host", false);
  if (!host.ok()) return host.error();
  n.host = *host;
  auto items = j.find("items");
  if (items == j.end() || !items->is_array()) return Error("missing \"items\" list");
  for (const auto& ji : *items) {
    if (!ji.is_object()) return Error("an item is not a JSON object");
    Item it;
    auto check = Str(ji, "check");
    if (!check.ok()) return check.error();
    it.check = *check;
    if (auto v = Str(ji, "type", false); v.ok()) it.type = *v;
    auto from = StatusField(ji, "from");
    if (!from.ok()) return from.error();
    auto to = StatusField(ji, "to");
    if (!to.ok()) return to.error();
    it.from = *from;
    it.to = *to;
    if (auto v = Str(ji, "summary", false); v.ok()) it.summary = *v;
    if (auto v = Str(ji, "details", false); v.ok()) it.details = *v;
    auto since = TimeField(ji, "since");
    if (!since.ok()) return since.error();
    it.since = *since;
    if (ji.contains("previous_since")) {
      auto ps = TimeField(ji, "previous_since");
      if (!ps.ok()) return ps.error();
      it.previous_since = *ps;
    }
    if (auto obs = ji.find("observations"); obs != ji.end() && obs->is_array()) {
      for (const auto& jo : *obs) {
        if (!jo.is_object()) continue;
        ObservationLine o;
        auto ot = TimeField(jo, "time");
        auto os = StatusField(jo, "status");
        if (!ot.ok() || !os.ok()) continue;
        o.time = *ot;
        o.status = *os;
        if (auto v = Str(jo, "summary", false); v.ok()) o.summary = *v;
        it.observations.push_back(std::move(o));
      }
    }
    if (auto labels = ji.find("labels"); labels != ji.end() && labels->is_object()) {
      for (const auto& [key, value] : labels->items())
        if (value.is_string()) it.labels.emplace_back(key, value.get<std::string>());
    }
    n.items.push_back(std::move(it));
  }
  return n;
}

}  // namespace mamori::notify
