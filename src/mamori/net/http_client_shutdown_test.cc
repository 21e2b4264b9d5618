// Fetch() racing with the destruction of the HTTP client: several threads
// fetch as fast as they can while the client is destroyed, and every `done`
// that sees the cancellation fetches once more (a caller's retry). Each
// `done` must be called exactly once: none lost (a request queued where no
// thread will run it), none twice. The peers are real, on 127.0.0.1: a nginx
// that answers and a listening socket that accepts (the kernel completes the
// handshake) and never answers, so requests are in flight when the client goes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "mamori/net/http_client.h"
#include "mamori/net/native_http_client.h"
#include "testing/cli.h"
#include "testing/nginx.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;

const std::string kCancelled = "cancelled: the HTTP client is shutting down";

// A port on 127.0.0.1 that completes connections from its backlog and never
// reads nor answers.
class SilentPeer {
 public:
  SilentPeer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) == 0 && ::listen(fd_, 4096) == 0 &&
          ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    port_ = ntohs(a.sin_port);
  }
  ~SilentPeer() { ::close(fd_); }
  bool ok() const { return ok_; }
  std::string Url() const { return fmt::format("http://127.0.0.1:{}/", port_); }

 private:
  int fd_ = -1, port_ = 0;
  bool ok_ = false;
};

thread_local bool tl_fetcher = false;  // set on the test's fetching threads

// Counts every request and every call of its `done`.
class ShutdownRace {
 public:
  static constexpr int kThreads = 6;
  static constexpr int kPerThread = 60;  // before the client goes: all in flight at once

  // Fetches `requests` round-robin from kThreads threads, destroys `client`
  // while they run, and reports what the callbacks saw.
  void Run(std::unique_ptr<HttpClient> client, const std::vector<HttpRequest>& requests) {
    client_ = client.get();
    std::vector<std::thread> fetchers;
    for (int f = 0; f < kThreads; ++f)
      fetchers.emplace_back([&, f] {
        tl_fetcher = true;
        int after_shutdown = 0;
        const auto until = std::chrono::steady_clock::now() + 20s;  // a backstop only
        for (int i = 0; after_shutdown < 3 && std::chrono::steady_clock::now() < until; ++i) {
          if (shutdown_seen_) ++after_shutdown;
          if (i < kPerThread || shutdown_seen_) Fetch(requests[(f + i) % requests.size()], true);
          if (i >= kPerThread && !shutdown_seen_) std::this_thread::sleep_for(1ms);
        }
        ++fetchers_done_;
      });
    // Some answered already, the silent peer's requests in flight.
    ASSERT_TRUE(testing::Eventually(
        [&] { return issued_ >= kThreads * kPerThread / 2 && ok_ >= kThreads; }, 10s));
    const auto start = std::chrono::steady_clock::now();
    client.reset();
    destroy_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
    for (auto& t : fetchers) t.join();
  }

  void Fetch(const HttpRequest& request, bool retry) {
    ++issued_;
    auto calls = std::make_shared<std::atomic<int>>(0);
    client_->Fetch(request, [this, calls, request, retry](Result<HttpResponse> r) {
      if (calls->fetch_add(1) > 0) ++twice_;
      ++answered_;
      if (r.ok()) {
        ++ok_;
        return;
      }
      if (r.error().message() != kCancelled) return;
      ++cancelled_;
      shutdown_seen_ = true;
      if (retry) Fetch(request, false);  // a caller retrying on its client's own thread
      // The first cancellation off the fetching threads comes from inside the
      // destructor: it waits there (bounded) until every fetcher has fetched
      // during the shutdown and stopped, so none fetches from a client gone.
      if (!tl_fetcher && !held_.exchange(true))
        testing::Eventually([&] { return fetchers_done_ == kThreads; }, 10s);
    });
  }

  HttpClient* client_ = nullptr;
  std::atomic<int> issued_{0}, answered_{0}, twice_{0}, ok_{0}, cancelled_{0};
  std::atomic<int> fetchers_done_{0};
  std::atomic<bool> shutdown_seen_{false}, held_{false};
  long destroy_ms_ = 0;
};

class HttpClientShutdown : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    nginx_ = testing::NginxServer::Start({}, &error).release();
    ASSERT_TRUE(nginx_) << error;
  }
  static void TearDownTestSuite() {
    delete nginx_;
    nginx_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(nginx_ && silent_.ok()); }

  static HttpRequest Get(const std::string& url, bool via_curl = false) {
    HttpRequest r;
    r.url = url;
    r.timeout = 30s;
    // The router gives a request with the caller's Accept-Encoding to libcurl.
    if (via_curl) r.headers.emplace_back("Accept-Encoding", "identity");
    return r;
  }

  void ExpectEveryDoneOnce(const ShutdownRace& race) {
    std::cout << race.issued_ << " fetches, " << race.ok_ << " answered, " << race.cancelled_
              << " cancelled; the client went in " << race.destroy_ms_ << " ms\n";
    EXPECT_EQ(race.answered_, race.issued_) << "a done was lost";
    EXPECT_EQ(race.twice_, 0) << "a done was called twice";
    EXPECT_GT(race.ok_, 0) << "nginx answered none: the race ran before any request";
    EXPECT_GT(race.cancelled_, 0);
    EXPECT_TRUE(race.held_) << "the destructor cancelled nothing off the fetching threads";
  }

  static testing::NginxServer* nginx_;
  SilentPeer silent_;
};
testing::NginxServer* HttpClientShutdown::nginx_ = nullptr;

TEST_F(HttpClientShutdown, ThroughTheRouterToBothClients) {
  ShutdownRace race;
  race.Run(MakeHttpClient(512), {Get(nginx_->Url("/")), Get(silent_.Url()),
                                 Get(nginx_->Url("/"), true), Get(silent_.Url(), true)});
  ExpectEveryDoneOnce(race);
}

TEST_F(HttpClientShutdown, NativeClient) {
  auto curl = MakeCurlHttpClient(4);  // for redirects elsewhere; unused here
  ShutdownRace race;
  race.Run(MakeNativeHttpClient(512, [&]() -> HttpClient& { return *curl; }),
           {Get(nginx_->Url("/")), Get(silent_.Url())});
  ExpectEveryDoneOnce(race);
}

TEST_F(HttpClientShutdown, CurlClient) {
  ShutdownRace race;
  race.Run(MakeCurlHttpClient(512), {Get(nginx_->Url("/")), Get(silent_.Url())});
  ExpectEveryDoneOnce(race);
}

}  // namespace
}  // namespace mamori
