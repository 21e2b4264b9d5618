// The judgment of the `stale_files` check type: pid files whose process is
// gone (or was replaced by another program), UNIX socket files nobody listens
// on, and lock/mutex files of stopped services, found under the runtime
// directories with no configuration. Incidents 1 and 3 are why: a stale
// PHP-FPM socket and a stale mod_python mutex kept services down after a
// crash, and nothing said so.
//
// Three steps, each with its edge injected (an fs root, a proc root, the
// units read from systemd by systemd_bus.h) so every rule is tested on a
// crafted tree:
//   Scan()  walks the directories with openat/fstatat(AT_SYMLINK_NOFOLLOW):
//           a symlink is never followed (not even a root: /var/run and
//           /var/lock are symlinks into /run on current systems), depth and
//           entry count are bounded, unreadable directories are listed.
//   Judge() decides, from /proc (pids, exe, fds, /proc/net/unix,
//           /proc/locks) and the units that own the paths. Conservative: a
//           file is flagged only on positive evidence (see Judge()).
//   Report() makes the observation: WARNING naming every stale path (the
//           summary is bounded, "and N more"), OK otherwise.
//
// Plain values and functions over the file system; thread-safe. Nothing
// here fails: what cannot be read is not judged (and is counted).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "mamori/core/observation.h"
#include "mamori/util/clock.h"

namespace mamori::host::stale {

enum class Kind { kPidFile, kSocket, kLock };

// What the scan found that may be stale. `path` is as seen on the host
// (without the fs root).
struct Candidate {
  std::string path;
  Kind kind = Kind::kPidFile;
  uint64_t dev = 0, ino = 0;
  WallTime mtime{};
  std::string content;  // pid files: the first bytes
};

struct ScanOptions {
  std::string fs_root;  // "" on the host; a temporary directory in tests
  // Absolute directories to walk, in order; a directory already walked
  // (same device and inode) is not walked twice.
  std::vector<std::string> dirs = {"/run", "/var/run", "/var/lock"};
  std::vector<std::string> ignore;  // fnmatch globs (FNM_PATHNAME off) on the path
  int max_depth = 3;                // directory levels below each root
  size_t max_entries = 20000;       // directory entries looked at, in all
};

struct ScanResult {
  std::vector<Candidate> files;
  std::vector<std::string> roots;       // the directories actually walked
  std::vector<std::string> skipped;     // roots not walked, with why
  std::vector<std::string> unreadable;  // directories that could not be opened
  size_t entries = 0;
  bool stopped_early = false;  // max_entries was reached
};

// "foo.pid", "pid" -> kPidFile; "*.lock", "*.lck", "LCK..*", "*mutex*" ->
// kLock; false otherwise (sockets are known by their type, not their name).
bool KindByName(std::string_view name, Kind* kind);

ScanResult Scan(const ScanOptions& o);

// The bound paths that /proc/net/unix shows alive: stream/seqpacket sockets
// in LISTEN (flag __SO_ACCEPTCON) and bound datagram sockets (which never
// listen). Abstract names (@...) are dropped. A relative path (a server that
// bound "x.sock" after chdir, to get round sun_path's 108 bytes) cannot be
// placed: it is kept in `relative` and matches any file ending in "/x.sock".
struct UnixTable {
  std::set<std::string> paths;
  std::vector<std::string> relative;
  bool Alive(const std::string& path) const;
};
UnixTable ParseProcNetUnix(std::string_view text, size_t max_entries = 200000);

// The inodes /proc/locks shows locked (flock, POSIX, OFD), as "maj:min:ino"
// with the kernel's hexadecimal device numbers parsed.
struct LockedInode {
  uint32_t major = 0, minor = 0;
  uint64_t ino = 0;
  bool operator<(const LockedInode& o) const {
    return std::tie(major, minor, ino) < std::tie(o.major, o.minor, o.ino);
  }
};
std::set<LockedInode> ParseProcLocks(std::string_view text, size_t max_entries = 200000);

// What the check knows of one loaded systemd unit (systemd_bus.h fills it).
struct UnitFiles {
  std::string name;          // "php8.2-fpm.service"
  std::string active_state;  // active, inactive, failed, ...
  uint32_t main_pid = 0;
  std::string pid_file;                   // PIDFile=
  std::string exec_path;                  // the first ExecStart='s program
  std::vector<std::string> runtime_dirs;  // RuntimeDirectory= as /run/NAME
  std::vector<std::string> listen_paths;  // socket units: ListenStream= etc. paths
};

// "/var/run/x" -> "/run/x", "/var/lock/x" -> "/run/lock/x": how systemd
// itself names them, so a PIDFile=/var/run/foo.pid matches the file.
std::string CanonicalRunPath(const std::string& path);

struct JudgeOptions {
  std::string fs_root;              // as in ScanOptions
  std::string proc_root = "/proc";  // the proc the pids, fds and tables come from
  Duration grace = std::chrono::minutes(5);
  // Confirm a socket missing from /proc/net/unix with a non-blocking connect
  // (a listener in another network namespace is not in our table; refused
  // is the proof). Off only in tests that fake the table.
  bool confirm_by_connect = true;
  size_t max_fds = 200000;  // /proc/*/fd links read at most, in all
};

struct Finding {
  std::string path;
  Kind kind = Kind::kPidFile;
  std::string unit;  // owning unit, empty when unknown
  std::string why;   // "pid 1234 not running", "nobody listening", ...
  std::string Line() const;
};

struct Judgment {
  std::vector<Finding> stale;
  size_t pid_files = 0, sockets = 0, locks = 0;  // candidates judged
  size_t too_young = 0;                          // changed within grace: not judged yet
  size_t unreadable = 0;                         // pid files without a pid in them
  bool proc_incomplete = false;                  // some /proc/PID/fd could not be read
  // Judged without units: whether the owning units could change or name
  // anything (a finding, a live pid, a lock file). When not, the check does
  // not talk to systemd at all.
  bool needs_units = false;
  // Pid files (canonical paths) whose pid is alive: only their units need
  // MainPID and ExecStart read.
  std::set<std::string> alive_pid_files;
};

// The rules, in order, for files changed before now - grace:
//  - pid file: its content is not a pid -> not judged (counted). The pid does
//    not exist -> stale. It exists: stale only when the owning unit is known
//    (its PIDFile= is this file), its MainPID is not that pid, and the
//    process is another program than the unit's ExecStart (by exe path,
//    program name, or the path in its command line for scripts). A live pid
//    is never flagged without that evidence.
//  - socket: listed alive in /proc/net/unix -> fine; else stale only when a
//    non-blocking connect is refused (confirm_by_connect).
//  - lock: stale only when no process has it open (/proc/*/fd) or locked
//    (/proc/locks), every process could be seen, AND its owning unit (the
//    RuntimeDirectory= it lies in) is known and not active.
Judgment Judge(const std::vector<Candidate>& files, const std::vector<UnitFiles>& units,
               const JudgeOptions& o, const Clock& clock);

// WARNING "stale pid file /run/foo.pid (foo.service, pid 1234 not running);
// ..." (at most 8 named, "and N more"), OK "no stale files in /run, /var/lock
// (N pid files, M sockets, L lock files checked)". Metrics: stale_files,
// pid_files, sockets, lock_files, and "stale:PATH" 1 per finding (bounded).
Observation Report(const ScanResult& scan, const Judgment& j);

}  // namespace mamori::host::stale
