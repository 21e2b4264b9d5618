// The timedaemon check against a real systemd as PID 1 (this machine's /usr
// booted with systemd-nspawn --volatile=yes, as tests/host_systemd_test.cc
// does): incident 2 after a maintenance. A chrony-like time daemon unit
// (chronyd.service, RHEL's name, so that Debian's own chrony.service does not
// conflict with it) is enabled and running; the runner stops it, as the
// maintenance did, and then runs the real `mamori check --json` and `mamori
// doctor --json` inside.
//
// What it proves: the stopped, enabled time daemon is CRITICAL "chronyd.service
// is enabled and stopped: clock not disciplined", read through sd-bus; an
// enabled time daemon skipped by its Condition (ntpd.service here; chrony in
// any container) is not named; and the zero-config `mamori doctor` carries the
// check with the same finding.
//
// Needs root and systemd-nspawn; skips only where the container cannot start.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "mamori/util/subprocess.h"
#include "mamori_binary_path.h"
#include "testing/cli.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr const char* kInstall = "[Install]\nWantedBy=multi-user.target\n";
constexpr const char* kChronyLike = "[Service]\nExecStart=/bin/sleep infinity\n";
constexpr const char* kSkipped =
    "[Unit]\nConditionPathExists=/nonexistent-mamori-test\n[Service]\nExecStart=/bin/sleep "
    "infinity\n";

// Waits (bounded) for the time daemon to run, stops it ("the maintenance"),
// runs mamori and powers off whatever happened.
constexpr const char* kRunner = R"([Unit]
After=multi-user.target chronyd.service
[Service]
Type=oneshot
ExecStartPre=/bin/sh -c 'echo booted > /out/booted'
ExecStartPre=/bin/sh -c 'for i in $(seq 100); do systemctl is-active -q chronyd.service && exit 0; sleep 0.1; done'
ExecStartPre=/bin/systemctl stop chronyd.service
ExecStart=/bin/sh -c '/mamori-bin check -c /cfg.yaml --json > /out/result.json 2> /out/stderr.txt; /mamori-bin doctor --json > /out/doctor.json 2>> /out/stderr.txt; systemctl poweroff --no-block'
)";

TEST(HostTimedaemon, EnabledTimeDaemonStoppedAfterAMaintenanceIsCritical) {
  if (::geteuid() != 0) GTEST_SKIP() << "booting a container with systemd-nspawn needs root";
  std::string nspawn;
  for (const char* p : {"/usr/bin/systemd-nspawn", "/bin/systemd-nspawn"})
    if (::access(p, X_OK) == 0) nspawn = p;
  if (nspawn.empty())
    GTEST_SKIP() << "systemd-nspawn is not installed (apt-get install systemd-container)";

  mamori::testing::TempDir dir;
  const std::string unitdir = dir.path() + "/units", outdir = dir.path() + "/out";
  fs::create_directories(unitdir + "/multi-user.target.wants");
  fs::create_directories(outdir);
  dir.Write("units/chronyd.service", std::string(kChronyLike) + kInstall);
  dir.Write("units/ntpd.service", std::string(kSkipped) + kInstall);
  dir.Write("units/runner.service", kRunner);
  for (const char* u : {"chronyd.service", "ntpd.service", "runner.service"})
    fs::create_symlink(std::string("../") + u, unitdir + "/multi-user.target.wants/" + u);
  const std::string cfg = dir.Write(
      "cfg.yaml", "data_dir: /tmp/mamori-data\nchecks:\n  - {name: td, type: timedaemon}\n");

  ProcessOptions o;
  o.argv = {nspawn,
            "--quiet",
            "--register=no",
            "--keep-unit",
            "-D",
            "/",
            "--volatile=yes",
            "--bind-ro=" + unitdir + ":/etc/systemd/system",
            "--bind=" + outdir + ":/out",
            "--bind-ro=" + std::string(MAMORI_BINARY) + ":/mamori-bin",
            "--bind-ro=" + cfg + ":/cfg.yaml",
            "--boot",
            "systemd.firstboot=off"};
  o.timeout = 60s;
  o.kill_grace = 5s;
  o.max_output = 256 * 1024;
  auto r = RunProcess(o);
  if (!r.ok()) GTEST_SKIP() << "systemd-nspawn cannot be started: " << r.error().message();
  if (!fs::exists(outdir + "/booted")) {
    ASSERT_FALSE(r->timed_out) << "no multi-user.target within 60 s:\n" << r->err.substr(0, 4000);
    GTEST_SKIP() << "systemd-nspawn cannot boot a container here: " << r->err.substr(0, 2000);
  }
  EXPECT_FALSE(r->timed_out) << "the container did not power off within 60 s";

  auto rows = nlohmann::json::parse(Slurp(outdir + "/result.json"), nullptr, false);
  ASSERT_TRUE(rows.is_array() && rows.size() == 1u)
      << Slurp(outdir + "/result.json") << "\nstderr: " << Slurp(outdir + "/stderr.txt");
  EXPECT_EQ(rows[0]["status"], "critical") << rows.dump(2);
  const std::string summary = rows[0]["summary"];
  EXPECT_EQ(summary, "chronyd.service is enabled and stopped: clock not disciplined")
      << rows.dump(2);
  EXPECT_EQ(rows[0]["metrics"]["stopped_units"], 1) << rows.dump(2);

  auto doctor = nlohmann::json::parse(Slurp(outdir + "/doctor.json"), nullptr, false);
  ASSERT_TRUE(doctor.is_array()) << Slurp(outdir + "/stderr.txt");
  const nlohmann::json* td = nullptr;
  for (const auto& row : doctor)
    if (row["type"] == "timedaemon") td = &row;
  ASSERT_NE(td, nullptr) << doctor.dump(2);
  EXPECT_EQ((*td)["summary"], summary);
}

}  // namespace
}  // namespace mamori
