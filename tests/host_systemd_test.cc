// The systemd check against a real systemd as PID 1: this machine's own /usr
// booted in a container (systemd-nspawn --volatile=yes: the root is a tmpfs,
// /usr comes from the host read-only, the host is untouched), with the test's
// units in /etc/systemd/system. A oneshot "runner" unit waits until the
// planted units have settled, runs the real `mamori check --json` inside,
// writes the result to /out and powers the container off.
//
// What it proves: on every unit Debian ships here plus the planted ones, the
// check names the failed unit with its Result and the enabled simple service
// that exited, and nothing else: not the healthy service, the oneshot, the
// RemainAfterExit oneshot, or the unit skipped by its Condition. And `mamori
// doctor`, with no configuration, carries the same check and finding.
//
// Needs root and systemd-nspawn (package systemd-container); it skips, with
// nspawn's own words, only where the container cannot start at all. The boot
// is bounded (60 s, then the whole nspawn process group is killed).
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "testing/nspawn.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

using testing::Slurp;

struct Unit {
  const char* name;
  const char* text;
  bool enable;
};

// The planted units; the runner is written separately.
const Unit kUnits[] = {
    {"failing.service", "[Service]\nExecStart=/bin/false\n", true},
    {"exits.service", "[Service]\nType=simple\nExecStart=/bin/true\n", true},
    {"healthy.service", "[Service]\nExecStart=/bin/sleep infinity\n", true},
    {"oneshot.service", "[Service]\nType=oneshot\nExecStart=/bin/true\n", true},
    {"remain.service", "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n", true},
    {"conditional.service",
     "[Unit]\nConditionPathExists=/nonexistent-mamori-test\n[Service]\nExecStart=/bin/sleep "
     "infinity\n",
     true},
};

// Waits (bounded, polling systemd's own answer) until the planted units have
// settled, then runs mamori and powers off whatever happened.
constexpr const char* kRunner = R"([Unit]
After=multi-user.target failing.service exits.service healthy.service
[Service]
Type=oneshot
ExecStartPre=/bin/sh -c 'echo booted > /out/booted'
ExecStartPre=/bin/sh -c 'for i in $(seq 100); do systemctl is-failed -q failing.service && ! systemctl is-active -q exits.service && exit 0; sleep 0.1; done'
ExecStart=/bin/sh -c '/mamori-bin check -c /cfg.yaml --json > /out/result.json 2> /out/stderr.txt; echo $? > /out/exit_code; /mamori-bin doctor --json > /out/doctor.json 2>> /out/stderr.txt; systemctl poweroff --no-block'
)";

class HostSystemd : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = testing::NspawnUnavailable(); !why.empty()) GTEST_SKIP() << why;
  }

  // Boots the container with `units` and returns the result rows.
  nlohmann::json Boot(const std::string& config) {
    testing::NspawnBoot boot;
    for (const auto& u : kUnits) boot.units.push_back({u.name, u.text, u.enable});
    boot.runner = kRunner;
    boot.bind_ro.emplace_back(dir_.Write("cfg.yaml", config), "/cfg.yaml");
    auto r = testing::BootContainer(dir_, boot);
    skip_ = r.skip;
    nspawn_err_ = r.err;
    if (!r.booted) return nullptr;
    EXPECT_FALSE(r.timed_out) << "the container did not power off within 60 s";
    const std::string text = Slurp(r.out + "/result.json");
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_array()) {
      ADD_FAILURE() << "no JSON from mamori in the container: '" << text
                    << "'\nstderr: " << Slurp(r.out + "/stderr.txt")
                    << "\nexit: " << Slurp(r.out + "/exit_code");
      return nullptr;
    }
    return j;
  }

  mamori::testing::TempDir dir_;
  std::string skip_;
  std::string nspawn_err_;
};

TEST_F(HostSystemd, NamesTheFailedAndTheExitedUnitsAndNothingElse) {
  auto rows = Boot(
      "data_dir: /tmp/mamori-data\n"
      "checks:\n"
      "  - {name: units, type: systemd}\n"
      "  - {name: healthy, type: systemd, unit: healthy}\n");
  if (!skip_.empty()) GTEST_SKIP() << skip_;
  ASSERT_TRUE(rows.is_array());
  ASSERT_EQ(rows.size(), 2u) << rows.dump(2);
  const auto& all = rows[0];
  const std::string summary = all["summary"];
  EXPECT_EQ(all["status"], "critical") << rows.dump(2);
  EXPECT_NE(summary.find("failing.service (exit-code)"), std::string::npos) << summary;
  EXPECT_NE(summary.find("enabled but not running: exits.service"), std::string::npos) << summary;
  for (const char* quiet : {"healthy", "oneshot", "remain", "conditional", "runner"})
    EXPECT_EQ(summary.find(quiet), std::string::npos) << quiet << " in: " << summary;
  // Exactly those two among every unit of the stock boot: no false alarm.
  EXPECT_EQ(all["metrics"]["failed_units"], 1) << rows.dump(2);
  EXPECT_EQ(all["metrics"]["not_running_units"], 1) << rows.dump(2);
  EXPECT_EQ(all["metrics"]["failed:failing.service"], 1);
  EXPECT_EQ(all["metrics"]["not_running:exits.service"], 1);
  EXPECT_GT(all["metrics"]["units"].get<double>(), 50) << "the whole boot's units were read";

  EXPECT_EQ(rows[1]["status"], "ok") << rows.dump(2);
  EXPECT_EQ(rows[1]["summary"], "healthy.service active (running)");

  // With no configuration at all, `mamori doctor` carries the same check.
  auto doctor = nlohmann::json::parse(Slurp(dir_.path() + "/out/doctor.json"), nullptr, false);
  ASSERT_TRUE(doctor.is_array()) << Slurp(dir_.path() + "/out/stderr.txt");
  const nlohmann::json* units = nullptr;
  for (const auto& row : doctor)
    if (row["type"] == "systemd") units = &row;
  ASSERT_NE(units, nullptr) << doctor.dump(2);
  EXPECT_EQ((*units)["summary"], summary);
  // The other host checks find nothing on this healthy boot: /usr bound
  // read-only into the container is meant so, the kernel log is the host's.
  int host_rows = 0;
  for (const auto& row : doctor) {
    if (row["type"] != "mounts" && row["type"] != "kernel" && row["type"] != "deleted_libs")
      continue;
    ++host_rows;
    // The kernel's own facts (OOM kills since the host booted, a newer kernel
    // installed on the host) belong to the machine running the test, not to
    // the container's boot: not judged here beyond "not critical".
    if (row["type"] == "kernel") {
      EXPECT_NE(row["status"], "critical") << row.dump(2);
    } else {
      EXPECT_EQ(row["status"], "ok") << row.dump(2);
    }
  }
  EXPECT_EQ(host_rows, 3) << doctor.dump(2);
}

}  // namespace
}  // namespace mamori
