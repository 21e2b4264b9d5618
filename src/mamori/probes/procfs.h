// procfs: small, bounded readers for the Linux /proc interfaces the local
// system check types share (process list, /proc/<pid>/stat, cmdline, comm).
//
// Every function takes the /proc root as a parameter ("/proc" in production)
// so a test can point it at a crafted directory for edge cases a live system
// never shows. All reads are size-capped, so a huge or endless pseudo-file
// cannot stall or exhaust a probe. Pure functions over the file system;
// thread-safe. Failures are values: a vanished process reads as an Error
// (processes come and go between listing and reading; callers skip them).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/util/result.h"

namespace mamori::procfs {

// Reads at most `max_bytes` of a (pseudo-)file. The error message is
// "<path>: <strerror>" so it can be shown as-is.
Result<std::string> ReadFileBounded(const std::string& path, size_t max_bytes = 1 << 20);

// The numeric entries of `proc_root` (the process ids), ascending, at most
// `max_count` of them.
Result<std::vector<int>> ListPids(const std::string& proc_root, size_t max_count = 1 << 20);

// The fields of /proc/<pid>/stat that the probes use.
struct ProcStat {
  int pid = 0;
  std::string comm;  // without the parentheses; at most 15 bytes on Linux
  char state = '?';  // R, S, D, Z, T, ...
  int ppid = 0;      // 2 (kthreadd) for kernel threads
  int tty_nr = 0;    // the controlling terminal; 0: none (daemons)
  uint64_t utime_ticks = 0;
  uint64_t stime_ticks = 0;
  uint64_t start_ticks = 0;  // start time after boot, in clock ticks
  int64_t rss_pages = 0;
};

// Parses the text of /proc/<pid>/stat. The comm field may itself contain
// spaces and ')' characters, so it is delimited by the LAST ')'.
Result<ProcStat> ParseStat(std::string_view text);
Result<ProcStat> ReadStat(const std::string& proc_root, int pid);

// /proc/<pid>/cmdline with the NUL separators turned into spaces (trailing
// separators dropped); empty for kernel threads. Capped at 64 KiB.
Result<std::string> ReadCmdline(const std::string& proc_root, int pid);

// /proc/<pid>/comm without the trailing newline.
Result<std::string> ReadComm(const std::string& proc_root, int pid);

// "word" with control characters replaced by '?', cut to `max` bytes: for
// quoting untrusted text (file contents, process names) in one-line summaries.
std::string Printable(std::string_view text, size_t max = 64);

}  // namespace mamori::procfs
