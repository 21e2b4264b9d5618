// Tests for the "tcp" check type against real listeners on 127.0.0.1: a real
// nginx (connect, request, banner), a port nobody listens on (refused), and a
// socket that listens but never accepts or answers (the only way to make a
// peer stall on purpose; the kernel completes the handshake for it).
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <thread>

#include "testing/nginx.h"
#include "testing/probe_harness.h"

namespace mamori {
namespace {

using testing::NginxServer;
using testing::ProbeHarness;

double Metric(const Observation& o, const std::string& name) {
  for (const auto& m : o.metrics)
    if (m.name == name) return m.value;
  return NAN;
}

// A loopback socket that listens and never accepts; closes on destruction.
class StalledListener {
 public:
  explicit StalledListener(int family = AF_INET) {
    fd_ = ::socket(family, SOCK_STREAM, 0);
    sockaddr_storage ss{};
    socklen_t len;
    if (family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_addr = in6addr_loopback;
      len = sizeof *a;
    }
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
      return;
    port_ = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                    : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  }
  ~StalledListener() { ::close(fd_); }
  int port() const { return port_; }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class TcpProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    nginx_ = NginxServer::Start({}, &error);
    ASSERT_TRUE(nginx_) << error;
  }
  Observation Run(const std::string& extra, Duration timeout = std::chrono::seconds(5)) {
    return harness_.RunYaml(fmt::format("{{name: t, type: tcp, {}}}", extra), timeout);
  }
  std::string Errors(const std::string& extra) {
    std::string errors;
    EXPECT_FALSE(harness_.Build(fmt::format("{{name: t, type: tcp, {}}}", extra), &errors))
        << extra;
    return errors;
  }
  std::unique_ptr<NginxServer> nginx_;
  ProbeHarness harness_;
};

TEST_F(TcpProbeTest, ConnectsToOpenPort) {
  Observation o = Run(fmt::format("address: '127.0.0.1:{}'", nginx_->port()));
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_EQ(o.summary.rfind(fmt::format("connected to 127.0.0.1:{} in ", nginx_->port()), 0), 0u)
      << o.summary;
  EXPECT_GT(Metric(o, "connect_ms"), 0);
  EXPECT_GE(Metric(o, "total_ms"), Metric(o, "connect_ms"));
  EXPECT_TRUE(std::isnan(Metric(o, "banner_bytes")));
  EXPECT_TRUE(std::isnan(Metric(o, "resolve_ms")));  // an IP literal needs no lookup
}

TEST_F(TcpProbeTest, SendsRequestAndFindsExpectedAnswer) {
  Observation o = Run(fmt::format(
      "address: '127.0.0.1:{}', send: \"GET / HTTP/1.0\\r\\n\\r\\n\", expect: 'HTTP/1.1 200'",
      nginx_->port()));
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_NE(o.summary.find(", got 'HTTP/1.1 200' in "), std::string::npos) << o.summary;
  EXPECT_GE(Metric(o, "banner_bytes"), 12);
  EXPECT_LE(Metric(o, "banner_bytes"), 4096);
  // nginx really received and logged the request (it logs after responding).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (nginx_->AccessCount() < 1 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(nginx_->AccessCount(), 1u);
}

TEST_F(TcpProbeTest, WrongBannerIsCriticalAndShowsWhatCame) {
  Observation o = Run(
      fmt::format("address: '127.0.0.1:{}', send: \"GET / HTTP/1.0\\r\\n\\r\\n\", expect: SSH-2.0",
                  nginx_->port()));
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_EQ(
      o.summary.rfind("banner lacks 'SSH-2.0' (connection closed; got: 'HTTP/1.1 200 OK\\r\\n", 0),
      0u)
      << o.summary;
  EXPECT_NE(o.summary.find("...')"), std::string::npos) << o.summary;  // excerpt is cut
  EXPECT_GT(Metric(o, "banner_bytes"), 0);
}

TEST_F(TcpProbeTest, RefusedPortIsCritical) {
  const int port = testing::PickFreePort();
  Observation o = Run(fmt::format("address: '127.0.0.1:{}'", port));
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_EQ(o.summary, fmt::format("connect to 127.0.0.1:{} failed: Connection refused", port));
  EXPECT_TRUE(std::isnan(Metric(o, "connect_ms")));
  EXPECT_FALSE(std::isnan(Metric(o, "total_ms")));
}

TEST_F(TcpProbeTest, StalledPeerTimesOutWaitingForBannerAndSocketIsClosed) {
  StalledListener peer;
  ASSERT_GT(peer.port(), 0);
  const auto start = std::chrono::steady_clock::now();
  Observation o =
      Run(fmt::format("address: '127.0.0.1:{}', expect: SSH-2.0, timeout: 300ms", peer.port()),
          std::chrono::milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  // The budget is what was left of the 300 ms when the probe started: on a
  // loaded machine a few ms went by between the runner's deadline and Start().
  EXPECT_THAT(o.summary,
              ::testing::MatchesRegex(
                  "banner lacks 'SSH-2.0' \\(timed out after (2[5-9][0-9]|300)ms; got: ''\\)"));
  EXPECT_EQ(Metric(o, "banner_bytes"), 0);
  EXPECT_GE(took, std::chrono::milliseconds(290));
  EXPECT_LT(took, std::chrono::seconds(2));
  // The probe closed its end: the queued connection reads as end-of-stream.
  pollfd pfd{peer.fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 1000), 1);
  int conn = ::accept(peer.fd(), nullptr, nullptr);
  ASSERT_GE(conn, 0);
  pollfd cfd{conn, POLLIN, 0};
  ASSERT_EQ(::poll(&cfd, 1, 2000), 1);
  char c;
  EXPECT_EQ(::read(conn, &c, 1), 0);
  ::close(conn);
}

TEST_F(TcpProbeTest, LatencyThresholds) {
  const std::string addr = fmt::format("address: '127.0.0.1:{}'", nginx_->port());
  // Any real connection takes longer than zero.
  Observation warn = Run(addr + ", max_latency: 0ms");
  EXPECT_EQ(warn.status, CheckStatus::kWarning) << warn.summary;
  EXPECT_EQ(warn.summary.rfind("slow: ", 0), 0u) << warn.summary;
  EXPECT_NE(warn.summary.find("(warning above 0.00ms); connected to"), std::string::npos)
      << warn.summary;
  Observation crit = Run(addr + ", max_latency: 0ms, critical_latency: 0ms");
  EXPECT_EQ(crit.status, CheckStatus::kCritical) << crit.summary;
  EXPECT_NE(crit.summary.find("(critical above 0.00ms)"), std::string::npos) << crit.summary;
  EXPECT_EQ(Run(addr + ", max_latency: 5s, critical_latency: 10s").status, CheckStatus::kOk);
}

TEST_F(TcpProbeTest, HostNameIsResolvedThroughSystemResolver) {
  Observation o = Run(fmt::format("address: 'localhost:{}'", nginx_->port()));
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_NE(o.summary.find(fmt::format("connected to localhost:{} (127.0.0.1) in", nginx_->port())),
            std::string::npos)
      << o.summary;
  EXPECT_GE(Metric(o, "resolve_ms"), 0);
}

TEST_F(TcpProbeTest, UnresolvableHostIsCritical) {
  Observation o = Run("address: 'no-such-host.invalid:80'");
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_EQ(o.summary.rfind("cannot resolve 'no-such-host.invalid': ", 0), 0u) << o.summary;
}

TEST_F(TcpProbeTest, Ipv6Literal) {
  StalledListener peer(AF_INET6);
  if (peer.port() == 0) GTEST_SKIP() << "no IPv6 loopback here";
  Observation o = Run(fmt::format("address: '[::1]:{}'", peer.port()));
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_EQ(o.summary.rfind(fmt::format("connected to [::1]:{} in", peer.port()), 0), 0u)
      << o.summary;
}

TEST_F(TcpProbeTest, IssueExampleIsValid) {
  std::string errors;
  EXPECT_TRUE(
      harness_.Build(R"({name: mariadb-port, type: tcp, address: "127.0.0.1:3306"})", &errors))
      << errors;
  EXPECT_TRUE(harness_.Build(R"({name: ssh, type: tcp, address: "[::1]:22", expect: SSH-2.0,
                                 max_latency: 200ms, critical_latency: 1s})",
                             &errors))
      << errors;
}

TEST_F(TcpProbeTest, InvalidConfigGoldenMessages) {
  const std::string hint =
      "; write host:port, e.g. \"127.0.0.1:3306\", \"db.internal:5432\" or \"[::1]:22\"\n";
  // Build() places the check at line 2, column 5 of test.yaml; `address`'s
  // value starts at column 35.
  const std::string at = "test.yaml:2:35: check 't': 'address': ";
  EXPECT_EQ(Errors("port: 80"), "test.yaml:2:5: check 't': missing 'address'" + hint +
                                    "test.yaml:2:26: check 't': unknown key 'port'; remove it; see "
                                    "docs/CONFIGURATION.md for the keys allowed here\n");
  EXPECT_EQ(Errors("address: localhost"), at + "'localhost' has no port" + hint);
  EXPECT_EQ(Errors("address: ''"), at + "empty address" + hint);
  EXPECT_EQ(Errors("address: '::1:22'"),
            at + "'::1:22' looks like an IPv6 address without brackets" + hint);
  EXPECT_EQ(Errors("address: '[::1]'"), at + "'[::1]' has no port" + hint);
  EXPECT_EQ(Errors("address: '[zz]:80'"), at + "'zz' is not an IPv6 address" + hint);
  EXPECT_EQ(Errors("address: 'db:0'"), at + "port 0 is out of range 1-65535" + hint);
  EXPECT_EQ(Errors("address: 'db:70000'"), at + "port 70000 is out of range 1-65535" + hint);
  EXPECT_EQ(Errors("address: 'db:mysql'"), at + "port 'mysql' is not a number" + hint);
  EXPECT_EQ(Errors("address: '1.2.3.4.5:80'"),
            at + "'1.2.3.4.5' is not a valid IPv4 address" + hint);
  EXPECT_EQ(Errors("address: '256.1.1.1:80'"),
            at + "'256.1.1.1' is not a valid IPv4 address" + hint);
  EXPECT_EQ(Errors("address: 'bad_host!:80'"), at + "host name 'bad_host!' contains '!'" + hint);
  EXPECT_EQ(Errors("address: [a, b]"), at + "expected a string, found a list\n");
  EXPECT_EQ(Errors("address: '127.0.0.1:80', send: 'GET /\\r\\n'"),
            "test.yaml:2:57: check 't': 'send': contains a literal backslash escape (\\r or \\n); "
            "put the value in double quotes so \\r\\n become line breaks\n");
  EXPECT_EQ(Errors("address: '127.0.0.1:80', expect: ''"),
            "test.yaml:2:59: check 't': 'expect': must be 1 to 1024 bytes long; give a short "
            "piece of the answer, e.g. SSH-2.0\n");
  EXPECT_EQ(Errors("address: '127.0.0.1:80', max_latency: 2s, critical_latency: 1s"),
            "test.yaml:2:86: check 't': 'critical_latency': is lower than max_latency (2.0s); "
            "critical_latency is the worse threshold: make it at least max_latency\n");
  EXPECT_EQ(Errors("address: '127.0.0.1:80', expct: x"),
            "test.yaml:2:51: check 't': unknown key 'expct'; did you mean 'expect'?\n");
}

}  // namespace
}  // namespace mamori
