// The pg_dump directory format: toc.dat read like a custom archive's TOC,
// then every data file it names (and every large object a blobs TOC lists)
// streamed through its decoder. See pgdump.h.
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "mamori/backup/gzip_reader.h"
#include "mamori/backup/pgdump.h"
#include "mamori/backup/pgdump_internal.h"
#include "mamori/backup/zstd_reader.h"
#include "mamori/util/units.h"

namespace mamori::backup {
namespace fs = std::filesystem;
using pgdump_internal::FirstWord;
using pgdump_internal::Plural;

namespace {

// Verifies one data file of a directory archive by streaming it through its
// decoder (chosen by content: a .dat may be gzip or zstd).
void VerifyDataFile(const fs::path& file, const std::string& what, Findings* findings,
                    std::uint64_t* size_bytes, std::uint64_t* data_bytes) {
  FileSource src(file.string(), false);
  Reader r(src);
  Bytes head = r.Peek(4);
  std::optional<Problem> p;
  std::vector<Problem> warnings;
  if (head.size() >= 2 && head[0] == 0x1f && head[1] == 0x8b) {
    GzipSource g(r);
    Reader inner(g);
    *data_bytes += inner.Drain();
    p = g.problem();
    warnings = g.warnings();
  } else if (head.size() >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f &&
             head[3] == 0xfd) {
    ZstdSource z(r);
    Reader inner(z);
    *data_bytes += inner.Drain();
    p = z.problem();
    warnings = z.warnings();
  } else {
    *data_bytes += r.Drain();
  }
  *size_bytes += src.bytes_read();
  if (!p) p = src.problem();
  if (p)
    findings->Add(p->status,
                  fmt::format("{} ({}): {}", file.filename().string(), what, p->message));
  for (const auto& w : warnings)
    findings->Add(w.status, fmt::format("{} ({}): {}", file.filename().string(), what, w.message));
}

// The data file as pg_restore would open it: as named, or with the suffix
// of the compression used.
std::optional<fs::path> FindDataFile(const fs::path& dir, const std::string& name) {
  for (const char* suffix : {"", ".gz", ".zst", ".lz4"}) {
    std::error_code ec;
    fs::path p = dir / (name + suffix);
    if (fs::is_regular_file(p, ec)) return p;
  }
  return std::nullopt;
}

}  // namespace

std::string VerifyPgDirectory(const std::string& dir, const VerifyOptions& options,
                              Findings* findings, std::optional<PgVersions>* pg,
                              std::uint64_t* size_bytes) {
  const fs::path root(dir);
  const fs::path toc_path = root / "toc.dat";
  std::error_code ec;
  if (!fs::is_regular_file(toc_path, ec)) {
    findings->Add(CheckStatus::kCritical,
                  "directory without toc.dat: not a pg_dump directory archive (or its toc.dat "
                  "is missing)");
    return "";
  }
  FileSource src(toc_path.string(), false);
  Reader r(src);
  PgdmpArchive ar;
  auto problem = ReadPgdmpToc(r, &ar, options.max_toc_entries);
  r.Drain();
  *size_bytes += src.bytes_read();
  if (src.problem()) {
    findings->Add(*src.problem());
    return "";
  }
  const PgdmpHeader& h = ar.header;
  auto& d = findings->details;
  RecordPgdmpHeader(h, "directory", options, findings, pg);
  if (problem) {
    std::string msg = problem->message;
    if (msg.rfind("pg_dump archive", 0) == 0)
      msg.replace(0, 15, "pg_dump directory archive toc.dat");
    findings->Add(problem->status, msg);
    return "";
  }
  // pg_dump 15 writes the tar format's code (3) into a directory archive's
  // toc.dat too; both keep data file names in the TOC, so either is fine.
  if (h.format != static_cast<int>(PgArchiveFormat::kDirectory) &&
      h.format != static_cast<int>(PgArchiveFormat::kTar)) {
    findings->Add(CheckStatus::kCritical,
                  fmt::format("toc.dat says this is a pg_dump {} archive, not a directory archive",
                              FormatName(h.format)));
    return "";
  }
  d["toc_entries"] = ar.toc.size();
  std::uint64_t files = 0, data_bytes = 0, missing = 0;
  for (const auto& te : ar.toc) {
    if (te.filename.empty()) continue;
    if (te.filename.find('/') != std::string::npos) {
      findings->Add(CheckStatus::kCritical,
                    fmt::format("pg_dump directory archive corrupt: {} names data file '{}' "
                                "outside the directory",
                                te.Describe(), Excerpt(te.filename)));
      continue;
    }
    auto file = FindDataFile(root, te.filename);
    if (!file) {
      if (++missing <= 3)
        findings->Add(CheckStatus::kCritical,
                      fmt::format("pg_dump directory archive incomplete: data file {} for {} is "
                                  "missing",
                                  te.filename, te.Describe()));
      continue;
    }
    ++files;
    VerifyDataFile(*file, te.Describe(), findings, size_bytes, &data_bytes);
    // Large objects: a blobs TOC lists "oid file" per object.
    if (te.filename.rfind("blobs", 0) == 0 && te.filename.ends_with(".toc")) {
      std::ifstream in(*file);
      std::string line;
      std::uint64_t n = 0;
      while (std::getline(in, line) && n < options.max_toc_entries) {
        ++n;
        const auto sp = line.find(' ');
        if (sp == std::string::npos) continue;
        const std::string name = line.substr(sp + 1);
        if (name.empty() || name.find('/') != std::string::npos) continue;
        auto blob = FindDataFile(root, name);
        if (!blob) {
          if (++missing <= 3)
            findings->Add(CheckStatus::kCritical,
                          fmt::format("pg_dump directory archive incomplete: large object file {} "
                                      "listed in {} is missing",
                                      name, te.filename));
          continue;
        }
        ++files;
        VerifyDataFile(*blob, "large object " + line.substr(0, sp), findings, size_bytes,
                       &data_bytes);
      }
    }
  }
  if (missing > 3)
    findings->Add(
        CheckStatus::kCritical,
        fmt::format("pg_dump directory archive incomplete: {} data files missing in all", missing));
  d["data_files"] = files;
  d["data_bytes"] = data_bytes;
  std::string summary = fmt::format(
      "pg_dump directory archive, {}, {} ({} of data), database {}, server {}, pg_dump {}",
      Plural(ar.toc.size(), "TOC entry", "TOC entries"), Plural(files, "data file", "data files"),
      FormatBytes(data_bytes), h.database.empty() ? "?" : h.database, FirstWord(h.server_version),
      FirstWord(h.pg_dump_version));
  if (!h.dump_time.empty()) summary += ", dumped " + h.dump_time;
  return summary;
}

}  // namespace mamori::backup
