// Check type "backup": a set of backup artifacts (a glob, a directory or one
// file; newest first) judged as an operator would on the bad day: is the
// newest one recent, are enough kept, is it the right size compared with its
// predecessors, does it decode (backup/verify.h), was it written by a pg_dump
// matching the server, does it restore into a scratch database with the
// expected rows, and does the offsite location hold the same bytes?
//
// Every artifact's verdict, checksum and restore duration go into the backup
// history (<data_dir>/backups.db, backup/history.h): an artifact is verified
// and restored once, not at every run; sizes are compared with the previous
// good artifact; artifacts that vanish from disk are remembered, so "a
// cleanup deleted the older dumps" is named as such. When the newest artifact
// is bad, older ones are verified until a good one is found and its age is
// given: that is how much data the operator would lose today.
//
// Runs on the worker pool (verification and restores block for minutes),
// bounded by the check's timeout (default 30m; 10m when there is no restore
// test and no explicit timeout). Options are immutable after construction;
// the probe is never run concurrently with itself.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mamori/backup/offsite.h"
#include "mamori/backup/restore.h"
#include "mamori/backup/sql_client.h"
#include "mamori/check/probe.h"

namespace mamori::probes::backup {

inline constexpr Duration kDefaultInterval = std::chrono::hours(1);
inline constexpr Duration kDefaultTimeout = std::chrono::minutes(30);
inline constexpr Duration kDefaultTimeoutWithoutRestore = std::chrono::minutes(10);

struct ServerSpec {
  mamori::backup::SqlTarget target;
  // The pg_dump the backup job runs; its version is compared with the
  // server's (pg_dump refuses a newer server and the job writes an error
  // message instead of a dump).
  std::string pg_dump;
  bool allow_newer_pg_dump = false;
};

struct BackupOptions {
  std::string check;  // the check's name: the history's key
  std::string path;
  std::optional<Duration> max_age;
  size_t min_count = 1;
  std::optional<uint64_t> min_size;
  double max_shrink_percent = 50;
  std::optional<double> max_growth_percent;
  Duration settle = std::chrono::seconds(60);  // younger artifacts may still be written
  bool verify = true;
  std::optional<ServerSpec> server;
  std::optional<mamori::backup::RestoreSpec> restore;
  std::optional<mamori::backup::OffsiteSpec> offsite;
  // Internal budget when neither a restore nor an explicit timeout is set.
  std::optional<Duration> budget;
  size_t history_keep = 1000;
};

class BackupProbe final : public Probe {
 public:
  explicit BackupProbe(BackupOptions o) : o_(std::move(o)) {}
  void Start(ProbeEnv& env, MonoTime deadline, ProbeDone done) override;
  // The blocking body; public for tests that drive it without an event loop.
  Observation Run(const Clock& clock, MonoTime deadline, const std::string& data_dir) const;
  const BackupOptions& options() const { return o_; }

 private:
  BackupOptions o_;
};

}  // namespace mamori::probes::backup
