#include "mamori/backup/stream.h"

#include <gtest/gtest.h>

#include <numeric>

namespace mamori::backup {
namespace {

std::vector<std::uint8_t> Counting(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  std::iota(v.begin(), v.end(), std::uint8_t{0});
  return v;
}

TEST(BackupStream, PeekReadSkipAcrossTinyPieces) {
  const auto data = Counting(1000);
  for (std::size_t piece : {1u, 3u, 7u, 512u, 4096u}) {
    SCOPED_TRACE(piece);
    MemorySource src(data, piece);
    Reader r(src);
    Bytes p = r.Peek(10);
    ASSERT_EQ(p.size(), 10u);
    EXPECT_EQ(p[9], 9);
    std::uint8_t buf[20];
    ASSERT_TRUE(r.Read(buf, 20));
    EXPECT_EQ(buf[19], 19);
    EXPECT_EQ(r.position(), 20u);
    EXPECT_EQ(r.Skip(100), 100u);
    ASSERT_EQ(r.Peek(5)[0], 120);
    EXPECT_EQ(r.Drain(), 880u);
    EXPECT_TRUE(r.AtEnd());
    EXPECT_FALSE(r.Read(buf, 1));
    EXPECT_EQ(r.Skip(5), 0u);
    EXPECT_EQ(r.position(), 1000u);
  }
}

TEST(BackupStream, PeekPastTheEndGivesWhatThereIs) {
  const auto data = Counting(5);
  MemorySource src(data, 2);
  Reader r(src);
  EXPECT_EQ(r.Peek(100).size(), 5u);
  std::uint8_t b[6];
  EXPECT_FALSE(r.Read(b, 6));
}

TEST(BackupStream, HeadTailKeepsBothEnds) {
  HeadTail ht(4, 6);
  const std::string text = "0123456789abcdefghij";
  for (char c : text) ht.Feed(Bytes(reinterpret_cast<const std::uint8_t*>(&c), 1));
  EXPECT_EQ(ht.head(), "0123");
  EXPECT_EQ(ht.tail(), "efghij");
  EXPECT_EQ(ht.total(), 20u);
  HeadTail big(4, 6);
  big.Feed(Bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  EXPECT_EQ(big.tail(), "efghij");
}

TEST(BackupStream, FileSourceReportsUnreadableAsUnknown) {
  FileSource src("/nonexistent/file", false);
  EXPECT_TRUE(src.Next().empty());
  ASSERT_TRUE(src.problem());
  EXPECT_EQ(src.problem()->status, CheckStatus::kUnknown);
  EXPECT_NE(src.problem()->message.find("cannot open /nonexistent/file"), std::string::npos);
}

TEST(BackupStream, ExcerptIsOneLine) {
  EXPECT_EQ(Excerpt("a\nb\tc\x01"), "a b c?");
  EXPECT_EQ(Excerpt(std::string(10, 'x'), 4), "xxxx...");
}

}  // namespace
}  // namespace mamori::backup
