#include "mamori/backup/verify.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "mamori/backup/gzip_reader.h"
#include "mamori/backup/manifest.h"
#include "mamori/backup/mysqldump.h"
#include "mamori/backup/pgdump.h"
#include "mamori/backup/sniff.h"
#include "mamori/backup/stream.h"
#include "mamori/backup/tar_reader.h"
#include "mamori/backup/zstd_reader.h"
#include "mamori/util/units.h"

namespace mamori::backup {
namespace fs = std::filesystem;
namespace {

// Compression nested deeper than this is not unwrapped (a gzip of a gzip of
// a zstd is already unusual; more is hostile).
constexpr int kMaxDepth = 3;
// Text this short that is no recognised dump is an error message saved in
// place of a backup (incident 4), not a backup.
constexpr std::uint64_t kTinyText = 4096;
constexpr std::size_t kHeadBytes = 64 * 1024, kTailBytes = 8 * 1024;
constexpr std::size_t kMaxManifestText = 16 << 20;

struct Ctx {
  const VerifyOptions& options;
  std::string path;
  std::vector<std::string> formats;
  std::optional<PgVersions> pg;
};

std::string TinyTextNoun(std::string_view text, const std::string& path) {
  auto has = [&](std::string_view s) { return text.find(s) != std::string_view::npos; };
  const std::string ext = fs::path(path).extension().string();
  if (has("mysqldump") || has("mariadb-dump") || has("mysql") || has("MariaDB") || has("MySQL"))
    return "not a mysqldump/mariadb-dump file";
  if (has("pg_dump") || has("pg_restore") || has("postgres") || has("PostgreSQL") ||
      ext == ".dump" || ext == ".pgdump" || ext == ".backup")
    return "not a pg_dump archive";
  return "not a backup";
}

HeadTail ReadAllText(Reader& r) {
  HeadTail ht(kHeadBytes, kTailBytes);
  for (Bytes b = r.Available(); !b.empty(); b = r.Available()) {
    ht.Feed(b);
    r.Consume(b.size());
  }
  return ht;
}

std::string Judge(Reader& r, int depth, Ctx& c, Findings& f);

// A decompressing layer: the inner stream is judged on its own; when the
// decoder itself fails, that failure is the cause and the inner verdict
// (which only saw a stream cut short) is dropped.
template <typename Decoder>
std::string JudgeCompressed(Reader& r, int depth, Ctx& c, Findings& f, const char* name) {
  c.formats.push_back(name);
  Decoder dec(r);
  Reader inner(dec);
  Findings in;
  std::string summary = Judge(inner, depth + 1, c, in);
  inner.Drain();
  for (auto& [k, v] : in.details.items()) f.details[k] = v;
  nlohmann::json layer = {{"compressed_bytes", r.position()},
                          {"uncompressed_bytes", dec.uncompressed_bytes()}};
  if constexpr (std::is_same_v<Decoder, GzipSource>) {
    layer["members"] = dec.members();
  } else {
    layer["frames"] = dec.frames();
    layer["frames_with_checksum"] = dec.frames_with_checksum();
  }
  f.details[name] = layer;
  if (dec.problem()) {
    f.Add(*dec.problem());
    return "";
  }
  for (const auto& p : in.problems) f.Add(p);
  for (const auto& w : dec.warnings()) f.Add(w);
  if constexpr (std::is_same_v<Decoder, ZstdSource>) {
    if (dec.frames_with_checksum() < dec.frames() && in.ok())
      f.details["zstd_unchecksummed_frames"] = dec.frames() - dec.frames_with_checksum();
  }
  if (summary.empty()) return "";
  std::string how;
  if constexpr (std::is_same_v<Decoder, GzipSource>)
    how = fmt::format("gzip, {} member{}, CRC ok", dec.members(), dec.members() == 1 ? "" : "s");
  else
    how = fmt::format(
        "zstd, {} frame{}, {}", dec.frames(), dec.frames() == 1 ? "" : "s",
        dec.frames_with_checksum() == dec.frames() ? "checksums ok" : "no content checksum");
  return fmt::format("{} ({}, {} -> {})", summary, how, FormatBytes(r.position()),
                     FormatBytes(dec.uncompressed_bytes()));
}

std::string Judge(Reader& r, int depth, Ctx& c, Findings& f) {
  const Bytes head = r.Peek(kSniffBytes);
  const Kind kind = Sniff(head);
  switch (kind) {
    case Kind::kEmpty:
      c.formats.push_back("empty");
      f.Add(CheckStatus::kCritical,
            depth == 0 ? "empty file (0 bytes)" : "decompresses to nothing (0 bytes)");
      return "";
    case Kind::kGzip:
    case Kind::kZstd:
      if (depth >= kMaxDepth) {
        c.formats.push_back(std::string(KindName(kind)));
        f.Add(CheckStatus::kWarning,
              fmt::format("compression nested more than {} levels deep; inner layers not "
                          "verified",
                          kMaxDepth));
        r.Drain();
        return "";
      }
      return kind == Kind::kGzip ? JudgeCompressed<GzipSource>(r, depth, c, f, "gzip")
                                 : JudgeCompressed<ZstdSource>(r, depth, c, f, "zstd");
    case Kind::kBzip2:
    case Kind::kXz:
    case Kind::kLz4:
      c.formats.push_back(std::string(KindName(kind)));
      f.Add(CheckStatus::kWarning,
            fmt::format("{}-compressed: this format's content is not verified (use gzip or zstd "
                        "for verifiable backups)",
                        KindName(kind)));
      r.Drain();
      return "";
    case Kind::kPgdmp:
      c.formats.push_back("pg_dump-custom");
      return VerifyPgdmpStream(r, c.options, &f, &c.pg);
    case Kind::kTar: {
      bool is_pg = false;
      auto s = VerifyTarStream(r, c.options, &f, &c.pg, &is_pg);
      c.formats.push_back(is_pg ? "pg_dump-tar" : "tar");
      return s;
    }
    case Kind::kPgDumpPlain:
    case Kind::kPgDumpallPlain: {
      const bool all = kind == Kind::kPgDumpallPlain;
      c.formats.push_back(all ? "pg_dumpall-plain" : "pg_dump-plain");
      HeadTail ht = ReadAllText(r);
      return VerifyPgPlain(ht, all, c.options, &f, &c.pg);
    }
    case Kind::kMysqlDump: {
      c.formats.push_back("mysqldump");
      HeadTail ht = ReadAllText(r);
      return VerifyMysqlDump(ht, &f);
    }
    case Kind::kSha256Manifest:
      if (depth == 0 && head.size() < kMaxManifestText) {
        c.formats.push_back("sha256-manifest");
        std::string text;
        for (Bytes b = r.Available(); !b.empty() && text.size() < kMaxManifestText;
             b = r.Available()) {
          text.append(reinterpret_cast<const char*>(b.data()), b.size());
          r.Consume(b.size());
        }
        r.Drain();
        return VerifyManifestFile(c.path, text, c.options.max_archive_entries, &f);
      }
      [[fallthrough]];
    case Kind::kText: {
      c.formats.push_back("text");
      HeadTail ht = ReadAllText(r);
      if (ht.total() < kTinyText) {
        f.Add(CheckStatus::kCritical,
              fmt::format("{}: {} bytes of text: '{}'", TinyTextNoun(ht.head(), c.path), ht.total(),
                          Excerpt(ht.head(), 200)));
      } else {
        const auto nl = ht.head().find('\n');
        f.Add(CheckStatus::kWarning,
              fmt::format("format not recognized: {} of text starting '{}'",
                          FormatBytes(ht.total()), Excerpt(ht.head().substr(0, nl), 80)));
      }
      return "";
    }
    case Kind::kBinary:
      c.formats.push_back("unknown");
      f.Add(CheckStatus::kWarning,
            fmt::format("format not recognized (first bytes: {})", HexBytes(head)));
      r.Drain();
      return "";
  }
  return "";
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "+") + p;
  return out;
}

void Finish(ArtifactVerdict& v, const Findings& f, const std::string& ok_summary) {
  v.status = f.status;
  v.details = f.details;
  if (f.ok()) {
    v.summary = ok_summary.empty() ? "verified" : ok_summary;
  } else {
    v.summary = f.WorstMessages();
    if (f.status == CheckStatus::kWarning && !ok_summary.empty()) v.summary += "; " + ok_summary;
  }
}

}  // namespace

ArtifactVerdict VerifyArtifact(const fs::path& path, const VerifyOptions& options) {
  ArtifactVerdict v;
  v.path = path.string();
  struct stat st {};
  if (::stat(v.path.c_str(), &st) != 0) {
    v.format = "unknown";
    v.status = CheckStatus::kUnknown;
    v.summary = fmt::format("cannot read {}: {}", v.path, std::strerror(errno));
    return v;
  }
  Findings f;
  if (S_ISDIR(st.st_mode)) {
    v.format = "pg_dump-directory";
    std::optional<PgVersions> pg;
    std::string summary = VerifyPgDirectory(v.path, options, &f, &pg, &v.size_bytes);
    v.pg = pg;
    std::error_code ec;
    const fs::path sums = path / "SHA256SUMS";
    if (options.check_manifest && fs::is_regular_file(sums, ec)) {
      std::string error;
      FileSource src(sums.string(), false);
      Reader r(src);
      std::string text;
      for (Bytes b = r.Available(); !b.empty() && text.size() < kMaxManifestText;
           b = r.Available()) {
        text.append(reinterpret_cast<const char*>(b.data()), b.size());
        r.Consume(b.size());
      }
      Findings mf;
      VerifyManifestFile(sums.string(), text, options.max_archive_entries, &mf);
      for (const auto& p : mf.problems) f.Add(p);
      f.details["sha256_manifest"] = sums.string();
      f.details["sha256_files_verified"] = mf.details.value("verified", 0);
    }
    f.details["size_bytes"] = v.size_bytes;
    Finish(v, f, summary);
    return v;
  }
  if (!S_ISREG(st.st_mode)) {
    v.format = "unknown";
    v.status = CheckStatus::kUnknown;
    v.summary = "not a regular file or directory";
    return v;
  }
  v.size_bytes = static_cast<std::uint64_t>(st.st_size);
  std::string manifest;
  std::optional<std::string> expected;
  if (options.check_manifest) expected = FindExpectedSha256(v.path, &manifest);

  FileSource src(v.path, options.compute_sha256 || expected.has_value());
  if (options.on_read) src.set_on_read(options.on_read);
  Reader r(src);
  Ctx c{options, v.path, {}, std::nullopt};
  std::string summary = Judge(r, 0, c, f);
  r.Drain();
  v.format = Join(c.formats);
  v.pg = c.pg;
  f.details["size_bytes"] = src.bytes_read();
  if (src.problem()) {
    // An unreadable file says nothing about the backup: UNKNOWN, and the
    // findings on the bytes read so far would only mislead.
    v.status = src.problem()->status;
    v.summary = src.problem()->message;
    v.details = f.details;
    return v;
  }
  v.sha256 = src.Sha256Hex();
  if (v.sha256) f.details["sha256"] = *v.sha256;
  if (expected && v.sha256) {
    f.details["sha256_manifest"] = manifest;
    if (*expected != *v.sha256) {
      f.Add(CheckStatus::kCritical,
            fmt::format("{}: checksum mismatch (manifest {}, actual {})",
                        fs::path(manifest).filename().string(), *expected, *v.sha256));
    } else {
      f.details["sha256_verified"] = true;
      if (!summary.empty())
        summary += fmt::format(", SHA-256 matches {}", fs::path(manifest).filename().string());
    }
  }
  if (!options.compute_sha256 && !expected) v.sha256.reset();
  Finish(v, f, summary);
  return v;
}

}  // namespace mamori::backup
