// Tar verification through libarchive: every entry header is parsed and
// every entry's data read to the end of the archive, which must be marked
// by the end-of-archive block (a block of zeros). libarchive treats a tar
// that simply stops after a complete entry as finished, so the marker is
// tracked separately by following the 512-byte block structure as the
// bytes pass to libarchive.
//
// When the first entry is toc.dat (pg_dump -Ft), its PGDMP header is read
// too, so versions and the TOC count are reported (format "pg_dump-tar").
// Pure function over a Reader; thread-safe on distinct readers. Problems
// are CRITICAL with a "tar: " prefix.
#pragma once

#include <optional>
#include <string>

#include "mamori/backup/stream.h"
#include "mamori/backup/verify.h"

namespace mamori::backup {

// Reads the tar stream to its end. Returns the OK summary; sets `is_pg_dump`
// when the archive is a pg_dump tar archive.
std::string VerifyTarStream(Reader& in, const VerifyOptions& options, Findings* findings,
                            std::optional<PgVersions>* pg, bool* is_pg_dump);

}  // namespace mamori::backup
