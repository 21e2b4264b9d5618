// Check type "timedaemon": the time daemon's own state (timedaemon_state.h),
// next to the kernel's view that the `timesync` check reads. Units come from
// systemd over sd-bus (systemd_bus.h, ReadUnitsByName over the known time
// daemon units: one call plus a few properties); chronyd is asked with
// `chronyc -c -n tracking` run under the check's deadline, only where it
// is meant to run: a chrony unit is active, `chrony_address:` is set, or,
// without systemd, chronyd's command socket exists. Nothing is started on a
// host without chrony.
//
// Keys: `chrony_address:` (chronyd's command socket path or address, as
// `chronyc -h` takes it; default: chronyc's own, /run/chrony/chronyd.sock
// then 127.0.0.1), `chronyc:` (the program; default chronyc from PATH).
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
#include "mamori/host/timedaemon_state.h"
#include "mamori/util/subprocess.h"

namespace mamori::probes::timedaemon {
namespace {

using namespace host::timedaemon;

struct Options {
  std::string chrony_address;
  std::string chronyc = "chronyc";
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

void AskChrony(const Options& o, const Clock& clock, MonoTime deadline, Reading& r) {
  ProcessOptions p;
  p.argv = {o.chronyc, "-c", "-n"};
  if (!o.chrony_address.empty()) p.argv.insert(p.argv.end(), {"-h", o.chrony_address});
  p.argv.push_back("tracking");
  p.timeout = deadline - clock.Monotonic();
  p.kill_grace = std::chrono::milliseconds(100);
  p.max_output = 4096;
  p.merge_stderr = true;
  if (p.timeout <= Duration::zero()) {
    r.chrony_error = "no time left to ask chronyd";
    return;
  }
  auto run = RunProcess(p);
  if (!run.ok()) {
    r.chrony_error = run.error().message();
    return;
  }
  if (run->timed_out) {
    r.chrony_error = "chronyc did not answer in time";
    return;
  }
  auto parsed = ParseChronyTracking(run->out);
  if (run->exit_code != 0 || !parsed.ok()) {
    std::string out = run->out.substr(0, run->out.find('\n'));
    r.chrony_error = out.empty() ? fmt::format("chronyc exited with {}", run->exit_code) : out;
    return;
  }
  r.chrony = *parsed;
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
    return obs;
  }

 private:
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
  return std::make_unique<TimedaemonProbe>(std::move(o));
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("timedaemon",
        "the time daemon's own state: an enabled time daemon unit that is stopped, chronyd "
        "not synchronised",
        Build);
}

}  // namespace mamori::probes::timedaemon
