#include "mamori/backup/manifest.h"

#include <gtest/gtest.h>

#include "mamori/util/subprocess.h"
#include "testing/cli.h"

namespace mamori::backup {
namespace {

TEST(BackupManifest, ParsesSha256sumOutput) {
  std::uint64_t bad = 0;
  const std::string a(64, 'A');
  auto e = ParseManifest(a + "  x.sql.gz\n" + a + " *bin.dump\nnonsense\n\n", 100, &bad);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].sha256, std::string(64, 'a'));
  EXPECT_EQ(e[0].name, "x.sql.gz");
  EXPECT_EQ(e[1].name, "bin.dump");
  EXPECT_EQ(bad, 1u);
}

TEST(BackupManifest, AgreesWithSha256sum) {
  testing::TempDir dir;
  const std::string f = dir.Write("a.bin", std::string(3 << 20, 'z') + "tail");
  ProcessOptions o;
  o.argv = {"sha256sum", "a.bin"};
  o.working_dir = dir.path();
  auto r = RunProcess(o);
  ASSERT_TRUE(r.ok());
  std::string error;
  auto mine = Sha256File(f, &error);
  ASSERT_TRUE(mine) << error;
  EXPECT_EQ(r->out.substr(0, 64), *mine);
  dir.Write("SHA256SUMS", r->out);
  std::string manifest;
  auto expected = FindExpectedSha256(f, &manifest);
  ASSERT_TRUE(expected);
  EXPECT_EQ(*expected, *mine);
  EXPECT_EQ(manifest, dir.path() + "/SHA256SUMS");
}

TEST(BackupManifest, VerifiesListedFilesAndRefusesEscapes) {
  testing::TempDir dir;
  dir.Write("ok.txt", "hello\n");
  const std::string text =
      "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  ok.txt\n" +
      std::string(64, '0') + "  gone.txt\n" + std::string(64, '0') + "  ../etc/passwd\n";
  Findings f;
  VerifyManifestFile(dir.path() + "/SHA256SUMS", text, 100, &f);
  EXPECT_EQ(f.status, CheckStatus::kCritical);
  EXPECT_EQ(f.details["verified"], 1);
  EXPECT_NE(f.WorstMessages().find("SHA256SUMS: gone.txt is listed but missing"),
            std::string::npos);
}

}  // namespace
}  // namespace mamori::backup
