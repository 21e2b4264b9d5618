// GET /api/v1/events against a real daemon (one for the suite): a real client
// reading the stream sees a check's new state soon after its file is removed,
// the 33rd stream gets 503 while 32 are open, a caller that is not on this
// host needs a read token, a client that never reads is dropped while another
// keeps getting events, and stopping the daemon ends every stream cleanly.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "testing/cli.h"
#include "testing/http_call.h"
#include "testing/ports.h"
#include "testing/sse_client.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::SseClient;

constexpr const char* kReadToken = "r3ad-t0ken-for-the-events-test";
constexpr const char* kRemote = "X-Forwarded-For: 203.0.113.9\r\n";
constexpr int kBusyChecks = 100;  // file checks on one path the drop test toggles

// The data of the last `event: check` for `name` in `stream`, or null.
nlohmann::json LastEventOf(const std::string& stream, const std::string& name) {
  nlohmann::json found;
  for (size_t at = stream.find("event: check\ndata: "); at != std::string::npos;
       at = stream.find("event: check\ndata: ", at + 1)) {
    const size_t start = at + 19, end = stream.find('\n', start);
    if (end == std::string::npos) break;
    auto j = nlohmann::json::parse(stream.substr(start, end - start), nullptr, false);
    if (!j.is_discarded() && j.value("name", "") == name) found = j;
  }
  return found;
}

class EventsApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    marker_ = dir_->Write("marker", "here\n");
    // A long path makes every event of the busy checks about 5 KB (the
    // path is in each summary), so the drop test passes the bound in seconds.
    std::string deep = dir_->path();
    for (int i = 0; i < 10; ++i) deep += "/" + std::string(200, 'd');
    std::filesystem::create_directories(deep);
    busy_ = deep + "/busy";
    port_ = testing::PickFreePort();
    std::string yaml = "data_dir: ./data\nlisten: 127.0.0.1:" + std::to_string(port_) +
                       "\napi:\n  tokens:\n    - {token: " + kReadToken +
                       ", scope: read}\n"
                       "defaults: {interval: 200ms, timeout: 2s, failures_before_alert: 1, "
                       "successes_before_recovery: 1}\n"
                       "checks:\n  - {name: marker, type: file, path: '" +
                       marker_ + "'}\n";
    for (int i = 0; i < kBusyChecks; ++i)
      yaml += "  - {name: busy" + std::to_string(i) + ", type: file, interval: 100ms, path: '" +
              busy_ + "'}\n";
    daemon_ = new testing::DaemonProcess({"-c", dir_->Write("mamori.yaml", yaml)},
                                         dir_->path() + "/daemon.log");
    ASSERT_TRUE(daemon_->WaitForLog("ping API listening")) << daemon_->Log();
  }
  static void TearDownTestSuite() {
    delete daemon_;
    delete dir_;
  }
  void SetUp() override {
    if (!daemon_ || !daemon_->WaitForLog("ping API listening", 1s)) GTEST_SKIP() << "no daemon";
  }

  static testing::TempDir* dir_;
  static testing::DaemonProcess* daemon_;
  static std::string marker_, busy_;
  static int port_;
};
testing::TempDir* EventsApi::dir_ = nullptr;
testing::DaemonProcess* EventsApi::daemon_ = nullptr;
std::string EventsApi::marker_, EventsApi::busy_;
int EventsApi::port_ = 0;

TEST_F(EventsApi, ClientSeesTheNewStateSoonAfterTheFileIsRemoved) {
  ASSERT_TRUE(testing::Eventually(
      [] {
        auto j = nlohmann::json::parse(
            testing::HttpCall(port_, "GET", "/api/v1/checks/marker").body, nullptr, false);
        return !j.is_discarded() && j.value("status", "") == "ok";
      },
      10s))
      << "marker never became ok:\n"
      << daemon_->Log();
  SseClient client(port_, "/api/v1/events");
  ASSERT_TRUE(client.WaitFor("retry: 5000\n\n", 5s)) << client.received();
  EXPECT_EQ(client.status(), 200);
  EXPECT_NE(client.received().find("Content-Type: text/event-stream"), std::string::npos);

  const auto removed = std::chrono::steady_clock::now();
  std::filesystem::remove(marker_);
  nlohmann::json event;
  ASSERT_TRUE(testing::Eventually(
      [&] {
        client.WaitFor("\"name\":\"marker\",", 50ms);
        event = LastEventOf(client.received(), "marker");
        return event.is_object() && event["status"] == "critical";
      },
      5s))
      << client.received();
  const auto took = std::chrono::steady_clock::now() - removed;
  std::cout << "[ figures ] removal to event: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
  EXPECT_EQ(event["type"], "file");
  EXPECT_EQ(event["last"], "critical");
  EXPECT_EQ(event["event"], "state");
  EXPECT_TRUE(event["since"].is_string());
  EXPECT_FALSE(event["summary"].get<std::string>().empty());

  std::ofstream(marker_) << "back\n";
  EXPECT_TRUE(testing::Eventually(
      [&] {
        client.WaitFor("\"status\":\"ok\"", 50ms);
        auto e = LastEventOf(client.received(), "marker");
        return e.is_object() && e["status"] == "ok";
      },
      5s))
      << "the recovery was not streamed:\n"
      << client.received();
}

TEST_F(EventsApi, The33rdStreamGets503AndAClosedOneMakesRoom) {
  std::vector<std::unique_ptr<SseClient>> open;
  for (int i = 0; i < 32; ++i) {
    open.push_back(std::make_unique<SseClient>(port_, "/api/v1/events"));
    ASSERT_TRUE(open.back()->WaitFor("retry:", 5s)) << i << ": " << open.back()->received();
  }
  SseClient extra(port_, "/api/v1/events");
  ASSERT_TRUE(extra.WaitClosed(5s)) << extra.received();
  EXPECT_EQ(extra.status(), 503) << extra.received();
  EXPECT_NE(extra.received().find("\"error\":\"too many streams\""), std::string::npos)
      << extra.received();
  open.pop_back();  // the daemon notices the close at once, not at the next keepalive
  EXPECT_TRUE(testing::Eventually(
      [] {
        SseClient again(port_, "/api/v1/events");
        return again.WaitFor("retry:", 1s) && again.status() == 200;
      },
      5s));
}

TEST_F(EventsApi, CallerNotOnThisHostNeedsAReadToken) {
  SseClient anonymous(port_, "/api/v1/events", kRemote);
  ASSERT_TRUE(anonymous.WaitFor("\r\n\r\n", 5s));
  EXPECT_EQ(anonymous.status(), 401) << anonymous.received();
  EXPECT_NE(anonymous.received().find("WWW-Authenticate: Bearer"), std::string::npos);
  SseClient wrong(port_, "/api/v1/events",
                  std::string(kRemote) + "Authorization: Bearer not-a-configured-token\r\n");
  ASSERT_TRUE(wrong.WaitFor("\r\n\r\n", 5s));
  EXPECT_EQ(wrong.status(), 401) << wrong.received();
  SseClient reader(port_, "/api/v1/events",
                   std::string(kRemote) + "Authorization: Bearer " + kReadToken + "\r\n");
  EXPECT_TRUE(reader.WaitFor("retry:", 5s)) << reader.received();
  EXPECT_EQ(reader.status(), 200);
}

TEST_F(EventsApi, ClientThatNeverReadsIsDroppedWhileAnotherKeepsGettingEvents) {
  // The reader's own receive buffer is large, so a moment off the CPU (a
  // loaded CI machine) does not make it the slow one.
  SseClient reader(port_, "/api/v1/events", "", 4 << 20);
  SseClient stuck(port_, "/api/v1/events", "", 4096);
  ASSERT_TRUE(reader.WaitFor("retry:", 5s));
  // 100 checks on one file every 100 ms, the file toggled every 50 ms: most
  // results change a state; hundreds of events (megabytes) a second.
  std::atomic<bool> stop{false};
  std::thread toggler([&] {
    for (bool present = false; !stop; present = !present) {
      if (present)
        std::ofstream(busy_) << "x";
      else
        std::filesystem::remove(busy_);
      std::this_thread::sleep_for(50ms);
    }
  });
  // Read without pauses until the stuck one is dropped.
  bool dropped = false;
  for (const auto until = std::chrono::steady_clock::now() + 30s;
       !dropped && std::chrono::steady_clock::now() < until;) {
    reader.ReadFor(50ms);
    dropped = stuck.PeerGone();
  }
  const size_t before = reader.Count("event: check");
  const bool still_served = reader.WaitForCount("event: check", before + 50, 5s);
  stop = true;
  toggler.join();
  ASSERT_TRUE(dropped) << "the reader that never reads still holds its stream; the other got "
                       << before << " events";
  EXPECT_TRUE(still_served) << "the reading client stopped getting events at " << before;
  EXPECT_GT(reader.received().size(), 256u * 1024)
      << "the drop came before the stuck reader could be 256 KiB behind";
  std::cout << "[ figures ] events the reader had when the stuck one was dropped: " << before
            << "\n";
}

// Last: it stops the suite's daemon.
TEST_F(EventsApi, StoppingTheDaemonEndsEveryStreamCleanly) {
  SseClient a(port_, "/api/v1/events"), b(port_, "/api/v1/events");
  ASSERT_TRUE(a.WaitFor("retry:", 5s));
  ASSERT_TRUE(b.WaitFor("retry:", 5s));
  daemon_->Signal(SIGTERM);
  EXPECT_TRUE(a.WaitClosed(10s));
  EXPECT_TRUE(b.WaitClosed(10s));
  EXPECT_EQ(daemon_->Wait(), 0) << daemon_->Log();
}

}  // namespace
}  // namespace mamori
