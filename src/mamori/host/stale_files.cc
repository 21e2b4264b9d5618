#include "mamori/host/stale_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>

#include "mamori/util/unix_connect.h"

namespace mamori::host::stale {
namespace {

constexpr size_t kMaxListed = 32;  // unreadable directories remembered

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Up to `max` bytes of the file `name` in `dirfd`, never following a
// symlink and never blocking on a FIFO.
std::string ReadAt(int dirfd, const char* name, size_t max) {
  Fd f(::openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (f.fd < 0) return "";
  std::string out(max, '\0');
  ssize_t n = ::read(f.fd, out.data(), max);
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

std::string ReadPath(const std::string& path, size_t max) {
  return ReadAt(AT_FDCWD, path.c_str(), max);
}

bool Ignored(const std::string& path, const std::vector<std::string>& ignore) {
  for (const auto& g : ignore)
    if (::fnmatch(g.c_str(), path.c_str(), 0) == 0) return true;
  return false;
}

// systemd's inaccessible nodes (a socket, a FIFO, ... with mode 0000 that
// it bind-mounts over paths a unit must not reach): nobody ever listens on
// them, on purpose.
bool Placeholder(const std::string& path) {
  return path == "/run/systemd/inaccessible" || path == "/var/run/systemd/inaccessible";
}

class Walker {
 public:
  Walker(const ScanOptions& o, ScanResult& r) : o_(o), r_(r) {}

  void Root(const std::string& dir) {
    const std::string full = o_.fs_root + dir;
    struct stat st {};
    if (::lstat(full.c_str(), &st) != 0) {
      r_.skipped.push_back(fmt::format("{}: {}", dir, std::strerror(errno)));
      return;
    }
    if (S_ISLNK(st.st_mode)) {
      r_.skipped.push_back(dir + ": a symlink, not followed");
      return;
    }
    Fd fd(::open(full.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (fd.fd < 0) {
      Unreadable(dir);
      return;
    }
    if (!seen_.insert({st.st_dev, st.st_ino}).second) {
      r_.skipped.push_back(dir + ": already scanned");
      return;
    }
    r_.roots.push_back(dir);
    Walk(fd.fd, dir, 1);
  }

 private:
  void Unreadable(const std::string& dir) {
    if (r_.unreadable.size() < kMaxListed) r_.unreadable.push_back(dir);
  }

  // Lists the entries of `fd` (closed by the caller) at `depth`.
  void Walk(int fd, const std::string& path, int depth) {
    DIR* d = ::fdopendir(::dup(fd));
    if (!d) {
      Unreadable(path);
      return;
    }
    while (dirent* e = ::readdir(d)) {
      if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, "..")) continue;
      if (r_.entries >= o_.max_entries) {
        r_.stopped_early = true;
        break;
      }
      ++r_.entries;
      Entry(fd, path, e->d_name, depth);
    }
    ::closedir(d);
  }

  void Entry(int dirfd, const std::string& dir, const char* name, int depth) {
    const std::string path = dir + "/" + name;
    if (Ignored(path, o_.ignore) || Placeholder(path)) return;
    struct stat st {};
    if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISLNK(st.st_mode)) return;
    if (S_ISDIR(st.st_mode)) {
      if (depth >= o_.max_depth || !seen_.insert({st.st_dev, st.st_ino}).second) return;
      Fd sub(::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
      if (sub.fd < 0) return Unreadable(path);
      Walk(sub.fd, path, depth + 1);
      return;
    }
    Candidate c;
    if (S_ISSOCK(st.st_mode)) {
      c.kind = Kind::kSocket;
    } else if (!S_ISREG(st.st_mode) || !KindByName(name, &c.kind)) {
      return;
    }
    c.path = path;
    c.dev = st.st_dev;
    c.ino = st.st_ino;
    c.mtime = WallTime(std::chrono::duration_cast<WallTime::duration>(
        std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
    if (c.kind == Kind::kPidFile) c.content = ReadAt(dirfd, name, 64);
    r_.files.push_back(std::move(c));
  }

  const ScanOptions& o_;
  ScanResult& r_;
  std::set<std::pair<dev_t, ino_t>> seen_;
};

// The first line of a pid file as a pid; 0 when it is not one.
int ParsePid(std::string_view text) {
  auto end = text.find_first_of("\r\n");
  std::string_view line = text.substr(0, end);
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  int pid = 0;
  auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), pid);
  if (ec != std::errc() || p != line.data() + line.size() || pid <= 0 || pid > (1 << 22)) return 0;
  return pid;
}

std::string_view Basename(std::string_view p) {
  auto slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

bool Under(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/';
}

// The units owning a path, by the strongest tie first.
struct Owner {
  const UnitFiles* unit = nullptr;
  bool by_pid_file = false;
};

Owner OwnerOf(const Candidate& c, const std::vector<UnitFiles>& units) {
  const std::string p = CanonicalRunPath(c.path);
  for (const auto& u : units) {
    if (c.kind == Kind::kPidFile && !u.pid_file.empty() && CanonicalRunPath(u.pid_file) == p)
      return {&u, true};
    if (c.kind == Kind::kSocket)
      for (const auto& l : u.listen_paths)
        if (CanonicalRunPath(l) == p) return {&u, false};
  }
  for (const auto& u : units)
    for (const auto& d : u.runtime_dirs)
      if (Under(p, CanonicalRunPath(d))) return {&u, false};
  return {};
}

// Every unit whose RuntimeDirectory= holds `path` is down (and there is one).
bool OwnersAllDown(const std::string& path, const std::vector<UnitFiles>& units) {
  const std::string p = CanonicalRunPath(path);
  bool any = false;
  for (const auto& u : units)
    for (const auto& d : u.runtime_dirs)
      if (Under(p, CanonicalRunPath(d))) {
        if (u.active_state != "inactive" && u.active_state != "failed") return false;
        any = true;
      }
  return any;
}

// Whether pid `pid` runs the program of unit `u`; nullopt when it cannot be
// told (exe unreadable: another user's process without privilege).
std::optional<std::string> OtherProgram(const std::string& proc, int pid, const UnitFiles& u) {
  if (u.exec_path.empty()) return std::nullopt;
  char buf[4096];
  const std::string exe_link = fmt::format("{}/{}/exe", proc, pid);
  ssize_t n = ::readlink(exe_link.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return std::nullopt;
  std::string exe(buf, static_cast<size_t>(n));
  if (exe.ends_with(" (deleted)")) exe.resize(exe.size() - 10);  // upgraded in place
  if (exe == u.exec_path || Basename(exe) == Basename(u.exec_path)) return std::nullopt;
  // A script: the interpreter is the exe, the script is an argument.
  const std::string cmdline = ReadPath(fmt::format("{}/{}/cmdline", proc, pid), 4096);
  size_t start = 0;
  for (int arg = 0; arg < 3 && start < cmdline.size(); ++arg) {
    size_t end = cmdline.find('\0', start);
    std::string_view a(cmdline.data() + start,
                       (end == std::string::npos ? cmdline.size() : end) - start);
    if (a == u.exec_path || Basename(a) == Basename(u.exec_path)) return std::nullopt;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return exe;
}

// Of `paths` (full paths as processes see them), those some process under
// `proc` has open. Sets *incomplete when a process's fds cannot be read.
std::set<std::string> OpenPaths(const std::set<std::string>& paths, const JudgeOptions& o,
                                bool* incomplete) {
  std::set<std::string> held;
  DIR* d = ::opendir(o.proc_root.c_str());
  if (!d) {
    *incomplete = true;
    return held;
  }
  size_t links = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const std::string fddir = o.proc_root + "/" + e->d_name + "/fd";
    Fd fd(::open(fddir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.fd < 0) {
      if (errno != ENOENT) *incomplete = true;  // gone meanwhile is fine
      continue;
    }
    DIR* fds = ::fdopendir(::dup(fd.fd));
    if (!fds) continue;
    while (dirent* f = ::readdir(fds)) {
      if (f->d_name[0] == '.') continue;
      if (++links > o.max_fds) {
        *incomplete = true;
        break;
      }
      char buf[4096];
      ssize_t n = ::readlinkat(fd.fd, f->d_name, buf, sizeof buf - 1);
      if (n > 0 && paths.count(std::string(buf, static_cast<size_t>(n))))
        held.emplace(buf, static_cast<size_t>(n));
    }
    ::closedir(fds);
    if (links > o.max_fds) break;
  }
  ::closedir(d);
  return held;
}

}  // namespace

bool KindByName(std::string_view name, Kind* kind) {
  if (name == "pid" || (name.size() > 4 && name.ends_with(".pid"))) {
    *kind = Kind::kPidFile;
    return true;
  }
  if ((name.size() > 5 && name.ends_with(".lock")) || (name.size() > 4 && name.ends_with(".lck")) ||
      name.starts_with("LCK..") || name.find("mutex") != std::string_view::npos) {
    *kind = Kind::kLock;
    return true;
  }
  return false;
}

ScanResult Scan(const ScanOptions& o) {
  ScanResult r;
  Walker w(o, r);
  for (const auto& dir : o.dirs) w.Root(dir);
  return r;
}

bool UnixTable::Alive(const std::string& path) const {
  if (paths.count(path)) return true;
  for (const auto& rel : relative)
    if (path.size() > rel.size() && path.ends_with(rel) &&
        path[path.size() - rel.size() - 1] == '/')
      return true;
  return false;
}

UnixTable ParseProcNetUnix(std::string_view text, size_t max_entries) {
  // "Num: RefCount Protocol Flags Type St Inode Path"; the path is the rest
  // of the line and may hold spaces.
  UnixTable t;
  size_t n = 0;
  while (!text.empty() && n < max_entries) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    std::string_view f[7];
    size_t i = 0;
    for (; i < 7; ++i) {
      while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      auto sp = line.find(' ');
      if (line.empty() || sp == std::string_view::npos) break;
      f[i] = line.substr(0, sp);
      line.remove_prefix(sp + 1);
    }
    if (i < 7 || line.empty() || line.front() == '@' || !f[0].ends_with(":")) continue;
    uint32_t flags = 0, type = 0;
    auto fr = std::from_chars(f[3].data(), f[3].data() + f[3].size(), flags, 16);
    auto tr = std::from_chars(f[4].data(), f[4].data() + f[4].size(), type, 16);
    if (fr.ec != std::errc() || tr.ec != std::errc()) continue;
    ++n;
    constexpr uint32_t kAcceptCon = 0x00010000, kDgram = 2;
    if (!(flags & kAcceptCon) && type != kDgram) continue;
    if (line.front() == '/')
      t.paths.emplace(line);
    else if (t.relative.size() < 1024)
      t.relative.emplace_back(line);
  }
  return t;
}

std::set<LockedInode> ParseProcLocks(std::string_view text, size_t max_entries) {
  // "1: POSIX  ADVISORY  WRITE 1234 08:01:1835012 0 EOF"; a waiter has "->".
  std::set<LockedInode> out;
  while (!text.empty() && out.size() < max_entries) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    size_t pos = 0;
    while (pos < line.size()) {
      auto end = line.find(' ', pos);
      std::string_view tok =
          line.substr(pos, end == std::string_view::npos ? line.npos : end - pos);
      pos = end == std::string_view::npos ? line.size() : end + 1;
      auto c1 = tok.find(':'), c2 = tok.rfind(':');
      if (c1 == 0 || c1 == std::string_view::npos || c2 == c1 || c2 + 1 >= tok.size()) continue;
      LockedInode l;
      auto a = std::from_chars(tok.data(), tok.data() + c1, l.major, 16);
      auto b = std::from_chars(tok.data() + c1 + 1, tok.data() + c2, l.minor, 16);
      auto c = std::from_chars(tok.data() + c2 + 1, tok.data() + tok.size(), l.ino, 10);
      if (a.ec == std::errc() && b.ec == std::errc() && c.ec == std::errc() &&
          a.ptr == tok.data() + c1 && b.ptr == tok.data() + c2 &&
          c.ptr == tok.data() + tok.size()) {
        out.insert(l);
        break;
      }
    }
  }
  return out;
}

std::string CanonicalRunPath(const std::string& path) {
  if (path == "/var/run" || path.starts_with("/var/run/")) return path.substr(4);
  if (path == "/var/lock" || path.starts_with("/var/lock/")) return "/run/lock" + path.substr(9);
  return path;
}

std::string Finding::Line() const {
  switch (kind) {
    case Kind::kPidFile:
      return unit.empty() ? fmt::format("stale pid file {} ({})", path, why)
                          : fmt::format("stale pid file {} ({}, {})", path, unit, why);
    case Kind::kSocket:
      return unit.empty() ? fmt::format("socket {}: {}", path, why)
                          : fmt::format("socket {}: {} ({})", path, why, unit);
    case Kind::kLock:
      return fmt::format("stale lock file {} ({}, {})", path, unit, why);
  }
  return path;
}

namespace {

struct Context {
  const std::vector<UnitFiles>& units;
  const JudgeOptions& o;
  const Clock& clock;
  UnixTable table;
  Judgment j;
};

void JudgePidFile(const Candidate& c, Context& x) {
  ++x.j.pid_files;
  const int pid = ParsePid(c.content);
  if (pid == 0) {
    ++x.j.unreadable;
    return;
  }
  const Owner own = OwnerOf(c, x.units);
  struct stat st {};
  const std::string unit = own.unit ? own.unit->name : "";
  if (::stat(fmt::format("{}/{}", x.o.proc_root, pid).c_str(), &st) != 0) {
    x.j.stale.push_back({c.path, c.kind, unit, fmt::format("pid {} not running", pid)});
    return;
  }
  x.j.alive_pid_files.insert(CanonicalRunPath(c.path));
  x.j.needs_units = true;
  if (!own.by_pid_file || own.unit->main_pid == static_cast<uint32_t>(pid)) return;
  if (auto other = OtherProgram(x.o.proc_root, pid, *own.unit))
    x.j.stale.push_back({c.path, c.kind, unit,
                         fmt::format("pid {} is {}, not {}", pid, *other, own.unit->exec_path)});
}

void JudgeSocket(const Candidate& c, Context& x) {
  ++x.j.sockets;
  if (x.table.Alive(c.path)) return;
  if (x.o.confirm_by_connect) {
    // Another network namespace's listener is not in our table; only a
    // refused connect proves nobody listens.
    int err = TryUnixConnect(x.o.fs_root + c.path, x.clock.Monotonic(), x.clock);
    if (err != ECONNREFUSED) return;
  }
  const Owner own = OwnerOf(c, x.units);
  std::string unit;
  if (own.unit) unit = own.unit->name + " " + own.unit->active_state;
  x.j.stale.push_back({c.path, c.kind, unit, "nobody listening"});
}

// Lock files whose owning units are all down; then those not held.
void JudgeLocks(const std::vector<const Candidate*>& locks, Context& x) {
  std::vector<const Candidate*> suspects;
  for (const auto* c : locks)
    if (OwnersAllDown(c->path, x.units)) suspects.push_back(c);
  if (suspects.empty()) return;
  std::set<std::string> full;
  for (const auto* c : suspects) full.insert(x.o.fs_root + c->path);
  bool incomplete = false;
  const auto open = OpenPaths(full, x.o, &incomplete);
  x.j.proc_incomplete = incomplete;
  if (incomplete) return;  // a holder we cannot see must not be guessed away
  const auto locked = ParseProcLocks(ReadPath(x.o.proc_root + "/locks", 1 << 20));
  for (const auto* c : suspects) {
    if (open.count(x.o.fs_root + c->path)) continue;
    if (locked.count(
            {static_cast<uint32_t>(major(c->dev)), static_cast<uint32_t>(minor(c->dev)), c->ino}))
      continue;
    const Owner own = OwnerOf(*c, x.units);
    x.j.stale.push_back({c->path, c->kind, own.unit->name + " " + own.unit->active_state,
                         "not held by any process"});
  }
}

}  // namespace

Judgment Judge(const std::vector<Candidate>& files, const std::vector<UnitFiles>& units,
               const JudgeOptions& o, const Clock& clock) {
  Context x{units, o, clock, {}, {}};
  const WallTime now = clock.Now();
  bool table_read = false;
  std::vector<const Candidate*> locks;
  for (const auto& c : files) {
    if (o.grace > Duration::zero() && c.mtime > now - o.grace) {
      ++x.j.too_young;
      continue;
    }
    switch (c.kind) {
      case Kind::kPidFile:
        JudgePidFile(c, x);
        break;
      case Kind::kSocket:
        if (!table_read) x.table = ParseProcNetUnix(ReadPath(o.proc_root + "/net/unix", 16 << 20));
        table_read = true;
        JudgeSocket(c, x);
        break;
      case Kind::kLock:
        ++x.j.locks;
        x.j.needs_units = true;
        locks.push_back(&c);
        break;
    }
  }
  JudgeLocks(locks, x);
  if (!x.j.stale.empty()) x.j.needs_units = true;
  return std::move(x.j);
}

Observation Report(const ScanResult& scan, const Judgment& j) {
  Observation obs;
  obs.AddMetric("stale_files", static_cast<double>(j.stale.size()));
  obs.AddMetric("pid_files", static_cast<double>(j.pid_files));
  obs.AddMetric("sockets", static_cast<double>(j.sockets));
  obs.AddMetric("lock_files", static_cast<double>(j.locks));
  // Per-path metrics, bounded so the store's cap (64 per observation) keeps
  // the counts above.
  for (size_t i = 0; i < j.stale.size() && i < 56; ++i)
    obs.AddMetric("stale:" + j.stale[i].path, 1);

  std::string roots;
  for (const auto& r : scan.roots) roots += (roots.empty() ? "" : ", ") + CanonicalRunPath(r);
  for (const auto& f : j.stale) obs.details += f.Line() + "\n";
  for (const auto& s : scan.skipped) obs.details += "not scanned: " + s + "\n";
  for (const auto& u : scan.unreadable) obs.details += "cannot read: " + u + "\n";
  if (j.too_young)
    obs.details += fmt::format("{} files changed too recently to judge\n", j.too_young);
  if (j.unreadable) obs.details += fmt::format("{} pid files hold no pid\n", j.unreadable);
  if (j.proc_incomplete) obs.details += "lock files not judged: not every process could be read\n";
  const std::string early =
      scan.stopped_early ? fmt::format("; stopped early after {} entries", scan.entries) : "";

  if (j.stale.empty()) {
    obs.status = CheckStatus::kOk;
    if (scan.roots.empty()) {
      obs.summary = "no runtime directories to scan";
      return obs;
    }
    obs.summary =
        fmt::format("no stale files in {} ({} pid files, {} sockets, {} lock files checked){}",
                    roots, j.pid_files, j.sockets, j.locks, early);
    return obs;
  }
  obs.status = CheckStatus::kWarning;
  constexpr size_t kNamed = 8;
  for (size_t i = 0; i < j.stale.size() && i < kNamed; ++i)
    obs.summary += (i ? "; " : "") + j.stale[i].Line();
  if (j.stale.size() > kNamed) obs.summary += fmt::format("; and {} more", j.stale.size() - kNamed);
  obs.summary += early;
  return obs;
}

}  // namespace mamori::host::stale
