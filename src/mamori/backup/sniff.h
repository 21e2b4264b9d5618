// Content sniffing: which format a stream is, decided from its first bytes
// only (magic numbers, the tar header checksum, the first lines of text),
// never from a file name. Pure functions over a byte prefix; thread-safe.
// A prefix of kSniffBytes is enough for every decision here; shorter input
// is judged on what there is.
#pragma once

#include <cstddef>
#include <string_view>

#include "mamori/backup/stream.h"

namespace mamori::backup {

inline constexpr std::size_t kSniffBytes = 8192;

enum class Kind {
  kEmpty,
  kGzip,
  kZstd,
  kBzip2,
  kXz,
  kLz4,
  kPgdmp,           // pg_dump custom archive or a directory archive's toc.dat
  kTar,             // ustar/pax/GNU/v7 tar (header checksum valid)
  kPgDumpPlain,     // "-- PostgreSQL database dump" / "Dumped by pg_dump"
  kPgDumpallPlain,  // "-- PostgreSQL database cluster dump"
  kMysqlDump,       // "-- MySQL dump" / "-- MariaDB dump"
  kSha256Manifest,  // lines of "<64 hex>  name"
  kText,            // other text
  kBinary,          // none of the above
};

Kind Sniff(Bytes prefix);
std::string_view KindName(Kind k);

// True when the prefix looks like text (UTF-8 or Latin-1, no NULs, few
// control characters).
bool LooksLikeText(Bytes prefix);
// True when the 512-byte block is a tar header with a valid checksum.
bool IsTarHeader(Bytes block);

}  // namespace mamori::backup
