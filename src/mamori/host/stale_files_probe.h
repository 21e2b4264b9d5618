// Check type "stale_files": pid files whose process is gone, UNIX socket
// files nobody listens on, and lock files of stopped services, under /run,
// /var/run, /var/lock and the check's `paths:`, with no configuration
// needed. The rules are in stale_files.h; the owning units (PIDFile=,
// ListenStream=, RuntimeDirectory=) come from systemd through sd-bus
// (systemd_bus.h), only when a file needs one to be judged or named, and
// only where systemd runs: elsewhere the scan works without unit names.
//
// Keys: `paths:` (extra absolute directories), `ignore:` (globs on the
// path), `max_depth:` (3), `max_entries:` (20000), `grace:` (5m).
//
// Ownership/threading: a BlockingProbe, stateless between runs. Failure:
// systemd unreachable is not a failure (the files are judged without unit
// names; the details say why); nothing here reports UNKNOWN.
#pragma once

#include <string>

#include "mamori/check/probe.h"
#include "mamori/host/stale_files.h"

namespace mamori::probes::stale_files {

struct Options {
  host::stale::ScanOptions scan;
  host::stale::JudgeOptions judge;
  std::string systemd_dir = "/run/systemd/system";  // present: systemd is PID 1
  std::string bus_address;                          // tests; empty: as systemd_bus.h says
};

class StaleFilesProbe final : public BlockingProbe {
 public:
  explicit StaleFilesProbe(Options o) : o_(std::move(o)) {}
  Observation Run(const Clock& clock, MonoTime deadline) override;

 private:
  Options o_;
};

}  // namespace mamori::probes::stale_files
