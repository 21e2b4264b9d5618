#include "mamori/faces/status_page.h"

#include <gtest/gtest.h>

namespace mamori::faces {
namespace {

constexpr const char* kEvil = "<script>alert(1)</script>";

StatusPage EvilPage() {
  StatusPage page;
  page.title = std::string("Shop ") + kEvil;
  PageCheck c;
  c.view.live.name = kEvil;
  c.view.live.description = "\"><img src=x onerror=alert(2)>";
  c.view.status = CheckStatus::kCritical;
  c.days.push_back({WallTime(std::chrono::hours(24 * 20000)), {}});
  page.checks.push_back(c);
  Incident i;
  i.id = "0123456789abcdef";
  i.check = kEvil;
  i.started = WallTime(std::chrono::hours(24 * 20000));
  i.timeline.push_back({i.started, "failed", kEvil});
  page.incidents.push_back(i);
  page.notes.push_back({1, i.id, i.started, std::string("note ") + kEvil, "ops"});
  page.announcements.push_back({1, i.started, "outage", kEvil, "'quoted' & <b>bold</b>"});
  return page;
}

TEST(StatusPageRender, EveryNameAndTextIsEscaped) {
  const std::string html = RenderStatusHtml(EvilPage());
  EXPECT_EQ(html.find("<script"), std::string::npos) << html;
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("note &lt;script&gt;"), std::string::npos);  // the operator's note is shown
  EXPECT_NE(html.find("&#39;quoted&#39; &amp; &lt;b&gt;"), std::string::npos);
  EXPECT_NE(html.find("Some systems are not operational"), std::string::npos);
}

TEST(StatusPageRender, BadgesEscapeTheirTextToo) {
  const std::string svg = RenderBadge(kEvil, "ok", StatusColor(CheckStatus::kOk));
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_NE(svg.find("#4c1"), std::string::npos);
  EXPECT_EQ(UptimeColor(0.95), "#e05d44");
  EXPECT_EQ(FormatUptime(std::nullopt), "no data");
  EXPECT_EQ(FormatUptime(0.99951), "99.95%");
}

}  // namespace
}  // namespace mamori::faces
