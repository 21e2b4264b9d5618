// Fuzzes backup content sniffing and the pg_dump archive reader (header,
// TOC, custom-format data blocks) plus the gzip/zstd/tar layers over
// arbitrary bytes: any input must give a verdict without crashing, without
// unbounded memory, and with a non-empty message whenever it is not OK.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "mamori/backup/gzip_reader.h"
#include "mamori/backup/pgdump.h"
#include "mamori/backup/sniff.h"
#include "mamori/backup/stream.h"
#include "mamori/backup/tar_reader.h"
#include "mamori/backup/zstd_reader.h"

using namespace mamori::backup;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes in(data, size);
  const Kind kind = Sniff(in.first(std::min(size, kSniffBytes)));
  (void)KindName(kind);

  VerifyOptions options;
  options.max_toc_entries = 10000;
  options.max_archive_entries = 10000;

  // The pg_dump reader on the raw bytes, whatever they are, in odd pieces.
  {
    MemorySource src(in, 7);
    Reader r(src);
    Findings f;
    std::optional<PgVersions> pg;
    const std::string summary = VerifyPgdmpStream(r, options, &f, &pg);
    if (!f.ok() && f.WorstMessages().empty()) std::abort();
    if (f.ok() && summary.empty()) std::abort();
    if (!r.AtEnd()) std::abort();  // the whole stream is always consumed
  }
  // The header alone.
  {
    MemorySource src(in);
    Reader r(src);
    PgdmpHeader h;
    (void)ReadPgdmpHeader(r, &h);
  }
  if (kind == Kind::kGzip || kind == Kind::kZstd) {
    MemorySource src(in);
    Reader r(src);
    std::uint64_t n = 0;
    if (kind == Kind::kGzip) {
      GzipSource g(r);
      for (Bytes b = g.Next(); !b.empty() && n < (64u << 20); b = g.Next()) n += b.size();
    } else {
      ZstdSource z(r);
      for (Bytes b = z.Next(); !b.empty() && n < (64u << 20); b = z.Next()) n += b.size();
    }
  }
  if (kind == Kind::kTar) {
    MemorySource src(in);
    Reader r(src);
    Findings f;
    std::optional<PgVersions> pg;
    bool is_pg = false;
    (void)VerifyTarStream(r, options, &f, &pg, &is_pg);
  }
  return 0;
}
