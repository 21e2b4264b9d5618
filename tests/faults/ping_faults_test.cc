// The ping API under faults, against the real daemon (`mamori run`) on
// loopback: a full data disk (a real, small tmpfs), a flood of idle
// connections from one address, and running out of file descriptors (a real
// RLIMIT_NOFILE, set on the daemon with prlimit). The good client is always
// 127.0.0.1; the others come from 127.0.0.2 and up.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "mamori/store/store.h"
#include "testing/cli.h"
#include "testing/loopback_client.h"
#include "testing/ports.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::OpenFrom;
using testing::PingRequest;
using testing::Request;
using testing::TempDir;

constexpr const char* kUuid = "6a1c7a3e-4f0b-4c1e-9d3a-2b7f1e0c5d42";

// user + system CPU time of a process, from /proc/PID/stat.
std::chrono::milliseconds CpuTime(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start after ')'.
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return std::chrono::milliseconds((utime + stime) * 1000 / sysconf(_SC_CLK_TCK));
}

bool SetFdLimit(pid_t pid, rlim_t n) {
  rlimit r{n, n};
  return ::prlimit(pid, RLIMIT_NOFILE, &r, nullptr) == 0;
}

// Idle connections to the daemon; all closed on destruction.
struct Flood {
  std::vector<int> fds;
  // `per_address` connections from each of 127.0.0.<first>..<first+addresses-1>.
  Flood(int port, int first, int addresses, int per_address) {
    for (int a = first; a < first + addresses; ++a)
      for (int i = 0; i < per_address; ++i) {
        int fd = OpenFrom("127.0.0." + std::to_string(a), port);
        if (fd >= 0) fds.push_back(fd);
      }
  }
  ~Flood() { Close(); }
  void Close() {
    for (int fd : fds) ::close(fd);
    fds.clear();
  }
};

class PingFaults : public ::testing::Test {
 protected:
  void Launch(const std::string& data_dir, const std::string& api = "") {
    port_ = testing::PickFreePort();
    config_ = dir_.Write("mamori.yaml", "data_dir: " + data_dir + "\nlisten: 127.0.0.1:" +
                                            std::to_string(port_) + "\n" + api +
                                            "defaults: {interval: 200ms, timeout: 100ms}\n"
                                            "checks:\n"
                                            "  - {name: job, type: heartbeat, uuid: " +
                                            kUuid + ", period: 1d, grace: 1h}\n");
    daemon_ = std::make_unique<DaemonProcess>(std::vector<std::string>{"-c", config_},
                                              dir_.path() + "/daemon.log");
    ASSERT_TRUE(daemon_->WaitForLog("ping API listening")) << daemon_->Log();
  }
  int Ping(const std::string& body, std::chrono::milliseconds deadline = 2000ms) {
    return Request(port_, PingRequest(kUuid, body), deadline);
  }

  TempDir dir_;
  std::string mount_;  // unmounted in TearDown, after the daemon is gone
  std::string config_;
  int port_ = 0;
  std::unique_ptr<DaemonProcess> daemon_;

  void TearDown() override {
    daemon_.reset();
    if (!mount_.empty()) ::umount2(mount_.c_str(), MNT_DETACH);
  }
};

TEST_F(PingFaults, FullDataDiskAnswers503AtOnceAndRecovers) {
  mount_ = dir_.path() + "/disk";
  std::filesystem::create_directories(mount_);
  if (::mount("tmpfs", mount_.c_str(), "tmpfs", 0, "size=2m,mode=0700") != 0) {
    const int err = errno;
    mount_.clear();
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(err)
                 << "); this test needs root or CAP_SYS_ADMIN";
  }
  Launch(mount_ + "/data");
  ASSERT_EQ(Ping("before"), 200) << daemon_->Log();

  // Fill the file system to the last byte.
  const std::string filler = mount_ + "/filler";
  {
    int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    std::string block(64 * 1024, 'f');
    for (size_t chunk : {size_t(64 * 1024), size_t(512), size_t(1)})
      while (::write(fd, block.data(), chunk) > 0) {
      }
    ASSERT_EQ(errno, ENOSPC);
    ::close(fd);
  }
  // Every ping is answered at once with 503 (the client retries), none hangs.
  for (int i = 0; i < 8; ++i) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(Ping("during " + std::to_string(i)), 503) << "ping " << i;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  }
  // Space is back: writing resumes and pings are stored again.
  ASSERT_EQ(::unlink(filler.c_str()), 0);
  ASSERT_TRUE(testing::Eventually([&] { return Ping("after") == 200; }, 20s)) << daemon_->Log();
  daemon_->Signal(SIGTERM);
  EXPECT_EQ(daemon_->Wait(), 0) << daemon_->Log();
  SystemClock clock;
  auto store = Store::Open(mount_ + "/data", clock, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto pings = (*store)->Pings("job", 100);
  ASSERT_TRUE(pings.ok());
  ASSERT_EQ(pings->size(), 2u);  // the two acknowledged ones, no 503-answered one
  EXPECT_EQ((*pings)[0].body, "after");
  EXPECT_EQ((*pings)[1].body, "before");
}

TEST_F(PingFaults, OneAddressCannotLockOthersOut) {
  Launch(dir_.path() + "/data");
  ASSERT_TRUE(SetFdLimit(daemon_->pid(), 256));
  Flood flood(port_, 2, 1, 1500);  // 1,500 idle connections from 127.0.0.2
  ASSERT_GE(flood.fds.size(), 1400u);
  std::this_thread::sleep_for(300ms);  // let the daemon take what it will
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Ping("from the good client", 3000ms), 200) << daemon_->Log();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(PingFaults, OutOfDescriptorsTheDaemonBacksOffAndRecovers) {
  Launch(dir_.path() + "/data");
  ASSERT_TRUE(SetFdLimit(daemon_->pid(), 256));
  // 1,500 idle connections from 25 addresses, each within the per-address
  // limit: together far more than the daemon's 256 descriptors.
  Flood flood(port_, 2, 25, 60);
  ASSERT_GE(flood.fds.size(), 1400u);
  ASSERT_TRUE(daemon_->WaitForLog("out of file descriptors")) << daemon_->Log();
  const auto cpu0 = CpuTime(daemon_->pid());
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(2s);
  const auto cpu = CpuTime(daemon_->pid()) - cpu0;
  const auto wall =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::cout << "daemon CPU while out of descriptors: " << cpu.count() << " ms in " << wall.count()
            << " ms\n";
  // Backing off, not spinning: well under a fifth of one core.
  EXPECT_LT(cpu.count() * 5, wall.count())
      << cpu.count() << " ms of CPU in " << wall.count() << " ms";
  // Logged once for the episode, not once per failed accept.
  const std::string log = daemon_->Log();
  size_t lines = 0;
  for (size_t at = log.find("out of file descriptors"); at != std::string::npos;
       at = log.find("out of file descriptors", at + 1))
    ++lines;
  EXPECT_EQ(lines, 1u) << log.substr(0, 2000);
  // The flood goes away: the good client is served again.
  flood.Close();
  EXPECT_TRUE(testing::Eventually([&] { return Ping("after the flood", 1000ms) == 200; }, 10s))
      << daemon_->Log().substr(0, 2000);
}

}  // namespace
}  // namespace mamori
