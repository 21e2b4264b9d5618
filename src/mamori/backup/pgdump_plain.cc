// Plain SQL pg_dump output (its header lines and trailer) and the version
// rules shared by every pg_dump format: majors and skew. See pgdump.h.
#include <cctype>

#include <fmt/format.h>

#include "mamori/backup/pgdump.h"
#include "mamori/backup/pgdump_internal.h"
#include "mamori/util/units.h"

namespace mamori::backup {
using pgdump_internal::FirstWord;

std::string PgMajor(std::string_view v) {
  std::size_t i = 0;
  auto number = [&]() -> std::string {
    std::string n;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) n += v[i++];
    return n;
  };
  while (i < v.size() && v[i] == ' ') ++i;
  std::string first = number();
  if (first.empty()) return "";
  if (std::stoi(first.substr(0, 6)) >= 10) return first;
  if (i < v.size() && v[i] == '.') {
    ++i;
    std::string second = number();
    if (!second.empty()) return first + "." + second;
  }
  return first;
}

PgVersions MakePgVersions(std::string server, std::string pg_dump) {
  PgVersions v;
  v.server_version = std::move(server);
  v.pg_dump_version = std::move(pg_dump);
  v.server_major = PgMajor(v.server_version);
  v.pg_dump_major = PgMajor(v.pg_dump_version);
  return v;
}

void CheckPgSkew(const PgVersions& v, const VerifyOptions& options, Findings* findings) {
  if (v.server_major.empty() || v.pg_dump_major.empty() || v.server_major == v.pg_dump_major)
    return;
  auto as_number = [](const std::string& m) {
    const auto dot = m.find('.');
    return dot == std::string::npos
               ? std::stod(m) * 100
               : std::stod(m.substr(0, dot)) * 100 + std::stod(m.substr(dot + 1));
  };
  const bool newer = as_number(v.pg_dump_major) > as_number(v.server_major);
  if (newer && options.allow_newer_pg_dump) {
    findings->details["pg_dump_newer_than_server"] = true;
    return;
  }
  std::string msg = fmt::format(
      "pg_dump {} dumped a {} server: major versions differ; use the pg_dump of the server's "
      "major version ({})",
      FirstWord(v.pg_dump_version), FirstWord(v.server_version), v.server_major);
  if (newer)
    msg += " (a newer pg_dump is normal when upgrading: allow it with --allow-newer-pg-dump)";
  findings->Add(CheckStatus::kCritical, msg);
}

namespace {

// The value after `key` up to the end of its line, from the head of a dump.
std::string LineValue(std::string_view text, std::string_view key) {
  const auto at = text.find(key);
  if (at == std::string_view::npos) return "";
  auto rest = text.substr(at + key.size());
  const auto nl = rest.find('\n');
  std::string v(rest.substr(0, nl));
  while (!v.empty() && (v.back() == '\r' || v.back() == ' ')) v.pop_back();
  return v;
}

// After the trailer line only blank lines, "--" and \unrestrict may follow.
bool OnlyTrailerAfter(std::string_view rest) {
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line == "--" || line.rfind("\\unrestrict ", 0) == 0) continue;
    return false;
  }
  return true;
}

std::string LastLine(std::string_view tail) {
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r' || tail.back() == ' '))
    tail.remove_suffix(1);
  const auto nl = tail.rfind('\n');
  return Excerpt(nl == std::string_view::npos ? tail : tail.substr(nl + 1), 80);
}

}  // namespace

std::string VerifyPgPlain(const HeadTail& text, bool dumpall, const VerifyOptions& options,
                          Findings* findings, std::optional<PgVersions>* pg) {
  const std::string server = LineValue(text.head(), "-- Dumped from database version ");
  std::string dumper = LineValue(text.head(), "-- Dumped by pg_dump version ");
  if (dumper.empty()) dumper = LineValue(text.head(), "-- Dumped by pg_dumpall version ");
  auto& d = findings->details;
  d["uncompressed_bytes"] = text.total();
  if (!server.empty()) d["server_version"] = server;
  if (!dumper.empty()) d["pg_dump_version"] = dumper;
  const std::string_view kind = dumpall ? "pg_dumpall plain SQL dump" : "pg_dump plain SQL dump";
  if (server.empty() || dumper.empty()) {
    findings->Add(CheckStatus::kWarning,
                  fmt::format("{}: header lines 'Dumped from database version' and 'Dumped by "
                              "pg_dump version' not found in its first {} bytes",
                              kind, text.head().size()));
  } else {
    *pg = MakePgVersions(server, dumper);
    CheckPgSkew(**pg, options, findings);
  }
  const std::string_view trailer = dumpall ? "-- PostgreSQL database cluster dump complete"
                                           : "-- PostgreSQL database dump complete";
  const std::string_view tail = text.tail();
  const auto at = tail.rfind(trailer);
  if (at == std::string_view::npos || !OnlyTrailerAfter(tail.substr(at + trailer.size()))) {
    findings->Add(CheckStatus::kCritical,
                  fmt::format("{} incomplete: trailer '{}' missing; it ends at byte {} with '{}'",
                              kind, trailer.substr(3), text.total(), LastLine(tail)));
    return "";
  }
  // Since 2025 pg_dump opens with \restrict KEY and closes with
  // \unrestrict KEY after the trailer: the closing line is the true end.
  const std::string restrict_key = LineValue(text.head(), "\n\\restrict ");
  if (!restrict_key.empty() &&
      tail.find("\\unrestrict " + restrict_key, at) == std::string_view::npos) {
    findings->Add(CheckStatus::kCritical,
                  fmt::format("{} incomplete: it opens with \\restrict but the closing "
                              "'\\unrestrict' line is missing; it ends at byte {}",
                              kind, text.total()));
    return "";
  }
  return fmt::format("{} complete, server {}, pg_dump {}, {}", kind,
                     server.empty() ? "?" : FirstWord(server),
                     dumper.empty() ? "?" : FirstWord(dumper), FormatBytes(text.total()));
}

}  // namespace mamori::backup
