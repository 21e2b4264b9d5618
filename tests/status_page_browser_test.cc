// The public status page as a visitor sees it: a real daemon with real http
// checks against a real nginx on 127.0.0.1 serves /status, and a real
// headless Chromium renders it (no JavaScript is needed: the DOM after
// loading must already hold everything). The test asserts on the rendered
// DOM and takes a screenshot (docs/status-page.png when
// MAMORI_UPDATE_SCREENSHOTS=1).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "mamori/util/subprocess.h"
#include "mamori_source_dir.h"
#include "testing/chromium.h"
#include "testing/cli.h"
#include "testing/http_call.h"
#include "testing/nginx.h"
#include "testing/ports.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::HttpCall;

constexpr const char* kChromium = testing::kChromiumPath;
constexpr const char* kToken = "status-page-write-token-0123456789";

TEST(StatusPageBrowser, ChromiumRendersOnlyListedChecksWithUptimeAnnouncementsAndNotes) {
  if (::access(kChromium, X_OK) != 0) GTEST_SKIP() << kChromium << " is not installed";
  std::string error;
  auto nginx = testing::NginxServer::Start({}, &error);
  ASSERT_TRUE(nginx) << error;
  testing::TempDir dir;
  const int port = testing::PickFreePort();
  const std::string config = dir.Write(
      "mamori.yaml", "data_dir: ./data\nlisten: 127.0.0.1:" + std::to_string(port) +
                         "\napi:\n  tokens:\n    - {token: " + kToken +
                         ", scope: write}\n"
                         "defaults: {interval: 300ms, timeout: 2s}\n"
                         "checks:\n"
                         "  - {name: shop, type: http, url: '" +
                         nginx->Url("/") +
                         "', description: The web shop}\n"
                         "  - {name: payments, type: http, url: '" +
                         nginx->Url("/down") +
                         "', description: Card payments, tags: [public]}\n"
                         "  - {name: internal-admin, type: http, url: '" +
                         nginx->Url("/") +
                         "', tags: [internal]}\n"
                         "status_page: {title: Example Shop status, checks: [shop, public]}\n");
  testing::DaemonProcess daemon({"-c", config}, dir.path() + "/daemon.log");
  ASSERT_TRUE(daemon.WaitForLog("ping API listening")) << daemon.Log();

  // Wait until both listed checks have a hard state and payments' incident is open.
  // Polled every 200 ms: the page's rate limit (50/s) is for visitors, not this loop.
  std::string incident;
  bool ready = false;
  for (auto until = std::chrono::steady_clock::now() + 20s;
       !ready && std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(200ms)) {
    auto r = HttpCall(port, "GET", "/status.json");
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (r.status != 200 || j.is_discarded() || j["checks"].size() != 2 || j["incidents"].empty())
      continue;
    incident = j["incidents"][0]["id"].get<std::string>();
    ready = j["checks"][0]["status"] == "ok" && j["checks"][1]["status"] == "critical";
  }
  ASSERT_TRUE(ready) << daemon.Log();
  const std::string auth = std::string("Authorization: Bearer ") + kToken + "\r\n";
  ASSERT_EQ(HttpCall(port, "POST", "/api/v1/announcements",
                     R"({"level": "outage", "title": "Card payments are failing",
                         "text": "We are working with the payment provider."})",
                     auth)
                .status,
            201);
  ASSERT_EQ(HttpCall(port, "POST", "/api/v1/incidents/" + incident + "/notes",
                     R"({"text": "The provider confirmed an outage on their side."})", auth)
                .status,
            201);

  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/status";
  auto dom = testing::RunChromium(dir.path() + "/profile", {"--dump-dom", url});
  ASSERT_TRUE(dom.ok()) << dom.error().message();
  ASSERT_EQ(dom->exit_code, 0) << dom->err;
  const std::string& html = dom->out;
  EXPECT_NE(html.find("<h1>Example Shop status</h1>"), std::string::npos) << html;
  EXPECT_NE(html.find("data-check=\"shop\""), std::string::npos);
  EXPECT_NE(html.find("data-check=\"payments\""), std::string::npos);
  EXPECT_EQ(html.find("internal-admin"), std::string::npos);  // not listed: never shown
  EXPECT_NE(html.find("Operational"), std::string::npos);
  EXPECT_NE(html.find("<span class=\"state critical\">Down</span>"), std::string::npos);
  EXPECT_NE(html.find("Card payments are failing"), std::string::npos);
  EXPECT_NE(html.find("The provider confirmed an outage on their side."), std::string::npos);
  size_t bars = 0;
  for (size_t at = html.find("class=\"day"); at != std::string::npos;
       at = html.find("class=\"day", at + 1))
    ++bars;
  EXPECT_EQ(bars, 2u * 90u);  // 90 days per listed check

  const std::string png = dir.path() + "/status-page.png";
  auto shot = testing::RunChromium(dir.path() + "/profile",
                                   {"--screenshot=" + png, "--window-size=900,1000", url});
  ASSERT_TRUE(shot.ok()) << shot.error().message();
  ASSERT_TRUE(std::filesystem::exists(png)) << shot->err;
  const std::string bytes = testing::ReadFile(png);
  ASSERT_GT(bytes.size(), 10'000u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  testing::MaybeUpdateScreenshot(png, "status-page.png");
}

}  // namespace
}  // namespace mamori
