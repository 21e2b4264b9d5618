#include "mamori/backup/tar_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

namespace mamori::backup {
namespace {

// A tar made by libarchive's writer (the real encoder), GNU format.
std::string MakeTar(int entries, std::size_t size) {
  std::vector<char> buf(entries * (size + 2048) + 20480);
  size_t used = 0;
  struct archive* a = archive_write_new();
  archive_write_set_format_gnutar(a);
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  for (int i = 0; i < entries; ++i) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, ("f" + std::to_string(i)).c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(size));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_write_header(a, e);
    std::string data(size, static_cast<char>('a' + i));
    archive_write_data(a, data.data(), data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return std::string(buf.data(), used);
}

Findings Verify(const std::string& tar, std::string* summary = nullptr) {
  MemorySource src(Bytes(reinterpret_cast<const std::uint8_t*>(tar.data()), tar.size()), 1000);
  Reader r(src);
  Findings f;
  std::optional<PgVersions> pg;
  bool is_pg = false;
  std::string s = VerifyTarStream(r, VerifyOptions{}, &f, &pg, &is_pg);
  if (summary) *summary = s;
  EXPECT_TRUE(r.AtEnd());
  return f;
}

TEST(BackupTar, GoodArchiveCountsEntriesAndBytes) {
  std::string s;
  Findings f = Verify(MakeTar(3, 1000), &s);
  EXPECT_TRUE(f.ok()) << f.WorstMessages();
  EXPECT_EQ(f.details["entries"], 3);
  EXPECT_EQ(f.details["content_bytes"], 3000);
  EXPECT_EQ(s, "tar archive, 3 entries, 2.9 KiB of content");
}

TEST(BackupTar, MissingEndMarkerIsCritical) {
  const std::string tar = MakeTar(2, 1024);  // 2 x (512 + 1024) = 3072 bytes of entries
  Findings f = Verify(tar.substr(0, 3072));
  EXPECT_EQ(f.status, CheckStatus::kCritical);
  EXPECT_EQ(f.WorstMessages(),
            "tar: end-of-archive marker missing after 2 entries (the archive stops at byte 3072: "
            "cut short at an entry boundary)");
}

TEST(BackupTar, CutInsideAnEntryIsCritical) {
  const std::string tar = MakeTar(2, 5000);
  for (std::size_t cut : {100u, 600u, 3000u, 6000u, 8000u}) {
    SCOPED_TRACE(cut);
    Findings f = Verify(tar.substr(0, cut));
    EXPECT_EQ(f.status, CheckStatus::kCritical) << f.WorstMessages();
  }
}

}  // namespace
}  // namespace mamori::backup
