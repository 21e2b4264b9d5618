#include "mamori/backup/gzip_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

namespace mamori::backup {
namespace {

// One gzip member made by zlib (deflateInit2 with the gzip wrapper), with a
// file name in the header.
std::string GzipMember(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  gz_header h{};
  char name[] = "dump.sql";
  h.name = reinterpret_cast<Bytef*>(name);
  deflateSetHeader(&z, &h);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

struct Result {
  std::string out;
  std::optional<Problem> problem;
  std::vector<Problem> warnings;
  std::uint64_t members = 0;
};

Result Decode(const std::string& gz, std::size_t piece = 7) {
  MemorySource src(Bytes(reinterpret_cast<const std::uint8_t*>(gz.data()), gz.size()), piece);
  Reader r(src);
  GzipSource g(r);
  Result res;
  for (Bytes b = g.Next(); !b.empty(); b = g.Next())
    res.out.append(reinterpret_cast<const char*>(b.data()), b.size());
  res.problem = g.problem();
  res.warnings = g.warnings();
  res.members = g.members();
  return res;
}

std::string Text(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; s.size() < n; ++i)
    s += "INSERT INTO t VALUES (" + std::to_string(i) + ");\n";
  return s.substr(0, n);
}

TEST(BackupGzip, MultiMemberRoundTrip) {
  const std::string a = Text(300000), b = Text(1000);
  Result r = Decode(GzipMember(a) + GzipMember(b));
  EXPECT_FALSE(r.problem) << r.problem->message;
  EXPECT_EQ(r.out, a + b);
  EXPECT_EQ(r.members, 2u);
}

TEST(BackupGzip, CrcMismatchNamesBothValues) {
  std::string gz = GzipMember(Text(5000));
  const std::size_t at = gz.size() - 8;
  gz[at] = static_cast<char>(gz[at] ^ 0xff);
  Result r = Decode(gz);
  ASSERT_TRUE(r.problem);
  EXPECT_EQ(r.problem->status, CheckStatus::kCritical);
  EXPECT_NE(r.problem->message.find("gzip: CRC mismatch in member 1 at byte " + std::to_string(at) +
                                    " (stored 0x"),
            std::string::npos)
      << r.problem->message;
}

TEST(BackupGzip, LengthMismatch) {
  std::string gz = GzipMember(Text(5000));
  gz[gz.size() - 4] = static_cast<char>(gz[gz.size() - 4] ^ 0x01);
  Result r = Decode(gz);
  ASSERT_TRUE(r.problem);
  EXPECT_NE(r.problem->message.find("gzip: length mismatch in member 1"), std::string::npos)
      << r.problem->message;
}

TEST(BackupGzip, TruncationAnywhereIsCritical) {
  const std::string gz = GzipMember(Text(20000));
  for (std::size_t cut = 1; cut < gz.size(); cut += 97) {
    SCOPED_TRACE(cut);
    Result r = Decode(gz.substr(0, cut));
    ASSERT_TRUE(r.problem);
    EXPECT_EQ(r.problem->status, CheckStatus::kCritical);
  }
}

TEST(BackupGzip, FlippedDataByteIsCaught) {
  const std::string good = GzipMember(Text(50000));
  int caught = 0, tried = 0;
  for (std::size_t at = 20; at < good.size() - 8; at += 37) {
    std::string gz = good;
    gz[at] = static_cast<char>(gz[at] ^ 0x10);
    ++tried;
    if (Decode(gz, 4096).problem) ++caught;
  }
  EXPECT_EQ(caught, tried);  // deflate errors or, failing that, the CRC
}

TEST(BackupGzip, TrailingGarbageIsAWarning) {
  Result r = Decode(GzipMember("hello\n") + std::string(512, '\0'));
  EXPECT_FALSE(r.problem);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].message.find("512 bytes of trailing zero padding after member 1"),
            std::string::npos)
      << r.warnings[0].message;
}

}  // namespace
}  // namespace mamori::backup
