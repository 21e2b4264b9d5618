// Processes that still run code from deleted files, the way needrestart finds
// them: an executable mapping in /proc/PID/maps whose file is marked
// "(deleted)" (a library or program replaced by an upgrade) under one of the
// code directories. Data files (the locale archive, caches), /memfd:,
// /dev/shm, /tmp, SYSV shared memory and anonymous mappings are never code
// of an installed package and are not reported.
//
// Parsing is pure; ScanProcesses is the edge that reads PROC/PID/{maps,comm,
// cgroup}. Bounded: at most `max_processes` processes, `max_maps_bytes` of
// each maps file, and nothing after the deadline (the result says it was cut
// short). Processes that vanish or cannot be read are skipped: reading other
// users' maps needs root, and a process may exit mid-scan. Reentrant.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mamori/util/clock.h"

namespace mamori::host::deleted_libs {

// The default code directories: /usr/lib, /lib, /usr/bin, /usr/sbin, ...
std::vector<std::string> DefaultPaths();

// Deleted files mapped executable in `maps` text and under one of `paths`
// (directories), unique, in order of appearance.
std::vector<std::string> DeletedCode(std::string_view maps, const std::vector<std::string>& paths);

// The systemd unit (".service") a process belongs to, from /proc/PID/cgroup
// text (the v2 "0::" line, else v1's "name=systemd"); "" when none.
std::string UnitFromCgroup(std::string_view cgroup);

struct Process {
  int pid = 0;
  std::string name;  // comm
  std::string unit;  // "" when not in a service
  std::vector<std::string> files;
};

struct ScanOptions {
  std::string proc_root = "/proc";
  std::vector<std::string> paths = DefaultPaths();
  size_t max_processes = 10000;
  size_t max_maps_bytes = 4 << 20;
};

struct ScanResult {
  std::vector<Process> found;  // by pid
  size_t scanned = 0;          // processes whose maps were read
  bool cut_short = false;      // a bound or the deadline stopped the scan
};

ScanResult ScanProcesses(const ScanOptions& o, MonoTime deadline);

}  // namespace mamori::host::deleted_libs
