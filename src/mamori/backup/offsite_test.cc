#include "mamori/backup/offsite.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace mamori::backup {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class OffsiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mamori-offsite-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    artifact_ = dir_ / "shop.dump";
    std::ofstream(artifact_) << "twelve bytes";
  }
  void TearDown() override { fs::remove_all(dir_); }
  OffsiteResult Compare(const std::string& script) {
    OffsiteSpec spec;
    spec.command = {"sh", "-c", script};
    return CompareOffsite(spec, artifact_, std::nullopt, clock_.Monotonic() + 10s, clock_);
  }
  fs::path dir_, artifact_;
  SystemClock clock_;
};

TEST_F(OffsiteTest, Sha256OfAFileMatchesSha256sum) {
  auto h = Sha256Of(artifact_, clock_.Monotonic() + 10s, clock_);
  ASSERT_TRUE(h.ok());
  // printf 'twelve bytes' | sha256sum
  OffsiteResult r = Compare("cd " + dir_.string() + " && sha256sum shop.dump");
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  EXPECT_EQ(r.local_sha256, *h);
}

TEST_F(OffsiteTest, SizeOnlyListingsAreComparedBySize) {
  OffsiteResult same = Compare("echo '2026-11-23 03:12:01         12 shop.dump'");
  EXPECT_EQ(same.status, CheckStatus::kOk) << same.summary;
  EXPECT_NE(same.summary.find("same size (no checksum listed)"), std::string::npos);
  OffsiteResult shorter = Compare("echo '2026-11-23 03:12:01         11 shop.dump'");
  EXPECT_EQ(shorter.status, CheckStatus::kCritical) << shorter.summary;
}

TEST_F(OffsiteTest, DifferentChecksumAndFailingListing) {
  OffsiteResult diff = Compare("printf '%064d  backups/shop.dump\\n' 0");
  EXPECT_EQ(diff.status, CheckStatus::kCritical);
  EXPECT_NE(diff.summary.find("differs: sha256 000000000000 there"), std::string::npos)
      << diff.summary;
  OffsiteResult failed = Compare("echo 'AccessDenied' >&2; exit 1");
  EXPECT_EQ(failed.status, CheckStatus::kUnknown);
  EXPECT_NE(failed.summary.find("exit 1): AccessDenied"), std::string::npos) << failed.summary;
}

TEST_F(OffsiteTest, DirectoryArtifactsHashTheirFiles) {
  fs::create_directories(dir_ / "a" / "d");
  fs::create_directories(dir_ / "b" / "d");
  std::ofstream(dir_ / "a" / "d" / "toc.dat") << "toc";
  std::ofstream(dir_ / "b" / "d" / "toc.dat") << "toc";
  OffsiteSpec spec;
  spec.path = (dir_ / "b").string();
  auto r = CompareOffsite(spec, dir_ / "a" / "d", std::nullopt, clock_.Monotonic() + 10s, clock_);
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.summary;
  std::ofstream(dir_ / "b" / "d" / "3001.dat.gz") << "x";
  r = CompareOffsite(spec, dir_ / "a" / "d", std::nullopt, clock_.Monotonic() + 10s, clock_);
  EXPECT_EQ(r.status, CheckStatus::kCritical) << r.summary;
}

}  // namespace
}  // namespace mamori::backup
