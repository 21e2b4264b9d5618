// Tests for the "timesync" check type. The real kernel state is read
// independently here (adjtimex) and the probe must agree with it; the
// decision edges are tested through Evaluate() with crafted readings, and
// daemon detection through a fake proc root, because no time daemon runs in
// the test environment.
#include "mamori/probes/timesync_probe.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/timex.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "testing/chronyd.h"
#include "testing/probe_harness.h"

namespace mamori::probes::timesync {
namespace {

using mamori::testing::ProbeHarness;
namespace fs = std::filesystem;

double Metric(const Observation& o, const std::string& name) {
  for (const auto& m : o.metrics)
    if (m.name == name) return m.value;
  ADD_FAILURE() << "no metric " << name << " in: " << o.summary;
  return NAN;
}

bool AnyDaemonRunning() {
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::ifstream in(e.path() / "comm");
    std::string comm;
    if (!std::getline(in, comm)) continue;
    if (comm == "chronyd" || comm == "ntpd" || comm == "openntpd" || comm == "systemd-timesyn" ||
        comm == "ntp-daemon")
      return true;
  }
  return false;
}

TEST(TimesyncProbe, AgreesWithTheKernel) {
  struct timex tx {};
  int state = ::adjtimex(&tx);
  ASSERT_GE(state, 0);
  const bool unsynced = (tx.status & STA_UNSYNC) || state == TIME_ERROR;
  const bool daemon = AnyDaemonRunning();

  ProbeHarness h;
  auto o = h.RunYaml("{name: clock, type: timesync}");
  EXPECT_EQ(Metric(o, "synchronized"), unsynced ? 0 : 1) << o.summary;
  if (unsynced) {
    EXPECT_EQ(o.status, CheckStatus::kWarning);
    EXPECT_EQ(o.summary.rfind("clock NOT synchronized: ", 0), 0u) << o.summary;
    if (!daemon) {
      EXPECT_EQ(o.summary,
                "clock NOT synchronized: no time daemon running (chronyd/ntpd/timesyncd)");
    }
    auto allowed = h.RunYaml("{name: clock, type: timesync, allow_unsynced: true}");
    EXPECT_EQ(allowed.status, CheckStatus::kOk);
    EXPECT_EQ(allowed.summary.rfind("clock not synchronized (allowed): ", 0), 0u);
  } else {
    double offset_ms =
        std::abs(double((tx.status & STA_NANO) ? tx.offset : tx.offset * 1000)) / 1e6;
    EXPECT_EQ(o.status, offset_ms > 100 ? CheckStatus::kWarning : CheckStatus::kOk) << o.summary;
    EXPECT_EQ(o.summary.rfind("clock synchronized (", 0), 0u) << o.summary;
    if (!daemon) {
      EXPECT_NE(o.summary.find("the host keeps time"), std::string::npos) << o.summary;
    }
  }
  EXPECT_NEAR(Metric(o, "maxerror_ms"), tx.maxerror / 1e3, 1000);  // grows 0.5 ms/s unsynced
  EXPECT_EQ(Metric(o, "esterror_ms"), tx.esterror / 1e3);
}

TEST(TimesyncProbe, EvaluateEdges) {
  Options o;
  KernelTime t;
  t.unsynced = true;
  t.maxerror_us = 16'000'000;
  auto r = Evaluate(t, {}, o);
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_EQ(r.summary, "clock NOT synchronized: no time daemon running (chronyd/ntpd/timesyncd)");
  r = Evaluate(t, {"ntpd"}, o);
  EXPECT_EQ(r.summary,
            "clock NOT synchronized: ntpd is running but has not synchronized it (maximum error "
            "16.0s)");
  o.allow_unsynced = true;
  EXPECT_EQ(Evaluate(t, {}, o).status, CheckStatus::kOk);
  o.allow_unsynced = false;

  t.unsynced = false;
  t.esterror_us = 500;
  t.offset_ns = -20'000'000;
  r = Evaluate(t, {"chronyd"}, o);
  EXPECT_EQ(r.status, CheckStatus::kOk);
  EXPECT_EQ(r.summary, "clock synchronized (chronyd), estimated error 0.50ms");
  EXPECT_EQ(Metric(r, "offset_ms"), -20);
  t.offset_ns = -150'000'000;  // the sign does not matter
  r = Evaluate(t, {"chronyd"}, o);
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_EQ(r.summary, "clock synchronized (chronyd) but offset 150ms is above max_offset 100ms");
  o.max_offset = std::chrono::milliseconds(200);
  EXPECT_EQ(Evaluate(t, {"chronyd"}, o).status, CheckStatus::kOk);
}

TEST(TimesyncProbe, FindsDaemonsByComm) {
  char tmpl[] = "/tmp/mamori-proc-XXXXXX";
  std::string root = ::mkdtemp(tmpl);
  for (auto [pid, comm] : std::vector<std::pair<int, std::string>>{
           {12, "chronyd"}, {34, "systemd-timesyn"}, {56, "bash"}, {78, "chronyd"}}) {
    fs::create_directories(fmt::format("{}/{}", root, pid));
    std::ofstream(fmt::format("{}/{}/comm", root, pid)) << comm << "\n";
  }
  fs::create_directories(root + "/self");
  EXPECT_EQ(RunningTimeDaemons(root), (std::vector<std::string>{"chronyd", "systemd-timesyncd"}));
  fs::remove_all(root);
  // The real /proc: the same answer as the independent scan.
  EXPECT_EQ(!RunningTimeDaemons("/proc").empty(), AnyDaemonRunning());
}

TEST(TimesyncProbe, AClockHoursOffAgainstARealServerIsCritical) {
  // Incident 2: after maintenance the clock was 3 hours off. A real chronyd
  // serving time 3 hours ahead (under libfaketime) stands in for the world.
  std::string error;
  auto chrony = mamori::testing::ChronydServer::Start("+3h", &error);
  ASSERT_TRUE(chrony) << error;
  ProbeHarness h;
  auto o = h.RunYaml("{name: clock, type: timesync, allow_unsynced: true, server: \"" +
                     chrony->address() + "\"}");
  EXPECT_EQ(o.status, CheckStatus::kCritical) << o.summary;
  EXPECT_EQ(o.summary.rfind("clock is 3h", 0), 0u) << o.summary;
  EXPECT_NE(o.summary.find("behind " + chrony->address() + " (allowed 1.0s)"), std::string::npos)
      << o.summary;
  EXPECT_NEAR(Metric(o, "server_offset_ms"), 3 * 3600 * 1000.0, 1000.0);
}

TEST(TimesyncProbe, AgreementWithARealServerIsOk) {
  std::string error;
  auto chrony = mamori::testing::ChronydServer::Start("", &error);
  ASSERT_TRUE(chrony) << error;
  ProbeHarness h;
  auto o = h.RunYaml("{name: clock, type: timesync, allow_unsynced: true, server: \"" +
                     chrony->address() + "\"}");
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_NE(o.summary.find("; " + chrony->address() + " agrees within"), std::string::npos)
      << o.summary;
  // A few seconds off is WARNING between max_offset and critical_offset.
  auto ahead = mamori::testing::ChronydServer::Start("+5s", &error);
  ASSERT_TRUE(ahead) << error;
  o = h.RunYaml(
      "{name: clock, type: timesync, allow_unsynced: true, max_offset: 1s, "
      "critical_offset: 30s, server: \"" +
      ahead->address() + "\"}");
  EXPECT_EQ(o.status, CheckStatus::kWarning) << o.summary;
}

TEST(TimesyncProbe, NoAnswerFromTheServerIsUnknown) {
  Options o;
  o.server = "127.0.0.1:9";
  Observation obs = Observation::Make(CheckStatus::kOk, "clock synchronized (chronyd)");
  ServerReading r;
  r.error = "did not answer within 900 ms";
  AddServerReading(r, o, obs);
  EXPECT_EQ(obs.status, CheckStatus::kUnknown);
  EXPECT_EQ(obs.summary,
            "cannot compare with 127.0.0.1:9: did not answer within 900 ms; clock synchronized "
            "(chronyd)");
  // A worse kernel verdict is kept.
  obs = Observation::Make(CheckStatus::kCritical, "x");
  AddServerReading(r, o, obs);
  EXPECT_EQ(obs.status, CheckStatus::kCritical);
}

TEST(TimesyncProbeConfig, Errors) {
  ProbeHarness h;
  std::string errors;
  EXPECT_EQ(h.Build("{name: t, type: timesync, server: \"bad host\"}", &errors), nullptr);
  EXPECT_NE(errors.find("'server': 'bad host' is not an NTP server address"), std::string::npos)
      << errors;
  EXPECT_EQ(h.Build("{name: t, type: timesync, max_offset: 2s, critical_offset: 1s}", &errors),
            nullptr);
  EXPECT_NE(errors.find("critical_offset is smaller than max_offset"), std::string::npos) << errors;
  EXPECT_EQ(h.Build("{name: t, type: timesync, max_offset: 100}", &errors), nullptr);
  EXPECT_NE(errors.find("test.yaml:2:43: check 't': 'max_offset': duration '100' has no unit"),
            std::string::npos)
      << errors;
  EXPECT_NE(h.Build("{name: t, type: timesync, max_offset: 50ms, allow_unsynced: yes}", &errors),
            nullptr)
      << errors;
}

}  // namespace
}  // namespace mamori::probes::timesync
