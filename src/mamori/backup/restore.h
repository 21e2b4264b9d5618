// Restore test: restores one backup artifact into a scratch target with the
// real tools and runs SQL assertions against the result, so "the backup
// works" means "it restored, and the users table has 10,234 rows", not "a
// file exists".
//
// Targets: PostgreSQL (a scratch database on a server: pg_restore for custom,
// tar and directory archives, psql for plain SQL), MariaDB (a scratch schema,
// the mariadb client), or a user command. gzip and zstd compressed dumps are
// piped through gzip/zstd. The scratch database is created by mamori and
// marked with a comment; an existing database without that mark is never
// dropped, and a plain dump that would switch databases (\connect, USE,
// CREATE DATABASE) is refused, so a restore test can never write into
// production. The scratch target is dropped afterwards unless `keep`.
//
// The restore's own duration is measured: it is the time an operator will
// wait on the bad day.
//
// Threading: RunRestore blocks (tools run through RunProcess); call it from a
// worker thread. Stateless; concurrent calls on different scratch names are
// fine. Failure: never throws; every outcome, including "could not even
// start", is a RestoreOutcome with a status and a one-line summary. Child
// output is captured up to a bound and its tail shown in details.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "mamori/backup/sql_client.h"
#include "mamori/core/status.h"
#include "mamori/util/clock.h"

namespace mamori::backup {

// The comment mamori puts on the scratch databases it creates.
inline constexpr const char* kScratchMarker = "mamori restore-test scratch";

struct Assertion {
  std::string name;  // for the summary; default: the table of "SELECT count(*) FROM t"
  std::string query;
  std::optional<double> min, max;
  // The same query on production (the check's `server:`) must give a value
  // within this many percent.
  std::optional<double> within_percent_of_production;
};

struct RestoreSpec {
  enum class Kind { kPostgres, kMariadb, kCommand };
  Kind kind = Kind::kPostgres;
  // The server to restore into (its own database: where CREATE/DROP DATABASE
  // run; PostgreSQL default "postgres").
  SqlTarget target;
  std::string scratch;  // scratch database / schema name ([A-Za-z0-9_], <= 63)
  bool keep = false;
  // kCommand: argv; the artifact is in $MAMORI_ARTIFACT (also appended as the
  // last argument).
  std::vector<std::string> command;
  std::vector<Assertion> assertions;
  std::string bin_dir;  // where pg_restore/psql/mariadb live; "" = PATH
  std::optional<SqlTarget> production;
  size_t max_output = 64 * 1024;
};

struct AssertionOutcome {
  std::string name;
  std::optional<double> value, production;
  bool passed = false;
  std::string text;  // "users 10234 rows" / "users 3 rows (min 100)"
};

struct RestoreOutcome {
  CheckStatus status = CheckStatus::kUnknown;
  std::string summary;  // "restore 48 s, users 10234 rows"
  bool restored = false;
  Duration restore_duration{};
  std::vector<AssertionOutcome> assertions;
  std::string details;  // tool output tail, assertion lines
};

RestoreOutcome RunRestore(const RestoreSpec& spec, const std::filesystem::path& artifact,
                          MonoTime deadline, const Clock& clock);

// Exposed for tests: what a dump looks like from its first bytes.
struct DumpShape {
  enum class Compression { kNone, kGzip, kZstd } compression = Compression::kNone;
  bool pg_archive = false;  // custom, tar or directory: needs pg_restore
  bool directory = false;
};
Result<DumpShape> SniffDump(const std::filesystem::path& artifact);
// The first line of a plain SQL dump that would leave the scratch database
// (\connect, USE, CREATE DATABASE), or nullopt. Reads the whole
// (decompressed) dump, stopping at the deadline.
Result<std::optional<std::string>> FindDatabaseSwitch(const std::filesystem::path& artifact,
                                                      DumpShape shape, SqlTarget::Kind kind,
                                                      MonoTime deadline, const Clock& clock);

}  // namespace mamori::backup
