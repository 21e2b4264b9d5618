#include "mamori/util/secret_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace mamori {
namespace {

TEST(SecretFile, FirstLineWithoutItsEndAndNothingOfItInErrors) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("mamori_secret_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "key").string();
  std::ofstream(path) << "s3cret-token \r\nsecond line\n";
  auto s = ReadSecretFile(path, "token_file");
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(*s, "s3cret-token");
  // A huge file: only its first 4 KiB are read.
  std::ofstream(path) << std::string(1 << 20, 'x');
  s = ReadSecretFile(path, "token_file");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->size(), 4096u);
  auto missing = ReadSecretFile((dir / "nope").string(), "password_file");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(),
            "cannot read password_file " + (dir / "nope").string() + ": No such file or directory");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mamori
