// The dashboard as an operator sees it: a real daemon with real http checks
// against a real nginx on 127.0.0.1 serves "/", and a real headless Chromium
// runs its script (the API calls included) and renders it. The test asserts on
// the DOM after the scripts ran: every check with its state, the uptime
// columns, the incident of the failing check, the chart of the check named in
// the URL (/#check=NAME), and that text from the checks (a command check
// printing HTML) is shown as text, never as markup. Screenshot: docs/dashboard.png
// when MAMORI_UPDATE_SCREENSHOTS=1.
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

TEST(DashboardBrowser, ChromiumShowsEveryCheckItsUptimeIncidentsAndChartWithTextEscaped) {
  if (::access(kChromium, X_OK) != 0) GTEST_SKIP() << kChromium << " is not installed";
  std::string error;
  auto nginx = testing::NginxServer::Start({}, &error);
  ASSERT_TRUE(nginx) << error;
  testing::TempDir dir;
  const int port = testing::PickFreePort();
  const std::string config = dir.Write(
      "mamori.yaml", "data_dir: ./data\nlisten: 127.0.0.1:" + std::to_string(port) +
                         "\ndefaults: {interval: 300ms, timeout: 2s}\n"
                         "checks:\n"
                         "  - {name: shop, type: http, url: '" +
                         nginx->Url("/") +
                         "'}\n"
                         "  - {name: payments, type: http, url: '" +
                         nginx->Url("/down") +
                         "'}\n"
                         "  - {name: hostile, type: command, shell: true, command: \"echo "
                         "'<img src=x onerror=document.title=1><h1>pwned</h1>'; exit 1\"}\n");
  testing::DaemonProcess daemon({"-c", config}, dir.path() + "/daemon.log");
  ASSERT_TRUE(daemon.WaitForLog("ping API listening")) << daemon.Log();
  bool ready = false;
  for (auto until = std::chrono::steady_clock::now() + 20s;
       !ready && std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(200ms)) {
    auto j = nlohmann::json::parse(HttpCall(port, "GET", "/api/v1/incidents").body, nullptr, false);
    ready = !j.is_discarded() && j["incidents"].size() == 2;
  }
  ASSERT_TRUE(ready) << "payments and hostile never opened incidents:\n" << daemon.Log();

  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/#check=payments";
  auto dom = testing::RunChromium(dir.path() + "/profile", {"--dump-dom", url});
  ASSERT_TRUE(dom.ok()) << dom.error().message();
  ASSERT_EQ(dom->exit_code, 0) << dom->err;
  const std::string& html = dom->out;
  EXPECT_NE(html.find("<tr data-check=\"shop\""), std::string::npos) << html;
  EXPECT_NE(html.find("<tr data-check=\"payments\" class=\"selected\""), std::string::npos) << html;
  EXPECT_NE(html.find("<span class=\"status ok\">ok</span>"), std::string::npos);
  EXPECT_NE(html.find("<span class=\"status critical\">critical</span>"), std::string::npos);
  EXPECT_NE(html.find("<td>100%</td>"), std::string::npos) << "shop's uptime column";
  EXPECT_NE(html.find("<h2 id=\"detail-name\">payments (http)</h2>"), std::string::npos) << html;
  EXPECT_NE(html.find("class=\"uplot"), std::string::npos) << "no chart was drawn";
  EXPECT_NE(html.find("still open"), std::string::npos) << "the open incident is listed";
  EXPECT_EQ(html.find("Cannot read the API"), std::string::npos) << html;
  // A summary full of markup (a plugin's output) is shown as text, never run.
  EXPECT_NE(html.find("&lt;img src=x onerror=document.title=1&gt;&lt;h1&gt;pwned&lt;/h1&gt;"),
            std::string::npos)
      << html;
  EXPECT_EQ(html.find("<h1>pwned</h1>"), std::string::npos) << html;
  EXPECT_EQ(html.find("<img src=\"x\""), std::string::npos) << html;
  EXPECT_NE(html.find("<title>mamori</title>"), std::string::npos) << "the script ran";

  const std::string png = dir.path() + "/dashboard.png";
  auto shot = testing::RunChromium(dir.path() + "/profile",
                                   {"--screenshot=" + png, "--window-size=1100,900", url});
  ASSERT_TRUE(shot.ok()) << shot.error().message();
  ASSERT_TRUE(std::filesystem::exists(png)) << shot->err;
  testing::MaybeUpdateScreenshot(png, "dashboard.png");
}

}  // namespace
}  // namespace mamori
