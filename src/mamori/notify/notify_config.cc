#include "mamori/notify/notify_config.h"

#include <fmt/format.h>
#include <unistd.h>

#include <set>

#include "mamori/util/units.h"

namespace mamori::notify {

const Channel* NotifyConfig::Find(std::string_view name) const {
  for (const auto& c : channels)
    if (c->name() == name) return c.get();
  return nullptr;
}

std::shared_ptr<Channel> NotifyConfig::FindShared(std::string_view name) const {
  for (const auto& c : channels)
    if (c->name() == name) return c;
  return nullptr;
}

std::string LocalHostName() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

namespace {

bool ValidChannelName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

void ReadNotify(config::ConfigNode& top, NotifyConfig& out, const ChannelRegistry& types) {
  ChannelContext ctx;
  ctx.host = LocalHostName();
  if (auto o = top.GetMap("outbox")) {
    if (auto v = o->GetDuration("retry_first")) {
      if (*v < std::chrono::seconds(1) || *v > std::chrono::hours(1))
        o->ErrorAt("retry_first", "must be between 1s and 1h", "the default is 10s");
      else
        out.outbox.retry_first = *v;
    }
    if (auto v = o->GetDuration("retry_max")) {
      if (*v < std::chrono::seconds(1) || *v > std::chrono::hours(24))
        o->ErrorAt("retry_max", "must be between 1s and 24h", "the default is 30m");
      else
        out.outbox.retry_max = *v;
    }
    if (auto v = o->GetDuration("expire_after")) {
      if (*v < std::chrono::minutes(1) || *v > std::chrono::hours(24 * 30))
        o->ErrorAt("expire_after", "must be between 1m and 30d",
                   "how long a notification is retried before it is given up; 24h");
      else
        out.outbox.expire_after = *v;
    }
    if (out.outbox.retry_max < out.outbox.retry_first)
      o->Error("retry_max is shorter than retry_first",
               "retries start at retry_first and "
               "double up to retry_max");
  }
  auto list = top.GetMapList("notify");
  if (!list) {
    ReadAlerting(top, {}, out.alerts);
    return;
  }
  std::set<std::string> names;
  for (auto& n : *list) {
    auto name = n.GetString("name");
    auto type = n.GetString("type");
    if (!name) {
      n.Error("missing 'name'", "give every channel a unique name, e.g. name: ops-mail");
    } else if (!ValidChannelName(*name)) {
      n.ErrorAt("name", fmt::format("'{}' is not a valid channel name", *name),
                "use letters, digits, '.', '_' and '-' only (at most 64)");
      name.reset();
    } else {
      n.set_what(fmt::format("notify channel '{}'", *name));
      if (!names.insert(*name).second) {
        n.ErrorAt("name", fmt::format("duplicate channel name '{}'", *name),
                  "channel names must be unique");
        name.reset();
      }
    }
    if (!type) {
      n.Error("missing 'type'",
              fmt::format("set type to one of: {}", fmt::join(types.Names(), ", ")));
      n.KnowAll();
      continue;
    }
    const ChannelType* entry = types.Find(*type);
    if (!entry) {
      std::string best = config::ClosestMatch(*type, types.Names());
      n.ErrorAt("type", fmt::format("unknown channel type '{}'", *type),
                best.empty() ? fmt::format("known types: {}", fmt::join(types.Names(), ", "))
                             : fmt::format("did you mean '{}'?", best));
      n.KnowAll();
      continue;
    }
    ReadChannelPolicy(n, out.alerts.channels[name.value_or("")]);
    const size_t before = n.diagnostics().size();
    std::unique_ptr<Channel> ch = entry->factory(name.value_or(""), n, ctx);
    if (!ch) {
      if (n.diagnostics().size() == before) n.Error("could not be set up", "see docs/notify.md");
      continue;
    }
    if (name) out.channels.push_back(std::move(ch));
  }
  std::vector<std::string> channel_names;
  for (const auto& c : out.channels) channel_names.push_back(c->name());
  ReadAlerting(top, channel_names, out.alerts);
  if (out.channels.size() > 64)
    top.ErrorAt("notify", "more than 64 channels",
                "route to fewer channels; use lists of "
                "recipients instead");
}

}  // namespace mamori::notify
