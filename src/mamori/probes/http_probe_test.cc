// Tests for the "http" check type against a real nginx on 127.0.0.1 (plain and
// HTTPS with a self-signed certificate made for the test). The one stand-in is
// the "stalled peer": a loopback socket that listens but never answers, which
// is the only way to make a server hang on purpose.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <mutex>

#include "mamori/net/http_client.h"
#include "testing/cli.h"
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

class HttpProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    nginx_ = NginxServer::Start({}, &error);
    ASSERT_TRUE(nginx_) << error;
    http_ = MakeHttpClient();
    harness_ = std::make_unique<ProbeHarness>(http_.get());
  }
  Observation Run(const std::string& extra, Duration timeout = std::chrono::seconds(5)) {
    return harness_->RunYaml(fmt::format("{{name: t, type: http, {}}}", extra), timeout);
  }
  std::unique_ptr<NginxServer> nginx_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<ProbeHarness> harness_;
};

TEST_F(HttpProbeTest, HealthyPageIsOkWithTimingMetrics) {
  Observation o = Run(fmt::format("url: '{}'", nginx_->Url("/")));
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_NE(o.summary.find("HTTP 200"), std::string::npos) << o.summary;
  EXPECT_EQ(Metric(o, "status_code"), 200);
  EXPECT_EQ(Metric(o, "body_bytes"), 17);  // "hello from nginx\n"
  const double connect = Metric(o, "connect_ms"), first = Metric(o, "first_byte_ms"),
               total = Metric(o, "total_ms");
  ASSERT_FALSE(std::isnan(connect) || std::isnan(first) || std::isnan(total));
  EXPECT_GE(first, connect);
  EXPECT_GE(total, first);
  EXPECT_GT(total, 0);
  EXPECT_TRUE(std::isnan(Metric(o, "tls_ms")));  // plain HTTP has no handshake
  // nginx logs the request after the response has left: wait for the line.
  EXPECT_TRUE(
      testing::Eventually([&] { return nginx_->AccessCount() == 1u; }, std::chrono::seconds(2)));
}

TEST_F(HttpProbeTest, ServerErrorIsCriticalWithBodyExcerpt) {
  Observation o = Run(fmt::format("url: '{}'", nginx_->Url("/down")));
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_NE(o.summary.find("HTTP 503 (expected 200-299): service unavailable"), std::string::npos)
      << o.summary;
}

TEST_F(HttpProbeTest, ExpectedStatusSetAcceptsListedCodes) {
  EXPECT_EQ(Run(fmt::format("url: '{}', expect: {{status: [503]}}", nginx_->Url("/down"))).status,
            CheckStatus::kOk);
  EXPECT_EQ(Run(fmt::format("url: '{}', expect: {{status: [5xx]}}", nginx_->Url("/down"))).status,
            CheckStatus::kOk);
  EXPECT_EQ(Run(fmt::format("url: '{}', expect: {{status: [500-502, 504]}}", nginx_->Url("/down")))
                .status,
            CheckStatus::kCritical);
}

// Without any body rule: the well-known fatal pages are caught by default,
// and a site that quotes them can turn that off.
TEST_F(HttpProbeTest, KnownFatalPagesAreCriticalWithoutRules) {
  Observation o = Run(fmt::format("url: '{}'", nginx_->Url("/dberror")));
  EXPECT_EQ(o.status, CheckStatus::kCritical) << o.summary;
  EXPECT_NE(o.summary.find("HTTP 200 but the page says 'Error establishing a database "
                           "connection' (WordPress cannot reach its database)"),
            std::string::npos)
      << o.summary;
  o = Run(fmt::format("url: '{}', expect: {{known_errors: false}}", nginx_->Url("/dberror")));
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_EQ(Run(fmt::format("url: '{}'", nginx_->Url("/"))).status, CheckStatus::kOk);
}

// Incident: the WordPress site answered 200 with a database error page.
TEST_F(HttpProbeTest, DatabaseErrorPageWith200IsCritical) {
  Observation o =
      Run(fmt::format("url: '{}', expect: {{status: [200], body_not_contains: ['Error establishing "
                      "a database connection']}}",
                      nginx_->Url("/dberror")));
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_NE(o.summary.find("body contains 'Error establishing a database connection'"),
            std::string::npos)
      << o.summary;
  EXPECT_NE(o.summary.find("(HTTP 200 in"), std::string::npos) << o.summary;
  // The same rule passes on the healthy page.
  EXPECT_EQ(Run(fmt::format("url: '{}', expect: {{body_not_contains: ['Error establishing']}}",
                            nginx_->Url("/")))
                .status,
            CheckStatus::kOk);
}

TEST_F(HttpProbeTest, BodyContainsAndRegex) {
  EXPECT_EQ(
      Run(fmt::format("url: '{}', expect: {{body_contains: [hello]}}", nginx_->Url("/"))).status,
      CheckStatus::kOk);
  Observation lacks =
      Run(fmt::format("url: '{}', expect: {{body_contains: [goodbye]}}", nginx_->Url("/")));
  EXPECT_EQ(lacks.status, CheckStatus::kCritical);
  EXPECT_NE(lacks.summary.find("body lacks 'goodbye'"), std::string::npos);
  EXPECT_EQ(
      Run(fmt::format("url: '{}', expect: {{body_regex: 'hel+o from \\w+'}}", nginx_->Url("/")))
          .status,
      CheckStatus::kOk);
  EXPECT_EQ(Run(fmt::format("url: '{}', expect: {{body_regex: '^bye'}}", nginx_->Url("/"))).status,
            CheckStatus::kCritical);
}

TEST_F(HttpProbeTest, MethodAndHeadersAreSent) {
  Observation o = Run(fmt::format(
      "url: '{}', method: POST, body: 'x=1', headers: {{User-Agent: probe-test, X-Mamori: yes}}, "
      "expect: {{body_contains: ['method=POST ua=probe-test x=yes']}}",
      nginx_->Url("/echo-method")));
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
}

TEST_F(HttpProbeTest, RedirectPolicy) {
  // Not followed by default: a 302 is outside 200-299.
  Observation o = Run(fmt::format("url: '{}'", nginx_->Url("/redirect")));
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_NE(o.summary.find("HTTP 302"), std::string::npos) << o.summary;
  Observation followed =
      Run(fmt::format("url: '{}', follow_redirects: true", nginx_->Url("/redirect")));
  EXPECT_EQ(followed.status, CheckStatus::kOk) << followed.summary;
  EXPECT_NE(followed.summary.find("after 1 redirect(s)"), std::string::npos) << followed.summary;
  Observation loop =
      Run(fmt::format("url: '{}', follow_redirects: true, max_redirects: 3", nginx_->Url("/loop")));
  EXPECT_EQ(loop.status, CheckStatus::kCritical);
  EXPECT_NE(loop.summary.find("redirect"), std::string::npos) << loop.summary;
}

TEST_F(HttpProbeTest, LatencyThresholds) {
  // /slow.txt is rate-limited by nginx to take about half a second.
  Observation warn =
      Run(fmt::format("url: '{}', expect: {{max_latency: 150ms}}", nginx_->Url("/slow.txt")));
  EXPECT_EQ(warn.status, CheckStatus::kWarning) << warn.summary;
  EXPECT_NE(warn.summary.find("slow:"), std::string::npos) << warn.summary;
  EXPECT_NE(warn.summary.find("(warning above 150ms)"), std::string::npos) << warn.summary;
  EXPECT_GT(Metric(warn, "total_ms"), 150);
  Observation crit =
      Run(fmt::format("url: '{}', expect: {{max_latency: 100ms, critical_latency: 200ms}}",
                      nginx_->Url("/slow.txt")));
  EXPECT_EQ(crit.status, CheckStatus::kCritical) << crit.summary;
  EXPECT_NE(crit.summary.find("(critical above 200ms)"), std::string::npos) << crit.summary;
  EXPECT_EQ(Run(fmt::format("url: '{}', expect: {{max_latency: 5s}}", nginx_->Url("/"))).status,
            CheckStatus::kOk);
}

TEST_F(HttpProbeTest, ConnectionRefusedIsCritical) {
  const int port = testing::PickFreePort();
  Observation o = Run(fmt::format("url: 'http://127.0.0.1:{}/'", port));
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_NE(o.summary.find("connect failed: Connection refused"), std::string::npos) << o.summary;
}

TEST_F(HttpProbeTest, StalledServerTimesOut) {
  // Listens but never accepts or answers (the kernel completes the handshake).
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const auto start = std::chrono::steady_clock::now();
  Observation o = Run(fmt::format("url: 'http://127.0.0.1:{}/', timeout: 300ms", ntohs(a.sin_port)),
                      std::chrono::milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_NE(o.summary.find("timed out"), std::string::npos) << o.summary;
  EXPECT_LT(took, std::chrono::seconds(2));
}

TEST_F(HttpProbeTest, ManyConcurrentRequestsAllSucceed) {
  auto probe = harness_->Build(fmt::format("{{name: t, type: http, url: '{}'}}", nginx_->Url("/")));
  ASSERT_TRUE(probe);
  constexpr int kRequests = 500;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, ok = 0;
  for (int i = 0; i < kRequests; ++i) {
    HttpRequest req;
    req.url = nginx_->Url("/");
    http_->Fetch(req, [&](Result<HttpResponse> r) {
      std::lock_guard lock(mu);
      ++done;
      if (r.ok() && r->status == 200) ++ok;
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return done == kRequests; }))
      << done;
  EXPECT_EQ(ok, kRequests);
  lock.unlock();
  EXPECT_EQ(nginx_->AccessCount(), static_cast<size_t>(kRequests));
}

TEST_F(HttpProbeTest, InvalidConfigIsRejectedWithReasons) {
  std::string errors;
  EXPECT_FALSE(harness_->Build("{name: t, type: http}", &errors));
  EXPECT_NE(errors.find("missing 'url'"), std::string::npos) << errors;
  EXPECT_FALSE(harness_->Build("{name: t, type: http, url: 'ftp://x/'}", &errors));
  EXPECT_NE(errors.find("is not an http:// or https:// URL"), std::string::npos) << errors;
  EXPECT_FALSE(
      harness_->Build("{name: t, type: http, url: 'http://x/', expect: {status: [20]}}", &errors));
  EXPECT_NE(errors.find("'20' is not an HTTP status"), std::string::npos) << errors;
  EXPECT_FALSE(harness_->Build(
      "{name: t, type: http, url: 'http://x/', expect: {body_regex: '(unclosed'}}", &errors));
  EXPECT_NE(errors.find("invalid regular expression"), std::string::npos) << errors;
  EXPECT_FALSE(harness_->Build("{name: t, type: http, url: 'http://x/', method: FETCH}", &errors));
  EXPECT_NE(errors.find("unsupported method 'FETCH'"), std::string::npos) << errors;
  EXPECT_FALSE(harness_->Build(
      "{name: t, type: http, url: 'http://x/', expect: {body_not_contain: [x]}}", &errors));
  EXPECT_NE(errors.find("did you mean 'body_not_contains'"), std::string::npos) << errors;
}

class HttpsProbeTest : public ::testing::Test {
 protected:
  void StartNginx(int cert_days) {
    std::string error;
    NginxServer::Options opt;
    opt.tls = true;
    opt.cert_days = cert_days;
    nginx_ = NginxServer::Start(opt, &error);
    ASSERT_TRUE(nginx_) << error;
    http_ = MakeHttpClient();
    harness_ = std::make_unique<ProbeHarness>(http_.get());
  }
  std::unique_ptr<NginxServer> nginx_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<ProbeHarness> harness_;
};

TEST_F(HttpsProbeTest, CertificateExpiringSoonIsWarning) {
  StartNginx(5);
  Observation o = harness_->RunYaml(
      fmt::format("{{name: t, type: http, url: '{}', ca_file: '{}', expect: {{tls_min_days: 14}}}}",
                  nginx_->Url("/"), nginx_->cert_file()));
  EXPECT_EQ(o.status, CheckStatus::kWarning) << o.summary;
  EXPECT_NE(o.summary.find("TLS certificate expires in 5 days (warning below 14)"),
            std::string::npos)
      << o.summary;
  EXPECT_NEAR(Metric(o, "tls_days_left"), 5.0, 0.1);
  EXPECT_GT(Metric(o, "tls_ms"), 0);

  Observation crit =
      harness_->RunYaml(fmt::format("{{name: t, type: http, url: '{}', ca_file: '{}', expect: "
                                    "{{tls_min_days: 14, tls_critical_days: 7}}}}",
                                    nginx_->Url("/"), nginx_->cert_file()));
  EXPECT_EQ(crit.status, CheckStatus::kCritical) << crit.summary;
}

TEST_F(HttpsProbeTest, CertificateWithTimeLeftIsOk) {
  StartNginx(90);
  Observation o = harness_->RunYaml(
      fmt::format("{{name: t, type: http, url: '{}', ca_file: '{}', expect: {{tls_min_days: 14}}}}",
                  nginx_->Url("/"), nginx_->cert_file()));
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_NEAR(Metric(o, "tls_days_left"), 90.0, 0.1);
}

TEST_F(HttpsProbeTest, UntrustedCertificateIsCriticalUnlessVerificationIsOff) {
  StartNginx(90);
  Observation o =
      harness_->RunYaml(fmt::format("{{name: t, type: http, url: '{}'}}", nginx_->Url("/")));
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_NE(o.summary.find("certificate"), std::string::npos) << o.summary;
  Observation off = harness_->RunYaml(fmt::format(
      "{{name: t, type: http, url: '{}', tls_verify: false, expect: {{tls_min_days: 14}}}}",
      nginx_->Url("/")));
  EXPECT_EQ(off.status, CheckStatus::kOk) << off.summary;
  EXPECT_NEAR(Metric(off, "tls_days_left"), 90.0, 0.1);
}

}  // namespace
}  // namespace mamori
