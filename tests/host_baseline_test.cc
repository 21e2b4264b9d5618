// The baseline across two boots of the same container state: this machine's
// own /usr booted with systemd as PID 1 (systemd-nspawn --volatile=yes, its
// own network namespace), a planted service listening on 127.0.0.1:8765.
// Boot 1 takes the baseline (`mamori baseline accept`) into /out/data, which
// outlives the container; boot 2 comes up without that service, and `mamori
// check` there must name its port (with the process that held it) and its
// unit. Boots through testing/nspawn.h.
//
// Needs root and systemd-nspawn; skips, with nspawn's words, only where the
// container cannot start. Each boot is bounded (60 s, then killed).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "testing/cli.h"
#include "testing/nspawn.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kListener =
    "[Service]\nExecStart=/usr/bin/python3 -m http.server --bind 127.0.0.1 8765\n";

// Waits (bounded) for port 8765 (0x223D) when it is expected, runs `command`,
// and powers off whatever happened.
std::string Runner(bool wait_for_port, const std::string& command) {
  std::string wait =
      wait_for_port
          ? "ExecStartPre=/bin/sh -c 'for i in $(seq 100); do grep -q \":223D 00000000:0000 "
            "0A\" /proc/net/tcp && exit 0; sleep 0.1; done'\n"
          : "";
  return "[Unit]\nAfter=multi-user.target\n[Service]\nType=oneshot\n"
         "ExecStartPre=/bin/sh -c 'echo booted > /out/booted'\n" +
         wait + "ExecStart=/bin/sh -c '" + command +
         " 2> /out/stderr.txt; systemctl poweroff --no-block'\n";
}

class HostBaseline : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = testing::NspawnUnavailable(); !why.empty()) GTEST_SKIP() << why;
    fs::create_directories(dir_.path() + "/out/data");
    cfg_ = dir_.Write("cfg.yaml",
                      "data_dir: /out/data\n"
                      "checks:\n"
                      "  - {name: baseline, type: baseline, include: [listeners, units]}\n");
  }

  // Boots once with the listener service enabled or not; DIR/out (and the
  // baseline in it) is shared by the boots. False (with skip_ set, or a
  // failure added) when the container did not boot.
  bool Boot(const std::string& name, bool with_listener, const std::string& command) {
    testing::NspawnBoot spec;
    spec.units = {{"listener.service", kListener, with_listener}};
    spec.runner = Runner(with_listener, command);
    spec.bind_ro = {{cfg_, "/cfg.yaml"}};
    spec.private_network = true;
    spec.units_dir = name;
    auto boot = testing::BootContainer(dir_, spec);
    skip_ = boot.skip;
    if (!boot.booted) return false;
    EXPECT_FALSE(boot.timed_out) << "the container did not power off within 60 s";
    return true;
  }

  testing::TempDir dir_;
  std::string cfg_, skip_;
};

TEST_F(HostBaseline, APortOfTheFirstBootMissingAfterTheSecondIsNamed) {
  if (!Boot("boot1", true, "/mamori-bin baseline accept -c /cfg.yaml > /out/accept.txt")) {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    return;
  }
  const std::string baseline = testing::Slurp(dir_.path() + "/out/data/baseline.json");
  ASSERT_NE(baseline.find("\"8765/tcp\""), std::string::npos)
      << baseline << testing::Slurp(dir_.path() + "/out/stderr.txt");
  ASSERT_NE(baseline.find("\"listener.service\""), std::string::npos) << baseline;

  ASSERT_TRUE(Boot("boot2", false, "/mamori-bin check -c /cfg.yaml --json > /out/result.json"))
      << skip_;
  auto rows =
      nlohmann::json::parse(testing::Slurp(dir_.path() + "/out/result.json"), nullptr, false);
  ASSERT_TRUE(rows.is_array() && rows.size() == 1)
      << testing::Slurp(dir_.path() + "/out/result.json")
      << testing::Slurp(dir_.path() + "/out/stderr.txt");
  const std::string summary = rows[0]["summary"];
  EXPECT_EQ(rows[0]["status"], "warning") << summary;
  EXPECT_NE(summary.find("8765/tcp (python3) was listening and is not now"), std::string::npos)
      << summary;
  EXPECT_NE(summary.find("listener.service was active and is not now"), std::string::npos)
      << summary;
}

}  // namespace
}  // namespace mamori
