// The systemd check's judgment over recorded unit property sets (what
// systemd reports for each kind of unit after a boot), its configuration, and
// the probe on a host without systemd. The live reading against a real
// systemd as PID 1 is tests/host_systemd_test.cc.
#include "mamori/host/systemd_probe.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "testing/cli.h"
#include "testing/probe_harness.h"

namespace mamori::host::systemd {
namespace {

using namespace std::chrono_literals;

UnitRecord Target(const std::string& name, const std::string& active = "active") {
  UnitRecord u;
  u.name = name;
  u.load_state = "loaded";
  u.active_state = active;
  u.sub_state = active == "active" ? "active" : "dead";
  return u;
}

// An enabled service wanted by multi-user.target, as systemd reports it.
UnitRecord Service(const std::string& name, const std::string& active, const std::string& sub,
                   const std::string& type = "simple") {
  UnitRecord u;
  u.name = name;
  u.load_state = "loaded";
  u.active_state = active;
  u.sub_state = sub;
  u.unit_file_state = "enabled";
  u.type = type;
  u.result = active == "failed" ? "exit-code" : "success";
  u.wanted_by = {"multi-user.target"};
  u.n_restarts = 0;
  return u;
}

std::vector<std::string> Names(const std::vector<const UnitRecord*>& v) {
  std::vector<std::string> out;
  for (const auto* u : v) out.push_back(u->name);
  return out;
}

// The unit set of the container boot in tests/host_systemd_test.cc.
std::vector<UnitRecord> AfterBoot() {
  std::vector<UnitRecord> v;
  v.push_back(Target("multi-user.target"));
  v.push_back(Target("graphical.target", "inactive"));
  v.push_back(Service("failing.service", "failed", "failed"));
  v.push_back(Service("exits.service", "inactive", "dead"));
  v.push_back(Service("healthy.service", "active", "running"));
  auto oneshot = Service("oneshot.service", "inactive", "dead", "oneshot");
  v.push_back(oneshot);
  auto remain = Service("remain.service", "active", "exited", "oneshot");
  remain.remain_after_exit = true;
  v.push_back(remain);
  auto cond = Service("conditional.service", "inactive", "dead");
  cond.condition_failed = true;
  v.push_back(cond);
  // Enabled only for a target that is not up.
  auto graphical = Service("desktop.service", "inactive", "dead");
  graphical.wanted_by = {"graphical.target"};
  v.push_back(graphical);
  // Enabled, but pulled in by a service, not a target.
  auto dep = Service("helper.service", "inactive", "dead");
  dep.wanted_by = {"other.service"};
  v.push_back(dep);
  auto transient = Service("run-u42.service", "inactive", "dead");
  transient.transient = true;
  v.push_back(transient);
  auto tmpl = Service("getty@.service", "inactive", "dead");
  v.push_back(tmpl);
  auto disabled = Service("disabled.service", "inactive", "dead");
  disabled.unit_file_state = "disabled";
  v.push_back(disabled);
  auto stat = Service("static.service", "inactive", "dead");
  stat.unit_file_state = "static";
  v.push_back(stat);
  // Starting, or waiting to restart: not "not running" (a loop is its own rule).
  v.push_back(Service("slow.service", "activating", "start"));
  v.push_back(Service("forking.service", "inactive", "dead", "forking"));
  UnitRecord mount;
  mount.name = "srv-backup.mount";
  mount.load_state = "loaded";
  mount.active_state = "failed";
  mount.sub_state = "failed";
  mount.result = "timeout";
  v.push_back(mount);
  return v;
}

TEST(SystemdJudge, FlagsFailedAndEnabledServicesThatExitedNothingElse) {
  auto units = AfterBoot();
  RestartTracker tracker;
  auto f = Judge(units, Options{}, tracker, MonoTime(1h));
  EXPECT_EQ(Names(f.failed), (std::vector<std::string>{"failing.service", "srv-backup.mount"}));
  EXPECT_EQ(Names(f.not_running), (std::vector<std::string>{"exits.service", "forking.service"}));
  EXPECT_TRUE(f.restart_loops.empty());
  EXPECT_TRUE(f.missing.empty());

  Observation obs = Report(units, f, Options{});
  EXPECT_EQ(obs.status, CheckStatus::kCritical);
  EXPECT_EQ(obs.summary,
            "failed: failing.service (exit-code), srv-backup.mount (timeout); enabled but not "
            "running: exits.service, forking.service");
  auto metric = [&](const std::string& name) {
    for (const auto& m : obs.metrics)
      if (m.name == name) return m.value;
    return -1.0;
  };
  EXPECT_EQ(metric("failed_units"), 2);
  EXPECT_EQ(metric("not_running_units"), 1 + 1);
  EXPECT_EQ(metric("restart_loops"), 0);
  EXPECT_EQ(metric("failed:failing.service"), 1);
  EXPECT_EQ(metric("failed:srv-backup.mount"), 1);
  EXPECT_EQ(metric("not_running:exits.service"), 1);
  for (const char* quiet : {"healthy", "oneshot", "remain", "conditional", "desktop", "helper",
                            "run-u42", "getty@", "disabled", "static", "slow"})
    EXPECT_EQ(obs.summary.find(quiet), std::string::npos) << quiet;
}

TEST(SystemdJudge, HealthyBootIsOkAndCountsUnits) {
  std::vector<UnitRecord> units = {Target("multi-user.target"),
                                   Service("healthy.service", "active", "running")};
  RestartTracker tracker;
  Options o;
  auto obs = Report(units, Judge(units, o, tracker, MonoTime(1h)), o);
  EXPECT_EQ(obs.status, CheckStatus::kOk);
  EXPECT_EQ(obs.summary, "2 units, none failed, every enabled service running");
}

TEST(SystemdJudge, IgnoreAndUnitGlobSelect) {
  auto units = AfterBoot();
  RestartTracker tracker;
  Options o;
  o.ignore = {"*.mount", "exit*"};
  auto f = Judge(units, o, tracker, MonoTime(1h));
  EXPECT_EQ(Names(f.failed), (std::vector<std::string>{"failing.service"}));
  EXPECT_EQ(Names(f.not_running), (std::vector<std::string>{"forking.service"}));

  Options g;
  g.unit = "*.mount";
  f = Judge(units, g, tracker, MonoTime(1h));
  EXPECT_EQ(Names(f.failed), (std::vector<std::string>{"srv-backup.mount"}));
  EXPECT_TRUE(f.not_running.empty());
}

TEST(SystemdJudge, NamedUnitMustRunEvenIfNotEnabled) {
  auto units = AfterBoot();
  RestartTracker tracker;
  Options o;
  o.unit = NormalizeUnitPattern("disabled");
  EXPECT_EQ(o.unit, "disabled.service");
  auto f = Judge(units, o, tracker, MonoTime(1h));
  EXPECT_EQ(Names(f.not_running), (std::vector<std::string>{"disabled.service"}));
  auto obs = Report(units, f, o);
  EXPECT_EQ(obs.summary, "not running: disabled.service");

  // A named oneshot that ran, or a condition-skipped one, is still fine.
  o.unit = "oneshot.service";
  EXPECT_EQ(Report(units, Judge(units, o, tracker, MonoTime(1h)), o).status, CheckStatus::kOk);
  o.unit = "healthy.service";
  obs = Report(units, Judge(units, o, tracker, MonoTime(1h)), o);
  EXPECT_EQ(obs.status, CheckStatus::kOk);
  EXPECT_EQ(obs.summary, "healthy.service active (running)");
}

TEST(SystemdJudge, NamedUnitThatDoesNotExistIsCritical) {
  auto units = AfterBoot();
  UnitRecord nf;
  nf.name = "ddclient.service";
  nf.load_state = "not-found";
  nf.active_state = "inactive";
  units.push_back(nf);
  RestartTracker tracker;
  Options o;
  o.unit = "ddclient.service";
  auto obs = Report(units, Judge(units, o, tracker, MonoTime(1h)), o);
  EXPECT_EQ(obs.status, CheckStatus::kCritical);
  EXPECT_EQ(obs.summary, "no such unit: ddclient.service");
}

TEST(SystemdJudge, RestartLoopIsGrowthWithinTheWindow) {
  Options o;  // more than 3 within 10m
  RestartTracker tracker;
  auto units = std::vector<UnitRecord>{Target("multi-user.target"),
                                       Service("crashy.service", "activating", "auto-restart")};
  auto at = [&](int64_t n, Duration t) {
    units[1].n_restarts = n;
    return Judge(units, o, tracker, MonoTime(t));
  };
  EXPECT_TRUE(at(10, 0min).restart_loops.empty()) << "first sighting: no history, no verdict";
  EXPECT_TRUE(at(12, 2min).restart_loops.empty());
  EXPECT_TRUE(at(13, 4min).restart_loops.empty()) << "3 in the window is not more than 3";
  auto f = at(14, 6min);
  ASSERT_EQ(f.restart_loops.size(), 1u);
  EXPECT_EQ(f.restart_loops[0].second, 4);
  auto obs = Report(units, f, o);
  EXPECT_EQ(obs.status, CheckStatus::kWarning);
  EXPECT_EQ(obs.summary, "restart loop: crashy.service (4 restarts in 10m 0s)");
  // The window slides: by 13 min the samples of 0 and 2 min have left it.
  EXPECT_TRUE(at(14, 13min).restart_loops.empty());
  // A counter that went down (started by hand) starts over.
  EXPECT_TRUE(at(1, 14min).restart_loops.empty());
  EXPECT_TRUE(at(4, 15min).restart_loops.empty());
  EXPECT_EQ(at(5, 16min).restart_loops.size(), 1u);

  o.restart_count = 0;  // off
  EXPECT_TRUE(at(50, 17min).restart_loops.empty());
}

TEST(SystemdJudge, RestartTrackerForgetsUnitsThatWentAway) {
  RestartTracker tracker;
  EXPECT_EQ(tracker.Observe("a.service", 5, MonoTime(0min), 10min), 0);
  tracker.Retain({});
  EXPECT_EQ(tracker.Observe("a.service", 9, MonoTime(1min), 10min), 0);
  EXPECT_EQ(tracker.Observe("a.service", 10, MonoTime(2min), 10min), 1);
}

TEST(SystemdJudge, Names) {
  EXPECT_EQ(NormalizeUnitPattern("nginx"), "nginx.service");
  EXPECT_EQ(NormalizeUnitPattern("srv.mount"), "srv.mount");
  EXPECT_EQ(NormalizeUnitPattern("php*"), "php*");
  EXPECT_TRUE(IsTemplateWithoutInstance("getty@.service"));
  EXPECT_FALSE(IsTemplateWithoutInstance("getty@tty1.service"));
  for (const char* t : {"simple", "exec", "forking", "notify", "notify-reload", "dbus"})
    EXPECT_TRUE(IsLongRunningType(t)) << t;
  EXPECT_FALSE(IsLongRunningType("oneshot"));
  EXPECT_FALSE(IsLongRunningType("idle"));
}

TEST(SystemdProbe, NoSystemdIsOkNotAnError) {
  mamori::testing::TempDir dir;
  probes::systemd::SystemdProbe probe(ReadOptions{}, dir.path() + "/run/systemd/system");
  mamori::testing::ProbeHarness h;
  Observation obs = h.Run(probe);
  EXPECT_EQ(obs.status, CheckStatus::kOk);
  EXPECT_EQ(obs.summary, "no systemd on this host (no " + dir.path() + "/run/systemd/system)");
}

TEST(SystemdProbe, UnreachableBusIsUnknownWithinTheDeadline) {
  // systemd "is" here (the directory exists) but its socket is not: UNKNOWN
  // with the reason, not a hang and not CRITICAL.
  mamori::testing::TempDir dir;
  ReadOptions o;
  o.address = "unix:path=" + dir.path() + "/no-such-socket";
  probes::systemd::SystemdProbe probe(o, dir.path());
  mamori::testing::ProbeHarness h;
  Observation obs = h.Run(probe, 2s);
  EXPECT_EQ(obs.status, CheckStatus::kUnknown);
  EXPECT_NE(obs.summary.find("cannot read the units from systemd"), std::string::npos)
      << obs.summary;
}

TEST(SystemdProbe, Config) {
  mamori::testing::ProbeHarness h;
  std::string errors;
  EXPECT_NE(h.Build("{name: u, type: systemd}", &errors), nullptr) << errors;
  EXPECT_NE(h.Build("{name: u, type: systemd, unit: nginx, ignore: ['user@*'], "
                    "restart_loop: {count: 5, within: 30m}}",
                    &errors),
            nullptr)
      << errors;
  EXPECT_EQ(h.Build("{name: u, type: systemd, unit: 'a b'}", &errors), nullptr);
  EXPECT_NE(errors.find("is not a unit name or glob"), std::string::npos) << errors;
  errors.clear();
  EXPECT_EQ(h.Build("{name: u, type: systemd, restart_loop: {count: 3, within: 0s}}", &errors),
            nullptr);
  EXPECT_NE(errors.find("within must be longer than zero"), std::string::npos) << errors;
  errors.clear();
  EXPECT_EQ(h.Build("{name: u, type: systemd, units: x}", &errors), nullptr);
  EXPECT_NE(errors.find("unit"), std::string::npos) << errors;
}

}  // namespace
}  // namespace mamori::host::systemd
