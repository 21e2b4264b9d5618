#include "mamori/logs/line_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace mamori::logs {
namespace {

struct Got {
  std::string text;
  bool truncated;
  bool invalid_utf8;
};

std::vector<Got> ReadAll(const std::string& path, LineReaderOptions opt = {}) {
  auto r = LineReader::Open(path, opt);
  EXPECT_TRUE(r.ok());
  if (!r.ok()) return {};
  std::vector<Got> out;
  Line line;
  uint64_t n = 0;
  while ((*r)->Next(&line)) {
    EXPECT_EQ(line.number, ++n);
    out.push_back({std::string(line.text), line.truncated, line.invalid_utf8});
  }
  EXPECT_TRUE((*r)->status().ok()) << (*r)->status().error().message();
  return out;
}

class LineReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mamori_lr_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& data) {
    auto p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << data;
    return p;
  }
  std::string WriteGzip(const std::string& name, const std::string& data) {
    auto p = (dir_ / name).string();
    gzFile f = gzopen(p.c_str(), "wb");
    gzwrite(f, data.data(), static_cast<unsigned>(data.size()));
    gzclose(f);
    return p;
  }
  std::filesystem::path dir_;
};

TEST_F(LineReaderTest, SplitsLinesDropsCrAndKeepsAnUnterminatedLastLine) {
  auto lines = ReadAll(Write("a.log", "one\r\ntwo\n\nthree"));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].text, "one");
  EXPECT_EQ(lines[1].text, "two");
  EXPECT_EQ(lines[2].text, "");
  EXPECT_EQ(lines[3].text, "three");
  EXPECT_TRUE(ReadAll(Write("empty.log", "")).empty());
}

TEST_F(LineReaderTest, LinesAcrossBlockBoundariesAreJoined) {
  std::string data;
  std::vector<std::string> want;
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string l(rng() % 300, 'a' + i % 26);
    want.push_back(l);
    data += l + "\n";
  }
  LineReaderOptions opt;
  opt.block_bytes = 4096;  // many boundaries
  auto lines = ReadAll(Write("b.log", data), opt);
  ASSERT_EQ(lines.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(lines[i].text, want[i]) << i;
}

TEST_F(LineReaderTest, OverlongLinesAreCutAndFlaggedWithBoundedMemory) {
  std::string huge(1 << 20, 'x');  // 1 MiB line spanning many blocks
  LineReaderOptions opt;
  opt.block_bytes = 64 * 1024;
  opt.max_line_bytes = 1000;
  auto lines = ReadAll(Write("c.log", "before\n" + huge + "\nafter\n" + huge), opt);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].text, "before");
  EXPECT_EQ(lines[1].text, std::string(1000, 'x'));
  EXPECT_TRUE(lines[1].truncated);
  EXPECT_EQ(lines[2].text, "after");
  EXPECT_FALSE(lines[2].truncated);
  EXPECT_TRUE(lines[3].truncated);
  EXPECT_EQ(lines[3].text.size(), 1000u);
  // A long line inside one block is cut too.
  opt.block_bytes = 4 << 20;
  lines = ReadAll(Write("d.log", huge + "\nok\n"), opt);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(lines[0].truncated);
  EXPECT_EQ(lines[0].text.size(), 1000u);
}

TEST_F(LineReaderTest, InvalidUtf8AndBinaryArePassedThroughAndFlagged) {
  std::string bin = "\xff\xfe\x00\x01garbage\xc3";
  auto lines = ReadAll(Write("e.log", "caf\xc3\xa9 ok\n" + bin + "\nLatin-1 caf\xe9\n"));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_FALSE(lines[0].invalid_utf8);
  EXPECT_TRUE(lines[1].invalid_utf8);
  EXPECT_EQ(lines[1].text, bin);
  EXPECT_TRUE(lines[2].invalid_utf8);
}

TEST_F(LineReaderTest, ReadsGzipIncludingConcatenatedMembers) {
  std::string data;
  for (int i = 0; i < 50000; ++i) data += "line " + std::to_string(i) + "\n";
  auto p = WriteGzip("f.log.gz", data);
  auto lines = ReadAll(p);
  ASSERT_EQ(lines.size(), 50000u);
  EXPECT_EQ(lines[49999].text, "line 49999");
  // Two members back to back, as `cat a.gz b.gz` produces.
  auto q = WriteGzip("g.gz", "first\n");
  auto r = WriteGzip("h.gz", "second\n");
  std::ifstream qa(q, std::ios::binary), ra(r, std::ios::binary);
  std::string both((std::istreambuf_iterator<char>(qa)), {});
  both.append(std::istreambuf_iterator<char>(ra), {});
  auto two = ReadAll(Write("both.gz", both));
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1].text, "second");
}

TEST_F(LineReaderTest, TruncatedOrCorruptGzipIsAnErrorNotACrash) {
  std::string data;
  for (int i = 0; i < 20000; ++i) data += "line " + std::to_string(i) + "\n";
  auto p = WriteGzip("t.gz", data);
  std::ifstream in(p, std::ios::binary);
  std::string gz((std::istreambuf_iterator<char>(in)), {});
  auto cut = Write("cut.gz", gz.substr(0, gz.size() / 2));
  auto r = LineReader::Open(cut);
  ASSERT_TRUE(r.ok());
  Line line;
  size_t n = 0;
  while ((*r)->Next(&line)) ++n;
  EXPECT_GT(n, 0u);
  EXPECT_LT(n, 20000u);
  ASSERT_FALSE((*r)->status().ok());
  EXPECT_NE((*r)->status().error().message().find("truncated"), std::string::npos);
  std::string bad = gz;
  for (size_t i = 20; i < 200 && i < bad.size(); ++i) bad[i] = static_cast<char>(i * 37);
  auto c = LineReader::Open(Write("bad.gz", bad));
  while ((*c)->Next(&line)) {
  }
  EXPECT_FALSE((*c)->status().ok());
}

TEST_F(LineReaderTest, MissingFileIsAnError) {
  auto r = LineReader::Open((dir_ / "nope.log").string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("No such file"), std::string::npos);
}

TEST(LineSplitterTest, FeedsChunksAndFinishes) {
  LineSplitter s;
  Line line;
  std::vector<std::string> got;
  for (std::string_view chunk : {"ab", "c\nde", "f\n", "g"}) {
    s.Feed(chunk);
    while (s.NextLine(&line)) got.emplace_back(line.text);
  }
  if (s.Finish(&line)) got.emplace_back(line.text);
  EXPECT_EQ(got, (std::vector<std::string>{"abc", "def", "g"}));
  EXPECT_EQ(s.lines(), 3u);
}

TEST(Utf8Test, Validation) {
  EXPECT_TRUE(IsValidUtf8("plain ascii text, long enough for the fast path"));
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("abc\xe2\x82"));       // cut short
}

}  // namespace
}  // namespace mamori::logs
