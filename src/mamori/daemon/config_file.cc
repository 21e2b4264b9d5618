#include "mamori/daemon/config_file.h"

#include "mamori/daemon/builtin_channels.h"
#include "mamori/daemon/builtin_remedy_steps.h"
#include "mamori/host/unit_restart.h"
#include "mamori/logs/assistant_config.h"
#include "mamori/remedy/remedy.h"

#include <boost/asio/ip/address.hpp>

#include <fmt/format.h>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "mamori/config/node.h"
#include "mamori/daemon/default_config.h"
#include "mamori/util/units.h"
#include "mamori/web/http_server.h"

namespace mamori {

using config::ConfigNode;
using config::Diagnostics;

const CheckConfig* Config::FindCheck(std::string_view name) const {
  for (const auto& c : checks)
    if (c.name == name) return &c;
  return nullptr;
}

namespace {

void ReadThresholds(ConfigNode& n, Thresholds& t) {
  if (auto v = n.GetInt("failures_before_alert", 1, 1000))
    t.failures_before_alert = static_cast<int>(*v);
  if (auto v = n.GetInt("successes_before_recovery", 1, 1000))
    t.successes_before_recovery = static_cast<int>(*v);
}

void ReadDefaults(ConfigNode& n, CheckDefaults& d) {
  if (auto v = n.GetDuration("interval")) {
    if (*v < std::chrono::milliseconds(100))
      n.ErrorAt("interval", "must be at least 100ms");
    else
      d.interval = *v;
  }
  if (auto v = n.GetDuration("timeout")) {
    if (*v <= Duration(0))
      n.ErrorAt("timeout", "must be positive");
    else
      d.timeout = *v;
  }
  ReadThresholds(n, d.thresholds);
}

void ReadCheck(ConfigNode& n, const CheckDefaults& defaults, const ProbeRegistry& registry,
               std::set<std::string>& names, std::vector<CheckConfig>& out) {
  CheckConfig c;
  c.where = n.location();
  auto name = n.GetString("name");
  auto type = n.GetString("type");
  if (name && IsValidCheckName(*name)) n.set_what(fmt::format("check '{}'", *name));
  if (!name) {
    n.Error("missing 'name'", "give every check a unique name, e.g. name: root-disk");
  } else if (!IsValidCheckName(*name)) {
    n.ErrorAt("name", fmt::format("'{}' is not a valid check name", *name),
              "use letters, digits, '.', '_' and '-' only (at most 128)");
    name.reset();
  } else if (!names.insert(*name).second) {
    n.ErrorAt("name", fmt::format("duplicate check name '{}'", *name),
              "check names must be unique");
  }
  const std::string what = n.what();
  c.name = name.value_or("");
  c.description = n.GetString("description").value_or("");
  c.tags = n.GetStringList("tags").value_or(std::vector<std::string>{});
  c.notify = n.GetStringList("notify").value_or(std::vector<std::string>{});
  c.notify_at = n.ValueLocation("notify");
  c.depends_on = n.GetStringList("depends_on").value_or(std::vector<std::string>{});
  c.depends_on_at = n.ValueLocation("depends_on");
  c.interval = defaults.interval;
  c.timeout = defaults.timeout;
  c.thresholds = defaults.thresholds;
  const auto* typed = type ? registry.Find(*type) : nullptr;
  if (typed && typed->default_interval > Duration(0)) c.interval = typed->default_interval;
  if (auto v = n.GetDuration("interval")) {
    if (*v < std::chrono::milliseconds(100))
      n.ErrorAt("interval", "must be at least 100ms");
    else
      c.interval = *v;
  }
  if (typed && typed->default_timeout > Duration(0))
    c.timeout = std::min<Duration>(typed->default_timeout, c.interval);
  // A timeout longer than the interval is allowed when asked for (as Monit
  // and Gatus allow it): runs due while one is in flight are skipped and
  // counted. A default timeout, though, never outlasts the interval.
  if (auto v = n.GetDuration("timeout")) {
    if (*v <= Duration(0))
      n.ErrorAt("timeout", "must be positive");
    else
      c.timeout = *v;
  } else {
    c.timeout = std::min(c.timeout, c.interval);
  }
  ReadThresholds(n, c.thresholds);
  c.remedy = remedy::ReadPlan(n, BuiltinRemedySteps());
  // A disabled check is still validated, so enabling it later holds no surprise.
  const bool enabled = n.GetBool("enabled").value_or(true);
  if (!type) {
    n.Error("missing 'type'",
            "set type to one of: " + fmt::format("{}", fmt::join(registry.Types(), ", ")));
    n.KnowAll();
    return;
  }
  const auto* entry = registry.Find(*type);
  if (!entry) {
    std::string best = config::ClosestMatch(*type, registry.Types());
    n.ErrorAt("type", fmt::format("unknown check type '{}'", *type),
              best.empty() ? "known types: " + fmt::format("{}", fmt::join(registry.Types(), ", "))
                           : fmt::format("did you mean '{}'?", best));
    n.KnowAll();
    return;
  }
  c.type = *type;
  if (entry->settled) {
    if (!n.Has("failures_before_alert")) c.thresholds.failures_before_alert = 1;
    if (!n.Has("successes_before_recovery")) c.thresholds.successes_before_recovery = 1;
  }
  size_t before = n.diagnostics().size();
  std::unique_ptr<Probe> probe = entry->factory(n);
  // After the probe, so a bad `unit:` is reported once (by the probe).
  if (probe)
    c.restart = host::ReadRestartPlan(n, c.type);
  else
    n.Known("restart");
  if (!probe) {
    if (n.diagnostics().size() == before)
      n.Error("could not be set up", "see docs/CONFIGURATION.md for type " + c.type);
    return;
  }
  c.probe = std::move(probe);
  if (enabled) out.push_back(std::move(c));
}

}  // namespace

ConfigLoad LoadConfigText(const std::string& text, const std::string& file,
                          const ProbeRegistry& registry) {
  ConfigLoad result;
  Diagnostics& diag = result.diagnostics;
  auto parsed = config::Yaml::Parse(text);
  if (const auto* e = std::get_if<config::YamlError>(&parsed)) {
    config::AddYamlError(*e, file, &diag);
    return result;
  }
  const config::Yaml root = std::move(std::get<config::Yaml>(parsed));
  if (root.IsNull() || !root.IsDefined()) {
    diag.Add({file, 1, 1}, "the configuration is empty", "add a 'checks:' list; see docs/GUIDE.md");
    return result;
  }
  if (!root.IsMap()) {
    diag.Add(config::MarkLocation(root.Mark(), file), "the top level must be a mapping",
             "start with keys such as 'data_dir:' and 'checks:'");
    return result;
  }
  auto cfg = std::make_unique<Config>();
  cfg->file = file;
  ConfigNode top(root, "config", file, &diag);

  namespace fs = std::filesystem;
  fs::path base = fs::absolute(fs::path(file)).parent_path();
  std::string data_dir = top.GetString("data_dir").value_or("./mamori-data");
  fs::path dd(data_dir);
  cfg->data_dir = (dd.is_absolute() ? dd : (base / dd)).lexically_normal().string();

  if (auto d = top.GetMap("defaults")) ReadDefaults(*d, cfg->defaults);
  if (auto r = top.GetMap("retention")) {
    if (auto v = r->GetDuration("raw")) cfg->retention.raw = *v;
    if (auto v = r->GetDuration("rollups")) cfg->retention.rollups = *v;
    if (auto v = r->GetDuration("events")) cfg->retention.events = *v;
    if (auto v = r->GetDuration("compact_every")) {
      if (*v < std::chrono::seconds(1))
        r->ErrorAt("compact_every", "must be at least 1s", "e.g. compact_every: 1h");
      else
        cfg->retention.compact_every = *v;
    }
  }
  if (auto b = top.GetMap("after_boot")) {
    if (auto v = b->GetDuration("settle")) {
      if (*v > std::chrono::hours(1))
        b->ErrorAt("settle", "is longer than 1h",
                   "services come up within minutes; problems stay unreported while it runs");
      else
        cfg->after_boot_settle = *v;
    }
  }
  if (auto a = top.GetMap("assistant")) {
    // `mamori ask` reads it itself (logs::LoadAssistantConfig); read here too
    // so that `config validate` and the daemon report its mistakes.
    // Unknown keys are reported with the top level's (children included).
    logs::AssistantConfig assistant;
    logs::ReadAssistantConfig(*a, &assistant);
  }
  if (auto l = top.GetString("listen")) {
    if (auto parsed = web::ParseListenAddress(*l); !parsed.ok())
      top.ErrorAt("listen", parsed.error().message());
    else
      cfg->api.listen = *l;
  }
  if (auto a = top.GetMap("api")) {
    web::ReadServerLimits(*a, cfg->api);
    faces::ReadApiTokens(*a, file, cfg->faces);  // api.tokens: the faces' bearer tokens
    if (auto v = a->GetSize("max_body")) {
      if (*v > (10u << 20))
        a->ErrorAt("max_body", "is above 10MiB",
                   "ping bodies are job output tails; 100KB is plenty");
      else
        cfg->api.max_body = *v;
    }
    if (auto v = a->GetNumber("rate_limit")) {
      if (*v < 0)
        a->ErrorAt("rate_limit", "must not be negative",
                   "pings per second per source; 0 turns the limit off");
      else
        cfg->api.rate_limit = *v;
    }
    if (auto v = a->GetStringList("trusted_proxies")) {
      for (const auto& ip : *v) {
        boost::system::error_code ec;
        boost::asio::ip::make_address(ip, ec);
        if (ec)
          a->ErrorAt("trusted_proxies", fmt::format("'{}' is not an IP address", ip),
                     "list the proxies' addresses, e.g. [127.0.0.1, ::1]");
        else
          cfg->api.trusted_proxies.push_back(ip);
      }
    }
    if (auto v = a->GetString("read_key")) {
      if (v->size() < 16)
        a->ErrorAt("read_key", "is shorter than 16 characters",
                   "use a long random string, e.g. two `mamori heartbeat new` UUIDs");
      else
        cfg->api.read_key = *v;
    }
    if (auto v = a->GetString("ping_key")) {
      if (v->size() < 8 || v->size() > 100 ||
          v->find_first_not_of(
              "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
              std::string::npos)
        a->ErrorAt("ping_key", "must be 8-100 letters, digits, '-' or '_'",
                   "e.g. the output of `mamori heartbeat new --key`");
      else
        cfg->api.ping_key = *v;
    }
  }
  std::set<std::string> names;
  if (auto checks = top.GetMapList("checks")) {
    for (auto& c : *checks) ReadCheck(c, cfg->defaults, registry, names, cfg->checks);
  } else if (!top.Has("checks")) {
    // No checks of its own (a file that only sets notify: and maintenance:):
    // watch this machine with the auto-detected checks, as with no file at all.
    config::Yaml auto_checks;
    auto generated_yaml = config::Yaml::Parse(DefaultConfigYaml(cfg->data_dir));
    if (const auto* e = std::get_if<config::YamlError>(&generated_yaml))
      diag.Add(top.location(), "cannot build the auto-detected checks: " + e->message,
               "add a 'checks:' list; see docs/GUIDE.md");
    else
      auto_checks = std::get<config::Yaml>(generated_yaml);
    ConfigNode generated(auto_checks, "auto-detected", "<embedded default>", &diag);
    if (auto list = generated.GetMapList("checks"))
      for (auto& c : *list) ReadCheck(c, cfg->defaults, registry, names, cfg->checks);
  }
  // peers: outgoing heartbeats to another monitor. Each becomes an http check
  // named peer-<name>, so a peer that cannot be reached shows up (and alerts)
  // like any other failing check.
  if (auto peers = top.GetMapList("peers")) {
    for (auto& p : *peers) {
      auto pname = p.GetString("name");
      auto url = p.GetString("url");
      const Duration every = p.GetDuration("every").value_or(std::chrono::seconds(60));
      bool ok = true;
      if (!pname || !IsValidCheckName(*pname)) {
        p.Error("a peer needs a name (letters, digits, '.', '_', '-')", "e.g. name: backup-box");
        ok = false;
      }
      if (!url) {
        p.Error("a peer needs the url to ping",
                "e.g. url: http://10.0.0.2:8470/ping/<uuid of its heartbeat check>");
        ok = false;
      } else if (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0) {
        p.ErrorAt("url", fmt::format("'{}' is not an http:// or https:// URL", *url),
                  "write the full ping URL");
        ok = false;
      }
      if (every < std::chrono::seconds(1)) {
        p.ErrorAt("every", "must be at least 1s");
        ok = false;
      }
      if (!ok) continue;
      const std::string check_name = "peer-" + *pname;
      if (!names.insert(check_name).second) {
        p.ErrorAt("name", fmt::format("the peer's check name '{}' is already taken", check_name),
                  "rename the peer or the check");
        continue;
      }
      ConfigNode synth(config::Yaml::MapOfScalars({{"url", *url}}),
                       fmt::format("peer '{}'", *pname), file, &diag);
      const auto* http = registry.Find("http");
      std::unique_ptr<Probe> probe = http ? http->factory(synth) : nullptr;
      if (!probe) continue;
      CheckConfig c;
      c.name = check_name;
      c.type = "http";
      c.description = "outgoing heartbeat to " + *url;
      c.where = p.location();
      c.interval = every;
      c.timeout = std::min<Duration>(every, std::chrono::seconds(10));
      c.thresholds = cfg->defaults.thresholds;
      c.probe = std::move(probe);
      cfg->checks.push_back(std::move(c));
    }
  }
  notify::ReadNotify(top, cfg->notify, BuiltinChannels());
  notify::ValidateAlertRouting(cfg->notify, cfg->checks, diag);
  ReadMaintenance(top, cfg->checks, cfg->maintenance);
  faces::ReadStatusPage(top, cfg->checks, cfg->faces);
  ReadMetricsConfig(top, base, cfg->metrics);
  if (cfg->api.listen.empty()) {
    for (const auto& c : cfg->checks) {
      if (c.type != "heartbeat") continue;
      diag.Add(c.where,
               fmt::format("check '{}': heartbeats need the ping API, which is off", c.name),
               "add listen: 127.0.0.1:8470 (or another address) at the top level");
      break;
    }
  }
  top.CheckUnknownKeys();
  if (diag.empty()) result.config = std::move(cfg);
  return result;
}

ConfigLoad LoadConfigFile(const std::string& path, const ProbeRegistry& registry) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ConfigLoad r;
    r.diagnostics.Add({path, 0, 0},
                      fmt::format("cannot read the configuration: {}", std::strerror(errno)),
                      "check the path given with -c");
    return r;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  constexpr size_t kMaxConfig = 16 << 20;
  if (ss.str().size() > kMaxConfig) {
    ConfigLoad r;
    r.diagnostics.Add({path, 0, 0}, "the configuration is larger than 16 MiB",
                      "split it or remove unused checks");
    return r;
  }
  return LoadConfigText(ss.str(), path, registry);
}

}  // namespace mamori
