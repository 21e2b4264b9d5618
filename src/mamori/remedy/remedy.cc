#include "mamori/remedy/remedy.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "mamori/util/subprocess.h"
#include "mamori/util/units.h"
#include "mamori/util/unix_connect.h"

namespace mamori::remedy {
namespace {

constexpr size_t kMaxSteps = 20;
constexpr size_t kMaxGlobMatches = 100;
constexpr size_t kMaxDetail = 300;
// Bounds the directories a remove_unused_files pattern may walk (each one is
// held open until its files are removed).
constexpr size_t kMaxGlobDirs = 64;
// A non-blocking connect to a Unix socket answers at once on Linux; this only
// bounds the poll for kernels that report EINPROGRESS.
constexpr Duration kSocketConnectTimeout = std::chrono::seconds(5);
// Where stale runtime files live; remove_unused_files stays inside these
// unless a step says allow_outside_runtime_dirs: true.
constexpr std::array<const char*, 6> kRuntimeDirs = {"/run",      "/var/run", "/run/lock",
                                                     "/var/lock", "/tmp",     "/var/tmp"};

std::string Describe(const Step& s) {
  switch (s.kind) {
    case StepKind::kRemoveStaleSocket:
      return "remove_stale_socket " + s.path;
    case StepKind::kRemoveUnusedFiles:
      return "remove_unused_files " + s.path;
    case StepKind::kCommand: {
      std::string out;
      for (const auto& a : s.argv) out += (out.empty() ? "" : " ") + a;
      return out;
    }
  }
  return "?";
}

std::string OneLine(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  if (s.size() > kMaxDetail) s = s.substr(0, kMaxDetail) + "...";
  return s;
}

StepOutcome RemoveStaleSocket(const Step& step) {
  StepOutcome o{Describe(step), false, ""};
  struct stat st {};
  if (::lstat(step.path.c_str(), &st) != 0) {
    o.ok = errno == ENOENT;
    o.detail = errno == ENOENT ? "not there: nothing to remove"
                               : fmt::format("cannot stat: {}", std::strerror(errno));
    return o;
  }
  if (!S_ISSOCK(st.st_mode)) {
    o.detail = "not a socket: left alone";
    return o;
  }
  std::string why;
  if (!SocketIsStale(step.path, &why)) {
    // A live socket needs no removal; whatever else is wrong is not this
    // step's business, so the next steps still run.
    o.ok = true;
    o.detail = why + ": left alone";
    return o;
  }
  if (::unlink(step.path.c_str()) != 0) {
    o.detail = fmt::format("stale, but cannot remove: {}", std::strerror(errno));
    return o;
  }
  o.ok = true;
  o.detail = "stale (connection refused): removed";
  return o;
}

using FileId = std::pair<dev_t, ino_t>;

// The initial PID namespace's inode number (PROC_PID_INIT_INO); any other
// means mamori runs in a container and cannot see processes outside it.
constexpr ino_t kInitialPidNamespace = 0xEFFFFFFCU;

bool Gone(int err) { return err == ENOENT || err == ESRCH; }

// Why some processes may be missing from proc_root altogether (so no
// unreadable entry would even show), or empty when all can be seen.
std::string HiddenProcesses(const std::string& proc_root) {
  struct stat ns {};
  if (::stat((proc_root + "/self/ns/pid").c_str(), &ns) == 0 && ns.st_ino != kInitialPidNamespace)
    return "mamori runs in a PID namespace of its own (a container): processes outside it "
           "cannot be seen";
  if (::geteuid() == 0) return "";  // hidepid does not hide processes from root
  std::ifstream mounts(proc_root + "/self/mountinfo");
  std::string line;
  while (std::getline(mounts, line)) {
    // "... MOUNTPOINT OPTIONS ... - proc proc rw,hidepid=2"
    const auto dash = line.find(" - proc ");
    if (dash == std::string::npos || line.find(" " + proc_root + " ") == std::string::npos)
      continue;
    const auto h = line.find("hidepid=", dash);
    if (h != std::string::npos && line.compare(h, 9, "hidepid=0") != 0 &&
        line.compare(h, 11, "hidepid=off") != 0)
      return proc_root + " hides other users' processes (hidepid) and mamori is not root";
  }
  return "";
}

// Adds to `in_use` the wanted files process `dir` (proc_root/PID) holds:
// open descriptors, memory mappings (an mmapped lock or shared memory file
// needs no open descriptor), its executable and working directory. False
// when any of that cannot be read: the process is then a blind spot.
bool ScanProcess(const std::string& dir, const std::map<FileId, std::string>& wanted,
                 const std::set<ino_t>& inodes, std::set<FileId>* in_use) {
  auto note = [&](const std::string& link) {
    struct stat st {};
    if (::stat(link.c_str(), &st) != 0) return Gone(errno);
    if (wanted.count({st.st_dev, st.st_ino})) in_use->insert({st.st_dev, st.st_ino});
    return true;
  };
  if (!note(dir + "/exe") || !note(dir + "/cwd")) return false;
  DIR* fds = ::opendir((dir + "/fd").c_str());
  if (!fds) return Gone(errno);
  bool fds_ok = true;
  while (dirent* f = ::readdir(fds))
    if (f->d_name[0] != '.' && !note(dir + "/fd/" + f->d_name)) fds_ok = false;
  ::closedir(fds);
  if (!fds_ok) return false;
  FILE* maps = std::fopen((dir + "/maps").c_str(), "re");
  if (!maps) return Gone(errno);
  char* line = nullptr;
  size_t cap = 0;
  while (::getline(&line, &cap, maps) > 0) {
    unsigned major = 0, minor = 0;
    unsigned long inode = 0;
    int path_at = 0;
    if (std::sscanf(line, "%*s %*s %*s %x:%x %lu %n", &major, &minor, &inode, &path_at) < 3 ||
        !inodes.count(static_cast<ino_t>(inode)))
      continue;
    std::string path = line + path_at;
    while (!path.empty() && path.back() == '\n') path.pop_back();
    if (path.ends_with(" (deleted)")) path.resize(path.size() - 10);
    // maps names the superblock's device, which differs from stat's on
    // btrfs subvolumes and overlayfs: the same inode under the same path
    // counts too.
    for (const auto& [id, p] : wanted)
      if (id.second == inode && (id.first == makedev(major, minor) || p == path))
        in_use->insert(id);
  }
  const bool read_ok = !std::ferror(maps);
  std::free(line);
  std::fclose(maps);
  return read_ok;
}

// Of `wanted` (file id -> path), those some process under proc_root uses.
// `blind` says why that cannot be told (then the result is not to be
// trusted), or stays empty.
std::set<FileId> FilesInUse(const std::map<FileId, std::string>& wanted,
                            const std::string& proc_root, std::string* blind) {
  // The processes that can be seen are scanned even then, so the answer
  // names every use that is known.
  *blind = HiddenProcesses(proc_root);
  std::set<FileId> in_use;
  std::set<ino_t> inodes;
  for (const auto& [id, p] : wanted) inodes.insert(id.second);
  DIR* proc = ::opendir(proc_root.c_str());
  if (!proc) {
    *blind = fmt::format("cannot list {}: {}", proc_root, std::strerror(errno));
    return in_use;
  }
  while (dirent* e = ::readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    if (!ScanProcess(proc_root + "/" + e->d_name, wanted, inodes, &in_use) && blind->empty())
      *blind = fmt::format("cannot see what process {} uses (run mamori as root)", e->d_name);
  }
  ::closedir(proc);
  return in_use;
}

bool HasWildcard(const std::string& component) {
  return component.find_first_of("*?[") != std::string::npos;
}

std::vector<std::string> Components(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    const size_t j = std::min(path.find('/', i), path.size());
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// `path` (already resolved, no "." or "..") is one of the runtime dirs or
// inside one. `resolve` compares against each dir's real path (/var/run is
// a symlink to /run on most systems).
bool InRuntimeDirs(const std::string& path, bool resolve) {
  for (const char* dir : kRuntimeDirs) {
    std::string d = dir;
    if (resolve) {
      char buf[PATH_MAX];
      if (!::realpath(dir, buf)) continue;
      d = buf;
    }
    if (path == d || path.starts_with(d + "/")) return true;
  }
  return false;
}

// A file a pattern matched, named relative to a directory we hold open, so
// removing it cannot be redirected by a symlink swapped in meanwhile.
struct Match {
  int dir = -1;
  std::string name, path;
  FileId id;
};

// Expands a glob without ever following a symlink below its literal prefix:
// a wildcard component that names a symlinked directory is skipped (glob(3)
// would walk /tmp/app/* into /etc through a planted link), and matches are
// only regular files and sockets, judged by lstat. The literal prefix (the
// directories the user spelled out) may be a symlink such as /var/run, but
// where it really leads must stay inside the runtime dirs unless the step
// allows otherwise. Owns the directory descriptors it opens.
class NoFollowGlob {
 public:
  ~NoFollowGlob() {
    for (int fd : dirs_) ::close(fd);
  }
  // Empty on success, else why nothing was matched on purpose.
  std::string Expand(const std::string& pattern, bool allow_outside_runtime_dirs) {
    const auto parts = Components(pattern);
    if (parts.empty()) return "empty pattern";
    size_t literal = 0;
    while (literal + 1 < parts.size() && !HasWildcard(parts[literal])) ++literal;
    std::string prefix;
    for (size_t i = 0; i < literal; ++i) prefix += "/" + parts[i];
    if (prefix.empty()) prefix = "/";
    const int dir = ::open(prefix.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return errno == ENOENT ? "" : fmt::format("{}: {}", prefix, std::strerror(errno));
    dirs_.push_back(dir);
    const std::string real = RealPath(dir, prefix);
    if (!allow_outside_runtime_dirs && !InRuntimeDirs(real, true))
      return fmt::format("{} leads to {}, outside the runtime directories", prefix, real);
    Walk(dir, prefix == "/" ? "" : prefix, parts, literal);
    return "";
  }
  const std::vector<Match>& matches() const { return matches_; }

 private:
  static std::string RealPath(int fd, const std::string& fallback) {
    char buf[PATH_MAX];
    const std::string link = "/proc/self/fd/" + std::to_string(fd);
    const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    if (n > 0 && buf[0] == '/') return std::string(buf, static_cast<size_t>(n));
    return ::realpath(fallback.c_str(), buf) ? std::string(buf) : fallback;
  }

  std::vector<std::string> Names(int dir, const std::string& component) {
    if (!HasWildcard(component)) return {component};
    std::vector<std::string> names;
    const int own = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* d = own >= 0 ? ::fdopendir(own) : nullptr;
    if (!d) {
      if (own >= 0) ::close(own);
      return names;
    }
    while (dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n == "." || n == "..") continue;
      if (::fnmatch(component.c_str(), n.c_str(), FNM_PERIOD) == 0) names.push_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }

  void Walk(int dir, const std::string& dir_path, const std::vector<std::string>& parts, size_t i) {
    const bool last = i + 1 == parts.size();
    for (const auto& name : Names(dir, parts[i])) {
      if (matches_.size() >= kMaxGlobMatches) return;
      const std::string path = dir_path + "/" + name;
      if (last) {
        struct stat st {};
        if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            (S_ISREG(st.st_mode) || S_ISSOCK(st.st_mode)))
          matches_.push_back({dir, name, path, {st.st_dev, st.st_ino}});
        continue;
      }
      if (dirs_.size() >= kMaxGlobDirs) return;
      // O_NOFOLLOW: a symlink here fails with ELOOP and is skipped.
      const int sub = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) continue;
      dirs_.push_back(sub);
      Walk(sub, path, parts, i + 1);
    }
  }

  std::vector<int> dirs_;
  std::vector<Match> matches_;
};

// Removes `m` if the name still denotes the file that was judged unused
// (not a file or symlink put there since).
int UnlinkIfSame(const Match& m) {
  struct stat st {};
  if (::fstatat(m.dir, m.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return errno;
  if (FileId{st.st_dev, st.st_ino} != m.id || !(S_ISREG(st.st_mode) || S_ISSOCK(st.st_mode)))
    return ESTALE;
  return ::unlinkat(m.dir, m.name.c_str(), 0) == 0 ? 0 : errno;
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

StepOutcome RemoveUnusedFiles(const Step& step, const std::string& proc_root) {
  StepOutcome o{Describe(step), false, ""};
  NoFollowGlob glob;
  if (auto refused = glob.Expand(step.path, step.allow_outside_runtime_dirs); !refused.empty()) {
    o.detail = OneLine(refused + ": removed nothing");
    return o;
  }
  if (glob.matches().empty()) {
    o.ok = true;
    o.detail = "no matching files: nothing to remove";
    return o;
  }
  std::map<FileId, std::string> wanted;
  for (const auto& m : glob.matches()) wanted.emplace(m.id, m.path);
  std::string blind;
  const auto in_use = FilesInUse(wanted, proc_root, &blind);
  if (!blind.empty()) {
    o.detail = OneLine(blind + ": removed nothing");
    return o;
  }
  std::vector<std::string> removed, kept, failed;
  for (const auto& m : glob.matches()) {
    if (in_use.count(m.id)) {
      kept.push_back(m.path);
    } else if (const int err = UnlinkIfSame(m); err == 0) {
      removed.push_back(m.path);
    } else {
      failed.push_back(m.path + " (" + (err == ESTALE ? "replaced meanwhile" : std::strerror(err)) +
                       ")");
    }
  }
  std::vector<std::string> parts;
  if (!removed.empty()) parts.push_back("removed " + Join(removed, ", "));
  if (!kept.empty()) parts.push_back("in use, kept " + Join(kept, ", "));
  if (!failed.empty()) parts.push_back("could not remove " + Join(failed, ", "));
  o.ok = failed.empty();
  o.detail = OneLine(Join(parts, "; "));
  return o;
}

StepOutcome RunCommand(const Step& step, Duration timeout) {
  StepOutcome o{Describe(step), false, ""};
  ProcessOptions po;
  po.argv = step.argv;
  po.merge_stderr = true;
  po.timeout = timeout;
  po.max_output = 4096;
  // A remedy usually starts a service, and a daemon that forks into the
  // background is still in our process group for a moment before setsid():
  // it must survive the command's exit (a timeout still kills the group).
  po.kill_group_on_exit = false;
  auto r = RunProcess(po);
  if (!r.ok()) {
    o.detail = r.error().message();
    return o;
  }
  std::string tail = OneLine(r->out);
  if (r->timed_out) {
    o.detail = fmt::format("timed out after {}{}", FormatDuration(timeout),
                           tail.empty() ? "" : ": " + tail);
  } else if (r->term_signal > 0) {
    o.detail = fmt::format("killed by signal {}", r->term_signal);
  } else {
    o.ok = r->exit_code == 0;
    o.detail = fmt::format("exited {}{}", r->exit_code, tail.empty() ? "" : ": " + tail);
  }
  return o;
}

}  // namespace

bool SocketIsStale(const std::string& path, std::string* why) {
  SystemClock clock;
  const int err = TryUnixConnect(path, clock.Monotonic() + kSocketConnectTimeout, clock);
  if (err == 0) {
    *why = "live (accepts connections)";
    return false;
  }
  if (err == ECONNREFUSED) {
    *why = "stale (connection refused)";
    return true;
  }
  if (err == EAGAIN || err == ETIMEDOUT) {
    *why = "live but overloaded (listen backlog full)";
    return false;
  }
  if (err == ENAMETOOLONG) {
    *why = "path too long for a socket";
    return false;
  }
  *why = std::string("not judged stale: ") + std::strerror(err);
  return false;
}

std::vector<std::string> OpenByAnyProcess(const std::vector<std::string>& paths,
                                          const std::string& proc_root, bool* unknown) {
  // Compare by device and inode, not by name: /proc/PID/fd links name the
  // file as the process opened it (relative paths, bind mounts).
  std::map<FileId, std::string> wanted;
  for (const auto& p : paths) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0) wanted.emplace(FileId{st.st_dev, st.st_ino}, p);
  }
  std::string blind;
  const auto in_use = FilesInUse(wanted, proc_root, &blind);
  *unknown = !blind.empty();
  std::vector<std::string> out;
  for (const auto& p : paths) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0 && in_use.count({st.st_dev, st.st_ino})) out.push_back(p);
  }
  return out;
}

std::string Outcome::Summary() const {
  std::string out;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (!out.empty()) out += "; ";
    out += steps[i].step + ": " + steps[i].detail;
  }
  if (ok) return "remedy ok: " + out;
  return fmt::format("remedy failed at step {}: {}", steps.size(), out);
}

Outcome Execute(const Plan& plan) {
  Outcome out;
  for (const auto& step : plan.steps) {
    StepOutcome s;
    switch (step.kind) {
      case StepKind::kRemoveStaleSocket:
        s = RemoveStaleSocket(step);
        break;
      case StepKind::kRemoveUnusedFiles:
        s = RemoveUnusedFiles(step, plan.proc_root);
        break;
      case StepKind::kCommand:
        s = RunCommand(step, plan.command_timeout);
        break;
    }
    out.steps.push_back(s);
    if (!s.ok) {
      out.ok = false;
      break;
    }
  }
  return out;
}

bool Guard::TryAcquire(const Plan& plan, WallTime now) {
  if (attempts_in_window(plan, now) >= static_cast<size_t>(plan.max_attempts)) return false;
  attempts_.push_back(now);
  return true;
}

size_t Guard::attempts_in_window(const Plan& plan, WallTime now) {
  while (!attempts_.empty() && now - attempts_.front() >= plan.window) attempts_.pop_front();
  return attempts_.size();
}

namespace {

// Validates a remove_unused_files step's pattern and its
// allow_outside_runtime_dirs key; false (with an error) when unsafe.
bool ReadFilesPattern(config::ConfigNode& s, Step& step) {
  step.allow_outside_runtime_dirs = s.GetBool("allow_outside_runtime_dirs").value_or(false);
  const auto parts = Components(step.path);
  const std::string last = parts.empty() ? "" : parts.back();
  if (parts.empty() || step.path.ends_with("/") ||
      last.find_first_not_of('*') == std::string::npos) {
    s.ErrorAt("remove_unused_files",
              fmt::format("'{}' would match whole directories of files", step.path),
              "name the stale files precisely, e.g. /tmp/mpmtx* or /run/app/*.lock");
    return false;
  }
  if (std::any_of(parts.begin(), parts.end(),
                  [](const std::string& c) { return c == "." || c == ".."; })) {
    s.ErrorAt("remove_unused_files", fmt::format("'{}' contains '.' or '..' components", step.path),
              "write the directory as it is, e.g. /run/app/*.lock");
    return false;
  }
  const std::string dir = step.path.substr(0, step.path.rfind('/'));
  if (!step.allow_outside_runtime_dirs && !InRuntimeDirs(dir.empty() ? "/" : dir, false)) {
    s.ErrorAt(
        "remove_unused_files",
        fmt::format("'{}' is outside the runtime directories ({})", step.path,
                    Join(std::vector<std::string>(kRuntimeDirs.begin(), kRuntimeDirs.end()), ", ")),
        "stale locks, sockets and PID files live there; to clean elsewhere on purpose, "
        "add allow_outside_runtime_dirs: true to this step");
    return false;
  }
  return true;
}

}  // namespace

std::shared_ptr<const Plan> ReadPlan(config::ConfigNode& check) {
  if (!check.Has("remedy")) {
    check.Known("remedy");
    return nullptr;
  }
  auto node = check.GetMap("remedy");
  if (!node) return nullptr;
  auto plan = std::make_shared<Plan>();
  bool ok = true;
  if (auto v = node->GetInt("max_attempts", 1, 100)) plan->max_attempts = static_cast<int>(*v);
  if (auto v = node->GetDuration("window")) plan->window = *v;
  if (auto v = node->GetDuration("timeout")) plan->command_timeout = *v;
  auto steps = node->GetMapList("steps");
  if (!steps || steps->empty()) {
    if (!node->Has("steps") || (steps && steps->empty()))
      node->Error("remedy has no steps",
                  "list what to do under steps:, e.g. steps: [{remove_stale_socket: "
                  "/run/php/php-fpm.sock}, {command: [systemctl, restart, php-fpm]}]");
    return nullptr;
  }
  if (steps->size() > kMaxSteps) {
    node->ErrorAt("steps", fmt::format("{} steps; at most {}", steps->size(), kMaxSteps),
                  "split the work into a script and run it with command:");
    return nullptr;
  }
  for (auto& s : *steps) {
    Step step;
    int kinds = 0;
    if (auto p = s.GetString("remove_stale_socket")) {
      step.kind = StepKind::kRemoveStaleSocket;
      step.path = *p;
      ++kinds;
    }
    if (auto p = s.GetString("remove_unused_files")) {
      step.kind = StepKind::kRemoveUnusedFiles;
      step.path = *p;
      ++kinds;
    }
    if (s.Has("command")) {
      const YAML::Node& c = s.yaml()["command"];
      if (!c.IsSequence() || c.size() == 0) {
        s.ErrorAt("command", "command must be a list: the program and its arguments",
                  "write command: [systemctl, restart, php8.2-fpm] (no shell is involved)");
        ok = false;
      }
      auto argv = s.GetStringList("command");
      if (argv) step.argv = *argv;
      step.kind = StepKind::kCommand;
      ++kinds;
    }
    if (step.kind != StepKind::kRemoveUnusedFiles && s.Has("allow_outside_runtime_dirs")) {
      s.ErrorAt("allow_outside_runtime_dirs",
                "allow_outside_runtime_dirs applies only to "
                "remove_unused_files",
                "move it into the remove_unused_files step or drop it");
      ok = false;
      continue;
    }
    if (kinds != 1) {
      s.Error(kinds == 0 ? "a remedy step needs one action" : "a remedy step has several actions",
              "each step is exactly one of remove_stale_socket: PATH, remove_unused_files: GLOB, "
              "command: [ARGV]");
      ok = false;
      continue;
    }
    if (step.kind != StepKind::kCommand && (step.path.empty() || step.path[0] != '/')) {
      s.Error(fmt::format("'{}' is not an absolute path", step.path),
              "write the full path, starting with '/'");
      ok = false;
      continue;
    }
    if (step.kind == StepKind::kRemoveUnusedFiles && !ReadFilesPattern(s, step)) {
      ok = false;
      continue;
    }
    plan->steps.push_back(std::move(step));
  }
  if (!ok) return nullptr;
  return plan;
}

}  // namespace mamori::remedy
