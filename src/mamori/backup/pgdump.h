// PostgreSQL dump formats, read the way pg_restore reads them
// (src/bin/pg_dump/pg_backup_archiver.c ReadHead/ReadToc and
// pg_backup_custom.c), but streaming and without trusting any length:
//
//  - The PGDMP header: archive version, int and offset sizes, format,
//    compression, dump time, database name, server and pg_dump versions.
//  - The table of contents, entry by entry, keeping only what a verdict
//    needs (id, kind, schema, name, data offset, data file name).
//  - For the custom format, every data block after the TOC: block header,
//    length-prefixed chunks up to the zero-length end, each block's
//    compressed stream decoded (zlib or zstd), and every TOC entry that has
//    data matched to its block. A file cut at a block boundary is caught
//    because the blocks the TOC promises never come.
//  - Plain SQL dumps: the "Dumped from/by" header lines and the "PostgreSQL
//    database dump complete" trailer, keeping only a bounded head and tail.
//  - Version skew between pg_dump and the server it dumped.
//
// Pure functions over a Reader; thread-safe on distinct readers. Malformed
// input is a Problem (CRITICAL), never a crash: every count and length is
// bounded before anything is allocated.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/backup/stream.h"
#include "mamori/backup/verify.h"

namespace mamori::backup {

enum class PgArchiveFormat : int { kUnknown = 0, kCustom = 1, kTar = 3, kNull = 4, kDirectory = 5 };
enum class PgCompression { kNone, kGzip, kLz4, kZstd, kUnknown };

struct PgdmpHeader {
  int vmaj = 0, vmin = 0, vrev = 0;
  int int_size = 0, off_size = 0;
  int format = 0;
  PgCompression compression = PgCompression::kNone;
  int compression_level = 0;  // archives before 1.15 store a zlib level
  std::string dump_time;      // "2026-11-23 09:37:14" (the dumping host's local time)
  std::string database;
  std::string server_version;   // empty in archives before 1.10
  std::string pg_dump_version;  // idem

  std::string Version() const;  // "1.14.0"
  int VersionCode() const { return (vmaj * 256 + vmin) * 256 + vrev; }
};

// TOC entry data offset states (pg_backup_archiver.h K_OFFSET_*).
inline constexpr int kOffsetPosNotSet = 1, kOffsetPosSet = 2, kOffsetNoData = 3;

struct PgTocEntry {
  int dump_id = 0;
  bool had_dumper = false;
  std::string desc, ns, tag;
  int data_state = kOffsetNoData;  // custom format
  std::uint64_t data_pos = 0;      // custom format, when kOffsetPosSet
  std::string filename;            // directory and tar formats
  // "TOC entry 3245 (TABLE DATA public users)".
  std::string Describe() const;
};

struct PgdmpArchive {
  PgdmpHeader header;
  std::vector<PgTocEntry> toc;
  std::uint64_t toc_end = 0;  // stream offset just after the TOC
};

std::string_view FormatName(int format);
std::string_view CompressionName(PgCompression c);

// Reads the header at the reader's position (which must be at "PGDMP").
std::optional<Problem> ReadPgdmpHeader(Reader& in, PgdmpHeader* out);
// Reads the header and the whole TOC.
std::optional<Problem> ReadPgdmpToc(Reader& in, PgdmpArchive* out, std::uint64_t max_entries);

// Custom format: walks every data block after the TOC to the end of the
// stream. Adds problems and details ("data_blocks", "data_bytes").
void VerifyCustomData(Reader& in, const PgdmpArchive& archive, Findings* findings);

// Full custom-format verification of a stream positioned at "PGDMP":
// header, TOC, data blocks, version skew. Fills `pg` and details and returns
// the OK summary (used when no problem was found).
std::string VerifyPgdmpStream(Reader& in, const VerifyOptions& options, Findings* findings,
                              std::optional<PgVersions>* pg);

// Directory format: `dir` holds toc.dat and the data files it references.
std::string VerifyPgDirectory(const std::string& dir, const VerifyOptions& options,
                              Findings* findings, std::optional<PgVersions>* pg,
                              std::uint64_t* size_bytes);

// Plain SQL: judged from the head and tail of the (decompressed) stream.
std::string VerifyPgPlain(const HeadTail& text, bool dumpall, const VerifyOptions& options,
                          Findings* findings, std::optional<PgVersions>* pg);

// "9.6.1" -> "9.6", "15.18 (Debian 15.18-0+deb12u1)" -> "15", "16beta2" ->
// "16"; empty when no version number leads the text.
std::string PgMajor(std::string_view version);
// Versions with majors filled in.
PgVersions MakePgVersions(std::string server, std::string pg_dump);
// CRITICAL when the majors differ (unless a newer pg_dump is allowed).
void CheckPgSkew(const PgVersions& v, const VerifyOptions& options, Findings* findings);

}  // namespace mamori::backup
