// The remove_unused_files remedy step: removes files matching a glob that no
// process uses, judged through /proc (open descriptors, memory mappings,
// executables, working directories), never following a symlink below the
// pattern's literal directory, and only inside the runtime directories
// unless the step says allow_outside_runtime_dirs: true. Incident 3: a stale
// mod_python mutex kept Apache down after a crash.
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

#include "mamori/remedy/remedy.h"
#include "mamori/remedy/steps_common.h"

namespace mamori::remedy {
namespace {

constexpr size_t kMaxGlobMatches = 100;
// Bounds the directories a remove_unused_files pattern may walk (each one is
// held open until its files are removed).
constexpr size_t kMaxGlobDirs = 64;
// Where stale runtime files live; remove_unused_files stays inside these
// unless a step says allow_outside_runtime_dirs: true.
constexpr std::array<const char*, 6> kRuntimeDirs = {"/run",      "/var/run", "/run/lock",
                                                     "/var/lock", "/tmp",     "/var/tmp"};

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

class RemoveUnusedFiles : public StepAction {
 public:
  RemoveUnusedFiles(std::string pattern, bool allow_outside_runtime_dirs)
      : pattern_(std::move(pattern)), allow_outside_runtime_dirs_(allow_outside_runtime_dirs) {}
  std::string Describe() const override { return "remove_unused_files " + pattern_; }
  StepOutcome Run(const Plan& plan) const override;

 private:
  std::string pattern_;
  // The pattern may lie outside the runtime dirs (the config said so
  // explicitly).
  bool allow_outside_runtime_dirs_;
};

StepOutcome RemoveUnusedFiles::Run(const Plan& plan) const {
  StepOutcome o{Describe(), false, ""};
  NoFollowGlob glob;
  if (auto refused = glob.Expand(pattern_, allow_outside_runtime_dirs_); !refused.empty()) {
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
  const auto in_use = FilesInUse(wanted, plan.proc_root, &blind);
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

// Validates a remove_unused_files step's pattern against its
// allow_outside_runtime_dirs key; false (with an error) when unsafe.
bool SafePattern(config::ConfigNode& s, const std::string& pattern, bool allow_outside) {
  const auto parts = Components(pattern);
  const std::string last = parts.empty() ? "" : parts.back();
  if (parts.empty() || pattern.ends_with("/") || last.find_first_not_of('*') == std::string::npos) {
    s.ErrorAt("remove_unused_files",
              fmt::format("'{}' would match whole directories of files", pattern),
              "name the stale files precisely, e.g. /tmp/mpmtx* or /run/app/*.lock");
    return false;
  }
  if (std::any_of(parts.begin(), parts.end(),
                  [](const std::string& c) { return c == "." || c == ".."; })) {
    s.ErrorAt("remove_unused_files", fmt::format("'{}' contains '.' or '..' components", pattern),
              "write the directory as it is, e.g. /run/app/*.lock");
    return false;
  }
  const std::string dir = pattern.substr(0, pattern.rfind('/'));
  if (!allow_outside && !InRuntimeDirs(dir.empty() ? "/" : dir, false)) {
    s.ErrorAt(
        "remove_unused_files",
        fmt::format("'{}' is outside the runtime directories ({})", pattern,
                    Join(std::vector<std::string>(kRuntimeDirs.begin(), kRuntimeDirs.end()), ", ")),
        "stale locks, sockets and PID files live there; to clean elsewhere on purpose, "
        "add allow_outside_runtime_dirs: true to this step");
    return false;
  }
  return true;
}

std::unique_ptr<StepAction> Read(config::ConfigNode& step) {
  const bool allow_outside = step.GetBool("allow_outside_runtime_dirs").value_or(false);
  auto pattern = ReadAbsolutePath(step, "remove_unused_files");
  if (!pattern || !SafePattern(step, *pattern, allow_outside)) return nullptr;
  return std::make_unique<RemoveUnusedFiles>(*pattern, allow_outside);
}

}  // namespace

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

}  // namespace mamori::remedy

namespace mamori::remedies::remove_unused_files {

void Register(remedy::StepRegistry& registry) {
  registry.Add({"remove_unused_files",
                "GLOB",
                "removes matching files no process uses (judged through /proc)",
                remedy::Read,
                {"allow_outside_runtime_dirs"}});
}

}  // namespace mamori::remedies::remove_unused_files
