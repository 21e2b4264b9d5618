#include "mamori/backup/sniff.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

namespace mamori::backup {
namespace {

Kind Of(std::string_view s) {
  return Sniff(Bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

TEST(BackupSniff, MagicBytes) {
  EXPECT_EQ(Of(""), Kind::kEmpty);
  EXPECT_EQ(Of("\x1f\x8b\x08\x00"), Kind::kGzip);
  EXPECT_EQ(Of("\x28\xb5\x2f\xfd\x00"), Kind::kZstd);
  EXPECT_EQ(Of("\x50\x2a\x4d\x18\x00"), Kind::kZstd);  // skippable frame
  EXPECT_EQ(Of("BZh91AY"), Kind::kBzip2);
  EXPECT_EQ(Of(std::string_view("\xfd"
                                "7zXZ\0\0",
                                7)),
            Kind::kXz);
  EXPECT_EQ(Of("PGDMP\x01\x0e"), Kind::kPgdmp);
  EXPECT_EQ(Of(std::string_view("\x89PNG\r\n\x1a\n\0\0", 10)), Kind::kBinary);
}

TEST(BackupSniff, TextKindsByContentNotName) {
  EXPECT_EQ(Of("--\n-- PostgreSQL database dump\n--\n\n"), Kind::kPgDumpPlain);
  EXPECT_EQ(Of("--\n-- PostgreSQL database cluster dump\n--\n"), Kind::kPgDumpallPlain);
  EXPECT_EQ(Of("-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB\n"), Kind::kMysqlDump);
  EXPECT_EQ(Of("/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump 10.19\n"),
            Kind::kMysqlDump);
  EXPECT_EQ(Of("-- MySQL dump 10.13  Distrib 8.0.36\n"), Kind::kMysqlDump);
  EXPECT_EQ(Of(std::string(64, 'a') + "  backup.sql.gz\n"), Kind::kSha256Manifest);
  EXPECT_EQ(Of("pg_dump: error: aborting because of server version mismatch\n"), Kind::kText);
}

TEST(BackupSniff, TarHeaderChecksum) {
  // A real tar header written by libarchive.
  std::vector<char> buf(10240);
  size_t used = 0;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "x.txt");
  archive_entry_set_size(e, 3);
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_write_header(a, e);
  archive_write_data(a, "abc", 3);
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  std::string tar(buf.data(), used);
  EXPECT_EQ(Of(tar), Kind::kTar);
  tar[0] = 'y';  // checksum no longer matches
  EXPECT_NE(Of(tar), Kind::kTar);
}

}  // namespace
}  // namespace mamori::backup
