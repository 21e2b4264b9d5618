#include "mamori/probes/procfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace mamori::procfs {

Result<std::string> ReadFileBounded(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return Error(path + ": " + std::strerror(errno));
  std::string out;
  char buf[8192];
  while (out.size() < max_bytes) {
    size_t want = std::min(sizeof(buf), max_bytes - out.size());
    ssize_t n = ::read(fd, buf, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Error(path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Result<std::vector<int>> ListPids(const std::string& proc_root, size_t max_count) {
  DIR* dir = ::opendir(proc_root.c_str());
  if (!dir) return Error(proc_root + ": " + std::strerror(errno));
  std::vector<int> pids;
  while (pids.size() < max_count) {
    errno = 0;
    dirent* e = ::readdir(dir);
    if (!e) break;
    const char* name = e->d_name;
    size_t len = std::strlen(name);
    int pid = 0;
    auto r = std::from_chars(name, name + len, pid);
    if (r.ec != std::errc() || r.ptr != name + len || pid <= 0) continue;
    pids.push_back(pid);
  }
  ::closedir(dir);
  std::sort(pids.begin(), pids.end());
  return pids;
}

namespace {

// Splits `s` on single spaces into at most `max` fields.
std::vector<std::string_view> Fields(std::string_view s, size_t max) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size() && out.size() < max) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\n') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

template <typename T>
bool ToNumber(std::string_view s, T& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

Result<ProcStat> ParseStat(std::string_view text) {
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    return Error("malformed stat line");
  ProcStat st;
  std::string_view pid_text = text.substr(0, open);
  while (!pid_text.empty() && pid_text.back() == ' ') pid_text.remove_suffix(1);
  if (!ToNumber(pid_text, st.pid)) return Error("malformed stat line: bad pid");
  st.comm = std::string(text.substr(open + 1, close - open - 1));
  // After ")": state(3) ppid(4) ... utime(14) stime(15) ... starttime(22)
  // vsize(23) rss(24), numbered as in proc(5).
  auto f = Fields(text.substr(close + 1), 22);
  if (f.size() < 22) return Error("malformed stat line: too few fields");
  if (f[0].size() != 1) return Error("malformed stat line: bad state");
  st.state = f[0][0];
  if (!ToNumber(f[1], st.ppid) || !ToNumber(f[4], st.tty_nr) || !ToNumber(f[11], st.utime_ticks) ||
      !ToNumber(f[12], st.stime_ticks) || !ToNumber(f[19], st.start_ticks) ||
      !ToNumber(f[21], st.rss_pages))
    return Error("malformed stat line: bad number");
  return st;
}

Result<ProcStat> ReadStat(const std::string& proc_root, int pid) {
  std::string path = proc_root + "/" + std::to_string(pid) + "/stat";
  auto text = ReadFileBounded(path, 4096);
  if (!text.ok()) return text.error();
  auto st = ParseStat(*text);
  if (!st.ok()) return st.error().Wrap(path);
  return st;
}

Result<std::string> ReadCmdline(const std::string& proc_root, int pid) {
  auto text = ReadFileBounded(proc_root + "/" + std::to_string(pid) + "/cmdline", 64 << 10);
  if (!text.ok()) return text.error();
  std::string s = std::move(*text);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  std::replace(s.begin(), s.end(), '\0', ' ');
  return s;
}

Result<std::string> ReadComm(const std::string& proc_root, int pid) {
  auto text = ReadFileBounded(proc_root + "/" + std::to_string(pid) + "/comm", 256);
  if (!text.ok()) return text.error();
  std::string s = std::move(*text);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

std::string Printable(std::string_view text, size_t max) {
  std::string out;
  for (char c : text.substr(0, max)) {
    unsigned char u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  if (text.size() > max) out += "...";
  return out;
}

}  // namespace mamori::procfs
