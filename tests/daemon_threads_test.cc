// The daemon's http checks fetch on the daemon's own loop: no thread of the
// HTTP client's hands each check over and back (each hand-over cost a wake-up
// and a context switch; bench/RESULTS.md, "CPU per check"). Checked on the
// real binary against a real nginx on 127.0.0.1: while the checks run, only
// one thread of the daemon ever waits in epoll_wait, and it is the main
// thread (the loop); with the client's own thread there were two. And the
// daemon still stops at once, cleanly, with fetches in flight on that loop.
#include <arpa/inet.h>
#include <dirent.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "testing/cli.h"
#include "testing/nginx.h"
#include "testing/ports.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;

// The threads of `pid` blocked in epoll_wait or epoll_pwait now
// (/proc/PID/task/TID/syscall begins with the number of the call a thread
// waits in), and whether `pid`'s main thread is one of them.
std::pair<int, bool> ThreadsInEpollWait(pid_t pid) {
  int n = 0;
  bool main = false;
  const std::string dir = fmt::format("/proc/{}/task", pid);
  DIR* d = ::opendir(dir.c_str());
  if (!d) return {0, false};
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const std::string call = testing::ReadFile(fmt::format("{}/{}/syscall", dir, e->d_name));
    const long nr = std::strtol(call.c_str(), nullptr, 10);
    if (call.empty() || !std::isdigit(static_cast<unsigned char>(call[0]))) continue;
    if (nr == SYS_epoll_wait || nr == SYS_epoll_pwait) {
      ++n;
      main |= std::to_string(pid) == e->d_name;
    }
  }
  ::closedir(d);
  return {n, main};
}

TEST(DaemonThreads, HttpChecksFetchOnTheDaemonsLoop) {
  std::string error;
  auto nginx = testing::NginxServer::Start({}, &error);
  ASSERT_TRUE(nginx) << error;
  // A listener that never accepts: checks against it stay in flight (the
  // kernel completes the handshake; nobody answers) until the daemon stops.
  const int silent = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&a), len), 0);
  ASSERT_EQ(::listen(silent, 64), 0);
  ASSERT_EQ(::getsockname(silent, reinterpret_cast<sockaddr*>(&a), &len), 0);

  testing::TempDir dir;
  std::string checks;
  for (int i = 0; i < 20; ++i)
    checks += fmt::format("  - {{name: web{}, type: http, url: '{}', interval: 1s, timeout: 1s}}\n",
                          i, nginx->Url());
  for (int i = 0; i < 3; ++i)
    checks += fmt::format(
        "  - {{name: silent{}, type: http, url: 'http://127.0.0.1:{}/', interval: 1s, "
        "timeout: 20s}}\n",
        i, ntohs(a.sin_port));
  const std::string config =
      dir.Write("mamori.yaml", fmt::format("data_dir: {}/data\nchecks:\n{}", dir.path(), checks));
  testing::DaemonProcess daemon({"-c", config}, dir.path() + "/log");
  ASSERT_TRUE(daemon.WaitForLog(" running ")) << daemon.Log();
  ASSERT_TRUE(testing::Eventually([&] { return nginx->AccessCount() >= 40; }, 20s))
      << nginx->AccessCount() << " requests\n"
      << daemon.Log();
  ASSERT_TRUE(daemon.WaitForLog("web19: PENDING -> OK")) << daemon.Log();

  // Sampled for a second: a thread busy at one sample waits at another.
  int most = 0;
  bool main_waits = false;
  for (int i = 0; i < 50; ++i) {
    const auto [n, main] = ThreadsInEpollWait(daemon.pid());
    most = std::max(most, n);
    main_waits |= main;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(most, 1) << "threads waiting in epoll_wait";
  EXPECT_TRUE(main_waits);

  // Fetches in flight on the loop (the silent ones) do not hold up the stop.
  const auto start = std::chrono::steady_clock::now();
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(10s), 0) << daemon.Log();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ::close(silent);
}

}  // namespace
}  // namespace mamori
