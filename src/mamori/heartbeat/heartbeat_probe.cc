#include "mamori/heartbeat/heartbeat_probe.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "mamori/check/registry.h"
#include "mamori/heartbeat/ping.h"
#include "mamori/util/cron.h"
#include "mamori/util/units.h"

namespace mamori::probes::heartbeat {

namespace hb = mamori::heartbeat;

namespace {

// The addresses `name` resolves to (A and AAAA), or the resolver's complaint.
Result<std::vector<std::string>> Resolve(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &res);
  if (rc != 0) return Error(::gai_strerror(rc));
  std::vector<std::string> out;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {};
    const void* a =
        ai->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr);
    if (::inet_ntop(ai->ai_family, a, buf, sizeof buf) &&
        std::find(out.begin(), out.end(), buf) == out.end())
      out.emplace_back(buf);
  }
  ::freeaddrinfo(res);
  return out;
}

}  // namespace

void HeartbeatProbe::Attach(ProbeEnv& env) const {
  auto* book = env.services.Get<hb::HeartbeatBook>();
  if (!book) return;
  book->SetRoute(hb::HeartbeatRoute{o_.check, o_.uuid, o_.slug, o_.track_ip, o_.catch_up,
                                    o_.catch_up_timeout});
}

void HeartbeatProbe::Start(ProbeEnv& env, MonoTime, ProbeDone done) {
  auto* book = env.services.Get<hb::HeartbeatBook>();
  if (!book) {
    done(Observation::Make(CheckStatus::kUnknown,
                           "pings are known only to the daemon (mamori run) and its store"));
    return;
  }
  const WallTime now = env.clock.Now();
  book->Expect(o_.check, now);
  auto record = book->Get(o_.check).value_or(hb::HeartbeatRecord{});
  Observation o = hb::Evaluate(o_.schedule, record, now);
  if (o_.dns_name.empty() || !record.last_ping) {
    done(std::move(o));
    return;
  }
  // getaddrinfo blocks: off the event loop. The runner's deadline still
  // bounds the check if the resolver hangs. `this` outlives the run (the
  // runner holds the probe).
  boost::asio::post(env.pool, [this, o = std::move(o), source = record.last_ping->source,
                               done = std::move(done)]() mutable {
    auto addrs = Resolve(o_.dns_name);
    std::string problem;
    if (!addrs.ok()) {
      problem = fmt::format("DNS name {} does not resolve ({}); the host last pinged from {}",
                            o_.dns_name, addrs.error().message(), source);
    } else if (std::find(addrs->begin(), addrs->end(), source) == addrs->end()) {
      problem =
          fmt::format("DNS for {} says {} but the host last pinged from {}: dynamic DNS is stale",
                      o_.dns_name, fmt::join(*addrs, ", "), source);
    }
    if (!problem.empty()) {
      o.summary = o.status == CheckStatus::kOk ? problem : problem + "; " + o.summary;
      o.status = CheckStatus::kCritical;
    }
    done(std::move(o));
  });
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
  auto cron = n.GetString("cron");
  auto tz = n.GetString("tz");
  if (auto g = n.GetDuration("grace")) schedule.grace = *g;
  schedule.max_runtime = n.GetDuration("max_runtime");
  if (period && cron) {
    n.ErrorAt("cron", "a heartbeat has either period: or cron:, not both",
              "period: for \"every N\", cron: for \"at these times\"");
    ok = false;
  } else if (period) {
    if (*period < std::chrono::seconds(1)) {
      n.ErrorAt("period", "must be at least 1s");
      ok = false;
    }
    schedule.period = *period;
    schedule.describe =
        fmt::format("every {} + {} grace", FormatDuration(*period), FormatDuration(schedule.grace));
  } else if (cron) {
    auto in_zone = n.Zone(tz.value_or("UTC"));
    auto parsed =
        in_zone.ok() ? CronSchedule::Parse(*cron, *in_zone) : Result<CronSchedule>(in_zone.error());
    if (!parsed.ok()) {
      const bool zone = parsed.error().message().find("time zone") != std::string::npos;
      n.ErrorAt(zone ? "tz" : "cron", parsed.error().message(),
                zone ? "an IANA name such as Europe/Berlin, Asia/Tokyo or UTC"
                     : "five fields: minute hour day-of-month month day-of-week, or @daily etc.; "
                       "see docs/cron.md");
      ok = false;
    } else {
      auto sched = std::make_shared<CronSchedule>(std::move(parsed).value());
      schedule.previous_due = [sched](WallTime t) { return sched->Previous(t); };
      schedule.describe = fmt::format("cron '{}' {} + {} grace", sched->text(), sched->time_zone(),
                                      FormatDuration(schedule.grace));
    }
  } else {
    n.Error("a heartbeat needs a schedule",
            "set period: (e.g. period: 1d) or cron: (e.g. cron: \"0 3 * * *\"), with grace: "
            "(default 1h)");
    ok = false;
  }
  if (tz && !cron) {
    n.ErrorAt("tz", "only applies to cron:", "remove tz: or use a cron: schedule");
    ok = false;
  }
  HeartbeatProbe::Options o;
  o.track_ip = n.GetBool("track_ip").value_or(false);
  if (auto d = n.GetString("dns_name")) {
    if (d->empty() || d->size() > 253 || d->find_first_of(" /:@") != std::string::npos) {
      n.ErrorAt("dns_name", fmt::format("'{}' is not a host name", *d),
                "e.g. dns_name: home.example.org");
      ok = false;
    }
    o.dns_name = *d;
  }
  if (auto c = n.GetStringList("catch_up")) {
    if (c->empty() || (*c)[0].empty()) {
      n.ErrorAt("catch_up", "needs a command",
                "e.g. catch_up: [/usr/local/bin/backup.sh, --catch-up]");
      ok = false;
    }
    o.catch_up = *c;
    if (uuid.empty()) {
      n.ErrorAt("catch_up", "needs the check's uuid (the catch-up run reports through it)",
                fmt::format("add uuid: {}", hb::NewUuid()));
      ok = false;
    }
  }
  if (auto t = n.GetDuration("catch_up_timeout"))
    o.catch_up_timeout = *t;
  else if (schedule.max_runtime)
    o.catch_up_timeout = *schedule.max_runtime;
  if (!ok) return nullptr;
  o.check = name;
  o.uuid = uuid;
  o.slug = slug;
  o.schedule = std::move(schedule);
  return std::make_unique<HeartbeatProbe>(std::move(o));
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("heartbeat", "a job or host that must ping mamori on schedule (dead man's switch)", Make,
        /*settled=*/true);
}

}  // namespace mamori::probes::heartbeat
