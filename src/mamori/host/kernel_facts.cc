#include "mamori/host/kernel_facts.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

namespace mamori::host::kernel {
namespace {

bool Digit(char c) { return c >= '0' && c <= '9'; }
bool Alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// dpkg's order(): digits sort as 0 (handled as numbers by the caller),
// letters by their code, '~' before everything (even the end), others after
// letters.
int Order(char c) {
  if (Digit(c)) return 0;
  if (Alpha(c)) return static_cast<unsigned char>(c);
  if (c == '~') return -1;
  if (c) return static_cast<unsigned char>(c) + 256;
  return 0;
}

}  // namespace

int VersionCompare(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  auto at = [](std::string_view s, size_t k) { return k < s.size() ? s[k] : '\0'; };
  while (i < a.size() || j < b.size()) {
    while ((i < a.size() && !Digit(a[i])) || (j < b.size() && !Digit(b[j]))) {
      const int ac = Order(at(a, i)), bc = Order(at(b, j));
      if (ac != bc) return ac - bc;
      ++i, ++j;
    }
    while (at(a, i) == '0') ++i;
    while (at(b, j) == '0') ++j;
    int first_diff = 0;
    while (Digit(at(a, i)) && Digit(at(b, j))) {
      if (!first_diff) first_diff = at(a, i) - at(b, j);
      ++i, ++j;
    }
    if (Digit(at(a, i))) return 1;
    if (Digit(at(b, j))) return -1;
    if (first_diff) return first_diff;
  }
  return 0;
}

Release SplitRelease(std::string_view release) {
  size_t cut = release.size();
  // Walk back over "-word" parts that start with a letter.
  for (size_t dash = release.rfind('-'); dash != std::string_view::npos && dash > 0;
       dash = release.rfind('-', dash - 1)) {
    if (dash + 1 >= cut || !Alpha(release[dash + 1])) break;
    cut = dash;
  }
  Release r;
  r.version = std::string(release.substr(0, cut));
  r.flavour = cut < release.size() ? std::string(release.substr(cut + 1)) : "";
  return r;
}

std::string NewerInstalled(const std::string& running, const std::vector<std::string>& installed) {
  const Release run = SplitRelease(running);
  std::string best;
  Release best_r;
  for (const auto& k : installed) {
    const Release r = SplitRelease(k);
    if (r.flavour != run.flavour || VersionCompare(r.version, run.version) <= 0) continue;
    if (best.empty() || VersionCompare(r.version, best_r.version) > 0) {
      best = k;
      best_r = r;
    }
  }
  return best;
}

namespace {

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (const dirent* e = ::readdir(d)) {
    if (out.size() >= 1024) break;
    if (e->d_name[0] != '.') out.emplace_back(e->d_name);
  }
  ::closedir(d);
  return out;
}

}  // namespace

std::vector<std::string> InstalledKernels(const std::string& fs_root) {
  std::set<std::string> found;
  for (const auto& name : Entries(fs_root + "/boot"))
    if (name.rfind("vmlinuz-", 0) == 0 && name.size() > 8) found.insert(name.substr(8));
  const std::string modules = fs_root + "/lib/modules/";
  for (const auto& name : Entries(modules)) {
    struct stat st {};
    if (::stat((modules + name + "/modules.dep").c_str(), &st) == 0) found.insert(name);
  }
  std::vector<std::string> out(found.begin(), found.end());
  if (out.size() > 256) out.resize(256);
  return out;
}

namespace {

// "NAME" of "(NAME) total-vm..." starting at `open` (the '(').
std::string CommAt(const std::string& line, size_t open) {
  size_t close = line.find(") total-vm", open);
  if (close == std::string::npos) close = line.find(')', open + 1);
  if (close == std::string::npos) return "";
  return line.substr(open + 1, close - open - 1);
}

// The value of ",KEY=" up to the next ',' ("" when absent).
std::string Field(const std::string& line, std::string_view key) {
  const size_t at = line.find(key);
  if (at == std::string::npos) return "";
  const size_t from = at + key.size();
  return line.substr(from, line.find(',', from) - from);
}

}  // namespace

std::map<std::string, int> OomKills(const std::vector<std::string>& lines) {
  // One kill is one (name, pid), whichever of its lines, and from however
  // many sources (the ring buffer and the journal), made it here.
  std::set<std::pair<std::string, std::string>> kills;
  static constexpr std::string_view kKilled = "Killed process ";
  for (const auto& line : lines) {
    if (const size_t at = line.find(kKilled); at != std::string::npos) {
      const size_t from = at + kKilled.size();
      size_t p = from;
      while (p < line.size() && Digit(line[p])) ++p;
      if (p > from && p + 1 < line.size() && line[p] == ' ' && line[p + 1] == '(') {
        const std::string name = CommAt(line, p + 1);
        if (!name.empty()) kills.emplace(name, line.substr(from, p - from));
      }
    } else if (line.find("oom-kill:") != std::string::npos) {
      // ",task=" and not "task_memcg=", which comes first on the line.
      const std::string name = Field(line, ",task=");
      if (!name.empty()) kills.emplace(name, Field(line, ",pid="));
    }
  }
  std::map<std::string, int> killed;
  for (const auto& kill : kills) ++killed[kill.first];
  return killed;
}

namespace {

// "6,1234,5678901,-;message" -> "message"; other text unchanged.
std::string WithoutRecordPrefix(std::string line) {
  const size_t semi = line.find(';');
  if (semi == std::string::npos || semi == 0) return line;
  for (size_t i = 0; i < semi; ++i)
    if (!Digit(line[i]) && line[i] != ',' && line[i] != '-' && !Alpha(line[i])) return line;
  if (std::count(line.begin(), line.begin() + static_cast<long>(semi), ',') < 3) return line;
  return line.substr(semi + 1);
}

}  // namespace

Result<std::vector<std::string>> ReadKernelLog(const std::string& path, size_t max_lines,
                                               MonoTime deadline, bool* truncated) {
  *truncated = false;
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Error(path + ": " + std::strerror(errno));
  std::vector<std::string> lines;
  std::string pending;
  char buf[8192];  // /dev/kmsg needs room for a whole record (EINVAL otherwise)
  for (;;) {
    if (lines.size() >= max_lines || std::chrono::steady_clock::now() >= deadline) {
      *truncated = true;
      break;
    }
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EPIPE) continue;  // records overwritten while reading: go on
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) {
      const int err = errno;
      ::close(fd);
      return Error(path + ": " + std::strerror(err));
    }
    if (n <= 0) break;  // the end: EAGAIN on /dev/kmsg, 0 on a file
    pending.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (nl > start && pending[start] != ' ')
        lines.push_back(WithoutRecordPrefix(pending.substr(start, nl - start)));
    }
    pending.erase(0, start);
  }
  if (!pending.empty() && pending[0] != ' ' && !*truncated)
    lines.push_back(WithoutRecordPrefix(pending));
  ::close(fd);
  return lines;
}

}  // namespace mamori::host::kernel
