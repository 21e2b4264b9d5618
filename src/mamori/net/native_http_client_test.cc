// The native HTTP client through MakeHttpClient, as callers use it, against a
// real nginx on 127.0.0.1 (started once for the suite, with a TLS twin for the
// hand-over to libcurl) and small raw-socket peers for what no real server
// does on purpose: chunks written by hand, a peer that never answers, one that
// answers a byte at a time, endless headers and bodies, a proxy.
#include "mamori/net/native_http_client.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "testing/cli.h"
#include "testing/nginx.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

// A loopback listener; each accepted connection is served by `serve(fd)` on a
// thread of its own. The destructor shuts every connection down and joins.
class RawPeer {
 public:
  explicit RawPeer(std::function<void(int)> serve, bool accept = true, bool ipv6 = false)
      : serve_(std::move(serve)) {
    fd_ = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage ss{};
    socklen_t len;
    if (ipv6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_addr = in6addr_loopback;
      len = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof *a;
    }
    ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) == 0 && ::listen(fd_, 1024) == 0 &&
          ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0;
    port_ = ntohs(ipv6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                       : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    if (ok_ && accept) acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~RawPeer() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    {
      std::lock_guard lock(mu_);
      for (int c : conns_) ::shutdown(c, SHUT_RDWR);
    }
    for (auto& t : workers_) t.join();
    for (int c : conns_) ::close(c);
    ::close(fd_);
  }
  bool ok() const { return ok_; }
  int port() const { return port_; }
  int accepted() const { return accepted_; }
  bool stopping() const { return stop_; }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      ++accepted_;
      std::lock_guard lock(mu_);
      conns_.push_back(c);
      workers_.emplace_back([this, c] { serve_(c); });
    }
  }
  std::function<void(int)> serve_;
  int fd_ = -1, port_ = 0;
  bool ok_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<std::thread> workers_;
};

// Reads the request head (up to the blank line); what was read.
std::string ReadHead(int fd) {
  std::string in;
  char buf[4096];
  while (in.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  return in;
}

bool Send(int fd, std::string_view s) {
  return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
}

// Fetch that waits, with a backstop far beyond any timeout used here.
struct Outcome {
  Result<HttpResponse> result = Error("no answer");
  std::chrono::milliseconds took{0};
};
Outcome FetchAndWait(HttpClient& client, HttpRequest req) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<HttpResponse>> got;
  const auto start = Steady::now();
  client.Fetch(std::move(req), [&](Result<HttpResponse> r) {
    std::lock_guard lock(mu);
    got = std::move(r);
    cv.notify_all();
  });
  std::unique_lock lock(mu);
  if (!cv.wait_for(lock, 30s, [&] { return got.has_value(); })) return {};
  return {std::move(*got),
          std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - start)};
}

std::string Header(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (::strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  return "";
}

class NativeHttpClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    testing::NginxServer::Options tls;
    tls.tls = true;
    tls_ = testing::NginxServer::Start(tls, &error).release();
    ASSERT_TRUE(tls_) << error;
    testing::NginxServer::Options plain;
    plain.extra_config = fmt::format(
        "    location = /rel {{ absolute_redirect off; return 302 /; }}\n"
        "    location = /a/b {{ absolute_redirect off; return 301 ../; }}\n"
        "    location = /abs {{ return 307 http://127.0.0.1:$server_port/; }}\n"
        "    location = /tls {{ return 302 https://127.0.0.1:{}/; }}\n",
        tls_->port());
    nginx_ = testing::NginxServer::Start(plain, &error).release();
    ASSERT_TRUE(nginx_) << error;
  }
  static void TearDownTestSuite() {
    delete nginx_;
    delete tls_;
    nginx_ = tls_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(nginx_ && tls_);
    client_ = MakeHttpClient(512, [this](size_t n) {
      ++fallbacks_made_;
      return MakeCurlHttpClient(n);
    });
  }
  HttpRequest Get(const std::string& url, Duration timeout = 5s) {
    HttpRequest r;
    r.url = url;
    r.timeout = timeout;
    return r;
  }

  static testing::NginxServer* nginx_;
  static testing::NginxServer* tls_;
  std::atomic<int> fallbacks_made_{0};
  std::unique_ptr<HttpClient> client_;
};
testing::NginxServer* NativeHttpClientTest::nginx_ = nullptr;
testing::NginxServer* NativeHttpClientTest::tls_ = nullptr;

TEST_F(NativeHttpClientTest, FetchesStatusBodyHeadersAndTimingWithoutCurl) {
  const size_t before = nginx_->AccessCount();
  Outcome o = FetchAndWait(*client_, Get(nginx_->Url("/")));
  ASSERT_TRUE(o.result.ok()) << o.result.error().message();
  const HttpResponse& r = *o.result;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello from nginx\n");
  EXPECT_FALSE(r.body_truncated);
  EXPECT_NE(Header(r, "Server").find("nginx"), std::string::npos);
  EXPECT_EQ(Header(r, "Content-Length"), "17");
  EXPECT_EQ(r.effective_url, nginx_->Url("/"));
  EXPECT_EQ(r.redirects, 0);
  EXPECT_EQ(r.dns_ms, 0);  // an IP literal is not looked up
  EXPECT_GE(r.first_byte_ms, r.connect_ms);
  EXPECT_GE(r.total_ms, r.first_byte_ms);
  EXPECT_GT(r.total_ms, 0);
  EXPECT_EQ(r.tls_ms, 0);
  EXPECT_EQ(fallbacks_made_, 0);  // plain http:// never made the curl client
  EXPECT_TRUE(testing::Eventually([&] { return nginx_->AccessCount() == before + 1; }, 2s));

  Outcome head = FetchAndWait(*client_, [&] {
    HttpRequest h = Get(nginx_->Url("/"));
    h.method = "HEAD";
    return h;
  }());
  ASSERT_TRUE(head.result.ok()) << head.result.error().message();
  EXPECT_EQ(head.result->status, 200);
  EXPECT_EQ(head.result->body, "");
}

TEST_F(NativeHttpClientTest, ResolvesHostNames) {
  // localhost may resolve to ::1 first, where nginx does not listen: the
  // next address is tried.
  Outcome o = FetchAndWait(*client_, Get(fmt::format("http://localhost:{}/", nginx_->port())));
  ASSERT_TRUE(o.result.ok()) << o.result.error().message();
  EXPECT_EQ(o.result->body, "hello from nginx\n");
  EXPECT_EQ(fallbacks_made_, 0);
}

TEST_F(NativeHttpClientTest, DecodesChunkedBodies) {
  RawPeer peer([](int fd) {
    ReadHead(fd);
    Send(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Peer: raw\r\n\r\n");
    Send(fd, "5\r\nhello\r\n");
    Send(fd, "6\r\n world\r\n0\r\n\r\n");
  });
  ASSERT_TRUE(peer.ok());
  Outcome o = FetchAndWait(*client_, Get(fmt::format("http://127.0.0.1:{}/c", peer.port())));
  ASSERT_TRUE(o.result.ok()) << o.result.error().message();
  EXPECT_EQ(o.result->body, "hello world");
  EXPECT_EQ(Header(*o.result, "X-Peer"), "raw");
}

TEST_F(NativeHttpClientTest, SendsMethodBodyAndHeaders) {
  std::mutex mu;
  std::string seen;
  RawPeer peer([&](int fd) {
    std::string head = ReadHead(fd);
    std::lock_guard lock(mu);
    seen = head;
    Send(fd, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
  });
  HttpRequest req = Get(fmt::format("http://127.0.0.1:{}/p?q=1", peer.port()));
  req.method = "POST";
  req.body = "x=1";
  req.headers = {{"User-Agent", "probe-test"}, {"X-Mamori", "yes"}};
  Outcome o = FetchAndWait(*client_, req);
  ASSERT_TRUE(o.result.ok()) << o.result.error().message();
  EXPECT_EQ(o.result->status, 201);
  std::lock_guard lock(mu);
  EXPECT_EQ(seen.rfind("POST /p?q=1 HTTP/1.1\r\n", 0), 0u) << seen;
  for (const char* line : {"Host: 127.0.0.1:", "User-Agent: probe-test\r\n", "X-Mamori: yes\r\n",
                           "Content-Length: 3\r\n", "Connection: close\r\n",
                           "Content-Type: application/x-www-form-urlencoded\r\n"})
    EXPECT_NE(seen.find(line), std::string::npos) << line << " in\n" << seen;
  EXPECT_EQ(seen.find("mamori/"), std::string::npos) << "the caller's User-Agent replaces ours";
}

TEST_F(NativeHttpClientTest, CapsTheBodyAndEndsAnEndlessOne) {
  RawPeer big([](int fd) {
    ReadHead(fd);
    Send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + std::string(100000, 'b'));
  });
  HttpRequest req = Get(fmt::format("http://127.0.0.1:{}/", big.port()));
  req.max_body_bytes = 1000;
  Outcome o = FetchAndWait(*client_, req);
  ASSERT_TRUE(o.result.ok()) << o.result.error().message();
  EXPECT_EQ(o.result->body, std::string(1000, 'b'));
  EXPECT_TRUE(o.result->body_truncated);

  // Chunks as fast as the socket takes them, forever: the client stops after
  // max_body_bytes + 4 MiB, long before the 20 s timeout.
  RawPeer endless([&](int fd) {
    ReadHead(fd);
    Send(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    const std::string chunk = fmt::format("{:x}\r\n{}\r\n", 8192, std::string(8192, 'e'));
    while (!endless.stopping() && Send(fd, chunk)) {
    }
  });
  req.url = fmt::format("http://127.0.0.1:{}/", endless.port());
  req.timeout = 20s;
  o = FetchAndWait(*client_, req);
  ASSERT_TRUE(o.result.ok()) << o.result.error().message();
  EXPECT_EQ(o.result->body.size(), 1000u);
  EXPECT_TRUE(o.result->body_truncated);
  EXPECT_LT(o.took, 5s);
}

TEST_F(NativeHttpClientTest, FollowsRedirectsWhenAsked) {
  Outcome off = FetchAndWait(*client_, Get(nginx_->Url("/rel")));
  ASSERT_TRUE(off.result.ok()) << off.result.error().message();
  EXPECT_EQ(off.result->status, 302);
  EXPECT_EQ(Header(*off.result, "Location"), "/");

  for (const char* path : {"/rel", "/a/b", "/abs"}) {
    HttpRequest req = Get(nginx_->Url(path));
    req.follow_redirects = true;
    Outcome o = FetchAndWait(*client_, req);
    ASSERT_TRUE(o.result.ok()) << path << ": " << o.result.error().message();
    EXPECT_EQ(o.result->status, 200) << path;
    EXPECT_EQ(o.result->body, "hello from nginx\n") << path;
    EXPECT_EQ(o.result->redirects, 1) << path;
    EXPECT_EQ(o.result->effective_url, nginx_->Url("/")) << path;
  }
  HttpRequest loop = Get(nginx_->Url("/loop"));
  loop.follow_redirects = true;
  loop.max_redirects = 3;
  Outcome o = FetchAndWait(*client_, loop);
  ASSERT_FALSE(o.result.ok());
  EXPECT_EQ(o.result.error().message(), "more than 3 redirects");
  EXPECT_EQ(fallbacks_made_, 0);
}

TEST_F(NativeHttpClientTest, HandsARedirectToHttpsToCurl) {
  HttpRequest req = Get(nginx_->Url("/tls"));
  req.follow_redirects = true;
  req.ca_file = tls_->cert_file();
  Outcome o = FetchAndWait(*client_, req);
  ASSERT_TRUE(o.result.ok()) << o.result.error().message();
  EXPECT_EQ(o.result->status, 200);
  EXPECT_EQ(o.result->body, "hello from nginx\n");
  EXPECT_EQ(o.result->redirects, 1);
  EXPECT_EQ(o.result->effective_url, tls_->Url("/"));
  EXPECT_GT(o.result->tls_ms, 0);
  EXPECT_EQ(fallbacks_made_, 1);
  // And https:// itself goes straight there, on the same curl client.
  HttpRequest direct = Get(tls_->Url("/"));
  direct.ca_file = tls_->cert_file();
  Outcome d = FetchAndWait(*client_, direct);
  ASSERT_TRUE(d.result.ok()) << d.result.error().message();
  EXPECT_EQ(d.result->status, 200);
  EXPECT_EQ(fallbacks_made_, 1);
}

TEST_F(NativeHttpClientTest, RefusedConnectionNamesTheStage) {
  const int port = testing::PickFreePort();
  Outcome o = FetchAndWait(*client_, Get(fmt::format("http://127.0.0.1:{}/", port)));
  ASSERT_FALSE(o.result.ok());
  EXPECT_EQ(o.result.error().message(),
            fmt::format("connect failed: Connection refused (127.0.0.1:{})", port));
}

TEST_F(NativeHttpClientTest, PeerThatNeverAnswersTimesOut) {
  RawPeer silent([](int) {}, /*accept=*/false);  // the kernel completes the handshake
  ASSERT_TRUE(silent.ok());
  Outcome o =
      FetchAndWait(*client_, Get(fmt::format("http://127.0.0.1:{}/", silent.port()), 300ms));
  ASSERT_FALSE(o.result.ok());
  EXPECT_EQ(o.result.error().message(), "timed out after 300ms waiting for the answer");
  EXPECT_GE(o.took, 290ms);
  EXPECT_LT(o.took, 1300ms);
}

TEST_F(NativeHttpClientTest, ByteByByteAnswerEndsAtTheTimeout) {
  RawPeer slow([&](int fd) {
    ReadHead(fd);
    const std::string head = "HTTP/1.1 200 OK\r\nX-Slow: ";
    for (size_t i = 0; !slow.stopping(); ++i) {
      if (!Send(fd, std::string(1, i < head.size() ? head[i] : 'z'))) return;
      std::this_thread::sleep_for(50ms);
    }
  });
  Outcome o = FetchAndWait(*client_, Get(fmt::format("http://127.0.0.1:{}/", slow.port()), 500ms));
  ASSERT_FALSE(o.result.ok());
  EXPECT_EQ(o.result.error().message(), "timed out after 500ms reading the response header");
  EXPECT_LT(o.took, 1500ms);
}

TEST_F(NativeHttpClientTest, EndlessHeaderIsRefused) {
  RawPeer endless([&](int fd) {
    ReadHead(fd);
    Send(fd, "HTTP/1.1 200 OK\r\n");
    while (!endless.stopping() && Send(fd, "X-Pad: " + std::string(1000, 'p') + "\r\n")) {
    }
  });
  Outcome o = FetchAndWait(*client_, Get(fmt::format("http://127.0.0.1:{}/", endless.port()), 20s));
  ASSERT_FALSE(o.result.ok());
  EXPECT_EQ(o.result.error().message(), "response header too large (over 64.0 KiB)");
  EXPECT_LT(o.took, 5s);
}

TEST_F(NativeHttpClientTest, Ipv6Literal) {
  RawPeer peer(
      [](int fd) {
        ReadHead(fd);
        Send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv6");
      },
      true, /*ipv6=*/true);
  if (!peer.ok()) GTEST_SKIP() << "no ::1 on this host's loopback";
  Outcome o = FetchAndWait(*client_, Get(fmt::format("http://[::1]:{}/", peer.port())));
  ASSERT_TRUE(o.result.ok()) << o.result.error().message();
  EXPECT_EQ(o.result->body, "v6");
  EXPECT_EQ(fallbacks_made_, 0);
}

// The curl client honours http_proxy; while it is set, so does the router
// (by giving every request to curl).
TEST_F(NativeHttpClientTest, ProxyVariableSendsRequestsThroughCurl) {
  std::mutex mu;
  std::string seen;
  RawPeer proxy([&](int fd) {
    std::string head = ReadHead(fd);
    {
      std::lock_guard lock(mu);
      seen = head;
    }
    Send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nvia proxy");
  });
  ::setenv("http_proxy", fmt::format("http://127.0.0.1:{}", proxy.port()).c_str(), 1);
  auto client = MakeHttpClient(4, [this](size_t n) {
    ++fallbacks_made_;
    return MakeCurlHttpClient(n);
  });
  Outcome o = FetchAndWait(*client, Get(nginx_->Url("/")));
  ::unsetenv("http_proxy");
  ASSERT_TRUE(o.result.ok()) << o.result.error().message();
  EXPECT_EQ(o.result->body, "via proxy");
  EXPECT_EQ(fallbacks_made_, 1);
  std::lock_guard lock(mu);
  EXPECT_EQ(seen.rfind("GET " + nginx_->Url("/") + " HTTP/1.1\r\n", 0), 0u) << seen;
}

TEST_F(NativeHttpClientTest, ManyConcurrentRequestsAllComplete) {
  constexpr int kRequests = 600;
  const size_t before = nginx_->AccessCount();
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, ok = 0;
  std::string first_error;
  for (int i = 0; i < kRequests; ++i) {
    client_->Fetch(Get(nginx_->Url("/"), 20s), [&](Result<HttpResponse> r) {
      std::lock_guard lock(mu);
      ++done;
      if (r.ok() && r->status == 200)
        ++ok;
      else if (first_error.empty())
        first_error = r.ok() ? std::to_string(r->status) : r.error().message();
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 30s, [&] { return done == kRequests; })) << done;
  EXPECT_EQ(ok, kRequests) << first_error;
  lock.unlock();
  EXPECT_TRUE(testing::Eventually([&] { return nginx_->AccessCount() == before + kRequests; }, 5s));
}

// At most max_concurrent connections at once; destroying the client ends the
// running and the queued requests, each `done` once, with an error.
TEST_F(NativeHttpClientTest, BoundedInFlightAndDestructionCancelsAll) {
  RawPeer holder([&](int fd) {
    ReadHead(fd);
    while (!holder.stopping()) std::this_thread::sleep_for(10ms);
  });
  constexpr int kRequests = 10;
  std::vector<std::atomic<int>> calls(kRequests);
  std::vector<std::string> errors(kRequests);
  auto client = MakeHttpClient(4);
  for (int i = 0; i < kRequests; ++i)
    client->Fetch(Get(fmt::format("http://127.0.0.1:{}/", holder.port()), 30s),
                  [&, i](Result<HttpResponse> r) {
                    ++calls[i];
                    errors[i] = r.ok() ? "answered" : r.error().message();
                  });
  ASSERT_TRUE(testing::Eventually([&] { return holder.accepted() == 4; }, 5s));
  std::this_thread::sleep_for(200ms);  // room for a fifth, which must not come
  EXPECT_EQ(holder.accepted(), 4);
  const auto start = Steady::now();
  client.reset();
  EXPECT_LT(Steady::now() - start, 1s);
  for (int i = 0; i < kRequests; ++i) {
    EXPECT_EQ(calls[i], 1) << i;
    EXPECT_EQ(errors[i], "cancelled: the HTTP client is shutting down") << i;
  }
}

// As curl: credentials and a custom Host stay with the origin they were
// written for; a redirect to another port (another origin) goes without them.
TEST_F(NativeHttpClientTest, ARedirectToAnotherOriginDropsCredentials) {
  std::mutex mu;
  std::string seen;
  RawPeer target([&](int fd) {
    std::string head = ReadHead(fd);
    std::lock_guard lock(mu);
    seen = head;
    Send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  RawPeer first([&](int fd) {
    ReadHead(fd);
    Send(fd, fmt::format("HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{}/next\r\n"
                         "Content-Length: 0\r\n\r\n",
                         target.port()));
  });
  ASSERT_TRUE(target.ok() && first.ok());
  HttpRequest req = Get(fmt::format("http://127.0.0.1:{}/", first.port()));
  req.follow_redirects = true;
  req.headers = {{"Authorization", "Bearer secret"},
                 {"Cookie", "session=1"},
                 {"X-Kept", "yes"},
                 {"X-Twice", "a"},
                 {"X-Twice", "b"},
                 {"Accept", ""}};
  Outcome o = FetchAndWait(*client_, req);
  ASSERT_TRUE(o.result.ok()) << o.result.error().message();
  EXPECT_EQ(o.result->body, "ok");
  std::lock_guard lock(mu);
  EXPECT_EQ(seen.find("secret"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("session=1"), std::string::npos) << seen;
  EXPECT_NE(seen.find(fmt::format("Host: 127.0.0.1:{}\r\n", target.port())), std::string::npos)
      << seen;
  EXPECT_NE(seen.find("X-Kept: yes\r\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("X-Twice: a\r\nX-Twice: b\r\n"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("Accept:"), std::string::npos) << "an empty value removes it:\n" << seen;
}

// A name other than localhost is looked up by libcurl (a thread per lookup
// and a cache), not one after another on the native client's resolver.
TEST_F(NativeHttpClientTest, OtherHostNamesGoToCurl) {
  HttpRequest named = Get("http://mamori-test.invalid/");
  EXPECT_FALSE(NativeHttpCanFetch(named));
  EXPECT_TRUE(NativeHttpCanFetch(Get("http://LocalHost:8080/")));
  EXPECT_TRUE(NativeHttpCanFetch(Get("http://[::1]:8080/")));
  Outcome o = FetchAndWait(*client_, Get("http://mamori-test.invalid/", 3s));
  EXPECT_FALSE(o.result.ok());
  EXPECT_EQ(fallbacks_made_, 1);
}

// The timeout counts from Fetch(): a request that waited for a slot longer
// than its timeout ends without being sent.
TEST_F(NativeHttpClientTest, ARequestThatWaitedPastItsTimeoutIsNotSentLate) {
  RawPeer holder([&](int fd) {
    ReadHead(fd);
    while (!holder.stopping()) std::this_thread::sleep_for(10ms);
  });
  std::atomic<int> later_accepted{0};
  RawPeer later([&](int fd) {
    ++later_accepted;
    ReadHead(fd);
    Send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  });
  ASSERT_TRUE(holder.ok() && later.ok());
  auto client = MakeHttpClient(1);
  std::atomic<int> first_done{0};
  client->Fetch(Get(fmt::format("http://127.0.0.1:{}/", holder.port()), 600ms),
                [&](Result<HttpResponse>) { ++first_done; });
  Outcome o = FetchAndWait(*client, Get(fmt::format("http://127.0.0.1:{}/", later.port()), 300ms));
  ASSERT_FALSE(o.result.ok());
  EXPECT_NE(o.result.error().message().find("waiting for a free connection slot"),
            std::string::npos)
      << o.result.error().message();
  EXPECT_TRUE(testing::Eventually([&] { return first_done == 1; }, 5s));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(later_accepted, 0);
}

// The same requests through the native client and through libcurl report the
// same effective_url (libcurl's CURLINFO_EFFECTIVE_URL) and status.
TEST_F(NativeHttpClientTest, EffectiveUrlIsCurls) {
  auto curl = MakeCurlHttpClient(4);
  const int port = nginx_->port();
  // nginx's redirects (relative, "../", absolute) are followed too.
  for (const std::string& url : {
           fmt::format("HTTP://127.0.0.1:{}", port),
           fmt::format("http://127.0.0.1:{}?x=1#frag", port),
           fmt::format("http://LocalHost:{}/a/../b/./c?x/../y", port),
           fmt::format("http://127.0.0.1:{}/x#", port),
           fmt::format("http://127.0.0.1:{}/a/b/..?q", port),
           fmt::format("http://127.0.0.1:{}/..", port),
           nginx_->Url("/rel"),
           nginx_->Url("/a/b"),
           nginx_->Url("/abs"),
       }) {
    ASSERT_TRUE(NativeHttpCanFetch(Get(url))) << url;
    for (bool follow : {false, true}) {
      HttpRequest req = Get(url);
      req.follow_redirects = follow;
      Outcome native = FetchAndWait(*client_, req);
      Outcome theirs = FetchAndWait(*curl, req);
      ASSERT_TRUE(native.result.ok() && theirs.result.ok()) << url;
      EXPECT_EQ(native.result->effective_url, theirs.result->effective_url) << url;
      EXPECT_EQ(native.result->status, theirs.result->status) << url;
      EXPECT_EQ(native.result->redirects, theirs.result->redirects) << url;
    }
  }
  EXPECT_EQ(fallbacks_made_, 0);
}

// A Location with spaces or bytes above 0x7f is followed as libcurl follows
// it (percent-encoded, the fragment too); one with a tab is refused by both
// with the same error. (Other control bytes are refused by Beast's header
// parser before: "invalid HTTP response".) The peer answers
// /dir/start-N with the Nth Location and anything else with the target it got.
TEST_F(NativeHttpClientTest, OddLocationsAreFollowedAsCurlFollowsThem) {
  std::vector<std::string> locations = {
      "/a b/c d?x y&z=1 2",
      "/caf\xc3\xa9?q=\xc3\xa9",
      "next page",
      "/a b/../c",
      "/x#frag",
      "/q?a b?c d",
      "/a\tb",
      "/y#f g",
      "/q?a\tb",
      "/f#a\tb",
  };
  RawPeer peer([&](int fd) {
    const std::string head = ReadHead(fd);
    const std::string target = head.substr(4, head.find(" HTTP/1.1") - 4);
    if (target.rfind("/dir/start-", 0) == 0) {
      const size_t n = std::stoul(target.substr(11));
      Send(fd, "HTTP/1.1 302 Found\r\nLocation: " + locations.at(n) +
                   "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    } else {
      Send(fd, fmt::format("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                           target.size(), target));
    }
    ::shutdown(fd, SHUT_WR);
  });
  ASSERT_TRUE(peer.ok());
  locations.push_back(fmt::format("http://127.0.0.1:{}/p q?r s", peer.port()));
  auto curl = MakeCurlHttpClient(4);
  int followed = 0;
  for (size_t n = 0; n < locations.size(); ++n) {
    HttpRequest req = Get(fmt::format("http://127.0.0.1:{}/dir/start-{}", peer.port(), n));
    req.follow_redirects = true;
    Outcome native = FetchAndWait(*client_, req);
    Outcome theirs = FetchAndWait(*curl, req);
    const std::string& loc = locations[n];
    ASSERT_EQ(native.result.ok(), theirs.result.ok())
        << loc << ": " << (native.result.ok() ? "" : native.result.error().message())
        << (theirs.result.ok() ? "" : theirs.result.error().message());
    if (!theirs.result.ok()) {
      EXPECT_EQ(native.result.error().message(), theirs.result.error().message()) << loc;
      continue;
    }
    EXPECT_EQ(native.result->status, theirs.result->status) << loc;
    EXPECT_EQ(native.result->body, theirs.result->body) << loc;  // the target the peer got
    EXPECT_EQ(native.result->effective_url, theirs.result->effective_url) << loc;
    EXPECT_EQ(native.result->redirects, theirs.result->redirects) << loc;
    followed += theirs.result->status == 200;
  }
  EXPECT_EQ(followed, 8);  // all but the three with a tab
  EXPECT_EQ(fallbacks_made_, 0);
}

}  // namespace
}  // namespace mamori
