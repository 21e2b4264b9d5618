// Tests for the `command` check type against Debian's real monitoring plugins
// (monitoring-plugins-basic/-standard in /usr/lib/nagios/plugins) and small
// shell-script plugins written to a temporary directory.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "testing/probe_harness.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
namespace fs = std::filesystem;

const std::string kPlugins = "/usr/lib/nagios/plugins";

const Metric* FindMetric(const Observation& o, std::string_view name) {
  for (const auto& m : o.metrics)
    if (m.name == name) return &m;
  return nullptr;
}

class CommandProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("mamori_command_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes an executable shell-script plugin and returns its path.
  std::string Script(const std::string& name, const std::string& body) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << "#!/bin/sh\n" << body;
    chmod(path.c_str(), 0755);
    return path;
  }

  std::string Errors(const std::string& yaml) {
    std::string errors;
    auto probe = harness_.Build(yaml, &errors);
    EXPECT_EQ(probe, nullptr) << yaml;
    return errors;
  }

  testing::ProbeHarness harness_;
  fs::path dir_;
};

TEST_F(CommandProbeTest, CheckDummyMapsEveryExitCode) {
  const std::pair<CheckStatus, const char*> cases[] = {
      {CheckStatus::kOk, "OK: all good"},
      {CheckStatus::kWarning, "WARNING: all good"},
      {CheckStatus::kCritical, "CRITICAL: all good"},
      {CheckStatus::kUnknown, "UNKNOWN: all good"},
  };
  for (const auto& [status, summary] : cases) {
    auto o =
        harness_.RunYaml("{name: d, type: command, command: [" + kPlugins + "/check_dummy, \"" +
                         std::to_string(ExitCode(status)) + "\", all good]}");
    EXPECT_EQ(o.status, status) << summary;
    EXPECT_EQ(o.summary, summary);
    EXPECT_EQ(o.details, "");
    EXPECT_TRUE(o.metrics.empty());
  }
}

TEST_F(CommandProbeTest, CheckLoadExampleConfig) {
  auto o = harness_.RunYaml(
      "{name: load, type: command, command: [/usr/lib/nagios/plugins/check_load, -w, \"5,4,3\", "
      "-c, \"10,8,6\"]}");
  ASSERT_EQ(o.metrics.size(), 3u) << o.summary;
  const Metric* l1 = FindMetric(o, "load1");
  const Metric* l5 = FindMetric(o, "load5");
  const Metric* l15 = FindMetric(o, "load15");
  ASSERT_TRUE(l1 && l5 && l15);
  // The machine's load is what it is; the status must agree with the values
  // the plugin itself reported against -w 5,4,3 -c 10,8,6.
  CheckStatus expected = CheckStatus::kOk;
  if (l1->value > 5 || l5->value > 4 || l15->value > 3) expected = CheckStatus::kWarning;
  if (l1->value > 10 || l5->value > 8 || l15->value > 6) expected = CheckStatus::kCritical;
  EXPECT_EQ(o.status, expected) << o.summary;
  EXPECT_EQ(
      o.summary.rfind("LOAD " + std::string(StatusLabel(expected)) + " - total load average: ", 0),
      0u)
      << o.summary;
  // And the values are this machine's (within what changes in a moment).
  std::ifstream in("/proc/loadavg");
  double a = 0, b = 0, c = 0;
  in >> a >> b >> c;
  EXPECT_NEAR(l1->value, a, 1.0);
  EXPECT_NEAR(l15->value, c, 1.0);
}

TEST_F(CommandProbeTest, CheckDiskCritical) {
  // Free space is always below 100%, so this is CRITICAL on any machine.
  auto o = harness_.RunYaml("{name: root, type: command, command: [" + kPlugins +
                            "/check_disk, -w, \"100%\", -c, \"100%\", -p, /]}");
  EXPECT_EQ(o.status, CheckStatus::kCritical) << o.summary;
  EXPECT_EQ(o.summary.rfind("DISK CRITICAL - free space: / ", 0), 0u) << o.summary;
  const Metric* used = FindMetric(o, "/");
  ASSERT_NE(used, nullptr);
  auto space = fs::space("/");
  EXPECT_GT(used->value, 0);
  EXPECT_LE(used->value, static_cast<double>(space.capacity));
}

TEST_F(CommandProbeTest, TimeoutKillsTheProcessGroup) {
  std::string pidfile = (dir_ / "bg.pid").string();
  std::string plugin =
      Script("check_slow", "sleep 100 &\necho $! > " + pidfile + "\necho 'started'\nsleep 100\n");
  auto probe = harness_.Build("{name: slow, type: command, command: [" + plugin + "]}");
  ASSERT_NE(probe, nullptr);
  auto start = Steady::now();
  auto o = harness_.Run(*probe, 1s);
  auto took = Steady::now() - start;
  EXPECT_EQ(o.status, CheckStatus::kUnknown);
  EXPECT_EQ(o.summary, "timed out after 1s; process group killed");
  EXPECT_GE(took, 800ms);
  // The group gets SIGTERM at 0.9s so the answer normally lands before the
  // deadline; the bound leaves room for a loaded machine.
  EXPECT_LE(took, 1500ms);
  std::ifstream in(pidfile);
  pid_t bg = 0;
  in >> bg;
  ASSERT_GT(bg, 0);
  // Gone, or a zombie waiting for init: either way not running.
  auto until = Steady::now() + 3s;
  auto alive = [bg] {
    std::ifstream stat("/proc/" + std::to_string(bg) + "/stat");
    std::string s((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    size_t p = s.rfind(')');
    return p != std::string::npos && p + 2 < s.size() && s[p + 2] != 'Z';
  };
  while (alive() && Steady::now() < until) std::this_thread::sleep_for(5ms);
  EXPECT_FALSE(alive()) << "background child " << bg << " survived the timeout";
}

TEST_F(CommandProbeTest, OtherExitCodesAndSignalsAreUnknown) {
  auto o = harness_.RunYaml("{name: x, type: command, command: [" +
                            Script("check_4", "echo 'STRANGE - exit four | v=1'\nexit 4\n") + "]}");
  EXPECT_EQ(o.status, CheckStatus::kUnknown);
  EXPECT_EQ(o.summary, "plugin exited with code 4: STRANGE - exit four");
  ASSERT_EQ(o.metrics.size(), 1u);

  o = harness_.RunYaml("{name: x, type: command, command: [/bin/sh, -c, no-such-command-here]}");
  EXPECT_EQ(o.status, CheckStatus::kUnknown);
  EXPECT_EQ(o.summary.rfind("plugin exited with code 127: ", 0), 0u) << o.summary;
  EXPECT_NE(o.summary.find("not found"), std::string::npos) << o.summary;

  o = harness_.RunYaml("{name: x, type: command, command: [" +
                       Script("check_sig", "echo 'OK so far'\nkill -KILL $$\n") + "]}");
  EXPECT_EQ(o.status, CheckStatus::kUnknown);
  EXPECT_EQ(o.summary, "killed by signal 9 (SIGKILL): OK so far");
}

TEST_F(CommandProbeTest, MissingPluginIsUnknown) {
  auto o = harness_.RunYaml("{name: x, type: command, command: [" + kPlugins + "/check_x]}");
  EXPECT_EQ(o.status, CheckStatus::kUnknown);
  EXPECT_EQ(o.summary, "cannot run /usr/lib/nagios/plugins/check_x: No such file or directory");
}

TEST_F(CommandProbeTest, LongOutputStderrAndPerfData) {
  std::string plugin = Script("check_long",
                              "echo \"WARNING - 2 of 3 queues slow | 'queue a'=5s;3;6 b=U\"\n"
                              "echo 'queue a: 5s'\n"
                              "echo 'queue b: unknown | c=7c;;;0'\n"
                              "echo 'd=1.5%'\n"
                              "echo 'deprecated flag' >&2\n"
                              "exit 1\n");
  auto o = harness_.RunYaml("{name: q, type: command, command: [" + plugin + "]}");
  EXPECT_EQ(o.status, CheckStatus::kWarning);
  EXPECT_EQ(o.summary, "WARNING - 2 of 3 queues slow");
  EXPECT_EQ(o.details, "queue a: 5s\nqueue b: unknown\nstderr:\ndeprecated flag");
  ASSERT_EQ(o.metrics.size(), 3u);  // b=U has no value
  EXPECT_EQ(o.metrics[0].name, "queue a");
  EXPECT_DOUBLE_EQ(o.metrics[0].value, 5);
  EXPECT_EQ(o.metrics[1].name, "c");
  EXPECT_EQ(o.metrics[2].name, "d");
  EXPECT_DOUBLE_EQ(o.metrics[2].value, 1.5);
}

TEST_F(CommandProbeTest, StderrOnlyAndNoOutput) {
  auto o = harness_.RunYaml(
      "{name: x, type: command, command: [/bin/sh, -c, 'echo \"disk gone\" >&2; exit 2']}");
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_EQ(o.summary, "disk gone");
  EXPECT_EQ(o.details, "");
  o = harness_.RunYaml("{name: x, type: command, command: [/bin/true]}");
  EXPECT_EQ(o.status, CheckStatus::kOk);
  EXPECT_EQ(o.summary, "plugin exited with code 0 and printed nothing");
}

TEST_F(CommandProbeTest, ShellEnvAndMaxOutput) {
  auto o = harness_.RunYaml(
      "{name: x, type: command, shell: true, command: 'echo \"OK - $GREETING\" | tr a-z A-Z', "
      "env: {GREETING: hi there}}");
  EXPECT_EQ(o.status, CheckStatus::kOk);
  EXPECT_EQ(o.summary, "OK - HI THERE");

  o = harness_.RunYaml(
      "{name: x, type: command, max_output: 1KiB, command: [/bin/sh, -c, "
      "'printf \"OK \"; head -c 5000 /dev/zero | tr \"\\0\" x']}");
  EXPECT_EQ(o.status, CheckStatus::kOk);
  EXPECT_EQ(o.summary.size(), 300u);  // capped
  EXPECT_EQ(o.summary.substr(0, 4), "OK x");
  EXPECT_EQ(o.summary.substr(297), "...");
  EXPECT_EQ(o.details, "[output truncated at 1.0 KiB]");
}

TEST_F(CommandProbeTest, ConfigErrors) {
  EXPECT_EQ(Errors("{name: x, type: command, command: \"check_load -w 5,4,3\"}"),
            "test.yaml:2:39: check 'x': 'command': a single string is only run with shell: true; "
            "write the program and its arguments as a list, e.g. command: "
            "[/usr/lib/nagios/plugins/check_load, -w, \"5,4,3\", -c, \"10,8,6\"]; or set shell: "
            "true to run the string with /bin/sh -c\n");
  EXPECT_EQ(Errors("{name: x, type: command, shell: true, command: [a, b]}"),
            "test.yaml:2:52: check 'x': 'command': with shell: true the command must be one "
            "string; write command: \"...\" as one string, or remove shell: true to run the list "
            "without a shell\n");
  EXPECT_EQ(Errors("{name: x, type: command}"),
            "test.yaml:2:5: check 'x': missing 'command'; give the plugin and its arguments as a "
            "list, e.g. command: [/usr/lib/nagios/plugins/check_load, -w, \"5,4,3\", -c, "
            "\"10,8,6\"]\n");
  EXPECT_EQ(Errors("{name: x, type: command, command: []}"),
            "test.yaml:2:39: check 'x': 'command': names no program; give the plugin and its "
            "arguments, e.g. command: [/usr/lib/nagios/plugins/check_load, -w, \"5,4,3\", -c, "
            "\"10,8,6\"]\n");
  EXPECT_EQ(Errors("{name: x, type: command, command: [a], env: {1BAD: x}, max_output: 10MiB0}"),
            "test.yaml:2:50: check 'x': 'env': '1BAD' is not a valid environment variable name; "
            "use letters, digits and '_', not starting with a digit\n"
            "test.yaml:2:72: check 'x': 'max_output': unknown size unit 'MiB0' in '10MiB0'; write "
            "bytes or a number with a unit: 512, 10MB, 1.5GB, 1MiB\n");
  std::string unknown = Errors("{name: x, type: command, command: [a], shel: true}");
  EXPECT_NE(unknown.find("unknown key 'shel'; did you mean 'shell'?"), std::string::npos)
      << unknown;
}

}  // namespace
}  // namespace mamori
