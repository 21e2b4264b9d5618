// Check type "deleted_libs": services still running on deleted (upgraded)
// libraries or executables, as needrestart finds them (host/deleted_libs.h),
// grouped by process name with the systemd unit to restart: WARNING "nginx
// (nginx.service) runs on deleted libraries: restart it".
//
// Keys: `paths:` (the code directories; default /usr/lib, /lib, /usr/bin,
// /usr/sbin, ...), `ignore:` (globs of process names or units),
// `max_processes` (10000), `max_maps_bytes` (4MiB per process).
//
// Ownership/threading: a BlockingProbe holding its options; Run() is never
// concurrent with itself. Failure: /proc unreadable: UNKNOWN. Not root: only
// the processes it may read are looked at, and the summary says how many.
#pragma once

#include <string>
#include <vector>

#include "mamori/check/probe.h"
#include "mamori/host/deleted_libs.h"

namespace mamori::probes::deleted_libs {

struct Options {
  host::deleted_libs::ScanOptions scan;
  std::vector<std::string> ignore;
};

// The observation for a scan's result: pure.
Observation Judge(const Options& o, const host::deleted_libs::ScanResult& r);

class DeletedLibsProbe final : public BlockingProbe {
 public:
  explicit DeletedLibsProbe(Options o) : o_(std::move(o)) {}
  Observation Run(const Clock& clock, MonoTime deadline) override;

 private:
  Options o_;
};

}  // namespace mamori::probes::deleted_libs
