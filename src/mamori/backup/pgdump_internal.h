// Small helpers shared by the pg_dump readers (pgdump.cc: the archive
// encoding and custom format; pgdump_directory.cc; pgdump_plain.cc: plain
// SQL and version skew). Not part of the backup API.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mamori/backup/pgdump.h"

namespace mamori::backup::pgdump_internal {

// "15.18 (Debian 15.18-0+deb12u1)" -> "15.18".
inline std::string FirstWord(std::string_view s) {
  const auto sp = s.find(' ');
  return std::string(sp == std::string_view::npos ? s : s.substr(0, sp));
}

inline std::string Plural(std::uint64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

}  // namespace mamori::backup::pgdump_internal

namespace mamori::backup {

// Puts a parsed PGDMP header into `findings->details` (format named
// `format_name`) and checks pg_dump/server skew, setting `*pg`.
void RecordPgdmpHeader(const PgdmpHeader& h, std::string_view format_name,
                       const VerifyOptions& options, Findings* findings,
                       std::optional<PgVersions>* pg);

}  // namespace mamori::backup
