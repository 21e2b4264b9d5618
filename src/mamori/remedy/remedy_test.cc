// Tests for remedies on real things: a real nginx's Unix socket (live, then
// stale after SIGKILL), files held open by this very process (seen through
// the real /proc), real commands, and the config reader's errors.
#include "mamori/remedy/remedy.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "mamori/config/diagnostics.h"
#include "testing/cli.h"
#include "testing/nginx.h"

namespace mamori::remedy {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

Step StaleSocket(const std::string& p) { return Step{StepKind::kRemoveStaleSocket, p, {}}; }
Step UnusedFiles(const std::string& p) { return Step{StepKind::kRemoveUnusedFiles, p, {}}; }
Step Command(std::vector<std::string> argv) {
  return Step{StepKind::kCommand, "", std::move(argv)};
}

TEST(Remedy, StaleSocketIsRemovedOnlyWhenNobodyListens) {
  testing::TempDir dir;
  const std::string sock = dir.path() + "/fpm.sock";
  std::string error;
  auto nginx = testing::NginxServer::StartWithUnixSocket(sock, &error);
  ASSERT_TRUE(nginx) << error;

  Plan plan;
  plan.steps = {StaleSocket(sock)};
  Outcome live = Execute(plan);
  EXPECT_TRUE(live.ok);
  EXPECT_EQ(live.steps.at(0).detail, "live (accepts connections): left alone");
  EXPECT_TRUE(fs::exists(sock));

  nginx->Crash();
  ASSERT_TRUE(testing::Eventually(
      [&] {
        std::string why;
        return SocketIsStale(sock, &why);
      },
      5s));
  Outcome fixed = Execute(plan);
  EXPECT_TRUE(fixed.ok) << fixed.Summary();
  EXPECT_EQ(fixed.Summary(),
            "remedy ok: remove_stale_socket " + sock + ": stale (connection refused): removed");
  EXPECT_FALSE(fs::exists(sock));
  // Nothing left to do is not a failure.
  EXPECT_EQ(Execute(plan).steps.at(0).detail, "not there: nothing to remove");
}

TEST(Remedy, FilesInUseAreKeptAndUnusedOnesRemoved) {
  testing::TempDir dir;
  const std::string busy = dir.Write("mpmtx7120", "");
  const std::string stale = dir.Write("mpmtx6001", "");
  const int fd = ::open(busy.c_str(), O_RDONLY | O_CLOEXEC);  // this process holds it
  ASSERT_GE(fd, 0);
  bool unknown = false;
  EXPECT_EQ(OpenByAnyProcess({busy, stale}, "/proc", &unknown), std::vector<std::string>{busy});

  Plan plan;
  plan.steps = {UnusedFiles(dir.path() + "/mpmtx*")};
  if (unknown) GTEST_SKIP() << "some processes' fds are unreadable here; the step refuses";
  Outcome o = Execute(plan);
  EXPECT_TRUE(o.ok) << o.Summary();
  EXPECT_EQ(o.steps.at(0).detail, "removed " + stale + "; in use, kept " + busy);
  EXPECT_TRUE(fs::exists(busy));
  EXPECT_FALSE(fs::exists(stale));
  ::close(fd);
}

TEST(Remedy, StepsStopAtTheFirstFailure) {
  testing::TempDir dir;
  const std::string marker = dir.path() + "/ran";
  Plan plan;
  plan.steps = {Command({"sh", "-c", "echo restarting; exit 3"}), Command({"touch", marker})};
  Outcome o = Execute(plan);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.Summary(),
            "remedy failed at step 1: sh -c echo restarting; exit 3: exited 3: restarting");
  EXPECT_FALSE(fs::exists(marker));
  plan.steps = {Command({"true"}), Command({"touch", marker})};
  EXPECT_TRUE(Execute(plan).ok);
  EXPECT_TRUE(fs::exists(marker));
  plan.steps = {Command({"/nonexistent/restart-it"})};
  o = Execute(plan);
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.steps.at(0).detail.find("cannot run /nonexistent/restart-it"), std::string::npos)
      << o.Summary();
  plan.command_timeout = 200ms;
  plan.steps = {Command({"sleep", "10"})};
  EXPECT_EQ(Execute(plan).steps.at(0).detail, "timed out after 0s");
}

TEST(Remedy, GuardAllowsMaxAttemptsPerWindow) {
  Plan plan;
  plan.max_attempts = 2;
  plan.window = std::chrono::hours(1);
  Guard g;
  const WallTime t0 = WallTime(std::chrono::hours(1000));
  EXPECT_TRUE(g.TryAcquire(plan, t0));
  EXPECT_TRUE(g.TryAcquire(plan, t0 + 10min));
  EXPECT_FALSE(g.TryAcquire(plan, t0 + 20min));
  EXPECT_TRUE(g.TryAcquire(plan, t0 + 61min));  // the first attempt left the window
}

// Reads `remedy:` from a check mapping, returning the plan and the errors.
std::shared_ptr<const Plan> Parse(const std::string& yaml, std::string* errors) {
  config::Diagnostics diag;
  config::ConfigNode node(YAML::Load(yaml), "check 'x'", "test.yaml", &diag);
  auto plan = ReadPlan(node);
  errors->clear();
  for (const auto& d : diag.items()) *errors += d.ToString() + "\n";
  return plan;
}

TEST(RemedyConfig, ReadsStepsAndRejectsUnsafeOrUnclearOnes) {
  std::string errors;
  auto plan = Parse(
      "remedy: {max_attempts: 2, window: 30m, steps: [{remove_stale_socket: /run/php/fpm.sock}, "
      "{remove_unused_files: /tmp/mpmtx*}, {command: [systemctl, restart, php-fpm]}]}",
      &errors);
  ASSERT_TRUE(plan) << errors;
  EXPECT_EQ(errors, "");
  ASSERT_EQ(plan->steps.size(), 3u);
  EXPECT_EQ(plan->steps[2].argv, (std::vector<std::string>{"systemctl", "restart", "php-fpm"}));
  EXPECT_EQ(plan->max_attempts, 2);

  EXPECT_FALSE(Parse("remedy: {steps: [{remove_unused_files: /tmp/*}]}", &errors));
  EXPECT_NE(errors.find("would match whole directories of files"), std::string::npos) << errors;
  EXPECT_FALSE(Parse("remedy: {steps: [{command: 'systemctl restart x'}]}", &errors));
  EXPECT_NE(errors.find("command must be a list"), std::string::npos) << errors;
  EXPECT_FALSE(Parse("remedy: {steps: [{remove_stale_socket: run/x.sock}]}", &errors));
  EXPECT_NE(errors.find("'run/x.sock' is not an absolute path"), std::string::npos) << errors;
  EXPECT_FALSE(Parse("remedy: {steps: [{}]}", &errors));
  EXPECT_NE(errors.find("a remedy step needs one action"), std::string::npos) << errors;
  EXPECT_FALSE(Parse("remedy: {max_attempts: 2}", &errors));
  EXPECT_NE(errors.find("remedy has no steps"), std::string::npos) << errors;
  EXPECT_FALSE(Parse("name: x", &errors));
  EXPECT_EQ(errors, "");
}

}  // namespace
}  // namespace mamori::remedy
