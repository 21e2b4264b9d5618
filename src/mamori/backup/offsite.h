// Offsite comparison: a second location must hold the same artifact, with the
// same bytes. An empty S3 bucket or a sync job that stopped weeks ago is only
// noticed by looking there.
//
// Two ways to look: `path` (a mounted directory: the artifact of the same
// name is compared by size, then SHA-256; a pg_dump directory by a hash over
// its files) or `command` (any program that lists the location, one artifact
// per line). Listing lines in sha256sum format ("<64 hex>  name", as
// `sha256sum *` or `rclone hashsum sha256 remote:path` print) are compared by
// checksum; other lines by name and, when a number on the line equals the
// local size (`aws s3 ls`, `ls -l`), by size; the result says which
// comparison was possible.
//
// Threading: blocking (hashing, running the command); call from a worker
// thread. Stateless. Failure: a location that cannot be read is UNKNOWN; a
// missing or different copy is CRITICAL.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "mamori/core/status.h"
#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::backup {

struct OffsiteSpec {
  std::string path;                  // a directory
  std::vector<std::string> command;  // or a program that lists the location
  // A newest artifact younger than this may not have been copied yet: the
  // one before it is compared instead.
  Duration grace = std::chrono::hours(1);
  size_t max_output = 4 << 20;
};

struct OffsiteResult {
  CheckStatus status = CheckStatus::kUnknown;
  std::string summary;  // "offsite /mnt/b holds shop.dump, same sha256 (ab12cd34)"
  std::string details;
  std::optional<std::string> local_sha256;  // computed on the way, for the history
};

// Compares `artifact` with its namesake at the offsite location.
// `known_sha256`: the local checksum if already known (skips a pass).
OffsiteResult CompareOffsite(const OffsiteSpec& spec, const std::filesystem::path& artifact,
                             const std::optional<std::string>& known_sha256, MonoTime deadline,
                             const Clock& clock);

// SHA-256 (hex) of a file's bytes, or for a directory of "<sha256>  <relative
// path>\n" lines over its regular files in name order. Stops at the deadline.
Result<std::string> Sha256Of(const std::filesystem::path& path, MonoTime deadline,
                             const Clock& clock);

}  // namespace mamori::backup
