// `mamori exec` with the real binary: a job that forks a daemon, a monitor
// that hangs or refuses, inherited descriptors and signal dispositions. The
// monitor is a real HTTP receiver (WebhookSink) or a real socket on
// 127.0.0.1.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "mamori/util/subprocess.h"
#include "mamori_binary_path.h"
#include "testing/cli.h"
#include "testing/notify_servers.h"
#include "testing/ports.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::RunMamori;
using testing::TempDir;
using Steady = std::chrono::steady_clock;

double Seconds(Steady::duration d) { return std::chrono::duration<double>(d).count(); }

double NowEpoch() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

// A TCP socket listening on 127.0.0.1 that never accepts: connections
// complete in the kernel's backlog and nobody ever answers.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 64) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Kills the process whose pid a job wrote to `path` (the daemon it forked),
// so the test leaves nothing behind.
void KillPidFrom(const std::string& path) {
  std::ifstream in(path);
  pid_t pid = 0;
  if (in >> pid && pid > 1) ::kill(pid, SIGKILL);
}

// The job forks a long sleeper that keeps the stdout/stderr pipes open and
// exits at once: mamori returns with the job's status, not 30 s later.
TEST(ExecCli, ReturnsWhenTheJobExitsEvenIfItLeftAProcessHoldingItsOutput) {
  std::string error;
  auto hook = testing::WebhookSink::Start(&error);
  ASSERT_TRUE(hook) << error;
  TempDir dir;
  const std::string pidfile = dir.path() + "/daemon.pid";
  const auto start = Steady::now();
  auto r = RunMamori({"exec", "--url", hook->Url("/ping/forker"), "--", "sh", "-c",
                      "echo started; sleep 30 & echo $! > " + pidfile + "; exit 7"});
  const auto took = Steady::now() - start;
  KillPidFrom(pidfile);
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_LT(Seconds(took), 3.0);
  EXPECT_EQ(r.out, "started\n");
  EXPECT_EQ(r.err, "");
  // Both pings arrived, in order, the end one with the job's status.
  ASSERT_TRUE(testing::WaitFor([&] { return hook->Requests().size() >= 2; }, 5));
  auto requests = hook->Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[0].find("/ping/forker/start?rid="), std::string::npos) << requests[0];
  EXPECT_NE(requests[1].find("/ping/forker/7?rid="), std::string::npos) << requests[1];
  EXPECT_NE(requests[1].find("started"), std::string::npos) << requests[1];
}

// The job gets no descriptor mamori inherited beyond 0-2, default signal
// dispositions and an empty mask, and mamori's own stdin.
TEST(ExecCli, JobGetsACleanProcessButMamorisStdin) {
  std::string error;
  auto hook = testing::WebhookSink::Start(&error);
  ASSERT_TRUE(hook) << error;
  ProcessOptions o;
  // The shell leaves descriptor 7 open (no close-on-exec) and SIGUSR1
  // ignored for mamori, as a careless parent (cron, a script) might.
  o.argv = {"/bin/sh", "-c",
            "exec 7</dev/null; trap '' USR1; exec \"$0\" exec --url \"$1\" -- sh -c "
            "'if [ -e /proc/self/fd/7 ]; then echo fd7-inherited; fi; "
            "grep -E \"^Sig(Blk|Ign)\" /proc/self/status; cat'",
            MAMORI_BINARY, hook->Url("/ping/clean")};
  o.stdin_data = "from stdin\n";
  o.timeout = 30s;
  auto r = RunProcess(o);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->exit_code, 0) << r->err;
  auto lines = Lines(r->out);
  ASSERT_EQ(lines.size(), 3u) << r->out;  // no "fd7-inherited"
  EXPECT_EQ(lines[0], "SigBlk:\t0000000000000000");
  ASSERT_EQ(lines[1].rfind("SigIgn:\t", 0), 0u) << lines[1];
  // Signals 32 and 33 are glibc's own (thread cancellation, setxid); its
  // posix_spawn leaves them ignored and the next program's glibc takes them
  // back. Nothing else may stay ignored.
  const uint64_t ignored = std::stoull(lines[1].substr(8), nullptr, 16);
  EXPECT_EQ(ignored & ~(uint64_t{3} << 31), 0u) << lines[1];
  EXPECT_EQ(lines[2], "from stdin");
}

struct DownMonitorCase {
  const char* name;
  bool listening;  // accepts and never answers; otherwise nothing listens
};

class ExecMonitorDown : public ::testing::TestWithParam<DownMonitorCase> {};

// The monitor is down: the job still starts at once, mamori returns within
// --ping-timeout plus a margin, and one stderr line says which pings were
// not delivered.
TEST_P(ExecMonitorDown, JobStartsAtOnceAndPingsGiveUpInTime) {
  std::optional<SilentListener> silent;
  int port = 0;
  if (GetParam().listening) {
    silent.emplace();
    port = silent->port();
  } else {
    port = testing::PickFreePort();  // bound and closed: connections are refused
  }
  ASSERT_GT(port, 0);
  TempDir dir;
  const std::string stamp = dir.path() + "/started";
  const double before = NowEpoch();
  const auto start = Steady::now();
  auto r =
      RunMamori({"exec", "--url", "http://127.0.0.1:" + std::to_string(port) + "/ping/x",
                 "--ping-timeout", "2s", "--", "sh", "-c", "date +%s.%N > " + stamp + "; exit 3"});
  const auto took = Steady::now() - start;
  EXPECT_EQ(r.exit_code, 3) << r.err;
  std::ifstream in(stamp);
  double started = 0;
  ASSERT_TRUE(in >> started) << "the job did not run";
  EXPECT_LT(started - before, 1.5) << "the job waited for the /start ping";
  EXPECT_LT(Seconds(took), 2.0 + 1.5);
  auto lines = Lines(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_NE(lines[0].find("not delivered"), std::string::npos) << r.err;
  EXPECT_NE(lines[0].find("/start"), std::string::npos) << r.err;
  EXPECT_NE(lines[0].find("/3"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Monitor, ExecMonitorDown,
                         ::testing::Values(DownMonitorCase{"Hung", true},
                                           DownMonitorCase{"Refusing", false}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ExecCli, RejectsABadPingTimeout) {
  auto r = RunMamori(
      {"exec", "--url", "http://127.0.0.1:1/ping/x", "--ping-timeout", "0s", "--", "true"});
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_NE(r.err.find("--ping-timeout"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace mamori
