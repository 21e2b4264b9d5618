// WriteFileAtomically: the file is replaced whole (also with writers racing),
// no temporary stays behind,
// and a failure names the path and leaves the old file as it was.
#include "mamori/util/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "testing/cli.h"

namespace mamori {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(AtomicFile, ReplacesTheFileWholeAndLeavesNoTemporary) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/record";
  ASSERT_TRUE(WriteFileAtomically(path, "first, and longer\n").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second\n").ok());
  EXPECT_EQ(Read(path), "second\n");
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename(), "record") << "left behind: " << e.path();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST(AtomicFile, AFailureNamesThePathAndKeepsTheOldFile) {
  testing::TempDir dir;
  auto missing = WriteFileAtomically("/nonexistent-mamori-dir/record", "x");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("cannot write /nonexistent-mamori-dir/record"),
            std::string::npos)
      << missing.error().message();

  // The target is a directory: the rename fails, the temporary goes, the
  // directory stays.
  const std::string target = dir.path() + "/target";
  std::filesystem::create_directories(target + "/inside");
  auto r = WriteFileAtomically(target, "x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("cannot write " + target), std::string::npos)
      << r.error().message();
  EXPECT_TRUE(std::filesystem::is_directory(target + "/inside"));
  EXPECT_FALSE(std::filesystem::exists(target + ".tmp"));
}

// Writers replacing one path at once (two scans filling one cache): every
// read sees one writer's text whole. With one shared PATH.tmp a writer renamed
// another's half-written file and this read a mix.
TEST(AtomicFile, ConcurrentWritersOfOnePathNeverLeaveAMix) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/shared";
  const std::string a(256 * 1024, 'a'), b(128 * 1024, 'b');
  ASSERT_TRUE(WriteFileAtomically(path, a).ok());
  std::atomic<bool> stop{false};
  auto writer = [&](const std::string& text) {
    while (!stop) ASSERT_TRUE(WriteFileAtomically(path, text).ok());
  };
  std::thread wa(writer, a), wb(writer, b);
  int mixed = 0;
  for (int i = 0; i < 300; ++i) {
    const std::string got = Read(path);
    if (got != a && got != b) ++mixed;
  }
  stop = true;
  wa.join();
  wb.join();
  EXPECT_EQ(mixed, 0);
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename(), "shared") << "left behind: " << e.path();
}

}  // namespace
}  // namespace mamori
