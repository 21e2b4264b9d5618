#include "mamori/logs/file_follower.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "testing/cli.h"

namespace mamori::logs {
namespace {

void Append(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::app | std::ios::binary);
  f << text;
}

struct Collected {
  std::vector<std::string> lines;
  std::vector<std::string> files;
  std::vector<uint64_t> numbers;
  std::vector<bool> truncated;
};

PollStats PollInto(FileFollower& f, Collected* c) {
  auto r = f.Poll([&](const FollowedLine& l) {
    c->lines.emplace_back(l.text);
    c->files.emplace_back(l.file);
    c->numbers.push_back(l.number);
    c->truncated.push_back(l.truncated);
  });
  EXPECT_TRUE(r.ok()) << r.error().message();
  return r.ok() ? *r : PollStats{};
}

std::vector<std::string> Numbered(int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i <= to; ++i) v.push_back("line " + std::to_string(i));
  return v;
}

std::string Lines(int from, int to) {
  std::string s;
  for (int i = from; i <= to; ++i) s += "line " + std::to_string(i) + "\n";
  return s;
}

TEST(FileFollowerTest, ReadsAppendedLinesAndWaitsForTheEndOfAPartialLine) {
  testing::TempDir dir;
  std::string p = dir.Write("app.log", "one\ntw");
  FileFollower f(p);
  Collected c;
  PollInto(f, &c);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"one"}));
  Append(p, "o\r\nthree\n");
  PollInto(f, &c);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(c.numbers, (std::vector<uint64_t>{1, 2, 3}));
  PollInto(f, &c);
  EXPECT_EQ(c.lines.size(), 3u);
}

TEST(FileFollowerTest, LineSplitAcrossReadBlocks) {
  testing::TempDir dir;
  std::string content;
  for (int i = 0; i < 2000; ++i) content += "entry number " + std::to_string(i) + " of many\n";
  std::string p = dir.Write("app.log", content);
  FollowerOptions o;
  o.block_bytes = 4096;  // lines straddle every block boundary
  FileFollower f(p, o);
  Collected c;
  PollInto(f, &c);
  ASSERT_EQ(c.lines.size(), 2000u);
  for (int i = 0; i < 2000; ++i)
    ASSERT_EQ(c.lines[i], "entry number " + std::to_string(i) + " of many");
}

TEST(FileFollowerTest, OneMegabyteLineIsCutAndTheNextLineIsIntact) {
  testing::TempDir dir;
  std::string big(1 << 20, 'x');
  std::string p = dir.Write("app.log", "before\n" + big + "\nafter\n");
  FollowerOptions o;
  o.block_bytes = 64 * 1024;
  o.max_line_bytes = 64 * 1024;
  FileFollower f(p, o);
  Collected c;
  PollInto(f, &c);
  ASSERT_EQ(c.lines.size(), 3u);
  EXPECT_EQ(c.lines[0], "before");
  EXPECT_EQ(c.lines[1].size(), 64u * 1024);
  EXPECT_TRUE(c.truncated[1]);
  EXPECT_EQ(c.lines[2], "after");
  EXPECT_FALSE(c.truncated[2]);
  EXPECT_EQ(c.numbers[2], 3u);

  // With a larger bound the whole line arrives, even written in two halves.
  std::string p2 = dir.Write("two.log", big.substr(0, big.size() / 2));
  FollowerOptions o2;
  o2.max_line_bytes = 2 << 20;
  FileFollower f2(p2, o2);
  Collected c2;
  PollInto(f2, &c2);
  EXPECT_TRUE(c2.lines.empty());
  Append(p2, big.substr(big.size() / 2) + "\n");
  PollInto(f2, &c2);
  ASSERT_EQ(c2.lines.size(), 1u);
  EXPECT_EQ(c2.lines[0], big);
  EXPECT_FALSE(c2.truncated[0]);
}

TEST(FileFollowerTest, RenameRotationFinishesTheOldFileThenReadsTheNewOne) {
  testing::TempDir dir;
  std::string p = dir.Write("syslog", Lines(1, 3));
  FileFollower f(p);
  Collected c;
  PollInto(f, &c);
  // The writer adds lines (the last one unterminated), logrotate renames,
  // the writer reopens and writes to a new file.
  Append(p, Lines(4, 5) + "line 6");
  ASSERT_EQ(std::rename(p.c_str(), (p + ".1").c_str()), 0);
  Append(p, Lines(7, 8));
  PollStats s = PollInto(f, &c);
  EXPECT_TRUE(s.rotated);
  EXPECT_EQ(c.lines, Numbered(1, 8));
  EXPECT_EQ(c.numbers.back(), 2u);  // line 2 of the new file
  Append(p, Lines(9, 9));
  PollInto(f, &c);
  EXPECT_EQ(c.lines, Numbered(1, 9));
}

TEST(FileFollowerTest, CopyTruncateReadsTheCopiedTailThenRestartsAtZero) {
  testing::TempDir dir;
  std::string p = dir.Write("app.log", Lines(1, 3));
  FileFollower f(p);
  Collected c;
  PollInto(f, &c);
  Append(p, Lines(4, 6));  // not read before the copy
  std::filesystem::copy_file(p, p + ".1");
  ASSERT_EQ(::truncate(p.c_str(), 0), 0);
  Append(p, Lines(7, 7));
  PollStats s = PollInto(f, &c);
  EXPECT_TRUE(s.truncated);
  EXPECT_EQ(c.lines, Numbered(1, 7));
  EXPECT_EQ(c.files[4], p + ".1");
  EXPECT_EQ(c.files[6], p);
}

TEST(FileFollowerTest, CopyTruncateWithTheFileRefilledPastTheOldOffset) {
  testing::TempDir dir;
  std::string p = dir.Write("app.log", Lines(1, 2));
  FileFollower f(p);
  Collected c;
  PollInto(f, &c);
  std::filesystem::copy_file(p, p + ".1");
  ASSERT_EQ(::truncate(p.c_str(), 0), 0);
  Append(p, "a different first line that is longer than before\n");
  PollStats s = PollInto(f, &c);
  EXPECT_TRUE(s.truncated);
  ASSERT_EQ(c.lines.size(), 3u);
  EXPECT_EQ(c.lines[2], "a different first line that is longer than before");
}

TEST(FileFollowerTest, RestartMidFileNeitherLosesNorRepeats) {
  testing::TempDir dir;
  std::string p = dir.Write("app.log", Lines(1, 3) + "line 4 is be");
  auto store = PositionStore::Open(dir.path() + "/logpos.db");
  ASSERT_TRUE(store.ok()) << store.error().message();
  Collected c;
  {
    FileFollower f(p, {}, store->get(), "check-a");
    PollInto(f, &c);
  }
  Append(p, "ing written\n" + Lines(5, 6));
  {
    auto store2 = PositionStore::Open(dir.path() + "/logpos.db");
    ASSERT_TRUE(store2.ok());
    FileFollower f(p, {}, store2->get(), "check-a");
    PollInto(f, &c);
  }
  std::vector<std::string> want = {"line 1", "line 2", "line 3", "line 4 is being written",
                                   "line 5", "line 6"};
  EXPECT_EQ(c.lines, want);
  EXPECT_EQ(c.numbers.back(), 6u);
  // Another owner has its own position and starts from the beginning.
  FileFollower other(p, {}, store->get(), "check-b");
  Collected c2;
  PollInto(other, &c2);
  EXPECT_EQ(c2.lines.size(), 6u);
}

TEST(FileFollowerTest, RotationWhileStoppedIsFinishedFromTheRotatedName) {
  testing::TempDir dir;
  std::string p = dir.Write("mail.log", Lines(1, 2));
  auto store = PositionStore::Open(dir.path() + "/logpos.db");
  ASSERT_TRUE(store.ok());
  Collected c;
  {
    FileFollower f(p, {}, store->get(), "x");
    PollInto(f, &c);
  }
  Append(p, Lines(3, 4));
  ASSERT_EQ(std::rename(p.c_str(), (p + ".1").c_str()), 0);
  Append(p, Lines(5, 6));
  FileFollower f(p, {}, store->get(), "x");
  PollStats s = PollInto(f, &c);
  EXPECT_TRUE(s.rotated);
  EXPECT_EQ(c.lines, Numbered(1, 6));
}

TEST(FileFollowerTest, FileThatAppearsLaterIsReadFromItsStart) {
  testing::TempDir dir;
  std::string p = dir.path() + "/late.log";
  FollowerOptions o;
  o.start_at_end = true;
  FileFollower f(p, o);
  Collected c;
  EXPECT_TRUE(PollInto(f, &c).missing);
  Append(p, Lines(1, 2));
  PollInto(f, &c);
  EXPECT_EQ(c.lines, Numbered(1, 2));
}

TEST(FileFollowerTest, StartAtEndSkipsHistoryButKeepsLineNumbers) {
  testing::TempDir dir;
  std::string p = dir.Write("old.log", Lines(1, 10));
  FollowerOptions o;
  o.start_at_end = true;
  FileFollower f(p, o);
  Collected c;
  PollInto(f, &c);
  EXPECT_TRUE(c.lines.empty());
  Append(p, Lines(11, 11));
  PollInto(f, &c);
  EXPECT_EQ(c.lines, Numbered(11, 11));
  EXPECT_EQ(c.numbers[0], 11u);
}

// Drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from this thread's
// effective set until destroyed, so root (CI runs as root) is held to file
// modes like anyone else. Capabilities are per thread in Linux and the raw
// syscall touches only the calling one; they stay permitted, so they can be
// raised again. Without them (not root) it changes nothing.
class WithoutDacOverride {
 public:
  WithoutDacOverride() {
    ok_ = ::syscall(SYS_capget, &header_, saved_) == 0;
    if (!ok_) return;
    __user_cap_data_struct lowered[2] = {saved_[0], saved_[1]};
    lowered[0].effective &= ~((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH));
    ok_ = ::syscall(SYS_capset, &header_, lowered) == 0;
  }
  ~WithoutDacOverride() {
    if (ok_) ::syscall(SYS_capset, &header_, saved_);
  }
  bool ok() const { return ok_; }

 private:
  __user_cap_header_struct header_{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct saved_[2] = {};
  bool ok_ = false;
};

TEST(FileFollowerTest, UnreadableFileIsAnError) {
  testing::TempDir dir;
  std::string p = dir.Write("secret.log", "x\n");
  ASSERT_EQ(::chmod(p.c_str(), 0), 0);
  WithoutDacOverride as_a_user;
  ASSERT_TRUE(as_a_user.ok()) << std::strerror(errno);
  FileFollower f(p);
  auto r = f.Poll([](const FollowedLine&) {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("Permission denied"), std::string::npos);
}

TEST(FileFollowerTest, PollBudgetSplitsABigBacklog) {
  testing::TempDir dir;
  std::string p = dir.Write("big.log", Lines(1, 5000));
  FollowerOptions o;
  o.block_bytes = 4096;
  o.max_bytes_per_poll = 8192;
  FileFollower f(p, o);
  Collected c;
  int polls = 0;
  while (PollInto(f, &c).more && polls < 1000) ++polls;
  EXPECT_GE(polls, 5);
  EXPECT_EQ(c.lines, Numbered(1, 5000));
}

}  // namespace
}  // namespace mamori::logs
