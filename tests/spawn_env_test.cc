// The test harness's SpawnServer: a spec's env entries replace inherited
// variables of the same name (appended duplicates are ignored by getenv()
// and the sanitizers' runtimes, which read the first).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "testing/cli.h"
#include "testing/ports.h"
#include "testing/spawn.h"

namespace mamori {
namespace {

TEST(SpawnServer, EnvEntriesReplaceInheritedOnes) {
  ASSERT_EQ(::setenv("MAMORI_SPAWN_ENV_TEST", "inherited", 1), 0);
  testing::TempDir dir;
  testing::SpawnSpec spec;
  // env(1) prints the environment as it came (a shell would fold duplicates).
  spec.argv = {"/usr/bin/env"};
  spec.output = dir.path() + "/out";
  spec.env = {"MAMORI_SPAWN_ENV_TEST=given"};
  pid_t pid = testing::SpawnServer(spec);
  ASSERT_GT(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!testing::ServerExited(pid) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ::unsetenv("MAMORI_SPAWN_ENV_TEST");
  ASSERT_EQ(pid, -1) << "the child did not exit";
  std::istringstream lines(testing::ReadFile(spec.output));
  std::vector<std::string> entries;
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("MAMORI_SPAWN_ENV_TEST=", 0) == 0) entries.push_back(line);
  EXPECT_EQ(entries, std::vector<std::string>{"MAMORI_SPAWN_ENV_TEST=given"});
}

}  // namespace
}  // namespace mamori
