#include "mamori/logs/journal_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <cstdlib>
#include "testing/cli.h"

namespace mamori::logs {
namespace {

constexpr const char* kJournalRemote = "/lib/systemd/systemd-journal-remote";

// Writes a real journal file: systemd-journal-remote converts entries in the
// journal export format into the same on-disk format journald writes.
bool MakeJournal(const testing::TempDir& dir, const std::string& export_text, std::string* out) {
  std::string in = dir.Write("in.export", export_text);
  std::filesystem::create_directories(dir.path() + "/journal");
  *out = dir.path() + "/journal";
  std::string cmd = std::string(kJournalRemote) + " --output=" + *out + "/remote.journal " + in +
                    " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

std::string Entry(int64_t sec, const std::string& unit, const std::string& ident, int pid,
                  const std::string& msg) {
  return "__REALTIME_TIMESTAMP=" + std::to_string(sec * 1000000) +
         "\n__MONOTONIC_TIMESTAMP=" + std::to_string(sec) +
         "\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_SYSTEMD_UNIT=" + unit +
         "\nSYSLOG_IDENTIFIER=" + ident + "\n_PID=" + std::to_string(pid) +
         "\nPRIORITY=3\nMESSAGE=" + msg + "\n\n";
}

TEST(JournalReaderTest, AbsentJournalIsReportedNotSilentlyEmpty) {
  testing::TempDir root;
  auto why = JournalAbsentReason(root.path());
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("no systemd journal"), std::string::npos);
  std::filesystem::create_directories(root.path() + "/var/log/journal/abc");
  std::ofstream(root.path() + "/var/log/journal/abc/system.journal") << "x";
  EXPECT_FALSE(JournalAbsentReason(root.path()).has_value());
}

TEST(JournalReaderTest, EmptyDirectoryReadsNothing) {
  testing::TempDir dir;
  auto r = JournalReader::OpenDirectory(dir.path());
  ASSERT_TRUE(r.ok()) << r.error().message();
  auto n = (*r)->Read(10, [](const JournalEntry&) {});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

TEST(JournalReaderTest, ReadsRealJournalFilesByUnitSinceATimeAndAfterACursor) {
  if (::access(kJournalRemote, X_OK) != 0)
    GTEST_SKIP() << kJournalRemote << " is missing (package systemd-journal-remote)";
  testing::TempDir dir;
  std::string jdir;
  ASSERT_TRUE(MakeJournal(dir,
                          Entry(1700000000, "mariadb.service", "mariadbd", 77,
                                "[ERROR] InnoDB: Failed to read page 27258") +
                              Entry(1700000001, "ssh.service", "sshd", 88, "Accepted publickey") +
                              Entry(1700000002, "mariadb.service", "mariadbd", 77, "second") +
                              Entry(1700000003, "mariadb.service", "mariadbd", 77, "third"),
                          &jdir));
  auto r = JournalReader::OpenDirectory(jdir);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_TRUE((*r)->MatchUnits({"mariadb.service"}).ok());
  ASSERT_TRUE((*r)->SeekSince(WallTime(std::chrono::seconds(1700000000))).ok());
  std::vector<JournalEntry> got;
  auto n = (*r)->Read(2, [&](const JournalEntry& e) { got.push_back(e); });
  ASSERT_TRUE(n.ok()) << n.error().message();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].message, "[ERROR] InnoDB: Failed to read page 27258");
  EXPECT_EQ(got[0].unit, "mariadb.service");
  EXPECT_EQ(got[0].identifier, "mariadbd");
  EXPECT_EQ(got[0].pid, 77);
  EXPECT_EQ(got[0].priority, 3);
  EXPECT_EQ(got[0].time, WallTime(std::chrono::seconds(1700000000)));
  EXPECT_EQ(got[1].message, "second");
  std::string cursor = (*r)->cursor();
  ASSERT_FALSE(cursor.empty());

  // A new reader continues after the saved cursor: no entry twice.
  auto r2 = JournalReader::OpenDirectory(jdir);
  ASSERT_TRUE(r2.ok());
  ASSERT_TRUE((*r2)->MatchUnits({"mariadb.service"}).ok());
  ASSERT_TRUE((*r2)->SeekAfterCursor(cursor).ok());
  std::vector<std::string> rest;
  ASSERT_TRUE((*r2)->Read(10, [&](const JournalEntry& e) { rest.push_back(e.message); }).ok());
  EXPECT_EQ(rest, (std::vector<std::string>{"third"}));
}

}  // namespace
}  // namespace mamori::logs
