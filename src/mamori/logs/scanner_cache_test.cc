// The compiled-signature cache: a second start loads what the first compiled,
// a corrupt or torn file is ignored and rewritten, a changed rule set misses,
// an unwritable directory only means compiling, and writers racing on one
// cache never leave a file that loads wrong.
#include "mamori/logs/scanner_cache.h"

#include <gtest/gtest.h>
#include <hs/hs.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "mamori/logs/rule_loader.h"
#include "mamori/logs/signature_scanner.h"
#include "testing/cli.h"

namespace mamori::logs {
namespace {

RuleSet Rules(const std::string& second_pattern) {
  RuleSet r;
  config::Diagnostics diag;
  LoadRuleText(R"(component: demo
signatures:
  - id: demo.enospc
    severity: warning
    patterns: ['No space left on device']
    summary: 'disk full'
    explanation: x
  - id: demo.other
    severity: critical
    patterns: [')" +
                   second_pattern + R"(']
    summary: 'other'
    explanation: x
)",
               "demo.yaml", &r, &diag);
  EXPECT_TRUE(diag.empty()) << diag.ToString();
  return r;
}

std::unique_ptr<SignatureScanner> Compile(const std::string& pattern, const std::string& dir) {
  auto sc = SignatureScanner::Compile(Rules(pattern), dir);
  EXPECT_TRUE(sc.ok()) << sc.error().message();
  return sc.ok() ? std::move(sc).value() : nullptr;
}

// The signatures `line` matches, as the scanner reports them.
std::vector<uint32_t> Ids(const SignatureScanner& sc, const std::string& line) {
  ScanSession s(sc);
  std::vector<uint32_t> ids;
  s.MatchIds(line, &ids);
  return ids;
}

std::vector<std::filesystem::path> CacheFiles(const std::string& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path());
  return out;
}

TEST(ScannerCache, TheSecondStartLoadsWhatTheFirstCompiled) {
  testing::TempDir dir;
  const std::string cache = dir.path() + "/cache";
  auto first = Compile("Segmentation fault", cache);
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->from_cache());
  EXPECT_TRUE(first->cache_written());
  ASSERT_EQ(CacheFiles(cache).size(), 1u);
  auto second = Compile("Segmentation fault", cache);
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->from_cache());
  EXPECT_FALSE(second->cache_written());
  const std::string line = "Segmentation fault; write: No space left on device";
  EXPECT_EQ(Ids(*second, line), (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(Ids(*second, line), Ids(*first, line));
  EXPECT_TRUE(Ids(*second, "all is well").empty());
}

TEST(ScannerCache, AChangedRuleSetMisses) {
  testing::TempDir dir;
  ASSERT_TRUE(Compile("Segmentation fault", dir.path()));
  auto changed = Compile("Bus error", dir.path());
  ASSERT_TRUE(changed);
  EXPECT_FALSE(changed->from_cache());
  EXPECT_EQ(Ids(*changed, "Bus error"), (std::vector<uint32_t>{1}));
  EXPECT_TRUE(Ids(*changed, "Segmentation fault").empty());
  EXPECT_EQ(CacheFiles(dir.path()).size(), 2u);
}

TEST(ScannerCache, ACorruptOrTornFileIsIgnoredAndRewritten) {
  testing::TempDir dir;
  ASSERT_TRUE(Compile("Segmentation fault", dir.path()));
  const auto file = CacheFiles(dir.path()).at(0);
  const auto size = std::filesystem::file_size(file);
  for (const char* damage : {"flip", "truncate", "garbage"}) {
    SCOPED_TRACE(damage);
    if (std::string(damage) == "flip") {
      std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(size - 100));
      f.put('\x5a').put('\xa5');
    } else if (std::string(damage) == "truncate") {
      std::filesystem::resize_file(file, size / 2);
    } else {
      std::ofstream(file, std::ios::binary | std::ios::trunc) << "not a database";
    }
    auto sc = Compile("Segmentation fault", dir.path());
    ASSERT_TRUE(sc);
    EXPECT_FALSE(sc->from_cache());
    EXPECT_TRUE(sc->cache_written());
    EXPECT_EQ(Ids(*sc, "Segmentation fault"), (std::vector<uint32_t>{1}));
    EXPECT_EQ(std::filesystem::file_size(file), size);
    auto again = Compile("Segmentation fault", dir.path());
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->from_cache());
  }
}

TEST(ScannerCache, AnUnwritableDirectoryOnlyMeansCompiling) {
  testing::TempDir dir;
  const std::string blocked = dir.path() + "/a-file";
  std::ofstream(blocked) << "x";
  auto sc = Compile("Segmentation fault", blocked + "/cache");
  ASSERT_TRUE(sc);
  EXPECT_FALSE(sc->from_cache());
  EXPECT_FALSE(sc->cache_written());
  EXPECT_EQ(Ids(*sc, "Segmentation fault"), (std::vector<uint32_t>{1}));
}

TEST(ScannerCache, WritersRacingOnOneCacheLeaveALoadableFile) {
  testing::TempDir dir;
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        auto sc = SignatureScanner::Compile(Rules("Segmentation fault"), dir.path());
        if (!sc.ok() || Ids(**sc, "Segmentation fault") != std::vector<uint32_t>{1}) ++wrong;
        // Drop the file now and then so writers keep racing.
        if (i % 2 == 0)
          for (const auto& f : CacheFiles(dir.path()))
            if (f.extension() == ".hsdb") std::filesystem::remove(f);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong, 0);
  // No writer's temporary stays behind, and what is there loads.
  EXPECT_LE(CacheFiles(dir.path()).size(), 1u);
  ASSERT_TRUE(Compile("Segmentation fault", dir.path()));
  auto last = Compile("Segmentation fault", dir.path());
  ASSERT_TRUE(last);
  EXPECT_TRUE(last->from_cache());
}

TEST(ScannerCache, KeepsAtMostABoundedNumberOfDatabases) {
  testing::TempDir dir;
  for (size_t i = 0; i < kMaxCacheFiles + 3; ++i)
    ASSERT_TRUE(Compile("error number " + std::to_string(i), dir.path()));
  EXPECT_EQ(CacheFiles(dir.path()).size(), kMaxCacheFiles);
}

TEST(ScannerCache, TheKeyCoversPatternsFlagsAndVersion) {
  PatternSet a{{"abc"}, {HS_FLAG_SINGLEMATCH}, {0}};
  PatternSet b{{"abc"}, {HS_FLAG_SINGLEMATCH | HS_FLAG_CASELESS}, {0}};
  PatternSet c{{"abd"}, {HS_FLAG_SINGLEMATCH}, {0}};
  EXPECT_EQ(DatabaseKey(a), DatabaseKey(a));
  EXPECT_NE(DatabaseKey(a), DatabaseKey(b));
  EXPECT_NE(DatabaseKey(a), DatabaseKey(c));
  EXPECT_EQ(DatabaseKey(a).size(), 64u);
}

}  // namespace
}  // namespace mamori::logs
