// The HTTP server against real sockets on loopback: keep-alive, asynchronous
// answers, and every limit a hostile or broken client can hit.
#include "mamori/web/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <thread>

#include "mamori/config/node.h"
#include "mamori/util/mutex.h"
#include "mamori/web/api_config.h"
#include "testing/cli.h"

namespace mamori::web {
namespace {

using namespace std::chrono_literals;

class Server {
 public:
  explicit Server(Limits limits = {}, Admit admit = nullptr) {
    auto s = HttpServer::Start(
        io_, "127.0.0.1:0", limits, std::move(admit), [this](Request r, Respond respond) {
          if (r.target == "/never") {
            // A handler stuck on something (a full disk, say): it keeps the
            // callback and never calls it.
            MutexLock lock(mu_);
            never_.push_back(std::move(respond));
            return;
          }
          if (r.target == "/later") {
            // Answer from another thread, later: the connection must wait.
            std::thread([respond] {
              std::this_thread::sleep_for(50ms);
              respond({200, "text/plain", "late answer", {}});
            }).detach();
            return;
          }
          Response out;
          out.body = r.method + " " + r.target + " " + std::to_string(r.body.size()) + " " +
                     r.peer.to_string();
          respond(std::move(out));
        });
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message());
    server_ = std::move(s.value());
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Server() {
    boost::asio::post(io_, [this] { server_->Stop(); });
    io_.stop();
    thread_.join();
  }
  uint16_t port() const { return server_->port(); }
  size_t open_connections() const { return server_->open_connections(); }

 private:
  boost::asio::io_context io_;
  Mutex mu_;
  std::vector<Respond> never_ GUARDED_BY(mu_);  // after io_: its sessions' sockets need io_
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

// Connects from `from` (a loopback address) to 127.0.0.1:port.
int ConnectFrom(const char* from, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  ::inet_pton(AF_INET, from, &src.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
    ::close(fd);
    return -1;
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int Connect(uint16_t port) { return ConnectFrom("127.0.0.1", port); }

void Send(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

// Reads until the peer closes or `timeout` passes.
std::string ReadAll(int fd, std::chrono::milliseconds timeout = 3000ms) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

bool ClosedWithin(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char c;
  return ::recv(fd, &c, 1, 0) <= 0;
}

TEST(HttpServer, AnswersAndKeepsTheConnectionAlive) {
  Server s;
  int fd = Connect(s.port());
  ASSERT_GE(fd, 0);
  Send(fd,
       "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: "
       "5\r\n\r\nhello"
       "GET /later HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string all = ReadAll(fd);
  ::close(fd);
  EXPECT_NE(all.find("GET /a 0 127.0.0.1"), std::string::npos) << all;
  EXPECT_NE(all.find("POST /b 5 127.0.0.1"), std::string::npos) << all;
  EXPECT_NE(all.find("late answer"), std::string::npos) << all;
  // In order: pipelined requests are answered one after another.
  EXPECT_LT(all.find("/a"), all.find("/b"));
  EXPECT_LT(all.find("/b"), all.find("late answer"));
}

TEST(HttpServer, BodyOverTheLimitIs413) {
  Limits l;
  l.max_body_bytes = 1000;
  Server s(l);
  int fd = Connect(s.port());
  Send(fd, "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'a'));
  std::string r = ReadAll(fd);
  ::close(fd);
  EXPECT_EQ(r.rfind("HTTP/1.1 413", 0), 0u) << r;
}

TEST(HttpServer, HugeHeadersAre431) {
  Server s;
  int fd = Connect(s.port());
  Send(fd, "GET /x HTTP/1.1\r\nHost: x\r\nX-Junk: " + std::string(20000, 'j') + "\r\n\r\n");
  std::string r = ReadAll(fd);
  ::close(fd);
  EXPECT_EQ(r.rfind("HTTP/1.1 431", 0), 0u) << r.substr(0, 100);
}

TEST(HttpServer, GarbageIs400) {
  Server s;
  int fd = Connect(s.port());
  Send(fd, "\x01\x02 nonsense\r\n\r\n");
  std::string r = ReadAll(fd);
  ::close(fd);
  EXPECT_EQ(r.rfind("HTTP/1.1 400", 0), 0u) << r;
}

TEST(HttpServer, SlowAndIdleClientsAreDisconnected) {
  Limits l;
  l.read_timeout = 300ms;
  Server s(l);
  int idle = Connect(s.port());
  int slow = Connect(s.port());
  Send(slow, "GET /x HTTP/1.1\r\nHo");  // and never more
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(ClosedWithin(idle, 3000ms));
  EXPECT_TRUE(ClosedWithin(slow, 3000ms));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  ::close(idle);
  ::close(slow);
  // And the server still serves others.
  int fd = Connect(s.port());
  Send(fd, "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(ReadAll(fd).find("GET /ok"), std::string::npos);
  ::close(fd);
}

TEST(HttpServer, ConnectionsBeyondTheCapAreClosed) {
  Limits l;
  l.max_connections = 3;
  Server s(l);
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) held.push_back(Connect(s.port()));
  std::this_thread::sleep_for(100ms);  // let the server accept them
  int extra = Connect(s.port());
  EXPECT_TRUE(ClosedWithin(extra, 2000ms));
  ::close(extra);
  for (int fd : held) ::close(fd);
}

TEST(HttpServer, AHandlerThatNeverAnswersGets503AtTheDeadline) {
  Limits l;
  l.handler_timeout = 300ms;
  Server s(l);
  int fd = Connect(s.port());
  ASSERT_GE(fd, 0);
  const auto start = std::chrono::steady_clock::now();
  Send(fd, "GET /never HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string r = ReadAll(fd, 2000ms);
  EXPECT_EQ(r.rfind("HTTP/1.1 503", 0), 0u) << r;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  ::close(fd);
  // The server goes on serving.
  fd = Connect(s.port());
  Send(fd, "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(ReadAll(fd).find("GET /ok"), std::string::npos);
  ::close(fd);
}

// One kept-alive connection through every deadline in turn: each is measured
// from its own phase (an earlier request's deadline closes nothing), a
// handler's deadline shorter than the pending read deadline still comes on
// time, and an idle connection is still closed.
TEST(HttpServer, DeadlinesFollowEachRequestOnAKeptAliveConnection) {
  Limits l;
  l.read_timeout = 1200ms;
  l.handler_timeout = 200ms;
  Server s(l);
  int fd = Connect(s.port());
  ASSERT_GE(fd, 0);
  auto answer = [&](const std::string& target) {
    Send(fd, "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
    // One whole answer: the head, then Content-Length bytes.
    auto complete = [](const std::string& r) {
      const size_t end = r.find("\r\n\r\n");
      const size_t len = r.find("Content-Length: ");
      if (end == std::string::npos || len == std::string::npos) return false;
      return r.size() >= end + 4 + std::stoul(r.substr(len + 16));
    };
    std::string r;
    char buf[4096];
    while (!complete(r)) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) break;
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      r.append(buf, static_cast<size_t>(n));
    }
    return r;
  };
  // Four requests 500 ms apart: 1.5 s on one connection, each gap within
  // the 1.2 s read deadline.
  for (int i = 0; i < 4; ++i) {
    if (i > 0) std::this_thread::sleep_for(500ms);
    EXPECT_EQ(answer("/ok").rfind("HTTP/1.1 200", 0), 0u) << "request " << i;
  }
  // Right after an answer the read deadline is ~1.2 s away: the handler's
  // 200 ms one must move the connection's timer earlier to come on time.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(answer("/never").rfind("HTTP/1.1 503", 0), 0u);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 150ms);
  EXPECT_LT(waited, 900ms) << "the handler deadline waited for the read deadline";
  // Idle now: closed at the read deadline, not kept open by the handler's.
  EXPECT_TRUE(ClosedWithin(fd, 2000ms));
  ::close(fd);
}

// Counts how many of `fds` the server closed within `timeout`.
size_t CountClosed(const std::vector<int>& fds, std::chrono::milliseconds timeout) {
  size_t closed = 0;
  for (int fd : fds) closed += ClosedWithin(fd, timeout);
  return closed;
}

TEST(HttpServer, OneAddressCannotTakeEveryConnection) {
  Limits l;
  l.max_connections = 100;
  l.max_connections_per_address = 4;
  Server s(l);
  std::vector<int> greedy;
  for (int i = 0; i < 10; ++i) greedy.push_back(ConnectFrom("127.0.0.2", s.port()));
  for (int fd : greedy) ASSERT_GE(fd, 0);
  // Beyond its 4, the greedy address's connections are closed at accept.
  EXPECT_EQ(CountClosed(greedy, 300ms), 6u);
  EXPECT_EQ(s.open_connections(), 4u);
  // Another address is served at once.
  int fd = ConnectFrom("127.0.0.3", s.port());
  Send(fd, "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(ReadAll(fd, 1000ms).find("GET /ok 0 127.0.0.3"), std::string::npos);
  ::close(fd);
  for (int g : greedy) ::close(g);
}

TEST(HttpServer, IdleConnectionsMakeRoomUnderPressure) {
  Limits l;
  l.max_connections = 8;
  l.read_timeout = 30s;
  l.pressure_read_timeout = 300ms;
  Server s(l);
  // Eight addresses, one idle connection each: the server is full.
  std::vector<int> idle;
  for (int i = 2; i < 10; ++i)
    idle.push_back(ConnectFrom(("127.0.0." + std::to_string(i)).c_str(), s.port()));
  ASSERT_TRUE(mamori::testing::Eventually([&] { return s.open_connections() == 8; }, 2000ms));
  // A client that retries as clients do gets in within a few of its retries:
  // idle connections are closed early while the server is under pressure.
  const auto start = std::chrono::steady_clock::now();
  std::string answer;
  while (answer.empty() && std::chrono::steady_clock::now() - start < 3s) {
    int fd = Connect(s.port());
    Send(fd, "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    answer = ReadAll(fd, 500ms);
    ::close(fd);
  }
  EXPECT_NE(answer.find("GET /ok 0 127.0.0.1"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_GE(CountClosed(idle, 10ms), 1u);
  for (int fd : idle) ::close(fd);
}

TEST(HttpServer, BodiesAreReadOnlyAfterTheRouteAdmitsThem) {
  Server s({}, [](const Request& head) {
    Admission a;
    if (head.target == "/unknown") a.answer = Response{404, "text/plain", "no such thing\n", {}};
    a.max_body_bytes = head.target == "/big" ? 1000 : 16;
    return a;
  });
  auto exchange = [&](const std::string& request) {
    int fd = Connect(s.port());
    Send(fd, request);
    std::string r = ReadAll(fd, 1000ms);
    ::close(fd);
    return r;
  };
  // Within the route's limit: read and handled.
  EXPECT_NE(
      exchange("POST /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 500\r\n\r\n" +
               std::string(500, 'b'))
          .find("POST /big 500"),
      std::string::npos);
  // Over this route's (small) limit, though under the server-wide one: 413.
  std::string r = exchange("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" +
                           std::string(100, 's'));
  EXPECT_EQ(r.rfind("HTTP/1.1 413", 0), 0u) << r;
  // Unknown route: answered from the head, without waiting for a body that
  // never comes.
  r = exchange("POST /unknown HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 404", 0), 0u) << r;
  // An announced body over the limit is refused before it is sent.
  r = exchange("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 90000\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 413", 0), 0u) << r;
}

// Reads the `api:` mapping of a configuration text as the daemon's config
// loader does; `errors` receives the diagnostics.
ApiConfig ReadApi(const std::string& yaml, std::string* errors) {
  config::Diagnostics diag;
  config::ConfigNode top(std::get<config::Yaml>(config::Yaml::Parse(yaml)), "the configuration",
                         "mamori.yaml", &diag);
  ApiConfig api;
  if (auto a = top.GetMap("api")) ReadServerLimits(*a, api);
  *errors = diag.ToString();
  return api;
}

TEST(HttpServer, ConnectionLimitsAreReadFromApiConfig) {
  std::string errors;
  ApiConfig api = ReadApi(
      "data_dir: /tmp/x\nchecks: [{name: d, type: disk, path: /}]\napi: {max_connections: 200, "
      "max_connections_per_address: 8, "
      "response_timeout: 3s}\n",
      &errors);
  ASSERT_EQ(errors, "");
  Limits l = ServerLimits(api);
  EXPECT_EQ(l.max_connections, 200u);
  EXPECT_EQ(l.max_connections_per_address, 8u);
  EXPECT_EQ(l.handler_timeout, Duration(3s));
  // Defaults when absent.
  api = ReadApi("data_dir: /tmp/x\nchecks: [{name: d, type: disk, path: /}]\n", &errors);
  ASSERT_EQ(errors, "");
  l = ServerLimits(api);
  EXPECT_EQ(l.max_connections, 1024u);
  EXPECT_EQ(l.max_connections_per_address, 64u);
  EXPECT_EQ(l.handler_timeout, Duration(10s));
  // Mistakes are reported at their line with a hint.
  ReadApi(
      "data_dir: /tmp/x\nchecks: [{name: d, type: disk, path: /}]\napi:\n  "
      "max_connections_per_address: 0\n  response_timeout: 1ms\n",
      &errors);
  EXPECT_NE(errors.find("mamori.yaml:4:"), std::string::npos) << errors;
  EXPECT_NE(errors.find("mamori.yaml:5:"), std::string::npos) << errors;
  EXPECT_NE(errors.find("between 100ms and 10m"), std::string::npos) << errors;
}

TEST(HttpServer, ListenAddressErrorsSayWhatToWrite) {
  EXPECT_TRUE(ParseListenAddress("127.0.0.1:8470").ok());
  EXPECT_TRUE(ParseListenAddress("[::1]:8470").ok());
  EXPECT_TRUE(ParseListenAddress("localhost:0").ok());
  for (const char* bad :
       {"8470", "127.0.0.1", "127.0.0.1:99999", "127.0.0.1:http", "example.org:80", "[::1]8470"}) {
    auto r = ParseListenAddress(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message().find("write host:port"), std::string::npos)
        << r.error().message();
  }
  boost::asio::io_context io;
  auto first = HttpServer::Start(io, "127.0.0.1:0", {}, [](Request, Respond) {});
  ASSERT_TRUE(first.ok());
  auto second = HttpServer::Start(io, "127.0.0.1:" + std::to_string((*first)->port()), {},
                                  [](Request, Respond) {});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message().find("another program listens there"), std::string::npos)
      << second.error().message();
}

}  // namespace
}  // namespace mamori::web
