// Tests for the "dns" check type. The system-resolver path resolves
// `localhost` from /etc/hosts and a name under the reserved `.invalid` TLD;
// the `server` path asks a real dnsmasq started on 127.0.0.1 with records
// given on its command line. Two stand-ins, each the only way to get the
// behaviour on purpose: a UDP socket that never answers (a dead DNS server),
// and a worker pool kept busy (a system lookup that hangs).
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cmath>
#include <cstdlib>
#include <future>
#include <thread>

#include "testing/dnsmasq.h"
#include "testing/nginx.h"
#include "testing/probe_harness.h"

namespace mamori {
namespace {

using testing::DnsmasqServer;
using testing::ProbeHarness;

double Metric(const Observation& o, const std::string& name) {
  for (const auto& m : o.metrics)
    if (m.name == name) return m.value;
  return NAN;
}

class DnsProbeTest : public ::testing::Test {
 protected:
  Observation Run(const std::string& extra, Duration timeout = std::chrono::seconds(5)) {
    return harness_.RunYaml(fmt::format("{{name: t, type: dns, {}}}", extra), timeout);
  }
  std::string Errors(const std::string& extra) {
    std::string errors;
    EXPECT_FALSE(harness_.Build(fmt::format("{{name: t, type: dns, {}}}", extra), &errors))
        << extra;
    return errors;
  }
  ProbeHarness harness_;
};

TEST_F(DnsProbeTest, SystemResolverFindsLocalhost) {
  Observation o = Run("query: localhost, expect: [127.0.0.1]");
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_EQ(o.summary.rfind("'localhost' A 127.0.0.1 in ", 0), 0u) << o.summary;
  EXPECT_EQ(Metric(o, "addresses"), 1);
  EXPECT_GE(Metric(o, "total_ms"), 0);
}

TEST_F(DnsProbeTest, SystemResolverMissingExpectedAddressIsCritical) {
  Observation o = Run("query: localhost, expect: [127.0.0.1, 192.0.2.7]");
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_EQ(o.summary, "'localhost' A lacks 192.0.2.7 (got 127.0.0.1)");
  Observation exact = Run("query: localhost, expect: [192.0.2.7], exact: true");
  EXPECT_EQ(exact.status, CheckStatus::kCritical);
  EXPECT_EQ(exact.summary,
            "'localhost' A lacks 192.0.2.7 (got 127.0.0.1); 'localhost' A has unexpected "
            "127.0.0.1 (expected only 192.0.2.7)");
}

TEST_F(DnsProbeTest, SystemResolverUnknownNameIsCritical) {
  Observation o = Run("query: no-such-host.invalid");
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_EQ(o.summary.rfind("cannot resolve 'no-such-host.invalid' (A): ", 0), 0u) << o.summary;
}

// getaddrinfo cannot be cancelled: a lookup stuck in the resolver must still
// end the run at the deadline. A pool with its only thread busy holds the
// lookup back just like a resolver that does not answer.
TEST_F(DnsProbeTest, SystemLookupHonoursDeadlineWhenResolverHangs) {
  std::string errors;
  auto probe = harness_.Build("{name: t, type: dns, query: localhost}", &errors);
  ASSERT_TRUE(probe) << errors;
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  boost::asio::thread_pool pool(1);
  std::promise<void> release;
  boost::asio::post(pool, [f = release.get_future()]() mutable { f.wait(); });
  SystemClock clock;
  ProbeEnv env{clock, io, pool, nullptr};
  std::promise<Observation> result;
  const auto start = std::chrono::steady_clock::now();
  probe->Start(env, clock.Monotonic() + std::chrono::milliseconds(200),
               [&](Observation o) { result.set_value(std::move(o)); });
  auto fut = result.get_future();
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(3)), std::future_status::ready);
  const auto took = std::chrono::steady_clock::now() - start;
  Observation o = fut.get();
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_EQ(o.summary, "looking up 'localhost' (A) timed out after 200ms");
  EXPECT_GE(took, std::chrono::milliseconds(190));
  EXPECT_LT(took, std::chrono::seconds(1));
  // The lookup runs late and its answer is dropped (done is called once).
  release.set_value();
  pool.join();
  guard.reset();
  io_thread.join();
}

class DnsServerTest : public DnsProbeTest {
 protected:
  void SetUp() override {
    std::string error;
    dnsmasq_ = DnsmasqServer::Start(
        {
            "--address=/test.example/10.1.2.3", "--address=/multi.example/10.0.0.1",
            "--address=/multi.example/10.0.0.2", "--host-record=dual.example,10.0.0.5,fd00::5",
            "--cname=alias.example,dual.example",
            "--address=/gone.example/",  // NXDOMAIN for the domain
        },
        &error);
    ASSERT_TRUE(dnsmasq_) << error;
  }
  Observation Ask(const std::string& extra) {
    return Run(fmt::format("server: '{}', {}", dnsmasq_->address(), extra));
  }
  std::unique_ptr<DnsmasqServer> dnsmasq_;
};

TEST_F(DnsServerTest, AnswersFromServer) {
  Observation o = Ask("query: test.example, expect: [10.1.2.3]");
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_EQ(o.summary.rfind("'test.example' A 10.1.2.3 in ", 0), 0u) << o.summary;
  EXPECT_NE(o.summary.find(" from " + dnsmasq_->address()), std::string::npos) << o.summary;
  EXPECT_EQ(Metric(o, "addresses"), 1);
  EXPECT_NE(dnsmasq_->Log().find("query[A] test.example from 127.0.0.1"), std::string::npos)
      << dnsmasq_->Log();
}

TEST_F(DnsServerTest, SeveralAddressesAndExactness) {
  Observation o = Ask("query: multi.example, expect: [10.0.0.2]");
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_EQ(Metric(o, "addresses"), 2);
  Observation exact = Ask("query: multi.example, expect: [10.0.0.2], exact: true");
  EXPECT_EQ(exact.status, CheckStatus::kCritical);
  EXPECT_EQ(exact.summary, fmt::format("'multi.example' A has unexpected 10.0.0.1 (expected only "
                                       "10.0.0.2) from {}",
                                       dnsmasq_->address()));
  EXPECT_EQ(Ask("query: multi.example, expect: [10.0.0.1, 10.0.0.2], exact: true").status,
            CheckStatus::kOk);
  Observation wrong = Ask("query: test.example, expect: [10.9.9.9]");
  EXPECT_EQ(wrong.status, CheckStatus::kCritical);
  EXPECT_EQ(wrong.summary, fmt::format("'test.example' A lacks 10.9.9.9 (got 10.1.2.3) from {}",
                                       dnsmasq_->address()));
}

TEST_F(DnsServerTest, BothFamiliesAndCnames) {
  Observation both = Ask("query: dual.example, record: both, expect: [10.0.0.5, 'fd00::5']");
  EXPECT_EQ(both.status, CheckStatus::kOk) << both.summary;
  EXPECT_EQ(both.summary.rfind("'dual.example' A/AAAA 10.0.0.5, fd00::5 in ", 0), 0u)
      << both.summary;
  Observation v6 = Ask("query: dual.example, record: AAAA, expect: ['fd00::5'], exact: true");
  EXPECT_EQ(v6.status, CheckStatus::kOk) << v6.summary;
  Observation alias = Ask("query: alias.example, expect: [10.0.0.5], exact: true");
  EXPECT_EQ(alias.status, CheckStatus::kOk) << alias.summary;
}

TEST_F(DnsServerTest, NxdomainAndRefusedAreCritical) {
  Observation nx = Ask("query: www.gone.example");
  EXPECT_EQ(nx.status, CheckStatus::kCritical);
  EXPECT_EQ(nx.summary, fmt::format("'www.gone.example' A: NXDOMAIN (no such name) from {}",
                                    dnsmasq_->address()));
  // dnsmasq has no upstream for other names and refuses them.
  Observation refused = Ask("query: elsewhere.example");
  EXPECT_EQ(refused.status, CheckStatus::kCritical);
  EXPECT_EQ(refused.summary,
            fmt::format("'elsewhere.example' A: REFUSED (the server refused to answer) from {}",
                        dnsmasq_->address()));
}

TEST_F(DnsServerTest, LatencyThresholds) {
  Observation warn = Ask("query: test.example, max_latency: 0ms");
  EXPECT_EQ(warn.status, CheckStatus::kWarning) << warn.summary;
  EXPECT_EQ(warn.summary.rfind("slow: ", 0), 0u) << warn.summary;
  EXPECT_NE(warn.summary.find("(warning above 0.00ms); 'test.example' A 10.1.2.3"),
            std::string::npos)
      << warn.summary;
  EXPECT_EQ(Ask("query: test.example, critical_latency: 0ms").status, CheckStatus::kCritical);
  EXPECT_EQ(Ask("query: test.example, max_latency: 5s").status, CheckStatus::kOk);
}

TEST_F(DnsProbeTest, ClosedServerPortIsCritical) {
  const int port = testing::PickFreePort();  // nothing listens on UDP there either
  Observation o = Run(fmt::format("query: test.example, server: '127.0.0.1:{}'", port));
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_EQ(o.summary,
            fmt::format("DNS server 127.0.0.1:{} is not answering (port unreachable)", port));
}

TEST_F(DnsProbeTest, SilentServerTimesOutAfterRetransmitting) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const int port = ntohs(a.sin_port);
  const auto start = std::chrono::steady_clock::now();
  Observation o =
      Run(fmt::format("query: test.example, server: '127.0.0.1:{}', timeout: 300ms", port),
          std::chrono::milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  // The run's budget is what was left of the timeout when it started: 300ms,
  // or a little less when the machine is busy.
  const std::string prefix =
      fmt::format("no reply from 127.0.0.1:{} for 'test.example' A within ", port);
  ASSERT_EQ(o.summary.rfind(prefix, 0), 0u) << o.summary;
  const int ms = std::atoi(o.summary.c_str() + prefix.size());
  EXPECT_TRUE(ms > 250 && ms <= 300) << o.summary;
  EXPECT_TRUE(o.summary.ends_with("ms")) << o.summary;
  EXPECT_LT(took, std::chrono::seconds(2));
  // The query was sent, then sent again with the same id while unanswered.
  std::vector<std::string> datagrams;
  pollfd pfd{fd, POLLIN, 0};
  while (::poll(&pfd, 1, 0) == 1) {
    char buf[512];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    datagrams.emplace_back(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  ASSERT_GE(datagrams.size(), 2u);
  for (const auto& d : datagrams) EXPECT_EQ(d, datagrams[0]);
  EXPECT_NE(datagrams[0].find("\x04test\x07"
                              "example"),
            std::string::npos);
}

TEST_F(DnsProbeTest, InvalidConfigGoldenMessages) {
  // Build() places the check at line 2, column 5; `query`'s value is at 33.
  EXPECT_EQ(Errors("record: A"),
            "test.yaml:2:5: check 't': missing 'query'; set query: to the host name to resolve "
            "(the check's own name is 'name')\n");
  EXPECT_EQ(Errors("query: '10.0.0.1'"),
            "test.yaml:2:33: check 't': 'query': '10.0.0.1' is an IP address, not a name; give "
            "the host name to resolve, e.g. query: www.example.org\n");
  EXPECT_EQ(Errors("query: 'a..b'"),
            "test.yaml:2:33: check 't': 'query': host name 'a..b' has an empty or over-long (>63) "
            "label; give the host name to resolve, e.g. query: www.example.org\n");
  EXPECT_EQ(Errors("query: x.example, record: MX"),
            "test.yaml:2:52: check 't': 'record': unsupported record type 'MX'; use A, AAAA or "
            "both\n");
  EXPECT_EQ(Errors("query: x.example, expect: [10.0.0.300]"),
            "test.yaml:2:52: check 't': 'expect': '10.0.0.300' is not an IP address; list IP "
            "addresses, e.g. expect: [192.0.2.10, 2001:db8::10]\n");
  EXPECT_EQ(Errors("query: x.example, expect: ['::1']"),
            "test.yaml:2:52: check 't': 'expect': ::1 is an IPv6 address but record is A; set "
            "record: AAAA or both\n");
  EXPECT_EQ(Errors("query: x.example, exact: true"),
            "test.yaml:2:51: check 't': 'exact': needs 'expect'; list the only addresses allowed "
            "in expect:\n");
  EXPECT_EQ(Errors("query: x.example, server: ns1.example"),
            "test.yaml:2:52: check 't': 'server': 'ns1.example' is not an IP address; write the "
            "DNS server's IP address with an optional port, e.g. 192.0.2.53, 192.0.2.53:5353 or "
            "[2001:db8::53]:53\n");
  EXPECT_EQ(Errors("query: x.example, server: '127.0.0.1:0'"),
            "test.yaml:2:52: check 't': 'server': port 0 is out of range 1-65535; write the DNS "
            "server's IP address with an optional port, e.g. 192.0.2.53, 192.0.2.53:5353 or "
            "[2001:db8::53]:53\n");
  EXPECT_EQ(Errors("query: x.example, querry: y"),
            "test.yaml:2:44: check 't': unknown key 'querry'; did you mean 'query'?\n");
  // Valid forms.
  std::string errors;
  EXPECT_TRUE(
      harness_.Build("{name: t, type: dns, query: www.example.org, record: both, expect: "
                     "[192.0.2.1, '2001:db8::1'], exact: true, server: '[::1]:5353', "
                     "max_latency: 200ms, critical_latency: 1s}",
                     &errors))
      << errors;
  EXPECT_TRUE(harness_.Build("{name: t, type: dns, query: x.example, server: '::1'}", &errors))
      << errors;
}

}  // namespace
}  // namespace mamori
