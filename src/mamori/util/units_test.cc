#include "mamori/util/units.h"

#include <gtest/gtest.h>

namespace mamori {
namespace {

using namespace std::chrono_literals;

TEST(Units, DurationsFromTheIssue) {
  EXPECT_EQ(*ParseDuration("500ms"), Duration(500ms));
  EXPECT_EQ(*ParseDuration("90s"), Duration(90s));
  EXPECT_EQ(*ParseDuration("5m"), Duration(5min));
  EXPECT_EQ(*ParseDuration("26h"), Duration(26h));
  EXPECT_EQ(*ParseDuration("7d"), Duration(7 * 24h));
  EXPECT_EQ(*ParseDuration("1h30m"), Duration(90min));
  EXPECT_EQ(*ParseDuration("0"), Duration(0));
}

TEST(Units, DurationsAreStrict) {
  for (const char* bad :
       {"", "5", "5 m", "5mins", "-5s", "s", "1.2.3s", "5s junk", "99999999999999d"}) {
    auto r = ParseDuration(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  EXPECT_NE(ParseDuration("5x").error().message().find("unknown duration unit 'x'"),
            std::string::npos);
  EXPECT_NE(ParseDuration("5").error().message().find("no unit"), std::string::npos);
}

TEST(Units, Sizes) {
  EXPECT_EQ(*ParseSize("512"), 512u);
  EXPECT_EQ(*ParseSize("10MB"), 10'000'000u);
  EXPECT_EQ(*ParseSize("1MiB"), 1048576u);
  EXPECT_EQ(*ParseSize("1.5GB"), 1'500'000'000u);
  EXPECT_EQ(*ParseSize("2 KiB"), 2048u);
  for (const char* bad : {"", "MB", "10XB", "-1", "1e3", "10 M B"})
    EXPECT_FALSE(ParseSize(bad).ok()) << bad;
}

TEST(Units, Percentages) {
  EXPECT_DOUBLE_EQ(*ParsePercent("80%"), 80.0);
  EXPECT_DOUBLE_EQ(*ParsePercent("92.5%"), 92.5);
  for (const char* bad : {"80", "%", "101%", "-5%", "80%%", "eighty%"})
    EXPECT_FALSE(ParsePercent(bad).ok()) << bad;
}

TEST(Units, Formatting) {
  EXPECT_EQ(FormatDuration(Duration(1500ms)), "1.5s");
  EXPECT_EQ(FormatDuration(Duration(250ms)), "250ms");
  EXPECT_EQ(FormatDuration(Duration(3h + 5min)), "3h 5m");
  // Rounded, not truncated, to the last unit shown.
  EXPECT_EQ(FormatDuration(Duration(3h - 2ms)), "3h 0m");
  EXPECT_EQ(FormatDuration(Duration(2h + 29min + 29s)), "2h 29m");
  EXPECT_EQ(FormatDuration(Duration(2h + 29min + 31s)), "2h 30m");
  EXPECT_EQ(FormatDuration(Duration(72h - 1s)), "3d 0h");
  EXPECT_EQ(FormatDuration(Duration(24h - 10s)), "1d 0h");
  EXPECT_EQ(FormatDuration(Duration(10min + 400ms)), "10m 0s");
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
}

}  // namespace
}  // namespace mamori
