// The mount table as /proc/<pid>/mountinfo gives it, and which of its
// entries are real filesystems (the ones that hold data): pure parsing over
// text, shared by the embedded default (one disk check per filesystem) and
// the baseline (a filesystem that was mounted and is not now).
//
// Plain functions over values; thread-safe. Malformed lines are skipped.
#pragma once

#include <string>
#include <vector>

namespace mamori {

struct Mount {
  std::string mount_point;
  std::string fs_type;
  std::string source;
  std::string device;  // "major:minor"
};

// Parses /proc/self/mountinfo text (unescaping \040 and friends).
std::vector<Mount> ParseMountInfo(const std::string& text);
// Keeps filesystems that hold data: block-device and network filesystems and an
// overlay root; drops pseudo filesystems, squashfs images (always 100% full) and
// bind-mount duplicates of one device.
std::vector<Mount> RealFilesystems(const std::vector<Mount>& all);

}  // namespace mamori
