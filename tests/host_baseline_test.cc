// The baseline across two boots of the same container state: this machine's
// own /usr booted with systemd as PID 1 (systemd-nspawn --volatile=yes, its
// own network namespace), a planted service listening on 127.0.0.1:8765.
// Boot 1 takes the baseline (`mamori baseline accept`) into /out/data, which
// outlives the container; boot 2 comes up without that service, and `mamori
// check` there must name its port (with the process that held it) and its
// unit. Model: host_systemd_test.cc.
//
// Needs root and systemd-nspawn; skips, with nspawn's words, only where the
// container cannot start. Each boot is bounded (60 s, then killed).
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

constexpr const char* kListener =
    "[Service]\nExecStart=/usr/bin/python3 -m http.server --bind 127.0.0.1 8765\n"
    "[Install]\nWantedBy=multi-user.target\n";

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
    if (::geteuid() != 0) GTEST_SKIP() << "booting a container with systemd-nspawn needs root";
    for (const char* p : {"/usr/bin/systemd-nspawn", "/bin/systemd-nspawn"})
      if (::access(p, X_OK) == 0) nspawn_ = p;
    if (nspawn_.empty())
      GTEST_SKIP() << "systemd-nspawn is not installed (apt-get install systemd-container)";
    fs::create_directories(dir_.path() + "/out/data");
    cfg_ = dir_.Write("cfg.yaml",
                      "data_dir: /out/data\n"
                      "checks:\n"
                      "  - {name: baseline, type: baseline, include: [listeners, units]}\n");
  }

  // Boots once with the listener service enabled or not; false (with skip_
  // or a failure set) when the container did not boot.
  bool Boot(const std::string& name, bool with_listener, const std::string& command) {
    const std::string unitdir = dir_.path() + "/" + name;
    fs::create_directories(unitdir + "/multi-user.target.wants");
    dir_.Write(name + "/listener.service", kListener);
    if (with_listener)
      fs::create_symlink("../listener.service",
                         unitdir + "/multi-user.target.wants/listener.service");
    dir_.Write(name + "/runner.service", Runner(with_listener, command));
    fs::create_symlink("../runner.service", unitdir + "/multi-user.target.wants/runner.service");
    fs::remove(dir_.path() + "/out/booted");
    ProcessOptions o;
    o.argv = {nspawn_,
              "--quiet",
              "--register=no",
              "--keep-unit",
              "--private-network",
              "-D",
              "/",
              "--volatile=yes",
              "--bind-ro=" + unitdir + ":/etc/systemd/system",
              "--bind=" + dir_.path() + "/out:/out",
              "--bind-ro=" + std::string(MAMORI_BINARY) + ":/mamori-bin",
              "--bind-ro=" + cfg_ + ":/cfg.yaml",
              "--boot",
              "systemd.firstboot=off"};
    o.timeout = 60s;
    o.kill_grace = 5s;
    o.max_output = 256 * 1024;
    auto r = RunProcess(o);
    if (!r.ok()) {
      skip_ = "systemd-nspawn cannot be started: " + r.error().message();
      return false;
    }
    if (!fs::exists(dir_.path() + "/out/booted")) {
      if (r->timed_out)
        ADD_FAILURE() << "the container did not boot within 60 s:\n" << r->err.substr(0, 4000);
      else
        skip_ = "systemd-nspawn cannot boot a container here (exit " +
                std::to_string(r->exit_code) + "): " + r->err.substr(0, 2000);
      return false;
    }
    EXPECT_FALSE(r->timed_out) << "the container did not power off within 60 s";
    return true;
  }

  mamori::testing::TempDir dir_;
  std::string nspawn_, cfg_, skip_;
};

TEST_F(HostBaseline, APortOfTheFirstBootMissingAfterTheSecondIsNamed) {
  if (!Boot("boot1", true, "/mamori-bin baseline accept -c /cfg.yaml > /out/accept.txt")) {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    return;
  }
  const std::string baseline = Slurp(dir_.path() + "/out/data/baseline.json");
  ASSERT_NE(baseline.find("\"8765/tcp\""), std::string::npos)
      << baseline << Slurp(dir_.path() + "/out/stderr.txt");
  ASSERT_NE(baseline.find("\"listener.service\""), std::string::npos) << baseline;

  ASSERT_TRUE(Boot("boot2", false, "/mamori-bin check -c /cfg.yaml --json > /out/result.json"))
      << skip_;
  auto rows = nlohmann::json::parse(Slurp(dir_.path() + "/out/result.json"), nullptr, false);
  ASSERT_TRUE(rows.is_array() && rows.size() == 1)
      << Slurp(dir_.path() + "/out/result.json") << Slurp(dir_.path() + "/out/stderr.txt");
  const std::string summary = rows[0]["summary"];
  EXPECT_EQ(rows[0]["status"], "warning") << summary;
  EXPECT_NE(summary.find("8765/tcp (python3) was listening and is not now"), std::string::npos)
      << summary;
  EXPECT_NE(summary.find("listener.service was active and is not now"), std::string::npos)
      << summary;
}

}  // namespace
}  // namespace mamori
