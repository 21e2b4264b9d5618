#include "mamori/backup/zstd_reader.h"

#include <gtest/gtest.h>
#include <zstd.h>

namespace mamori::backup {
namespace {

std::string Frame(const std::string& data, bool checksum) {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum ? 1 : 0);
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const size_t n = ZSTD_compress2(c, out.data(), out.size(), data.data(), data.size());
  ZSTD_freeCCtx(c);
  out.resize(n);
  return out;
}

struct Out {
  std::string data;
  std::optional<Problem> problem;
  std::uint64_t frames = 0, checked = 0;
};

Out Decode(const std::string& z, std::size_t piece = 5) {
  MemorySource src(Bytes(reinterpret_cast<const std::uint8_t*>(z.data()), z.size()), piece);
  Reader r(src);
  ZstdSource d(r);
  Out o;
  for (Bytes b = d.Next(); !b.empty(); b = d.Next())
    o.data.append(reinterpret_cast<const char*>(b.data()), b.size());
  o.problem = d.problem();
  o.frames = d.frames();
  o.checked = d.frames_with_checksum();
  return o;
}

std::string Text(std::size_t n) {
  std::string s;
  for (int i = 0; s.size() < n; ++i) s += "row " + std::to_string(i * 7919 % 1000) + "\n";
  return s;
}

TEST(BackupZstd, FramesAndChecksums) {
  const std::string a = Text(200000), b = Text(500);
  Out o = Decode(Frame(a, true) + Frame(b, false));
  EXPECT_FALSE(o.problem) << o.problem->message;
  EXPECT_EQ(o.data, a + b);
  EXPECT_EQ(o.frames, 2u);
  EXPECT_EQ(o.checked, 1u);
}

TEST(BackupZstd, ChecksumMismatchIsNamed) {
  std::string z = Frame(Text(10000), true);
  z[z.size() - 1] = static_cast<char>(z[z.size() - 1] ^ 0x01);  // the checksum itself
  Out o = Decode(z);
  ASSERT_TRUE(o.problem);
  EXPECT_EQ(o.problem->status, CheckStatus::kCritical);
  EXPECT_NE(o.problem->message.find("zstd: content checksum mismatch in frame 1"),
            std::string::npos)
      << o.problem->message;
}

TEST(BackupZstd, TruncationAnywhereIsCritical) {
  const std::string z = Frame(Text(30000), true);
  for (std::size_t cut = 1; cut < z.size(); cut += 53) {
    SCOPED_TRACE(cut);
    Out o = Decode(z.substr(0, cut));
    ASSERT_TRUE(o.problem);
    EXPECT_EQ(o.problem->status, CheckStatus::kCritical);
  }
}

}  // namespace
}  // namespace mamori::backup
