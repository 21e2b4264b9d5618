#include "mamori/util/time_zone.h"

#include <date/tz.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace mamori::util {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kYear = 365 * 86400;
constexpr int64_t k1900 = -2208988800;
constexpr int64_t k2037 = 2145916800;  // 2038-01-01: Debian's files end in 2037

std::shared_ptr<const TimeZone> MustLoad(const std::string& name) {
  auto z = TimeZone::Load(name);
  EXPECT_TRUE(z.ok()) << name << ": " << (z.ok() ? "" : z.error().message());
  return z.ok() ? *z : nullptr;
}

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Every zone of the system's database (zone1970.tab, plus a few old-style
// names), read by this reader and by the date library's tz (the reference,
// which reads the same files), agree on the offset at every instant tried
// from 1900 to 2037, and each period this reader gives is one offset.
TEST(TimeZone, AgreesWithTheDateLibraryOnEveryZoneOfTheSystem) {
  std::ifstream tab("/usr/share/zoneinfo/zone1970.tab");
  ASSERT_TRUE(tab) << "tzdata is not installed (scripts/bootstrap.sh installs it)";
  std::vector<std::string> names = {
      "UTC", "EST5EDT", "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham"};
  for (std::string line; std::getline(tab, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string codes, coords, name;
    fields >> codes >> coords >> name;
    names.push_back(name);
  }
  ASSERT_GT(names.size(), 300u);
  std::mt19937_64 rng(20261207);
  std::uniform_int_distribution<int64_t> instant(k1900, k2037);
  size_t compared = 0;
  for (const auto& name : names) {
    auto mine = MustLoad(name);
    ASSERT_NE(mine, nullptr);
    const date::time_zone* ref = date::locate_zone(name);
    auto check = [&](int64_t s) {
      const auto info = ref->get_info(date::sys_seconds{std::chrono::seconds{s}});
      const auto p = mine->PeriodAt(s);
      ASSERT_EQ(p.offset, info.offset.count()) << name << " at " << s;
      ASSERT_LE(p.begin, s);
      ASSERT_GT(p.end, s);
      // The period is one offset: the reference agrees at both of its ends.
      if (p.begin > k1900) {
        ASSERT_EQ(ref->get_info(date::sys_seconds{std::chrono::seconds{p.begin}}).offset.count(),
                  p.offset)
            << name << " period start " << p.begin;
        ASSERT_NE(
            ref->get_info(date::sys_seconds{std::chrono::seconds{p.begin - 1}}).offset.count(),
            p.offset)
            << name << " period start " << p.begin << " is not a change";
      }
      if (p.end < k2037) {
        ASSERT_EQ(ref->get_info(date::sys_seconds{std::chrono::seconds{p.end - 1}}).offset.count(),
                  p.offset)
            << name << " period end " << p.end;
      }
      ++compared;
    };
    for (int i = 0; i < 200; ++i) check(instant(rng));
    // Around every change the reference knows of in these years.
    for (int64_t s = k1900; s < k2037;) {
      const auto info = ref->get_info(date::sys_seconds{std::chrono::seconds{s}});
      const int64_t end = info.end.time_since_epoch().count();
      if (end >= k2037) break;
      check(end - 1);
      check(end);
      s = end;
    }
  }
  EXPECT_GT(compared, 100000u);
}

// Past 2037 the rule at the file's end goes on: summer time in Berlin in
// 2050 and in Sydney's January 2100, which the date library (and the daemon
// before) kept at the last offset of the table.
TEST(TimeZone, FollowsTheRuleAtTheEndOfTheFileAfter2037) {
  auto berlin = MustLoad("Europe/Berlin");
  ASSERT_NE(berlin, nullptr);
  const int64_t july_2050 = 2541196800;     // 2050-07-12T00:00Z
  const int64_t january_2050 = 2525817600;  // 2050-01-15T00:00Z
  EXPECT_EQ(berlin->OffsetAt(july_2050), 7200);
  EXPECT_EQ(berlin->OffsetAt(january_2050), 3600);
  // Summer time 2050 starts on the last Sunday of March (the 27th) at 01:00Z.
  const auto summer = berlin->PeriodAt(july_2050);
  EXPECT_EQ(summer.begin, 2531955600);  // 2050-03-27T01:00Z
  EXPECT_EQ(summer.end, 2550704400);    // 2050-10-30T01:00Z

  auto sydney = MustLoad("Australia/Sydney");
  ASSERT_NE(sydney, nullptr);
  EXPECT_EQ(sydney->OffsetAt(4102444800 + 14 * 86400), 11 * 3600);   // 2100-01-15: summer
  EXPECT_EQ(sydney->OffsetAt(4102444800 + 180 * 86400), 10 * 3600);  // 2100-06-30: winter

  // The last period of the table joins the rule's first one.
  const auto last_table = berlin->PeriodAt(2140000000);  // 2037-10-24, summer
  EXPECT_EQ(last_table.offset, 7200);
  EXPECT_EQ(berlin->PeriodAt(last_table.end).offset, 3600);
  EXPECT_EQ(berlin->PeriodAt(last_table.end).begin, last_table.end);

  // A zone without changes is one period.
  auto tokyo = MustLoad("Asia/Tokyo");
  ASSERT_NE(tokyo, nullptr);
  const auto p = tokyo->PeriodAt(july_2050);
  EXPECT_EQ(p.offset, 9 * 3600);
  EXPECT_GT(p.end, 7258118400);  // past 2200, the last year a schedule asks about
  EXPECT_LT(p.begin, 0);
}

TEST(TimeZone, NamesThatAreNotZonesAreRefused) {
  for (std::string bad : std::vector<std::string>{
           "", "Mars/Olympus", "../../etc/passwd", "/etc/passwd", "Europe/../../x", "zone1970.tab",
           "Europe//Berlin", "Europe/Berlin\n", "a b", std::string(100, 'A')}) {
    auto z = TimeZone::Load(bad);
    EXPECT_FALSE(z.ok()) << bad;
  }
  // A directory of the database is not a zone either.
  EXPECT_FALSE(TimeZone::Load("Europe").ok());
}

TEST(TimeZone, AMissingDatabaseSaysSo) {
  auto z = TimeZone::Load("Europe/Berlin", "/nonexistent/zoneinfo");
  ASSERT_FALSE(z.ok());
  EXPECT_NE(z.error().message().find("install the tzdata package"), std::string::npos)
      << z.error().message();
}

// A damaged zone file is refused with its path, never read past its end:
// every truncation of a real file, and a few bytes changed.
TEST(TimeZone, DamagedFilesAreRefused) {
  const std::string berlin = Bytes("/usr/share/zoneinfo/Europe/Berlin");
  ASSERT_GT(berlin.size(), 1000u);
  for (size_t n = 0; n < berlin.size(); n += 7) {
    auto z = TimeZone::FromTzif(std::string_view(berlin).substr(0, n), "cut");
    // A cut inside the footer still leaves a valid table.
    if (n < berlin.size() - 40) {
      EXPECT_FALSE(z.ok()) << "cut at " << n;
    }
  }
  std::string unsorted = berlin;
  // The first 64-bit transition times: make the second smaller than the first.
  const size_t v1 = 44 + [&] {
    auto u32 = [&](size_t at) {
      return (uint32_t(uint8_t(berlin[at])) << 24) | (uint32_t(uint8_t(berlin[at + 1])) << 16) |
             (uint32_t(uint8_t(berlin[at + 2])) << 8) | uint32_t(uint8_t(berlin[at + 3]));
    };
    const uint32_t isut = u32(20), isstd = u32(24), leap = u32(28), time = u32(32), type = u32(36),
                   chars = u32(40);
    return time * 5 + type * 6 + chars + leap * 8 + isstd + isut;
  }();
  const size_t times = v1 + 44;
  unsorted[times + 8] = '\x80';  // the second becomes the smallest 64-bit time
  for (int i = 1; i < 8; ++i) unsorted[times + 8 + i] = '\0';
  EXPECT_FALSE(TimeZone::FromTzif(unsorted, "unsorted").ok());
  EXPECT_FALSE(TimeZone::FromTzif("TZif2" + std::string(100, '\xff'), "huge counts").ok());
  EXPECT_FALSE(TimeZone::FromTzif("# tzdata text, not a compiled file\n", "text").ok());

  // Through Load, the error names the file.
  const fs::path dir = fs::temp_directory_path() / ("tz-test-" + std::to_string(::getpid()));
  fs::create_directories(dir / "Bad");
  std::ofstream(dir / "Bad" / "Zone") << "TZif2 truncated";
  auto z = TimeZone::Load("Bad/Zone", dir.string());
  ASSERT_FALSE(z.ok());
  EXPECT_NE(z.error().message().find((dir / "Bad" / "Zone").string()), std::string::npos)
      << z.error().message();
  // $TZDIR-style directories work like the default one.
  fs::copy_file("/usr/share/zoneinfo/Asia/Tokyo", dir / "Tokyo");
  auto tokyo = TimeZone::Load("Tokyo", dir.string());
  ASSERT_TRUE(tokyo.ok()) << tokyo.error().message();
  EXPECT_EQ((*tokyo)->OffsetAt(0), 9 * 3600);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mamori::util
