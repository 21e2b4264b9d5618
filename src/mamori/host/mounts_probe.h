// Check type "mounts": the filesystems after a reboot or a maintenance, as an
// operator would look at them. Reports data filesystems that are read-only
// though they should be writable (an errors=remount-ro remount after I/O
// errors is the case that matters: every write fails from then on, CRITICAL),
// /etc/fstab entries that are not mounted (WARNING), and inode use per local
// data filesystem (statvfs f_files/f_ffree; filesystems that report no inode
// counts, such as btrfs, are skipped). The judgment is host/mounts.h.
//
// Keys: `ignore:` (globs of mount points), `inodes: {warning: 80%, critical:
// 90%}` or `inodes: false`, `unmounted: true|false` (the fstab part).
//
// Reads PROC/1/mountinfo (the host's mounts even when mamori runs in a unit
// with ProtectSystem=, whose own view is read-only by design), falling back to
// PROC/self/mountinfo. Network filesystems get no statvfs: a hung NFS server
// would hang the call past any deadline.
//
// Ownership/threading: a BlockingProbe holding only its options; Run() is
// never concurrent with itself. Failure: no mountinfo readable: UNKNOWN.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mamori/check/probe.h"
#include "mamori/host/mounts.h"

namespace mamori::probes::mounts {

struct Options {
  std::string proc_root = "/proc";
  std::string fstab = "/etc/fstab";
  std::vector<std::string> ignore;  // globs of mount points
  bool inodes = true;
  double inodes_warning = 80, inodes_critical = 90;
  bool unmounted = true;
  // Percent of inodes used on the filesystem mounted at the path; nullopt
  // when it reports none (btrfs) or cannot be read. statvfs(3) by default;
  // tests give their own.
  std::function<std::optional<double>(const std::string&)> inode_percent;
};

// statvfs(3): used inodes over f_files, nullopt when f_files is 0.
std::optional<double> StatvfsInodePercent(const std::string& path);

// The observation for what was read: pure, so every rule is tested on text.
Observation Judge(const Options& o, const std::vector<Mount>& mounted,
                  const std::vector<host::mounts::FstabEntry>& fstab);

class MountsProbe final : public BlockingProbe {
 public:
  explicit MountsProbe(Options o);
  Observation Run(const Clock& clock, MonoTime deadline) override;

 private:
  Options o_;
};

}  // namespace mamori::probes::mounts
