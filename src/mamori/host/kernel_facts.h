// What the kernel says about this boot, as pure functions over text and
// names, and the two small readers at the edge (the kernel log, the list of
// installed kernels). Used by the `kernel` check (kernel_probe.cc).
//
// - OOM kills: the kernel prints, per kill, a summary line
//   "oom-kill:constraint=...,task=NAME,pid=PID,uid=UID" and
//   "Out of memory: Killed process PID (NAME) total-vm:..." (or "Memory
//   cgroup out of memory: Killed process ..."; kernels before 4.19 print only
//   the latter, as "Killed process PID (NAME) ..."). A kill is its (name,
//   pid): every kill is counted once whichever of its lines made it into the
//   log, and lines of both sources (the ring buffer and the journal's copy,
//   kernel_journal.h) can be given together.
// - Versions are compared with dpkg's algorithm (verrevcmp): a digit run
//   compares as a number, letters before other characters, '~' before
//   anything, even the end. It is written out here (30 lines) rather than
//   linked: libapt-pkg pulls in APT's cache machinery for one function, and
//   libdpkg-dev is a static library whose API dpkg declares unstable.
//
// Thread-safety: everything is reentrant. Failure: the readers return what
// they could read; an unreadable /dev/kmsg is an error value.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::host::kernel {

// dpkg's verrevcmp: <0, 0, >0. Epochs and revisions are not split: a kernel
// release ("6.1.0-28") is compared as one version string.
int VersionCompare(std::string_view a, std::string_view b);

// A kernel release ("6.1.0-25-amd64", from uname -r or a vmlinuz-* name)
// split into its version ("6.1.0-25") and flavour ("amd64"): the flavour is
// the trailing '-'-separated parts that start with a letter. Kernels of
// different flavours are never compared (a cloud kernel is not "newer" than
// the generic one).
struct Release {
  std::string version, flavour;
};
Release SplitRelease(std::string_view release);

// The newest release of `installed` with `running`'s flavour that is newer
// than `running`, or "" when there is none.
std::string NewerInstalled(const std::string& running, const std::vector<std::string>& installed);

// Kernel releases installed under `fs_root`: /boot/vmlinuz-RELEASE, and
// /lib/modules/RELEASE holding a modules.dep (a directory left behind by a
// purged kernel has none). Sorted, unique, at most 256.
std::vector<std::string> InstalledKernels(const std::string& fs_root);

// Killed processes by name (comm, as the kernel prints it) and how often:
// distinct pids per name (a pid reused by the same program and killed again
// within one boot is counted once).
std::map<std::string, int> OomKills(const std::vector<std::string>& lines);

// Lines of the kernel log since boot from a /dev/kmsg-style file, read
// non-blocking (O_NONBLOCK: the end is EAGAIN, never a wait): each record's
// "PRI,SEQ,TIME,FLAGS;" prefix is removed and its continuation lines (" KEY=")
// dropped. A plain text file works too (a fixture, a saved journal). Stops
// after `max_lines` lines or at `deadline`, setting *truncated.
Result<std::vector<std::string>> ReadKernelLog(const std::string& path, size_t max_lines,
                                               MonoTime deadline, bool* truncated);

}  // namespace mamori::host::kernel
