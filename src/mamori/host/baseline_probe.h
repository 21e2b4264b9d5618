// Check type "baseline": what this host normally has (baseline.h), learned
// while every check is OK and kept in DATA_DIR/baseline.json
// (baseline_file.h). Each run looks at the host, learns what has been there
// for `learn_after` of healthy time, and names every baseline item that is
// missing: WARNING "8081/tcp (nginx) was listening and is not now; ...".
//
// Keys: `learn_after:` (default 1h), `ignore:` (globs over item names),
// `include:` (listeners, processes, units, mounts; default all).
//
// Health comes from the HostHealth service (check/host_health.h) the daemon
// offers; without it (a one-shot run) nothing is learned, the baseline is
// only compared. Ownership/threading: a BlockingProbe; Run() never runs
// concurrently with itself, which lets it keep the Learner's candidates.
// Failure: an unreadable or corrupt baseline file, or no data_dir: UNKNOWN
// with what to do; a kind that cannot be read this time (no systemd, sd-bus
// failed) is left out of the comparison and said in the summary.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "mamori/check/host_health.h"
#include "mamori/check/probe.h"
#include "mamori/config/node.h"
#include "mamori/host/baseline.h"
#include "mamori/util/result.h"

namespace mamori::probes::baseline {

struct Options {
  Duration learn_after = std::chrono::hours(1);
  std::vector<std::string> ignore;  // fnmatch globs over item names
  host::baseline::SnapshotOptions snapshot;
  // Its presence means systemd is PID 1 (then units are read).
  std::string systemd_dir = "/run/systemd/system";
  // Reads the loaded units; empty: through sd-bus (systemd_bus.h).
  std::function<Result<std::vector<host::systemd::UnitRecord>>(const Clock&, MonoTime)> read_units;
};

bool Ignored(const Options& o, const std::string& name);

// One look at the host as the check takes it (`min_age` as given), with the
// ignored items left out. Blocking.
host::baseline::Snapshot LookAtHost(const Options& o, const Clock& clock, MonoTime deadline);

// The options a check's keys give (for `mamori baseline`, which uses the
// configuration's baseline check); null with errors reported on `node`.
std::unique_ptr<Options> ParseOptions(config::ConfigNode& node);

class BaselineProbe final : public BlockingProbe {
 public:
  explicit BaselineProbe(Options o) : o_(std::move(o)) {}
  Observation Run(const Clock& clock, MonoTime deadline) override;
  // What Bind takes from the environment; tests set it directly.
  const Options& options() const { return o_; }
  void Use(std::string data_dir, const HostHealth* health) {
    data_dir_ = std::move(data_dir);
    health_ = health;
  }

 protected:
  void Bind(const ProbeEnv& env) override { Use(env.data_dir, env.services.Get<HostHealth>()); }

 private:
  Options o_;
  std::string data_dir_;
  const HostHealth* health_ = nullptr;
  host::baseline::Learner learner_;
};

}  // namespace mamori::probes::baseline
