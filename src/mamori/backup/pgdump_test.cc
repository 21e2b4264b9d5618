// Unit tests for the pg_dump readers on hand-built inputs (edge cases real
// pg_dump 15 cannot produce: other archive versions, skewed versions). Real
// dumps are covered in verify_test.cc.
#include "mamori/backup/pgdump.h"

#include <gtest/gtest.h>

#include <random>

namespace mamori::backup {
namespace {

// Writes the archive encoding pg_dump uses (sign byte + little-endian int).
struct Writer {
  std::string out;
  int int_size = 4;
  void Byte(int b) { out += static_cast<char>(b); }
  void Int(std::int64_t v) {
    Byte(v < 0 ? 1 : 0);
    std::uint64_t u = static_cast<std::uint64_t>(v < 0 ? -v : v);
    for (int i = 0; i < int_size; ++i) Byte(i < 8 ? static_cast<int>((u >> (8 * i)) & 0xff) : 0);
  }
  void Str(const char* s) {
    if (!s) return Int(-1);
    Int(static_cast<std::int64_t>(std::string_view(s).size()));
    out += s;
  }
};

// A custom-format header (1.16) and a one-entry TOC with no data.
std::string SmallArchive(int vmin, bool with_data, int int_size = 4) {
  Writer w;
  w.out = "PGDMP";
  w.Byte(1);
  w.Byte(vmin);
  w.Byte(0);
  w.Byte(int_size);
  w.int_size = int_size;
  w.Byte(8);  // offset size
  w.Byte(1);  // custom
  if (vmin >= 15)
    w.Byte(0);
  else
    w.Int(0);                                      // no compression
  for (int v : {5, 4, 3, 2, 0, 126, 0}) w.Int(v);  // 2026-01-02 03:04:05
  w.Str("shop");
  w.Str("16.2");
  w.Str("16.2");
  w.Int(1);  // TOC entries
  w.Int(7);  // dump id
  w.Int(with_data ? 1 : 0);
  w.Str("1259");
  w.Str("16384");
  w.Str("users");
  w.Str("TABLE DATA");
  w.Int(3);  // section
  w.Str("");
  w.Str("");
  w.Str("COPY public.users (id) FROM stdin;\n");
  w.Str("public");
  w.Str("");
  if (vmin >= 14) w.Str("");
  if (vmin >= 16) w.Int('r');
  w.Str("postgres");
  w.Str("false");
  w.Str("5");
  w.Str(nullptr);
  w.Byte(with_data ? 1 : 3);  // offset flag: not set / no data
  for (int i = 0; i < 8; ++i) w.Byte(0);
  if (with_data) {
    w.Byte(1);  // BLK_DATA
    w.Int(7);
    w.Int(5);
    w.out += "1\n2\n\\";
    w.Int(0);
  }
  return w.out;
}

std::string Verify(const std::string& data, CheckStatus* status, std::string* problems = nullptr) {
  MemorySource src(Bytes(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()), 3);
  Reader r(src);
  Findings f;
  std::optional<PgVersions> pg;
  std::string s = VerifyPgdmpStream(r, VerifyOptions{}, &f, &pg);
  *status = f.status;
  if (problems) *problems = f.WorstMessages();
  return s;
}

TEST(BackupPgdump, ParsesEveryArchiveVersionWeKnow) {
  for (int vmin : {14, 15, 16}) {
    SCOPED_TRACE(vmin);
    CheckStatus st;
    std::string problems;
    const std::string s = Verify(SmallArchive(vmin, true), &st, &problems);
    EXPECT_EQ(st, CheckStatus::kOk) << problems;
    EXPECT_EQ(s,
              "pg_dump custom archive, 1 TOC entry, 1 data block, database shop, server 16.2, "
              "pg_dump 16.2, dumped 2026-01-02 03:04:05");
  }
}

TEST(BackupPgdump, MissingDataBlockIsTruncation) {
  std::string a = SmallArchive(16, true);
  // Cut exactly before the data block: header and TOC are intact.
  a.resize(a.size() - (1 + 5 + 5 + 5 + 5));  // type, id, len, data, end
  CheckStatus st;
  std::string problems;
  Verify(a, &st, &problems);
  EXPECT_EQ(st, CheckStatus::kCritical);
  EXPECT_EQ(problems,
            "pg_dump custom archive truncated: no data for 1 of 1 TOC entries that have data, "
            "first TOC entry 7 (TABLE DATA public users); the archive ends at byte " +
                std::to_string(a.size()));
}

TEST(BackupPgdump, EveryCutIsCriticalAndNothingCrashes) {
  const std::string a = SmallArchive(16, true);
  for (std::size_t cut = 5; cut < a.size(); ++cut) {
    SCOPED_TRACE(cut);
    CheckStatus st;
    std::string problems;
    Verify(a.substr(0, cut), &st, &problems);
    EXPECT_EQ(st, CheckStatus::kCritical);
    EXPECT_NE(problems.find("truncated"), std::string::npos) << problems;
  }
}

// pg_dump writes integers of the writer's sizeof(int); wider ones (their high
// bytes zero) must read back right. Found by fuzz/backup_header_fuzz.cc: a
// 14-byte integer shifted by 64 bits or more (undefined; caught under UBSan).
TEST(BackupPgdump, WideIntegersReadBack) {
  for (int size : {8, 12, 14}) {
    CheckStatus st;
    std::string problems;
    const std::string s = Verify(SmallArchive(16, true, size), &st, &problems);
    EXPECT_EQ(st, CheckStatus::kOk) << size << ": " << problems;
    EXPECT_NE(s.find("shop"), std::string::npos) << size << ": " << s;
  }
}

TEST(BackupPgdump, UnsupportedVersionIsReported) {
  std::string a = SmallArchive(16, false);
  a[6] = 40;  // 1.40
  CheckStatus st;
  std::string problems;
  Verify(a, &st, &problems);
  EXPECT_EQ(st, CheckStatus::kCritical);
  EXPECT_NE(problems.find("unsupported archive version 1.40.0"), std::string::npos) << problems;
}

// A deterministic mini-fuzz (the libFuzzer target is fuzz/backup_header_fuzz.cc):
// mutated archives must give a verdict, consume all input, and never crash
// (this runs under ASan/UBSan in the sanitizer build).
TEST(BackupPgdump, RandomMutationsGiveAVerdict) {
  const std::string base = SmallArchive(16, true);
  std::mt19937 rng(1234);
  for (int i = 0; i < 3000; ++i) {
    std::string a = base;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) a[rng() % a.size()] = static_cast<char>(rng());
    if (rng() % 3 == 0) a.resize(rng() % a.size());
    CheckStatus st;
    std::string problems;
    const std::string s = Verify(a, &st, &problems);
    if (st == CheckStatus::kOk) {
      EXPECT_FALSE(s.empty());
    } else {
      EXPECT_FALSE(problems.empty());
    }
  }
}

TEST(BackupPgdump, Majors) {
  EXPECT_EQ(PgMajor("9.6.1"), "9.6");
  EXPECT_EQ(PgMajor("9.2.24"), "9.2");
  EXPECT_EQ(PgMajor("15.18 (Debian 15.18-0+deb12u1)"), "15");
  EXPECT_EQ(PgMajor("16beta2"), "16");
  EXPECT_EQ(PgMajor("10.1"), "10");
  EXPECT_EQ(PgMajor("devel"), "");
}

TEST(BackupPgdump, SkewMessages) {
  Findings f;
  CheckPgSkew(MakePgVersions("9.6.1", "9.2.24"), VerifyOptions{}, &f);
  ASSERT_EQ(f.problems.size(), 1u);
  EXPECT_EQ(f.problems[0].message,
            "pg_dump 9.2.24 dumped a 9.6.1 server: major versions differ; use the pg_dump of the "
            "server's major version (9.6)");
  Findings same;
  CheckPgSkew(MakePgVersions("15.2", "15.18 (Debian 15.18-0+deb12u1)"), VerifyOptions{}, &same);
  EXPECT_TRUE(same.ok());
  Findings newer;
  VerifyOptions allow;
  allow.allow_newer_pg_dump = true;
  CheckPgSkew(MakePgVersions("9.6.1", "16.2"), allow, &newer);
  EXPECT_TRUE(newer.ok());
  CheckPgSkew(MakePgVersions("16.2", "9.6.1"), allow, &newer);
  EXPECT_EQ(newer.status, CheckStatus::kCritical);  // older is never fine
}

HeadTail Feed(const std::string& s) {
  HeadTail ht(64 * 1024, 8 * 1024);
  ht.Feed(Bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
  return ht;
}

TEST(BackupPgdump, PlainTrailerWithAndWithoutRestrict) {
  const std::string head =
      "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc\n\n"
      "-- Dumped from database version 15.18\n-- Dumped by pg_dump version 15.18\n\nSET x = 0;\n";
  const std::string trailer = "--\n-- PostgreSQL database dump complete\n--\n\n";
  Findings f;
  std::optional<PgVersions> pg;
  EXPECT_NE(VerifyPgPlain(Feed(head + trailer + "\\unrestrict abc\n\n"), false, {}, &f, &pg), "");
  EXPECT_TRUE(f.ok()) << f.WorstMessages();
  Findings g;
  VerifyPgPlain(Feed(head + trailer), false, {}, &g, &pg);
  EXPECT_EQ(g.status, CheckStatus::kCritical);
  Findings h;
  const std::string cut = head + "COPY t FROM stdin;\n1\n2\n";
  VerifyPgPlain(Feed(cut), false, {}, &h, &pg);
  EXPECT_EQ(h.WorstMessages(),
            "pg_dump plain SQL dump incomplete: trailer 'PostgreSQL database dump complete' "
            "missing; it ends at byte " +
                std::to_string(cut.size()) + " with '2'");
}

}  // namespace
}  // namespace mamori::backup
