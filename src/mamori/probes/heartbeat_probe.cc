#include "mamori/probes/heartbeat_probe.h"

#include <fmt/format.h>

#include "mamori/heartbeat/ping.h"
#include "mamori/probes/registry.h"
#include "mamori/util/units.h"

namespace mamori::probes::heartbeat {

namespace hb = mamori::heartbeat;

void HeartbeatProbe::Start(ProbeEnv& env, MonoTime, ProbeDone done) {
  if (!env.heartbeats) {
    done(Observation::Make(CheckStatus::kUnknown,
                           "pings are known only to the daemon (mamori run) and its store"));
    return;
  }
  const WallTime now = env.clock.Now();
  env.heartbeats->Expect(check_, now);
  auto record = env.heartbeats->Get(check_);
  done(hb::Evaluate(schedule_, record.value_or(hb::HeartbeatRecord{}), now));
}

namespace {

std::unique_ptr<Probe> Make(config::ConfigNode& n) {
  bool ok = true;
  const std::string name = n.GetString("name").value_or("");
  std::string uuid, slug;
  if (auto u = n.GetString("uuid")) {
    if (!hb::IsUuid(*u)) {
      n.ErrorAt(
          "uuid", fmt::format("'{}' is not a UUID", *u),
          fmt::format(
              "write 8-4-4-4-12 hex digits, e.g. uuid: {} (fresh from `mamori heartbeat new`)",
              hb::NewUuid()));
      ok = false;
    } else {
      uuid = *u;
      for (char& c : uuid) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (auto s = n.GetString("slug")) {
    if (!hb::IsSlug(*s)) {
      n.ErrorAt("slug", fmt::format("'{}' is not a valid slug", *s),
                "use lower case letters, digits, '-' and '_' (at most 100)");
      ok = false;
    } else {
      slug = *s;
    }
  }
  if (ok && uuid.empty() && slug.empty()) {
    n.Error("a heartbeat needs a uuid (or a slug) to be pinged at",
            fmt::format("add uuid: {} (freshly generated; `mamori heartbeat new` makes more)",
                        hb::NewUuid()));
    ok = false;
  }

  hb::Schedule schedule;
  auto period = n.GetDuration("period");
  if (auto g = n.GetDuration("grace")) schedule.grace = *g;
  schedule.max_runtime = n.GetDuration("max_runtime");
  if (period) {
    if (*period < std::chrono::seconds(1)) {
      n.ErrorAt("period", "must be at least 1s");
      ok = false;
    }
    schedule.period = *period;
    schedule.describe =
        fmt::format("every {} + {} grace", FormatDuration(*period), FormatDuration(schedule.grace));
  } else {
    n.Error("a heartbeat needs a schedule",
            "set period: (e.g. period: 1d) with grace: (default 1h)");
    ok = false;
  }
  if (!ok) return nullptr;
  return std::make_unique<HeartbeatProbe>(name, uuid, slug, std::move(schedule));
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("heartbeat", "a job or host that must ping mamori on schedule (dead man's switch)", Make,
        /*settled=*/true);
}

}  // namespace mamori::probes::heartbeat
