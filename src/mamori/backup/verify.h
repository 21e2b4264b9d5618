// Backup content verification: judges one artifact (a file or a pg_dump
// directory-format folder) by what it contains, never by its name or the exit
// code of whatever wrote it. The format is detected from magic bytes; each
// format's verifier streams the whole artifact through a real decoder (zlib,
// libzstd, libarchive, OpenSSL SHA-256) with bounded memory, so a 100 GB dump
// costs the same RAM as a 1 KB one.
//
// Stateless free functions; safe to call from several threads at once on
// different artifacts. Nothing here throws for bad input: a damaged,
// truncated or unreadable artifact is a verdict (CRITICAL or UNKNOWN with a
// summary that names the cause), not an error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mamori/core/status.h"

namespace mamori::backup {

struct VerifyOptions {
  // Also compute the SHA-256 of the artifact's bytes as stored (for
  // SHA256SUMS manifests and offsite comparison); one extra pass is avoided
  // by hashing while decoding.
  bool compute_sha256 = false;
  // Verify a SHA256SUMS manifest found beside the artifact, when present.
  bool check_manifest = true;
  // Upper bounds so hostile input cannot run forever or exhaust memory.
  std::uint64_t max_archive_entries = 10'000'000;
  std::uint64_t max_toc_entries = 10'000'000;
  // A pg_dump newer than the server is how upgrades are done; when true such
  // a dump is OK instead of CRITICAL. An older pg_dump is always CRITICAL.
  bool allow_newer_pg_dump = false;
  // Called with the bytes of a single-file artifact read so far (the
  // command line's progress line); runs on the verifying thread.
  std::function<void(std::uint64_t bytes_read)> on_read;
};

// Versions read from a PostgreSQL dump (plain header or PGDMP header).
struct PgVersions {
  std::string server_version;   // "9.6.1", "15.18 (Debian 15.18-0+deb12u1)"
  std::string pg_dump_version;  // as written by pg_dump
  // Major versions as PostgreSQL numbers them: two parts before 10 ("9.2",
  // "9.6"), one part from 10 on ("15"). A dump is skewed when they differ.
  std::string server_major;
  std::string pg_dump_major;
};

struct ArtifactVerdict {
  std::string path;
  // Outer-to-inner format chain joined by '+': "gzip+pg_dump-plain",
  // "zstd+tar", "pg_dump-custom", "pg_dump-directory", "mysqldump", "text",
  // "empty", "unknown".
  std::string format;
  CheckStatus status = CheckStatus::kUnknown;
  // One line an operator understands: "pg_dump custom archive, 412 TOC
  // entries, database shop, server 15.18, pg_dump 15.18".
  std::string summary;
  // Format-specific facts for --json and the store (entry counts, versions,
  // uncompressed size, dump time, ...).
  nlohmann::json details = nlohmann::json::object();
  std::uint64_t size_bytes = 0;       // bytes on disk (sum of files for a directory)
  std::optional<std::string> sha256;  // hex, when compute_sha256 was set
  std::optional<PgVersions> pg;       // for PostgreSQL dumps
};

// Verifies one artifact. Never fails: unreadable input is an UNKNOWN verdict.
ArtifactVerdict VerifyArtifact(const std::filesystem::path& path,
                               const VerifyOptions& options = {});

}  // namespace mamori::backup
