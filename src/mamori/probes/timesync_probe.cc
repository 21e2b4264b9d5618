#include "mamori/probes/timesync_probe.h"

#include <sys/timex.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include "mamori/check/registry.h"
#include "mamori/probes/procfs.h"
#include "mamori/probes/sntp.h"
#include "mamori/util/units.h"

namespace mamori::probes::timesync {

Result<KernelTime> ReadKernelTime() {
  struct timex tx {};
  tx.modes = 0;  // read only
  int state = ::ntp_adjtime(&tx);
  if (state < 0) return Error(std::string("ntp_adjtime: ") + std::strerror(errno));
  KernelTime t;
  t.state = state;
  t.unsynced = (tx.status & STA_UNSYNC) != 0 || state == TIME_ERROR;
  t.offset_ns = (tx.status & STA_NANO) ? tx.offset : static_cast<int64_t>(tx.offset) * 1000;
  t.maxerror_us = tx.maxerror;
  t.esterror_us = tx.esterror;
  return t;
}

std::vector<std::string> RunningTimeDaemons(const std::string& proc_root) {
  struct Known {
    const char* comm;
    const char* shown;
  };
  static constexpr Known kKnown[] = {{"chronyd", "chronyd"},
                                     {"ntpd", "ntpd"},
                                     {"openntpd", "openntpd"},
                                     {"systemd-timesyn", "systemd-timesyncd"},
                                     {"ntp-daemon", "ntpd-rs"}};
  std::set<std::string> found;
  auto pids = procfs::ListPids(proc_root);
  if (!pids.ok()) return {};
  for (int pid : *pids) {
    auto comm = procfs::ReadComm(proc_root, pid);
    if (!comm.ok()) continue;
    for (const auto& k : kKnown)
      if (*comm == k.comm) found.insert(k.shown);
  }
  return {found.begin(), found.end()};
}

Observation Evaluate(const KernelTime& t, const std::vector<std::string>& daemons,
                     const Options& o) {
  std::string who;
  for (const auto& d : daemons) who += (who.empty() ? "" : ", ") + d;
  const Duration est = std::chrono::microseconds(t.esterror_us);
  const Duration max = std::chrono::microseconds(t.maxerror_us);
  const Duration offset = Duration(std::llabs(t.offset_ns));

  Observation obs;
  obs.AddMetric("synchronized", t.unsynced ? 0 : 1);
  obs.AddMetric("offset_ms", static_cast<double>(t.offset_ns) / 1e6);
  obs.AddMetric("esterror_ms", static_cast<double>(t.esterror_us) / 1e3);
  obs.AddMetric("maxerror_ms", static_cast<double>(t.maxerror_us) / 1e3);
  obs.details =
      fmt::format("kernel state {}, offset {}, estimated error {}, maximum error {}\n", t.state,
                  FormatDuration(Duration(t.offset_ns)), FormatDuration(est), FormatDuration(max));

  if (t.unsynced) {
    std::string why =
        daemons.empty()
            ? "no time daemon running (chronyd/ntpd/timesyncd)"
            : fmt::format("{} is running but has not synchronized it (maximum error {})", who,
                          FormatDuration(max));
    if (o.allow_unsynced) {
      obs.status = CheckStatus::kOk;
      obs.summary = fmt::format("clock not synchronized (allowed): {}", why);
    } else {
      obs.status = CheckStatus::kWarning;
      obs.summary = fmt::format("clock NOT synchronized: {}", why);
    }
    return obs;
  }
  std::string by = daemons.empty() ? "no time daemon here; the host keeps time" : who;
  if (offset > o.max_offset) {
    obs.status = CheckStatus::kWarning;
    obs.summary = fmt::format("clock synchronized ({}) but offset {} is above max_offset {}", by,
                              FormatDuration(offset), FormatDuration(o.max_offset));
    return obs;
  }
  obs.status = CheckStatus::kOk;
  obs.summary = fmt::format("clock synchronized ({}), estimated error {}", by, FormatDuration(est));
  return obs;
}

void AddServerReading(const ServerReading& r, const Options& o, Observation& obs) {
  if (!r.ok) {
    obs.details += "NTP server " + o.server + ": " + r.error + "\n";
    if (Severity(obs.status) < Severity(CheckStatus::kUnknown)) {
      obs.status = CheckStatus::kUnknown;
      obs.summary = "cannot compare with " + o.server + ": " + r.error + "; " + obs.summary;
    }
    return;
  }
  const Duration magnitude = r.offset < Duration::zero() ? -r.offset : r.offset;
  obs.AddMetric("server_offset_ms", std::chrono::duration<double, std::milli>(r.offset).count());
  obs.AddMetric("server_delay_ms", std::chrono::duration<double, std::milli>(r.delay).count());
  obs.details += fmt::format("NTP server {} (stratum {}): offset {}, round trip {}\n", o.server,
                             r.stratum, FormatDuration(r.offset), FormatDuration(r.delay));
  CheckStatus st = CheckStatus::kOk;
  if (magnitude > o.critical_offset)
    st = CheckStatus::kCritical;
  else if (magnitude > o.max_offset)
    st = CheckStatus::kWarning;
  if (st == CheckStatus::kOk) {
    obs.summary += fmt::format("; {} agrees within {}", o.server, FormatDuration(magnitude));
    return;
  }
  const std::string what =
      fmt::format("clock is {} {} {} (allowed {})", FormatDuration(magnitude),
                  r.offset > Duration::zero() ? "behind" : "ahead of", o.server,
                  FormatDuration(st == CheckStatus::kCritical ? o.critical_offset : o.max_offset));
  if (Severity(st) >= Severity(obs.status)) {
    obs.status = st;
    obs.summary = what + "; " + obs.summary;
  } else {
    obs.summary += "; " + what;
  }
}

Observation TimesyncProbe::Run(const Clock& clock, MonoTime deadline) {
  auto t = ReadKernelTime();
  if (!t.ok()) return Observation::Make(CheckStatus::kUnknown, t.error().message());
  Observation obs = Evaluate(*t, RunningTimeDaemons(proc_root_), o_);
  if (o_.server.empty()) return obs;
  // Leave a little of the check's time for reporting.
  Duration budget = deadline - clock.Monotonic() - std::chrono::milliseconds(50);
  if (budget < std::chrono::milliseconds(100)) budget = std::chrono::milliseconds(100);
  ServerReading r;
  auto m = sntp::Query(o_.server, budget);
  if (m.ok()) {
    r.ok = true;
    r.offset = m->offset;
    r.delay = m->delay;
    r.stratum = m->reply.stratum;
    if (m->reply.leap == 3) {
      r.ok = false;
      r.error = "the server says it is not synchronized itself (leap indicator 3)";
    }
  } else {
    r.error = m.error().message();
  }
  AddServerReading(r, o_, obs);
  return obs;
}

namespace {

std::unique_ptr<Probe> Build(config::ConfigNode& node) {
  Options o;
  const bool ordered = node.GetOrdered(
      "max_offset", "critical_offset", o.max_offset, o.critical_offset,
      &config::ConfigNode::GetDuration, FormatDuration,
      {"critical_offset", "critical_offset is smaller than max_offset",
       "critical_offset is where WARNING turns CRITICAL; make it at least max_offset"});
  if (auto v = node.GetString("server")) {
    if (auto err = sntp::ValidateServer(*v); !err.empty()) {
      node.ErrorAt("server", "'" + *v + "' is not an NTP server address: " + err,
                   "write a host name or address with an optional UDP port, e.g. "
                   "pool.ntp.org or 127.0.0.1:123");
      return nullptr;
    }
    o.server = *v;
  }
  if (!ordered) return nullptr;
  if (auto v = node.GetBool("allow_unsynced")) o.allow_unsynced = *v;
  return std::make_unique<TimesyncProbe>(o);
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("timesync", "clock synchronization (adjtimex) and the time daemon keeping it", Build);
}

}  // namespace mamori::probes::timesync
