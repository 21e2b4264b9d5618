#include "mamori/backup/sniff.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace mamori::backup {
namespace {

bool StartsWith(Bytes b, std::string_view magic) {
  return b.size() >= magic.size() && std::memcmp(b.data(), magic.data(), magic.size()) == 0;
}

std::string_view AsText(Bytes b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Every complete, non-empty line is "<64 hex> <space or *><name>".
bool IsManifest(std::string_view t) {
  int lines = 0;
  while (!t.empty()) {
    const auto nl = t.find('\n');
    if (nl == std::string_view::npos) break;  // last partial line: not judged
    std::string_view line = t.substr(0, nl);
    t.remove_prefix(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.size() < 67) return false;
    for (int i = 0; i < 64; ++i)
      if (!IsHex(line[i])) return false;
    if (line[64] != ' ' || (line[65] != ' ' && line[65] != '*')) return false;
    ++lines;
  }
  return lines > 0;
}

}  // namespace

bool IsTarHeader(Bytes b) {
  if (b.size() < 512) return false;
  // Checksum: sum of the header bytes with the checksum field read as spaces.
  unsigned sum = 0;
  for (std::size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : b[i];
  unsigned stored = 0;
  bool digits = false;
  for (std::size_t i = 148; i < 156; ++i) {
    const char c = static_cast<char>(b[i]);
    if (c >= '0' && c <= '7') {
      stored = stored * 8 + static_cast<unsigned>(c - '0');
      digits = true;
    } else if (c == ' ' || c == '\0') {
      if (digits) break;
    } else {
      return false;
    }
  }
  if (!digits || b[0] == 0) return false;
  return stored == sum;
}

bool LooksLikeText(Bytes b) {
  if (b.empty()) return false;
  std::size_t control = 0;
  for (auto c : b) {
    if (c == 0) return false;
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != 0x1b) ++control;
  }
  return control * 100 <= b.size();  // at most 1%
}

Kind Sniff(Bytes b) {
  if (b.empty()) return Kind::kEmpty;
  if (StartsWith(b, "\x1f\x8b")) return Kind::kGzip;
  if (StartsWith(b, "\x28\xb5\x2f\xfd")) return Kind::kZstd;
  // A zstd skippable frame (0x184D2A5?) may precede the data frames.
  if (b.size() >= 4 && (b[0] & 0xf0) == 0x50 && b[1] == 0x2a && b[2] == 0x4d && b[3] == 0x18)
    return Kind::kZstd;
  if (StartsWith(b, "BZh") && b.size() >= 4 && b[3] >= '1' && b[3] <= '9') return Kind::kBzip2;
  if (StartsWith(b, std::string_view("\xfd"
                                     "7zXZ\0",
                                     6)))
    return Kind::kXz;
  if (StartsWith(b, "\x04\x22\x4d\x18")) return Kind::kLz4;
  if (StartsWith(b, "PGDMP")) return Kind::kPgdmp;
  if (IsTarHeader(b.first(std::min<std::size_t>(b.size(), 512)))) return Kind::kTar;
  if (!LooksLikeText(b)) return Kind::kBinary;

  const std::string_view t = AsText(b);
  // The first few KiB hold the headers of every dump format handled here.
  const std::string_view head = t.substr(0, std::min<std::size_t>(t.size(), 4096));
  if (head.find("-- PostgreSQL database cluster dump") != std::string_view::npos)
    return Kind::kPgDumpallPlain;
  if (head.find("-- PostgreSQL database dump") != std::string_view::npos ||
      head.find("-- Dumped by pg_dump version") != std::string_view::npos)
    return Kind::kPgDumpPlain;
  // mysqldump's first line; MariaDB 11 puts a sandbox-mode comment before it.
  const std::string_view first = head.substr(0, std::min<std::size_t>(head.size(), 512));
  if (first.find("-- MySQL dump ") != std::string_view::npos ||
      first.find("-- MariaDB dump ") != std::string_view::npos)
    return Kind::kMysqlDump;
  if (IsManifest(t)) return Kind::kSha256Manifest;
  return Kind::kText;
}

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kEmpty:
      return "empty";
    case Kind::kGzip:
      return "gzip";
    case Kind::kZstd:
      return "zstd";
    case Kind::kBzip2:
      return "bzip2";
    case Kind::kXz:
      return "xz";
    case Kind::kLz4:
      return "lz4";
    case Kind::kPgdmp:
      return "pg_dump-custom";
    case Kind::kTar:
      return "tar";
    case Kind::kPgDumpPlain:
      return "pg_dump-plain";
    case Kind::kPgDumpallPlain:
      return "pg_dumpall-plain";
    case Kind::kMysqlDump:
      return "mysqldump";
    case Kind::kSha256Manifest:
      return "sha256-manifest";
    case Kind::kText:
      return "text";
    case Kind::kBinary:
      return "unknown";
  }
  return "unknown";
}

}  // namespace mamori::backup
