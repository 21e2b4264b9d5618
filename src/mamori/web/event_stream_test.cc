// Server-Sent Events through the real HTTP server on loopback: the format, the
// bound on streams, keepalives, a reader that never reads being dropped while
// another keeps getting every event, and every stream ending on Close.
#include "mamori/web/event_stream.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <thread>

#include "mamori/web/http_server.h"
#include "testing/cli.h"
#include "testing/sse_client.h"

namespace mamori::web {
namespace {

using namespace std::chrono_literals;
using testing::Eventually;
using testing::SseClient;

// A server whose every request subscribes to `hub` (503 when it is full).
class StreamServer {
 public:
  explicit StreamServer(EventHub& hub) {
    auto s = HttpServer::Start(io_, "127.0.0.1:0", {}, [&hub](Request, Respond respond) {
      Response r;
      r.stream = hub.Subscribe();
      if (!r.stream) r = Response{503, "text/plain", "too many streams\n", {}};
      respond(std::move(r));
    });
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message());
    server_ = std::move(s.value());
    thread_ = std::thread([this] { io_.run(); });
  }
  ~StreamServer() {
    io_.stop();
    thread_.join();
  }
  int port() const { return server_->port(); }

 private:
  boost::asio::io_context io_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

TEST(EventStream, FormatSplitsDataLinesSoANewlineCannotEndTheEventEarly) {
  EXPECT_EQ(FormatEvent("check", "{\"a\":1}"), "event: check\ndata: {\"a\":1}\n\n");
  EXPECT_EQ(FormatEvent("check", "one\ntwo"), "event: check\ndata: one\ndata: two\n\n");
}

TEST(EventStream, ClientGetsHeadRetryEventsAndKeepalives) {
  StreamLimits limits;
  limits.keepalive = 100ms;
  limits.retry = 2s;
  EventHub hub(limits);
  StreamServer server(hub);
  SseClient client(server.port(), "/events");
  ASSERT_TRUE(client.WaitFor("retry: 2000\n\n", 5s)) << client.received();
  EXPECT_EQ(client.status(), 200);
  EXPECT_NE(client.received().find("Content-Type: text/event-stream\r\n"), std::string::npos);
  ASSERT_TRUE(Eventually([&] { return hub.open() == 1; }, 5s));
  hub.Publish("check", "{\"name\":\"web\"}");
  EXPECT_TRUE(client.WaitFor("event: check\ndata: {\"name\":\"web\"}\n\n", 5s))
      << client.received();
  EXPECT_TRUE(client.WaitForCount(": keepalive\n\n", 2, 5s)) << client.received();
}

TEST(EventStream, StreamsBeyondTheBoundGet503AndAClosedOneFreesItsSlotAtOnce) {
  StreamLimits limits;
  limits.max_streams = 3;
  EventHub hub(limits);
  StreamServer server(hub);
  std::vector<std::unique_ptr<SseClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<SseClient>(server.port(), "/events"));
    ASSERT_TRUE(clients.back()->WaitFor("retry:", 5s)) << clients.back()->received();
  }
  SseClient fourth(server.port(), "/events");
  EXPECT_TRUE(fourth.WaitClosed(5s));
  EXPECT_EQ(fourth.status(), 503) << fourth.received();
  // The server notices the client going without waiting for a keepalive.
  clients.front()->Close();
  ASSERT_TRUE(Eventually([&] { return hub.open() == 2; }, 2s)) << hub.open();
  SseClient again(server.port(), "/events");
  EXPECT_TRUE(again.WaitFor("retry:", 5s)) << again.received();
  EXPECT_EQ(again.status(), 200);
}

TEST(EventStream, ReaderThatNeverReadsIsDroppedWhileAnotherGetsEveryEvent) {
  StreamLimits limits;
  limits.max_queued_bytes = 64 * 1024;
  EventHub hub(limits);
  StreamServer server(hub);
  SseClient reader(server.port(), "/events");
  SseClient stuck(server.port(), "/events", "", 4096);
  ASSERT_TRUE(reader.WaitFor("retry:", 5s));
  ASSERT_TRUE(Eventually([&] { return hub.open() == 2; }, 5s));
  // 40 MB in all: far more than the socket buffers on both sides hold, so
  // the stuck reader's queue must pass its bound.
  const std::string payload(8 * 1024, 'x');
  constexpr int kEvents = 5000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kEvents; ++i) {
    // Keeps pace with the reader that reads (at most a few events ahead), so
    // only the stuck one falls behind.
    if (i >= 3) reader.WaitForCount("event: check", static_cast<size_t>(i - 2), 5s);
    hub.Publish("check", payload);
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(reader.WaitForCount("event: check", kEvents, 10s))
      << reader.Count("event: check") << " of " << kEvents;
  EXPECT_EQ(hub.dropped(), 1u);
  EXPECT_TRUE(Eventually([&] { return hub.open() == 1; }, 5s)) << hub.open();
  EXPECT_TRUE(stuck.WaitClosed(10s)) << "the stuck reader's connection was not closed";
  EXPECT_LT(took, 20s) << "publishing waited for a reader";
}

TEST(EventStream, CloseEndsEveryStreamAndRefusesNewOnes) {
  EventHub hub;
  StreamServer server(hub);
  SseClient a(server.port(), "/events"), b(server.port(), "/events");
  ASSERT_TRUE(a.WaitFor("retry:", 5s));
  ASSERT_TRUE(b.WaitFor("retry:", 5s));
  hub.Publish("check", "last");
  hub.Close();
  EXPECT_TRUE(a.WaitClosed(2s));
  EXPECT_TRUE(b.WaitClosed(2s));
  EXPECT_NE(a.received().find("data: last\n"), std::string::npos) << "queued events go first";
  EXPECT_TRUE(Eventually([&] { return hub.open() == 0; }, 5s));
  EXPECT_EQ(hub.Subscribe(), nullptr);
}

TEST(EventStream, EndAllEndsTheOpenStreamsButKeepsAccepting) {
  EventHub hub;
  auto a = hub.Subscribe(), b = hub.Subscribe();
  ASSERT_TRUE(a && b);
  hub.EndAll();
  EXPECT_EQ(a->state(), EventStream::State::kClosed);
  EXPECT_EQ(b->state(), EventStream::State::kClosed);
  auto c = hub.Subscribe();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->state(), EventStream::State::kOpen);
}

}  // namespace
}  // namespace mamori::web
