// MakeHttpClientOn: the native client on the caller's loop (the daemon's
// checks), against a real nginx on 127.0.0.1 started once for the suite and a
// loopback listener that never accepts (the kernel completes the handshake,
// nobody answers). What it proves: a fetch and its `done` stay on the loop's
// thread and the client starts no thread; the contract of http_client.h still
// holds there (done once, never inside Fetch(), in flight bounded, the
// timeout, destruction with requests queued and in flight).
#include <arpa/inet.h>
#include <dirent.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "mamori/net/http_client.h"
#include "mamori/net/native_http_client.h"
#include "testing/nginx.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

int ThreadsOfThisProcess() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n;
}

// Listens on 127.0.0.1 and accepts only when asked: connections wait in the
// backlog, established, and nothing is ever sent to them.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) == 0 && ::listen(fd_, 64) == 0 &&
          ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() {
    for (int c : accepted_) ::close(c);
    ::close(fd_);
  }
  bool ok() const { return ok_; }
  std::string Url() const { return fmt::format("http://127.0.0.1:{}/", port_); }
  // Takes what waits in the backlog; the connections taken so far.
  int Connections() {
    for (int c; (c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) accepted_.push_back(c);
    return static_cast<int>(accepted_.size());
  }

 private:
  int fd_ = -1, port_ = 0;
  bool ok_ = false;
  std::vector<int> accepted_;
};

// Runs `io` in short slices until `done()` or `limit`.
bool RunUntil(boost::asio::io_context& io, Duration limit, const std::function<bool()>& done) {
  const auto end = Steady::now() + limit;
  while (!done() && Steady::now() < end) {
    io.restart();
    io.run_for(20ms);
  }
  return done();
}

HttpRequest Get(const std::string& url, Duration timeout) {
  HttpRequest r;
  r.url = url;
  r.timeout = timeout;
  return r;
}

class HttpClientOnALoop : public ::testing::Test {
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
  void SetUp() override { ASSERT_TRUE(nginx_); }
  static testing::NginxServer* nginx_;
};
testing::NginxServer* HttpClientOnALoop::nginx_ = nullptr;

struct Seen {
  std::atomic<int> answered{0}, ok{0}, other_thread{0}, inside_fetch{0}, max_threads{0};
  std::mutex mu;
  std::string first_error;
};

// Fetches `url` `n` times through `client`, then runs `io` (when given) or
// waits until every request is answered.
void FetchAll(HttpClient& client, const std::string& url, int n, boost::asio::io_context* io,
              Seen& seen) {
  const auto me = std::this_thread::get_id();
  auto returned = std::make_shared<std::vector<std::atomic<bool>>>(n);
  for (int i = 0; i < n; ++i) {
    client.Fetch(Get(url, 10s), [&seen, me, returned, i](Result<HttpResponse> r) {
      if (std::this_thread::get_id() != me) ++seen.other_thread;
      if (!(*returned)[i]) ++seen.inside_fetch;
      const int threads = ThreadsOfThisProcess();
      for (int m = seen.max_threads;
           threads > m && !seen.max_threads.compare_exchange_weak(m, threads);) {
      }
      if (r.ok() && r->status == 200 && r->body == "hello from nginx\n") {
        ++seen.ok;
      } else {
        std::lock_guard lock(seen.mu);
        if (seen.first_error.empty())
          seen.first_error = r.ok() ? std::to_string(r->status) : r.error().message();
      }
      ++seen.answered;
    });
    (*returned)[i] = true;
  }
  if (io) {
    RunUntil(*io, 20s, [&] { return seen.answered == n; });
    return;
  }
  for (const auto end = Steady::now() + 20s; seen.answered < n && Steady::now() < end;)
    std::this_thread::sleep_for(5ms);
}

// The point of the loop's client: no thread of its own, and every `done` on
// the thread that runs the loop. The client with a thread of its own, asked
// the same, shows that the test tells the two apart.
TEST_F(HttpClientOnALoop, FetchAndDoneStayOnTheLoopsThread) {
  constexpr int kRequests = 50;
  boost::asio::io_context io;
  const int threads_before = ThreadsOfThisProcess();
  auto client = MakeHttpClientOn(io, 8);
  Seen on_loop;
  FetchAll(*client, nginx_->Url("/"), kRequests, &io, on_loop);
  ASSERT_EQ(on_loop.answered, kRequests);
  EXPECT_EQ(on_loop.ok, kRequests) << on_loop.first_error;
  EXPECT_EQ(on_loop.other_thread, 0);
  EXPECT_EQ(on_loop.inside_fetch, 0);
  EXPECT_EQ(on_loop.max_threads, threads_before);

  auto own_thread = MakeHttpClient(8);
  Seen threaded;
  FetchAll(*own_thread, nginx_->Url("/"), kRequests, nullptr, threaded);
  ASSERT_EQ(threaded.answered, kRequests);
  EXPECT_EQ(threaded.ok, kRequests) << threaded.first_error;
  EXPECT_EQ(threaded.other_thread, kRequests);
  EXPECT_EQ(threaded.max_threads, threads_before + 1);
}

// What each of a test's requests got: its `done` calls, its outcome, when.
struct Answers {
  explicit Answers(int n) : calls(n), errors(n), took(n) {}
  HttpDone For(int i) {
    return [this, i](Result<HttpResponse> r) {
      ++calls[i];
      errors[i] = r.ok() ? "answered" : r.error().message();
      took[i] = Steady::now() - start;
      ++answered;
    };
  }
  const Steady::time_point start = Steady::now();
  std::vector<int> calls;
  std::vector<std::string> errors;
  std::vector<Steady::duration> took;
  int answered = 0;
};

// The loop's client (at most `max_concurrent` in flight) and a silent server.
struct OnLoopAgainstSilence {
  explicit OnLoopAgainstSilence(size_t max_concurrent)
      : client(MakeHttpClientOn(io, max_concurrent)) {}
  SilentListener server;
  boost::asio::io_context io;
  std::unique_ptr<HttpClient> client;  // last: goes first
};

// At most max_concurrent connections; a silent server ends at the timeout,
// counted from Fetch(), with the stage named.
TEST_F(HttpClientOnALoop, InFlightIsBoundedAndTheTimeoutHolds) {
  OnLoopAgainstSilence t(3);
  ASSERT_TRUE(t.server.ok());
  Answers got(5);
  // The last two wait for a slot longer than their own timeout.
  for (int i = 0; i < 5; ++i)
    t.client->Fetch(Get(t.server.Url(), i < 3 ? 400ms : 200ms), got.For(i));
  ASSERT_TRUE(RunUntil(t.io, 5s, [&] { return t.server.Connections() == 3; }));
  RunUntil(t.io, 100ms, [] { return false; });  // room for a fourth, which must not come
  EXPECT_EQ(t.server.Connections(), 3);
  ASSERT_TRUE(RunUntil(t.io, 5s, [&] { return got.answered == 5; }));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got.errors[i], "timed out after 400ms waiting for the answer") << i;
    EXPECT_GE(got.took[i], 400ms) << i;
    EXPECT_LT(got.took[i], 2s) << i;
  }
  for (int i = 3; i < 5; ++i)
    EXPECT_EQ(got.errors[i], "timed out after 200ms waiting for a free connection slot") << i;
  EXPECT_EQ(t.server.Connections(), 3);
}

// The daemon's order: its loop stops, then the client goes. Every request,
// queued or in flight, is answered once, with an error, at once; what the
// client left in the loop runs harmlessly when the loop runs again.
TEST_F(HttpClientOnALoop, DestroyedWhileTheLoopIsStoppedCancelsEveryRequestOnce) {
  OnLoopAgainstSilence t(4);
  ASSERT_TRUE(t.server.ok());
  Answers got(10);
  for (int i = 0; i < 10; ++i) t.client->Fetch(Get(t.server.Url(), 30s), got.For(i));
  ASSERT_TRUE(RunUntil(t.io, 5s, [&] { return t.server.Connections() == 4; }));
  t.client->Fetch(Get(t.server.Url(), 30s), [](Result<HttpResponse>) {});  // leaves a start posted
  t.io.stop();
  const auto stop = Steady::now();
  t.client.reset();
  EXPECT_LT(Steady::now() - stop, 1s);
  EXPECT_EQ(got.calls, std::vector<int>(10, 1));
  EXPECT_EQ(got.errors,
            std::vector<std::string>(10, "cancelled: the HTTP client is shutting down"));
  t.io.restart();
  t.io.run_for(200ms);
  EXPECT_EQ(got.calls, std::vector<int>(10, 1));
  EXPECT_EQ(t.server.Connections(), 4);
}

}  // namespace
}  // namespace mamori
