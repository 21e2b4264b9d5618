// Check type "timedaemon": the time daemon's own state (timedaemon_state.h),
// next to the kernel's view that the `timesync` check reads. Which daemon
// runs is found, not configured. Units come from systemd over sd-bus
// (systemd_bus.h, ReadUnitsByName over the known time daemon units: one
// call plus a few properties); then each daemon that is meant to run is
// asked in its own protocol, under the check's deadline:
// - chronyd with `chronyc -c -n tracking`: a chrony unit is active,
//   `chrony_address:` is set, or, without systemd, its command socket exists;
// - systemd-timesyncd over D-Bus (timedaemon_bus.h): its unit is active
//   runs (timedate1, then timesync1);
// - ntpd (ntp, ntpsec) with `ntpq -c rv 127.0.0.1`: its unit is active, or,
//   without systemd, /run/ntpd.pid exists. ntpd publishes its state only
//   through the NTP control protocol (mode 6, UDP 123); no library speaks it
//   (neither Debian nor ntpsec ships a C one) and ntpd writes no state file,
//   so its own client is the edge, as chronyc is for chronyd.
// Nothing is started on a host without the daemon.
//
// Keys: `chrony_address:` (chronyd's command socket path or address, as
// `chronyc -h` takes it; default: chronyc's own, /run/chrony/chronyd.sock
// then 127.0.0.1), `chronyc:` (the program; default chronyc from PATH),
// `ntpq:` (the program; default ntpq from PATH).
//
// Threading: a BlockingProbe, stateless between runs. Failure: systemd or
// chronyc out of reach is said in the summary; a chrony unit that is active
// (or the configured chrony_address) while chronyc cannot reach it is
// WARNING; running out of time is UNKNOWN.
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "mamori/check/probe.h"
#include "mamori/check/registry.h"
#include "mamori/host/systemd_bus.h"
#include "mamori/host/timedaemon_bus.h"
#include "mamori/host/timedaemon_state.h"
#include "mamori/util/subprocess.h"

namespace mamori::probes::timedaemon {
namespace {

using namespace host::timedaemon;
namespace systemd = host::systemd;

struct Options {
  std::string chrony_address;
  std::string chronyc = "chronyc";
  std::string ntpq = "ntpq";
  std::string ntpd_pid = "/run/ntpd.pid";
  std::string systemd_dir = "/run/systemd/system";
  std::string default_socket = "/run/chrony/chronyd.sock";
  std::string bus_address;  // tests
};

bool IsDir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool ChronyActive(const Reading& r) {
  for (const auto& u : r.units)
    if ((u.name == "chrony.service" || u.name == "chronyd.service") && u.active_state == "active")
      return true;
  return false;
}

const systemd::UnitRecord* FindUnit(const Reading& r,
                                    std::initializer_list<std::string_view> names) {
  for (const auto& u : r.units)
    for (auto n : names)
      if (u.name == n && u.load_state == "loaded") return &u;
  return nullptr;
}

bool NtpdActive(const Reading& r) {
  const auto* u = FindUnit(r, {"ntp.service", "ntpsec.service", "ntpd.service"});
  return u && u->active_state == "active";
}

// A program's answer under the deadline, or why there is none.
Result<std::string> Ask(std::vector<std::string> argv, const Clock& clock, MonoTime deadline) {
  ProcessOptions p;
  p.argv = std::move(argv);
  p.timeout = deadline - clock.Monotonic();
  p.kill_grace = std::chrono::milliseconds(100);
  p.max_output = 8192;
  p.merge_stderr = true;
  if (p.timeout <= Duration::zero()) return Error("no time left to ask " + p.argv[0]);
  auto run = RunProcess(p);
  if (!run.ok()) return run.error();
  if (run->timed_out) return Error(p.argv[0] + " did not answer in time");
  if (run->exit_code != 0) {
    std::string out = run->out.substr(0, run->out.find('\n'));
    return Error(out.empty() ? fmt::format("{} exited with {}", p.argv[0], run->exit_code) : out);
  }
  return run->out;
}

void AskNtpd(const Options& o, const Clock& clock, MonoTime deadline, Reading& r) {
  auto out = Ask({o.ntpq, "-n", "-c", "rv", "127.0.0.1"}, clock, deadline);
  if (!out.ok()) {
    r.ntpd_error = out.error().message();
    return;
  }
  auto vars = ParseNtpqReadvar(*out);
  if (vars.ok())
    r.ntpd = *vars;
  else
    r.ntpd_error = out->substr(0, out->find('\n'));
}

void AskTimesyncd(const Clock& clock, MonoTime deadline, Reading& r) {
  // Only while it runs: a stopped timesyncd is judged by its unit, and a
  // host keeping time with chrony has no use for timedated's answer.
  const auto* u = FindUnit(r, {"systemd-timesyncd.service"});
  if (!u || u->active_state != "active") return;
  auto t = ReadTimesyncd(/*address=*/"", /*ask_timesync=*/true, clock, deadline);
  if (t.ok())
    r.timesyncd = *t;
  else
    r.timesyncd_error = t.error().message();
}

void AskChrony(const Options& o, const Clock& clock, MonoTime deadline, Reading& r) {
  std::vector<std::string> argv = {o.chronyc, "-c", "-n"};
  if (!o.chrony_address.empty()) argv.insert(argv.end(), {"-h", o.chrony_address});
  argv.push_back("tracking");
  auto out = Ask(std::move(argv), clock, deadline);
  if (!out.ok()) {
    r.chrony_error = out.error().message();
    return;
  }
  auto parsed = ParseChronyTracking(*out);
  if (parsed.ok())
    r.chrony = *parsed;
  else
    r.chrony_error = out->empty() ? "chronyc said nothing" : out->substr(0, out->find('\n'));
}

class TimedaemonProbe final : public BlockingProbe {
 public:
  explicit TimedaemonProbe(Options o) : o_(std::move(o)) {}

  Observation Run(const Clock& clock, MonoTime deadline) override {
    Reading r;
    const MonoTime end = deadline - std::chrono::milliseconds(20);
    if (IsDir(o_.systemd_dir)) {
      host::systemd::ReadOptions ro;
      ro.address = o_.bus_address;
      std::vector<std::string> names(std::begin(kTimeUnits), std::end(kTimeUnits));
      auto units = host::systemd::ReadUnitsByName(names, ro, clock, end);
      if (units.ok()) {
        r.systemd = true;
        r.units = std::move(*units);
      } else {
        r.systemd_error = units.error().message();
      }
    }
    const bool ask = !o_.chrony_address.empty() || ChronyActive(r) ||
                     (!r.systemd && ::access(o_.default_socket.c_str(), F_OK) == 0);
    if (ask) AskChrony(o_, clock, end, r);
    if (r.systemd) AskTimesyncd(clock, end, r);
    const bool ask_ntpd = NtpdActive(r) || (!r.systemd && ::access(o_.ntpd_pid.c_str(), F_OK) == 0);
    if (ask_ntpd) AskNtpd(o_, clock, end, r);
    if (clock.Monotonic() >= deadline)
      return Observation::Make(CheckStatus::kUnknown, "timed out reading the time daemon's state");
    auto obs = Judge(r);
    if (ask && !r.chrony) {
      // Meant to run (its unit is active, or the check names its socket)
      // and not reachable: worth a look. A leftover socket is not.
      if (ChronyActive(r) || !o_.chrony_address.empty()) {
        if (obs.status == CheckStatus::kOk) obs.status = CheckStatus::kWarning;
        obs.summary = "chronyd cannot be reached: " + r.chrony_error + "; " + obs.summary;
      } else {
        obs.summary += "; chronyd not reached: " + r.chrony_error;
      }
    }
    Unreached(r, ask_ntpd, obs);
    return obs;
  }

 private:
  // A daemon that runs and cannot be asked how it is doing is worth a look.
  static void Unreached(const Reading& r, bool ask_ntpd, Observation& obs) {
    if (ask_ntpd && !r.ntpd) {
      if (obs.status == CheckStatus::kOk) obs.status = CheckStatus::kWarning;
      obs.summary = "ntpd cannot be reached: " + r.ntpd_error + "; " + obs.summary;
    }
    if (!r.timesyncd_error.empty()) obs.summary += "; timedate1 not read: " + r.timesyncd_error;
  }

  Options o_;
};

std::unique_ptr<Probe> Build(config::ConfigNode& node) {
  Options o;
  if (auto a = node.GetString("chrony_address")) o.chrony_address = *a;
  if (auto c = node.GetString("chronyc")) {
    if (c->empty()) {
      node.ErrorAt("chronyc", "chronyc must name a program", "e.g. chronyc: /usr/bin/chronyc");
      return nullptr;
    }
    o.chronyc = *c;
  }
  if (auto q = node.GetString("ntpq")) {
    if (q->empty()) {
      node.ErrorAt("ntpq", "ntpq must name a program", "e.g. ntpq: /usr/bin/ntpq");
      return nullptr;
    }
    o.ntpq = *q;
  }
  return std::make_unique<TimedaemonProbe>(std::move(o));
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("timedaemon",
        "the time daemon's own state: an enabled time daemon unit that is stopped, chronyd, "
        "systemd-timesyncd or ntpd not synchronised",
        Build);
}

}  // namespace mamori::probes::timedaemon
