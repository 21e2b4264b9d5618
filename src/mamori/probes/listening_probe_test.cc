// Tests for the "listening" check type against the real kernel tables: the
// test opens real listeners on loopback and expects to find them, owned by
// this process, accepting connections.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "testing/probe_harness.h"

namespace mamori {
namespace {

using testing::ProbeHarness;

double Metric(const Observation& o, const std::string& name) {
  for (const auto& m : o.metrics)
    if (m.name == name) return m.value;
  ADD_FAILURE() << "no metric " << name << " in: " << o.summary;
  return NAN;
}

// A socket bound to an ephemeral loopback port; listening if asked.
class Socket {
 public:
  Socket(int family, bool listen) {
    fd_ = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    sockaddr_storage ss{};
    socklen_t len;
    if (family == AF_INET) {
      auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
      sin->sin_family = AF_INET;
      sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof(*sin);
    } else {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
      sin6->sin6_family = AF_INET6;
      sin6->sin6_addr = in6addr_loopback;
      len = sizeof(*sin6);
    }
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
        (listen && ::listen(fd_, 16) != 0) ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    port_ = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                    : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::string SelfComm() {
  std::ifstream in("/proc/self/comm");
  std::string s;
  std::getline(in, s);
  return s;
}

TEST(ListeningProbe, FindsOwnListenerWithProcessName) {
  Socket l(AF_INET, true);
  ASSERT_TRUE(l.ok());
  ProbeHarness h;
  auto o = h.RunYaml("{name: listening, type: listening}");
  // Our own listener is found, attributed to this process, and accepts.
  EXPECT_NE(o.details.find(fmt::format("127.0.0.1:{} {} (pid {}) accepts\n", l.port(), SelfComm(),
                                       ::getpid())),
            std::string::npos)
      << o.details;
  // Other listeners on this shared machine belong to other tests; only ours
  // is asserted on. When the list is short enough to be complete, it names us.
  if (o.status == CheckStatus::kOk && Metric(o, "listeners") <= 15) {
    EXPECT_NE(o.summary.find(fmt::format("{} {}", l.port(), SelfComm())), std::string::npos)
        << o.summary;
  }
  EXPECT_EQ(o.summary.find(fmt::format("127.0.0.1:{}", l.port())), std::string::npos)
      << "our listener must not be reported failing: " << o.summary;
  EXPECT_GE(Metric(o, "listeners"), 1);
}

TEST(ListeningProbe, Ipv6Listener) {
  Socket l(AF_INET6, true);
  if (!l.ok()) GTEST_SKIP() << "no IPv6 loopback here";
  ProbeHarness h;
  auto o = h.RunYaml("{name: listening, type: listening}");
  EXPECT_NE(o.details.find(
                fmt::format("[::1]:{} {} (pid {}) accepts\n", l.port(), SelfComm(), ::getpid())),
            std::string::npos)
      << o.details;
}

TEST(ListeningProbe, ExpectedPorts) {
  Socket l(AF_INET, true);
  Socket closed(AF_INET, false);  // bound, not listening: the port stays ours and closed
  ASSERT_TRUE(l.ok() && closed.ok());
  ProbeHarness h;
  auto ok =
      h.RunYaml(fmt::format("{{name: l, type: listening, ports: [{}], connect: false}}", l.port()));
  EXPECT_EQ(ok.status, CheckStatus::kOk) << ok.summary;
  EXPECT_EQ(ok.details.find("accepts"), std::string::npos) << "connect: false must not connect";
  auto missing = h.RunYaml(fmt::format(
      "{{name: l, type: listening, ports: [{}, {}], connect: false}}", l.port(), closed.port()));
  EXPECT_EQ(missing.status, CheckStatus::kCritical);
  EXPECT_EQ(missing.summary, fmt::format("nothing listens on {}", closed.port()));
}

TEST(ListeningProbeConfig, Errors) {
  ProbeHarness h;
  std::string errors;
  EXPECT_EQ(h.Build("{name: l, type: listening, ports: [22, 70000]}", &errors), nullptr);
  EXPECT_EQ(errors,
            "test.yaml:2:39: check 'l': 'ports': '70000' is not a TCP port; write port numbers "
            "from 1 to 65535, e.g. ports: [22, 80, 5432]\n");
  EXPECT_EQ(h.Build("{name: l, type: listening, conect: false}", &errors), nullptr);
  EXPECT_NE(errors.find("unknown key 'conect'; did you mean 'connect'?"), std::string::npos)
      << errors;
}

}  // namespace
}  // namespace mamori
