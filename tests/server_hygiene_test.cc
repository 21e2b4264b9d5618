// The servers tests start die with the test: when the fixture is destroyed,
// and when the test process is killed outright (SIGKILL: no destructor
// runs). Each case runs the test binary itself as a helper with a marker of
// its own in MAMORI_TEST_CHILD, starts real servers there (nginx with its
// workers, chronyd under libfaketime), and then looks for any process still
// carrying that marker.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "mamori/util/subprocess.h"
#include "testing/chronyd.h"
#include "testing/cli.h"
#include "testing/nginx.h"
#include "testing/ports.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Pids of the processes whose environment holds exactly `entry`, other than
// copies of this test binary (the helper itself and its reaper).
std::vector<pid_t> ProcessesWith(const std::string& entry) {
  std::vector<pid_t> out;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  for (const auto& d : fs::directory_iterator("/proc", ec)) {
    const std::string name = d.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(d.path() / "environ", std::ios::binary);
    std::string var;
    bool found = false;
    while (std::getline(in, var, '\0'))
      if (var == entry) found = true;
    if (!found) continue;
    std::error_code exe_ec;
    if (fs::read_symlink(d.path() / "exe", exe_ec) == self) continue;
    out.push_back(std::stoi(name));
  }
  return out;
}

void KillAll(const std::vector<pid_t>& pids) {
  for (pid_t p : pids) ::kill(p, SIGKILL);
}

// Helper body, run only inside the helper process (disabled otherwise):
// starts the servers, writes "started" (and chronyd's faketime-related pid)
// to $MAMORI_HYGIENE_FILE, then either stops them itself ("stopped") or
// waits to be killed.
TEST(ServerHygieneHelper, DISABLED_StartServers) {
  const char* file = std::getenv("MAMORI_HYGIENE_FILE");
  const char* mode = std::getenv("MAMORI_HYGIENE_MODE");
  ASSERT_TRUE(file && mode);
  std::string error;
  auto nginx = testing::NginxServer::Start({}, &error);
  ASSERT_TRUE(nginx) << error;
  auto chronyd = testing::ChronydServer::Start("+3h", &error);
  ASSERT_TRUE(chronyd) << error;
  {
    // libfaketime's shared memory files (/dev/shm/faketime_shm_PID and
    // sem.faketime_sem_PID) of this helper's processes, if any.
    std::ofstream shm(std::string(file) + ".shm");
    const std::string entry = std::string("MAMORI_TEST_CHILD=") + std::getenv("MAMORI_TEST_CHILD");
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/dev/shm", ec)) {
      const std::string name = e.path().filename();
      if (name.find("faketime") == std::string::npos) continue;
      const std::string pid = name.substr(name.find_last_of('_') + 1);
      std::ifstream env("/proc/" + pid + "/environ", std::ios::binary);
      std::string var;
      while (std::getline(env, var, '\0'))
        if (var == entry) shm << e.path().string() << "\n";
    }
  }
  std::ofstream(std::string(file) + ".tmp") << "started\n";
  fs::rename(std::string(file) + ".tmp", file);
  if (std::string(mode) == "stop") {
    nginx.reset();
    chronyd.reset();
    std::ofstream(std::string(file) + ".tmp") << "stopped\n";
    fs::rename(std::string(file) + ".tmp", file);
  }
  std::this_thread::sleep_for(60s);  // the parent kills us long before
}

class ServerHygiene : public ::testing::TestWithParam<const char*> {};

TEST_P(ServerHygiene, NoServerOutlivesItsTest) {
  if (::access("/usr/sbin/chronyd", X_OK) != 0) GTEST_SKIP() << "chronyd is not installed";
  testing::TempDir dir;
  const std::string file = dir.path() + "/state";
  const std::string marker = "MAMORI_TEST_CHILD=hygiene-" + std::to_string(::getpid()) + "-" +
                             GetParam() + "-" + std::to_string(std::rand());
  ProcessOptions o;
  o.argv = {"/proc/self/exe", "--gtest_filter=ServerHygieneHelper.DISABLED_StartServers",
            "--gtest_also_run_disabled_tests"};
  o.env = {{"MAMORI_TEST_CHILD", marker.substr(marker.find('=') + 1)},
           {"MAMORI_HYGIENE_FILE", file},
           {"MAMORI_HYGIENE_MODE", GetParam()}};
  o.timeout = 120s;
  o.kill_group_on_exit = false;  // only what the fixtures themselves do counts
  pid_t helper = -1;
  o.on_spawn = [&](pid_t pid) { helper = pid; };
  const std::string wanted = std::string(GetParam()) == "stop" ? "stopped\n" : "started\n";
  std::thread killer([&] {
    // Wait for the helper to reach the wanted state, then kill it outright.
    testing::Eventually([&] { return testing::ReadFile(file) == wanted; }, 60s);
    if (helper > 0) ::kill(helper, SIGKILL);
  });
  auto r = RunProcess(o);
  killer.join();
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(testing::ReadFile(file), wanted) << r->out << r->err;
  EXPECT_EQ(r->term_signal, SIGKILL);

  std::vector<pid_t> left;
  testing::Eventually(
      [&] {
        left = ProcessesWith(marker);
        return left.empty();
      },
      5s);
  KillAll(left);  // whatever happened, do not leak them into the next test
  EXPECT_TRUE(left.empty()) << left.size() << " server process(es) outlived the test";
  // libfaketime must not leave its shared memory behind either.
  // Its cleanup runs as the server's reaper finishes: allow it a moment.
  std::ifstream shm(file + ".shm");
  for (std::string path; std::getline(shm, path);) {
    testing::Eventually([&] { return !fs::exists(path); }, 5s);
    EXPECT_FALSE(fs::exists(path)) << path << " was left behind";
    std::error_code ec;
    fs::remove(path, ec);
  }
}

INSTANTIATE_TEST_SUITE_P(Teardown, ServerHygiene, ::testing::Values("stop", "kill"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace mamori
