#include "mamori/web/dashboard_files.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace mamori::web {
namespace {

TEST(DashboardFiles, ThePageAndEveryFileItNamesAreServed) {
  auto page = FindDashboardFile("/");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(page->cache_control, "no-cache");
  const std::string html(page->body);
  size_t first_view = html.size(), named = 0;
  const std::regex ref(R"re((?:src|href)="(/assets/[^"]+)")re");
  const std::sregex_iterator none;
  for (std::sregex_iterator it(html.begin(), html.end(), ref); it != none; ++it) {
    auto f = FindDashboardFile((*it)[1].str());
    ASSERT_TRUE(f.has_value()) << (*it)[1] << " is named by the page but not embedded";
    EXPECT_FALSE(f->body.empty());
    first_view += f->body.size();
    ++named;
  }
  EXPECT_EQ(named, 4u);  // uPlot's script and style, ours
  // The first view stays small on a phone: under 150 KB even uncompressed.
  EXPECT_LT(first_view, 150u * 1024) << first_view << " bytes";
  EXPECT_TRUE(
      FindDashboardFile("/assets/uPlot.iife.min.js")->content_type.starts_with("text/javascript"));
  EXPECT_TRUE(FindDashboardFile("/assets/uplot.LICENSE.txt").has_value());
}

TEST(DashboardFiles, NothingOutsideTheEmbeddedSetIsServed) {
  for (const char* t : {"/assets/", "/assets/../index.html", "/assets/x/dashboard.js",
                        "/etc/passwd", "/assets/nope.js", "/index.htm", ""})
    EXPECT_FALSE(FindDashboardFile(t).has_value()) << t;
  EXPECT_TRUE(FindDashboardFile("/?from=bookmark").has_value());
}

}  // namespace
}  // namespace mamori::web
