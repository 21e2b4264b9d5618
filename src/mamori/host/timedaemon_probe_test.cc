// The timedaemon check: its judgment over recorded unit states and chronyc
// lines, and a real chronyd (started here as a client of a second real
// chronyd serving time on 127.0.0.1) read through a real chronyc, once
// synchronised and once with a source that never answers. The unit states
// read from a real systemd are in tests/host_timedaemon_test.cc.
#include "mamori/host/timedaemon_state.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "mamori/util/subprocess.h"
#include "testing/chronyd.h"
#include "testing/ports.h"
#include "testing/probe_harness.h"
#include "testing/spawn.h"

namespace mamori::host::timedaemon {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

systemd::UnitRecord Unit(const std::string& name, const std::string& active,
                         const std::string& file_state = "enabled") {
  systemd::UnitRecord u;
  u.name = name;
  u.load_state = "loaded";
  u.active_state = active;
  u.unit_file_state = file_state;
  u.type = "forking";
  return u;
}

TEST(Timedaemon, ParsesChronycTracking) {
  auto t = ParseChronyTracking(
      "7F000001,127.0.0.1,9,1796606211.862,-0.000001234,0.000000,0.000001,-3.4,0.0,0.1,"
      "0.000030,0.000015,2.0,Normal\n");
  ASSERT_TRUE(t.ok()) << t.error().message();
  EXPECT_EQ(t->ref_name, "127.0.0.1");
  EXPECT_EQ(t->stratum, 9);
  EXPECT_DOUBLE_EQ(t->offset_s, -0.000001234);
  EXPECT_EQ(t->leap, "Normal");
  EXPECT_FALSE(ParseChronyTracking("506 Cannot talk to daemon\n").ok());
  EXPECT_FALSE(ParseChronyTracking("").ok());
}

TEST(Timedaemon, EnabledAndStoppedIsCritical) {
  Reading r;
  r.systemd = true;
  r.units = {Unit("chrony.service", "inactive"),
             Unit("systemd-timesyncd.service", "inactive", "masked")};
  auto o = Judge(r);
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_EQ(o.summary,
            "chrony.service is enabled and stopped: clock not disciplined (safe remedy: "
            "systemctl restart chrony.service)");

  r.units[0].active_state = "failed";
  r.units[0].result = "signal";
  EXPECT_EQ(Judge(r).summary,
            "chrony.service is enabled and failed (signal): clock not disciplined (safe "
            "remedy: systemctl restart chrony.service)");

  // Skipped by its Condition (a container without CAP_SYS_TIME), disabled,
  // or running: not flagged.
  r.units[0].active_state = "inactive";
  r.units[0].condition_failed = true;
  EXPECT_EQ(Judge(r).status, CheckStatus::kOk);
  r.units[0].condition_failed = false;
  r.units[0].unit_file_state = "disabled";
  EXPECT_EQ(Judge(r).status, CheckStatus::kOk);
  r.units[0] = Unit("chrony.service", "active");
  o = Judge(r);
  EXPECT_EQ(o.status, CheckStatus::kOk);
  EXPECT_EQ(o.summary, "chrony.service is running");

  Reading none;
  EXPECT_EQ(Judge(none).summary, "no time daemon unit enabled or running");
}

TEST(Timedaemon, ChronyNotSynchronisedIsWarning) {
  Reading r;
  r.chrony = ChronyTracking{"00000000", "", 0, 0, "Not synchronised"};
  auto o = Judge(r);
  EXPECT_EQ(o.status, CheckStatus::kWarning);
  EXPECT_EQ(o.summary, "chronyd runs but is not synchronised (no usable source)");
  r.chrony = ChronyTracking{"7F000001", "127.0.0.1", 9, 0.0002, "Normal"};
  o = Judge(r);
  EXPECT_EQ(o.status, CheckStatus::kOk);
  EXPECT_EQ(o.summary, "chronyd synchronised to 127.0.0.1 (stratum 9, offset +0.200 ms)");
}

// As ntpd 4.2.8 (Debian's ntp) and ntpsec print `ntpq -c rv`: the status
// word's words, quoted values with commas, values over several lines.
constexpr const char* kNtpqSynced =
    "associd=0 status=0615 leap_none, sync_ntp, 1 event, clock_sync,\n"
    "version=\"ntpd 4.2.8p15@1.3728-o Wed Feb 16 17:13:02 UTC 2022 (1)\",\n"
    "processor=\"x86_64\", system=\"Linux/6.1.0-25-amd64\", leap=00, stratum=3,\n"
    "precision=-23, rootdelay=1.726, rootdisp=28.961, refid=192.0.2.7,\n"
    "reftime=e9d1b0b6.12345678  Mon, Dec  7 2026  4:10:30.071,\n"
    "clock=e9d1b2a3.aabbccdd  Mon, Dec  7 2026  4:18:43.667, peer=52321, tc=10,\n"
    "mintc=3, offset=-0.842150, frequency=-12.345, sys_jitter=0.234124,\n"
    "clk_jitter=0.123, clk_wander=0.012\n";
constexpr const char* kNtpqUnsynced =
    "associd=0 status=c016 leap_alarm, sync_unspec, 1 event, restart,\n"
    "version=\"ntpd ntpsec-1.2.2 2023-02-05T20:24:25Z\", leap=11, stratum=16,\n"
    "precision=-24, rootdelay=0.000000, rootdisp=0.000000, refid=INIT,\n"
    "offset=0.000000, frequency=0.000000\n";

TEST(Timedaemon, ParsesNtpqReadvar) {
  auto n = ParseNtpqReadvar(kNtpqSynced);
  ASSERT_TRUE(n.ok()) << n.error().message();
  EXPECT_EQ(n->leap, 0);
  EXPECT_EQ(n->stratum, 3);
  EXPECT_DOUBLE_EQ(n->offset_ms, -0.84215);
  EXPECT_EQ(n->refid, "192.0.2.7");
  n = ParseNtpqReadvar(kNtpqUnsynced);
  ASSERT_TRUE(n.ok()) << n.error().message();
  EXPECT_EQ(n->leap, 3);
  EXPECT_EQ(n->stratum, 16);
  EXPECT_EQ(n->refid, "INIT");
  EXPECT_FALSE(ParseNtpqReadvar("127.0.0.1: timed out, nothing received\n").ok());
  EXPECT_FALSE(ParseNtpqReadvar("").ok());
}

TEST(Timedaemon, NtpdAndTimesyncdInTheirOwnWords) {
  Reading r;
  r.ntpd = *ParseNtpqReadvar(kNtpqSynced);
  auto o = Judge(r);
  EXPECT_EQ(o.status, CheckStatus::kOk);
  EXPECT_EQ(o.summary, "ntpd synchronised to 192.0.2.7 (stratum 3, offset -0.842 ms)");
  r.ntpd = *ParseNtpqReadvar(kNtpqUnsynced);
  o = Judge(r);
  EXPECT_EQ(o.status, CheckStatus::kWarning);
  EXPECT_EQ(o.summary, "ntpd runs but is not synchronised (stratum 16, refid INIT)");

  Reading t;
  t.timesyncd = Timesyncd{true, true, "ntp.example.org", 2, 1.5, ""};
  o = Judge(t);
  EXPECT_EQ(o.status, CheckStatus::kOk);
  EXPECT_EQ(o.summary,
            "systemd-timesyncd synchronised to ntp.example.org (stratum 2, offset +1.500 ms)");
  t.timesyncd = Timesyncd{true, false, "ntp.example.org", std::nullopt, std::nullopt, ""};
  o = Judge(t);
  EXPECT_EQ(o.status, CheckStatus::kWarning);
  EXPECT_EQ(o.summary,
            "systemd-timesyncd runs but the clock is not synchronised (server ntp.example.org)");
  bool saw = false;
  for (const auto& m : o.metrics) saw |= m.name == "timesyncd_synchronised" && m.value == 0;
  EXPECT_TRUE(saw);
}

// A chronyd that keeps time from `server` ("127.0.0.1:PORT") without
// touching this machine's clock (-x), with its command socket in its own
// directory. Started through a symlink so that the timesync checks of other
// tests do not see a time daemon named chronyd come and go.
class ChronyClient {
 public:
  ChronyClient(const std::string& host, int port) {
    char tmpl[] = "/tmp/mamori-chronyc-XXXXXX";
    dir_ = ::mkdtemp(tmpl);  // 0700: chronyd refuses a socket dir others can open
    std::ofstream(dir_ + "/chrony.conf")
        << "server " << host << " port " << port << " iburst minpoll -4 maxpoll -4\n"
        << "port 0\ncmdport 0\nbindcmdaddress " << socket() << "\npidfile " << dir_
        << "/chronyd.pid\ndriftfile " << dir_ << "/drift\n";
    fs::create_symlink("/usr/sbin/chronyd", dir_ + "/test-ntp-client");
    testing::SpawnSpec spec;
    spec.argv = {
        dir_ + "/test-ntp-client", "-f", dir_ + "/chrony.conf", "-x", "-n", "-d", "-u", "root"};
    spec.output = dir_ + "/chronyd.log";
    pid_ = testing::SpawnServer(spec);
  }
  ~ChronyClient() {
    testing::StopProcess(pid_);
    fs::remove_all(dir_);
  }
  std::string socket() const { return dir_ + "/chronyd.sock"; }
  std::string Log() const { return testing::ReadFile(dir_ + "/chronyd.log"); }
  // The leap status chronyc reports, polled until it is `want` (10 s at most).
  bool WaitFor(const std::string& want) const {
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < until) {
      ProcessOptions p;
      p.argv = {"/usr/bin/chronyc", "-c", "-n", "-h", socket(), "tracking"};
      p.timeout = 2s;
      auto r = RunProcess(p);
      if (r.ok() && r->out.find(want) != std::string::npos) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
};

TEST(TimedaemonProbe, RealChronydSynchronisedThenWithoutASource) {
  if (::access("/usr/sbin/chronyd", X_OK) != 0 || ::access("/usr/bin/chronyc", X_OK) != 0)
    GTEST_SKIP() << "chrony is not installed (Debian package chrony)";
  std::string error;
  auto server = testing::ChronydServer::Start("", &error);
  ASSERT_TRUE(server) << error;
  const std::string port = server->address().substr(server->address().rfind(':') + 1);
  ChronyClient client("127.0.0.1", std::stoi(port));
  ASSERT_TRUE(client.WaitFor(",Normal")) << client.Log();
  testing::ProbeHarness h;
  const std::string yaml =
      "{name: t, type: timedaemon, chrony_address: \"" + client.socket() + "\"}";
  auto o = h.RunYaml(yaml, 5s);
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_EQ(o.summary.find("chronyd synchronised to 127.0.0.1 (stratum 9, offset "), 0u)
      << o.summary;

  // A source that never answers: chronyd runs, unsynchronised.
  ChronyClient lost("127.0.0.1", testing::PickFreePort());
  ASSERT_TRUE(lost.WaitFor("Not synchronised")) << lost.Log();
  o = h.RunYaml("{name: t, type: timedaemon, chrony_address: \"" + lost.socket() + "\"}", 5s);
  EXPECT_EQ(o.status, CheckStatus::kWarning) << o.summary;
  EXPECT_EQ(o.summary, "chronyd runs but is not synchronised (no usable source)");

  // The configured socket with nobody behind it.
  o = h.RunYaml("{name: t, type: timedaemon, chrony_address: /nonexistent/chronyd.sock}", 5s);
  EXPECT_EQ(o.status, CheckStatus::kWarning) << o.summary;
  EXPECT_EQ(o.summary.find("chronyd cannot be reached: "), 0u) << o.summary;
}

}  // namespace
}  // namespace mamori::host::timedaemon
