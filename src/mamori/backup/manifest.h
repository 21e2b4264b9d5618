// SHA256SUMS manifests, as `sha256sum` writes them ("<64 hex>  name" or
// "<64 hex> *name" per line). Used two ways: a manifest found beside an
// artifact vouches for that artifact's bytes, and a manifest given as the
// artifact itself has every file it lists checked.
//
// Parsing is bounded (max_entries lines, names up to 4 KiB). Names with a
// "/" or ".." component are refused: a manifest may only speak for files in
// its own directory. Thread-safe pure functions plus file reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mamori/backup/stream.h"

namespace mamori::backup {

struct ManifestEntry {
  std::string sha256;  // lower-case hex
  std::string name;
};

// Parses manifest text; lines that are not checksum lines are counted in
// `bad_lines` (may be null).
std::vector<ManifestEntry> ParseManifest(std::string_view text, std::uint64_t max_entries,
                                         std::uint64_t* bad_lines);

// The manifest beside `artifact` (SHA256SUMS, then sha256sums.txt, then
// <artifact>.sha256) that lists the artifact's file name, if any; `manifest`
// gets its path.
std::optional<std::string> FindExpectedSha256(const std::string& artifact, std::string* manifest);

// Streams a file through SHA-256; nullopt (with `error`) when unreadable.
std::optional<std::string> Sha256File(const std::string& path, std::string* error);

// Verifies every file a manifest lists; returns the OK summary.
std::string VerifyManifestFile(const std::string& manifest_path, std::string_view text,
                               std::uint64_t max_entries, Findings* findings);

}  // namespace mamori::backup
