#include "mamori/host/deleted_libs.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace mamori::host::deleted_libs {
namespace {

constexpr std::string_view kDeleted = " (deleted)";

bool Under(std::string_view file, const std::vector<std::string>& paths) {
  for (std::string_view dir : paths) {
    while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
    if (file.size() > dir.size() && file.substr(0, dir.size()) == dir &&
        (dir == "/" || file[dir.size()] == '/'))
      return true;
  }
  return false;
}

// Skips `count` whitespace-separated fields of `line` from `pos`.
size_t SkipFields(std::string_view line, size_t pos, int count) {
  for (int i = 0; i < count; ++i) {
    while (pos < line.size() && line[pos] == ' ') ++pos;
    while (pos < line.size() && line[pos] != ' ') ++pos;
  }
  while (pos < line.size() && line[pos] == ' ') ++pos;
  return pos;
}

// Reads at most `max` bytes of a /proc file (size 0 in stat: read until EOF).
std::string ReadBounded(const std::string& path, size_t max, bool* ok) {
  std::string out;
  *ok = false;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[65536];
  for (;;) {
    const size_t want = std::min(sizeof buf, max - out.size());
    if (want == 0) break;
    const ssize_t n = ::read(fd, buf, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return out;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  *ok = true;
  return out;
}

}  // namespace

std::vector<std::string> DefaultPaths() {
  return {"/usr/lib",     "/usr/lib64",     "/usr/lib32",     "/lib",           "/lib64",
          "/lib32",       "/usr/bin",       "/usr/sbin",      "/bin",           "/sbin",
          "/usr/libexec", "/usr/local/lib", "/usr/local/bin", "/usr/local/sbin"};
}

std::vector<std::string> DeletedCode(std::string_view maps, const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  while (!maps.empty()) {
    const size_t nl = maps.find('\n');
    const std::string_view line = maps.substr(0, nl);
    maps = nl == std::string_view::npos ? std::string_view{} : maps.substr(nl + 1);
    if (line.size() <= kDeleted.size() || !line.ends_with(kDeleted)) continue;
    // address perms offset dev inode path
    const size_t perms = SkipFields(line, 0, 1);
    if (perms + 2 >= line.size() || line[perms + 2] != 'x') continue;
    const size_t path = SkipFields(line, 0, 5);
    if (path >= line.size() || line[path] != '/') continue;
    const std::string file(line.substr(path, line.size() - path - kDeleted.size()));
    if (!Under(file, paths)) continue;
    if (std::find(out.begin(), out.end(), file) == out.end()) out.push_back(file);
  }
  return out;
}

std::string UnitFromCgroup(std::string_view cgroup) {
  std::string_view path;
  while (!cgroup.empty()) {
    const size_t nl = cgroup.find('\n');
    const std::string_view line = cgroup.substr(0, nl);
    cgroup = nl == std::string_view::npos ? std::string_view{} : cgroup.substr(nl + 1);
    if (line.starts_with("0::"))
      path = line.substr(3);
    else if (path.empty() && line.find(":name=systemd:") != std::string_view::npos)
      path = line.substr(line.find(":name=systemd:") + 14);
  }
  // The innermost service: a process of user@1000.service/app.slice/x.service is x's.
  while (!path.empty()) {
    const size_t slash = path.rfind('/');
    const std::string_view part = path.substr(slash == std::string_view::npos ? 0 : slash + 1);
    if (part.ends_with(".service")) return std::string(part);
    if (slash == std::string_view::npos) break;
    path = path.substr(0, slash);
  }
  return "";
}

ScanResult ScanProcesses(const ScanOptions& o, MonoTime deadline) {
  ScanResult r;
  DIR* d = ::opendir(o.proc_root.c_str());
  if (!d) return r;
  while (const dirent* e = ::readdir(d)) {
    const std::string pid = e->d_name;
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (r.scanned >= o.max_processes || std::chrono::steady_clock::now() >= deadline) {
      r.cut_short = true;
      break;
    }
    const std::string dir = o.proc_root + "/" + pid;
    bool ok = false;
    const std::string maps = ReadBounded(dir + "/maps", o.max_maps_bytes, &ok);
    if (!ok) continue;
    ++r.scanned;
    auto files = DeletedCode(maps, o.paths);
    if (files.empty()) continue;
    Process p;
    p.pid = std::stoi(pid);
    p.name = ReadBounded(dir + "/comm", 256, &ok);
    while (!p.name.empty() && p.name.back() == '\n') p.name.pop_back();
    if (p.name.empty()) p.name = "pid " + pid;
    p.unit = UnitFromCgroup(ReadBounded(dir + "/cgroup", 65536, &ok));
    p.files = std::move(files);
    r.found.push_back(std::move(p));
  }
  ::closedir(d);
  std::sort(r.found.begin(), r.found.end(),
            [](const Process& a, const Process& b) { return a.pid < b.pid; });
  return r;
}

}  // namespace mamori::host::deleted_libs
