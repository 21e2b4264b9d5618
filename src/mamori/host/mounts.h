// Mounted filesystems as the kernel lists them (/proc/PID/mountinfo) and as
// /etc/fstab declares them, and the pure judgment of the `mounts` check:
// which data filesystems are read-only though they should be writable, and
// which fstab entries are not mounted. No I/O here except the two parsers'
// callers; every function is a pure function of its arguments and safe from
// any thread. Malformed lines are skipped, never an error: a line the kernel
// prints in a newer format must not hide the others.
//
// Mount/ParseMountInfo/RealFilesystems were the embedded default's
// (daemon/default_config.h, which includes this header and keeps using the
// same names); they live here because the `mounts` check needs them too and a
// check type must not include the layer above it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mamori {

struct Mount {
  std::string mount_point;
  std::string fs_type;
  std::string source;
  std::string device;         // "major:minor"
  std::string options;        // per-mount options: "rw,relatime"
  std::string super_options;  // the filesystem's own: "rw,errors=remount-ro"
};

// Parses /proc/self/mountinfo text (unescaping \040 and friends).
std::vector<Mount> ParseMountInfo(const std::string& text);
// Keeps filesystems that hold data: block-device and network filesystems and an
// overlay root; drops pseudo filesystems, squashfs images (always 100% full) and
// bind-mount duplicates of one device.
std::vector<Mount> RealFilesystems(const std::vector<Mount>& all);

}  // namespace mamori

namespace mamori::host::mounts {

struct FstabEntry {
  std::string source, mount_point, fs_type, options;
};

// Parses fstab(5) text: comments and blank lines skipped, \040 unescaped.
std::vector<FstabEntry> ParseFstab(const std::string& text);

// True when the comma-separated `options` holds `option` exactly ("ro" is
// not found in "errors=remount-ro").
bool HasOption(std::string_view options, std::string_view option);

// Why a mounted data filesystem is read-only, or "" when it is writable or
// meant to be read-only. Read-only is: `ro` in the mount's own options, `ro`
// in the filesystem's (the superblock is read-only: an errors=remount-ro
// remount on older kernels), or `emergency_ro` there (ext4's remount after
// errors on newer ones, seen on 6.18, whose superblock options still say rw). Meant to be
// read-only: fstab's entry for the mount point has `ro`, or only the mount is read-only (a
// read-only bind) and fstab does not list it.
std::string ReadOnlyReason(const Mount& m, const std::vector<FstabEntry>& fstab);

// The fstab entries that should be mounted and are not: not `noauto`, not
// swap, not a pseudo target ("none"), and no mount at their mount point.
std::vector<FstabEntry> NotMounted(const std::vector<FstabEntry>& fstab,
                                   const std::vector<Mount>& mounted);

}  // namespace mamori::host::mounts
