// `mamori guard` and `mamori prompt` against a real PostgreSQL primary and a
// real standby (a second cluster started with standby.signal), and the shell
// wrappers in a real bash. Both servers are started once for the suite.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "mamori/util/subprocess.h"
#include "mamori_binary_path.h"
#include "testing/cli.h"
#include "testing/postgres.h"

namespace mamori::testing {
namespace {

namespace fs = std::filesystem;

std::string Host() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

class GuardCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!PostgresServer::MissingBinaries().empty()) return;
    primary_ = new PostgresServer();
    PostgresServer::Options o;
    o.standby = true;
    standby_ = new PostgresServer(o);
    std::string standby_error;
    std::thread t([&] { standby_error = standby_->Start(); });
    start_error_ = primary_->Start();
    t.join();
    if (start_error_.empty()) start_error_ = standby_error;
  }
  static void TearDownTestSuite() {
    delete primary_;
    delete standby_;
    primary_ = standby_ = nullptr;
  }
  void SetUp() override {
    if (auto m = PostgresServer::MissingBinaries(); !m.empty()) GTEST_SKIP() << m;
    ASSERT_EQ(start_error_, "");
  }
  static CliResult Bash(const std::string& script) {
    ProcessOptions o;
    o.argv = {"bash", "-c", script};
    o.env = {{"MAMORI", MAMORI_BINARY}};
    o.timeout = std::chrono::seconds(30);
    CliResult r;
    auto res = RunProcess(o);
    if (!res.ok()) return r;
    r.exit_code = res->exit_code;
    r.out = res->out;
    r.err = res->err;
    return r;
  }
  static PostgresServer* primary_;
  static PostgresServer* standby_;
  static std::string start_error_;
};
PostgresServer* GuardCli::primary_ = nullptr;
PostgresServer* GuardCli::standby_ = nullptr;
std::string GuardCli::start_error_;

TEST_F(GuardCli, RefusesToWipeTheRunningPrimary) {
  const std::string data = primary_->data_dir();
  auto r = RunMamori({"guard", "--", "rm", "-rf", data}, Host() + "\n");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("REFUSED"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("PRIMARY (pg_is_in_recovery())"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("host: " + Host()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("client(s) connected"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("last write"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(data + "/PG_VERSION"));
  // Under the data directory, or the directory holding it: the same.
  EXPECT_EQ(RunMamori({"guard", "--", "rm", "-rf", data + "/base"}, Host() + "\n").exit_code, 2);
  EXPECT_EQ(RunMamori({"guard", "--", "mv", primary_->dir(), "/tmp/x"}, Host() + "\n").exit_code,
            2);
  // The override still asks for the host name.
  r = RunMamori({"guard", "--i-know-this-is-the-primary", "--", "rm", "-rf", data}, "db2\n");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("Not confirmed (typed 'db2'"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(data + "/PG_VERSION"));
  auto alive = primary_->Sql("SELECT 1");
  EXPECT_TRUE(alive.ok());
}

TEST_F(GuardCli, AsksForTheHostNameOnTheStandby) {
  const std::string junk = standby_->data_dir() + "/old_base_backup.tar";
  std::ofstream(junk) << "x";
  auto r = RunMamori({"guard", "--", "rm", "-f", junk}, "not-" + Host() + "\n");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("standby (pg_is_in_recovery())"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Type this host's name (" + Host() + ")"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(junk));
  r = RunMamori({"guard", "--", "rm", "-f", junk}, "");  // no answer at all
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(fs::exists(junk));
  r = RunMamori({"guard", "--", "rm", "-f", junk}, Host() + "\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(junk));
}

TEST_F(GuardCli, HarmlessCommandsRunStraightThroughWithTheirExitCode) {
  auto r = RunMamori({"guard", "--", "ls", primary_->data_dir()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("PG_VERSION"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
  r = RunMamori({"guard", "--", "ls", primary_->data_dir() + "/no-such-file"});
  EXPECT_EQ(r.exit_code, 2) << r.err;  // ls's own code
  r = RunMamori({"guard", "--", "sh", "-c", "exit 7"});
  EXPECT_EQ(r.exit_code, 7);
  r = Bash("\"$MAMORI\" guard -- sh -c 'kill -TERM $$'; echo rc=$?");
  EXPECT_NE(r.out.find("rc=143"), std::string::npos) << r.out << r.err;  // killed by SIGTERM
}

TEST_F(GuardCli, ShellWrappersInARealBash) {
  TempDir tmp;
  const std::string file = tmp.Write("somefile", "x");
  auto r = Bash("eval \"$(\"$MAMORI\" guard shell-init bash)\"; rm -rf '" + primary_->data_dir() +
                "' </dev/null; echo rc=$?; rm '" + file + "'; echo rc2=$?; type rm | head -1");
  EXPECT_NE(r.out.find("rc=2"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.err.find("REFUSED"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(primary_->data_dir() + "/PG_VERSION"));
  EXPECT_NE(r.out.find("rc2=0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rm is a function"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(file));
  // `command rm` bypasses the wrapper: proof that the wrapper, not rm, refused.
  const std::string other = tmp.Write("other", "x");
  r = Bash("eval \"$(\"$MAMORI\" guard shell-init bash)\"; command rm '" + other + "'; echo rc=$?");
  EXPECT_NE(r.out.find("rc=0"), std::string::npos) << r.out << r.err;
  EXPECT_FALSE(fs::exists(other));
}

// CPU time of the reaped children since `since` (ms): the wall clock of a
// loaded CI machine says little about the program itself.
double ChildCpuMs(const rusage& since) {
  rusage now{};
  ::getrusage(RUSAGE_CHILDREN, &now);
  auto ms = [](const timeval& t) { return t.tv_sec * 1000.0 + t.tv_usec / 1000.0; };
  return ms(now.ru_utime) + ms(now.ru_stime) - ms(since.ru_utime) - ms(since.ru_stime);
}

TEST_F(GuardCli, PromptNamesTheRoleQuickly) {
  const std::string host = Host().substr(0, Host().find('.'));
  rusage before{};
  ::getrusage(RUSAGE_CHILDREN, &before);
  const auto started = std::chrono::steady_clock::now();
  auto r = RunMamori({"prompt", "-D", primary_->data_dir()});
  const auto wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  const double cpu_ms = ChildCpuMs(before);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, host + " PRIMARY\n");
  // The whole process: start-up, /proc scan, one query on the local socket.
  EXPECT_LT(cpu_ms, 200) << "mamori prompt used " << cpu_ms << " ms of CPU";
  EXPECT_LT(wall_ms, 3000) << "mamori prompt took " << wall_ms << " ms";
  std::cout << "[ measure ] mamori prompt: " << wall_ms << " ms wall, " << cpu_ms << " ms CPU\n";
  r = RunMamori({"prompt", "-D", standby_->data_dir()});
  EXPECT_EQ(r.out, host + " standby\n");
  TempDir empty;
  r = RunMamori({"prompt", "-D", empty.path()});
  EXPECT_EQ(r.out, host + "\n");
}

}  // namespace
}  // namespace mamori::testing
