// Channel type `alertmanager`: posts alerts to Prometheus Alertmanager's API
// v2 (POST <url>/api/v2/alerts), so fleets route, silence and group mamori's
// alerts with the rest of their Prometheus alerts.
//
// One alert per notification item. Labels: alertname (default MamoriCheck),
// check, instance (the host), severity (warning, critical or unknown), the
// item's labels and the channel's static labels. A firing alert has startsAt =
// when the state began and endsAt = now + ttl (Alertmanager resolves an alert
// whose endsAt passed, so a sender that died does not leave it firing
// forever; reminders must come more often than ttl). Because severity is a
// label, a change WARNING -> CRITICAL is a different alert: the other
// severities of the same check are sent as resolved at the same time, and a
// recovery resolves all three.
//
// `urls: [...]` names the members of an Alertmanager cluster: like
// Prometheus, mamori sends every alert to each of them (they deduplicate
// among themselves), one after the other, each within `timeout`.
//
// Delivered means a 2xx answer from at least one of them; the answer text
// says which ones failed. Thread-safe (immutable; curl handle per call).
#include <fmt/format.h>

#include <fmt/ranges.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "mamori/notify/channel.h"
#include "mamori/notify/http_post.h"
#include "mamori/notify/webhook_channel.h"

namespace mamori::notify {
namespace {

using nlohmann::json;

struct AlertmanagerOptions {
  std::vector<std::string> urls;  // bases, e.g. http://127.0.0.1:9093
  std::string alertname = "MamoriCheck";
  std::vector<std::pair<std::string, std::string>> labels;
  Duration ttl = std::chrono::hours(24);
  Duration timeout = std::chrono::seconds(10);
  bool verify_tls = true;
  std::string ca_file;
};

bool ValidLabelName(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return s.rfind("__", 0) != 0;
}

// Tag names are free text; label names are not.
std::string LabelName(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 100)) {
    const bool keep =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9');
    out.push_back(keep ? c : '_');
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out.insert(out.begin(), '_');
  return out;
}

// The API base of a configured URL (a trailing /api/v2/alerts is dropped).
std::optional<std::string> AlertmanagerBase(std::string url) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) return std::nullopt;
  while (!url.empty() && url.back() == '/') url.pop_back();
  const std::string suffix = "/api/v2/alerts";
  if (url.size() > suffix.size() &&
      url.compare(url.size() - suffix.size(), suffix.size(), suffix) == 0)
    url.resize(url.size() - suffix.size());
  return url;
}

std::string_view SeverityLabel(CheckStatus s) {
  switch (s) {
    case CheckStatus::kWarning:
      return "warning";
    case CheckStatus::kUnknown:
      return "unknown";
    default:
      return "critical";
  }
}

class AlertmanagerChannel final : public Channel {
 public:
  AlertmanagerChannel(std::string name, AlertmanagerOptions o)
      : Channel(std::move(name), "alertmanager"), o_(std::move(o)) {}

  std::string Describe() const override {
    std::vector<std::string> shown;
    for (const auto& u : o_.urls) shown.push_back(RedactUrl(u));
    return fmt::format("alertmanager {}", fmt::join(shown, ", "));
  }

  Result<std::string> Deliver(const Notification& n) override {
    const WallTime now = std::max(std::chrono::system_clock::now(), n.time);
    json alerts = json::array();
    auto base_labels = [&](const Item* it) {
      json l = json::object();
      for (const auto& [k, v] : o_.labels) l[k] = v;
      if (it)
        for (const auto& [k, v] : it->labels) l[LabelName(k)] = v;
      l["alertname"] = it ? o_.alertname : std::string("MamoriTest");
      if (it) l["check"] = it->check;
      if (!n.host.empty()) l["instance"] = n.host;
      return l;
    };
    auto annotations = [&](const Item& it) {
      json a = json::object();
      a["summary"] = it.summary;
      if (!it.details.empty()) a["description"] = CapUtf8(it.details, 4000);
      a["status"] = std::string(StatusName(it.to));
      a["was"] = std::string(StatusName(it.from));
      a["mamori_notification"] = n.id;
      a["mamori_kind"] = std::string(KindName(n.kind));
      return a;
    };
    if (n.items.empty()) {
      json l = base_labels(nullptr);
      alerts.push_back({{"labels", l},
                        {"annotations", {{"summary", Title(n)}, {"mamori_notification", n.id}}},
                        {"startsAt", Rfc3339(now)},
                        {"endsAt", Rfc3339(now + std::chrono::minutes(5))}});
    }
    for (const auto& it : n.items) {
      for (CheckStatus sev :
           {CheckStatus::kWarning, CheckStatus::kCritical, CheckStatus::kUnknown}) {
        json l = base_labels(&it);
        l["severity"] = std::string(SeverityLabel(sev));
        json a;
        a["labels"] = std::move(l);
        a["annotations"] = annotations(it);
        if (it.firing() && it.to == sev) {
          a["startsAt"] = Rfc3339(it.since);
          a["endsAt"] = Rfc3339(now + o_.ttl);
        } else {
          // Resolved: ended when the check left this severity. All other
          // severities are resolved, not just `from`, because an earlier
          // notification may have been lost; Alertmanager ignores a resolved
          // alert it never saw firing.
          const WallTime began = it.previous_since.value_or(it.since);
          a["startsAt"] = Rfc3339(std::min(began, it.since));
          a["endsAt"] = Rfc3339(it.since);
        }
        alerts.push_back(std::move(a));
      }
    }
    return PostToAll(alerts.dump(-1, ' ', false, json::error_handler_t::replace));
  }

 private:
  // Every member gets the alerts; one that accepts is enough.
  Result<std::string> PostToAll(const std::string& body) const {
    std::vector<std::string> accepted, failed;
    for (const auto& url : o_.urls) {
      PostRequest req;
      req.url = url + "/api/v2/alerts";
      req.body = body;
      req.headers.emplace_back("Content-Type", "application/json");
      req.timeout = o_.timeout;
      req.verify_tls = o_.verify_tls;
      req.ca_file = o_.ca_file;
      auto r = HttpPost(req);
      const std::string who = RedactUrl(url);
      if (!r.ok())
        failed.push_back(fmt::format("{} failed: {}", who, r.error().message()));
      else if (r->status < 200 || r->status > 299)
        failed.push_back(fmt::format("{} answered {}", who, DescribeHttpAnswer(*r)));
      else
        accepted.push_back(o_.urls.size() == 1
                               ? DescribeHttpAnswer(*r)
                               : fmt::format("{}: {}", who, DescribeHttpAnswer(*r)));
    }
    if (accepted.empty()) return Error(fmt::format("alertmanager {}", fmt::join(failed, "; ")));
    if (failed.empty()) return fmt::format("{}", fmt::join(accepted, "; "));
    return fmt::format("{}; not accepted by {} of {}: {}", fmt::join(accepted, "; "), failed.size(),
                       o_.urls.size(), fmt::join(failed, "; "));
  }

  AlertmanagerOptions o_;
};

}  // namespace

std::unique_ptr<Channel> MakeAlertmanagerChannel(const std::string& name, config::ConfigNode& node,
                                                 const ChannelContext&) {
  AlertmanagerOptions o;
  bool ok = true;
  std::vector<std::string> given;
  if (auto url = node.GetString("url")) given.push_back(*url);
  if (auto urls = node.GetStringList("urls")) given.insert(given.end(), urls->begin(), urls->end());
  if (given.empty()) {
    node.Error("missing 'url'",
               "give Alertmanager's base URL, e.g. url: http://127.0.0.1:9093, "
               "or a cluster's: urls: [http://am1:9093, http://am2:9093]");
    ok = false;
  }
  for (const auto& u : given) {
    if (auto base = AlertmanagerBase(u)) {
      if (std::find(o.urls.begin(), o.urls.end(), *base) == o.urls.end()) o.urls.push_back(*base);
    } else {
      node.ErrorAt(node.Has("urls") ? "urls" : "url",
                   fmt::format("'{}' is not an http:// or https:// URL", u),
                   "e.g. http://127.0.0.1:9093");
      ok = false;
    }
  }
  if (auto a = node.GetString("alertname")) {
    if (a->empty()) {
      node.ErrorAt("alertname", "must not be empty");
      ok = false;
    } else {
      o.alertname = *a;
    }
  }
  node.Known("labels");
  if (node.Has("labels")) {
    const config::Yaml l = node.yaml()["labels"];
    if (!l.IsMap()) {
      node.ErrorAt("labels", "must be a mapping of label names to values",
                   "e.g. labels: {team: ops, env: prod}");
      ok = false;
    } else {
      for (const auto& kv : l) {
        const std::string k = kv.first.Scalar();
        if (!ValidLabelName(k) || !kv.second.IsScalar()) {
          node.ErrorAt("labels", fmt::format("'{}' is not a valid label", k),
                       "label names are letters, digits and '_', not starting with a digit "
                       "or '__'; values are text");
          ok = false;
          continue;
        }
        if (k == "alertname" || k == "check" || k == "severity") {
          node.ErrorAt("labels", fmt::format("label '{}' is set by mamori", k),
                       k == "alertname" ? "use the alertname: key" : "remove it");
          ok = false;
          continue;
        }
        o.labels.emplace_back(k, kv.second.Scalar());
      }
    }
  }
  if (auto t = node.GetDuration("ttl")) {
    if (*t < std::chrono::minutes(5) || *t > std::chrono::hours(24 * 30)) {
      node.ErrorAt("ttl", "must be between 5m and 30d",
                   "how long Alertmanager keeps a firing alert without hearing again; 24h");
      ok = false;
    } else {
      o.ttl = *t;
    }
  }
  if (auto t = node.GetDuration("timeout")) {
    if (*t < std::chrono::seconds(1) || *t > std::chrono::minutes(5)) {
      node.ErrorAt("timeout", "must be between 1s and 5m", "the default is 10s");
      ok = false;
    } else {
      o.timeout = *t;
    }
  }
  o.verify_tls = node.GetBool("verify_tls").value_or(true);
  o.ca_file = node.GetString("ca_file").value_or("");
  if (!ok) return nullptr;
  return std::make_unique<AlertmanagerChannel>(name, std::move(o));
}

}  // namespace mamori::notify

namespace mamori::channels::alertmanager {

void Register(notify::ChannelRegistry& registry) {
  registry.Add({"alertmanager", "Prometheus Alertmanager API v2", notify::MakeAlertmanagerChannel});
}

}  // namespace mamori::channels::alertmanager
