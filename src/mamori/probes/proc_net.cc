#include "mamori/probes/proc_net.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "mamori/probes/procfs.h"

namespace mamori::procnet {
namespace {

bool ParseHex(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 16) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// "0100007F:0016" -> address bytes + port. The kernel prints each 32-bit
// word of the (network order) address as a native-endian integer, so the
// word's in-memory bytes are the address bytes.
bool ParseEndpoint(std::string_view s, bool ipv6, uint8_t* addr, uint16_t& port) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view a = s.substr(0, colon), p = s.substr(colon + 1);
  size_t words = ipv6 ? 4 : 1;
  if (a.size() != words * 8 || p.size() != 4) return false;
  for (size_t w = 0; w < words; ++w) {
    uint64_t v = 0;
    if (!ParseHex(a.substr(w * 8, 8), v)) return false;
    uint32_t word = static_cast<uint32_t>(v);
    std::memcpy(addr + w * 4, &word, 4);
  }
  uint64_t pv = 0;
  if (!ParseHex(p, pv) || pv > 0xffff) return false;
  port = static_cast<uint16_t>(pv);
  return true;
}

bool ParseDecimal(std::string_view s, uint64_t& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

std::string TcpEntry::LocalAddress() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (!::inet_ntop(ipv6 ? AF_INET6 : AF_INET, local_addr, buf, sizeof(buf))) return "?";
  return buf;
}

bool TcpEntry::IsAnyAddress() const {
  size_t n = ipv6 ? 16 : 4;
  for (size_t i = 0; i < n; ++i)
    if (local_addr[i] != 0) return false;
  return true;
}

bool TcpEntry::IsV4Mapped() const {
  if (!ipv6) return false;
  for (int i = 0; i < 10; ++i)
    if (local_addr[i] != 0) return false;
  return local_addr[10] == 0xff && local_addr[11] == 0xff;
}

TcpTable ParseTcpTable(std::string_view text, bool ipv6, size_t max_entries) {
  TcpTable table;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    // Fields: sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    std::string_view f[10];
    size_t n = 0, i = 0;
    while (i < line.size() && n < 10) {
      while (i < line.size() && line[i] == ' ') ++i;
      size_t j = i;
      while (j < line.size() && line[j] != ' ') ++j;
      if (j > i) f[n++] = line.substr(i, j - i);
      i = j;
    }
    if (n == 0) continue;
    if (f[0] == "sl") continue;  // header
    if (table.entries.size() >= max_entries) {
      table.truncated = true;
      break;
    }
    TcpEntry e;
    e.ipv6 = ipv6;
    uint64_t state = 0, uid = 0, inode = 0;
    bool ok = n == 10 && !f[0].empty() && f[0].back() == ':' &&
              ParseEndpoint(f[1], ipv6, e.local_addr, e.local_port) &&
              ParseEndpoint(f[2], ipv6, e.remote_addr, e.remote_port) && ParseHex(f[3], state) &&
              state <= 0xff && ParseDecimal(f[7], uid) && uid <= 0xffffffffu &&
              ParseDecimal(f[9], inode);
    if (!ok) {
      ++table.malformed_lines;
      continue;
    }
    e.state = static_cast<int>(state);
    e.uid = static_cast<uint32_t>(uid);
    e.inode = inode;
    table.entries.push_back(e);
  }
  return table;
}

Result<TcpTable> ReadTcpTables(const std::string& proc_root) {
  constexpr size_t kMaxTableBytes = 32 << 20;
  auto v4 = procfs::ReadFileBounded(proc_root + "/net/tcp", kMaxTableBytes);
  if (!v4.ok()) return v4.error();
  TcpTable table = ParseTcpTable(*v4, false);
  auto v6 = procfs::ReadFileBounded(proc_root + "/net/tcp6", kMaxTableBytes);
  if (v6.ok()) {
    TcpTable t6 = ParseTcpTable(*v6, true);
    table.entries.insert(table.entries.end(), t6.entries.begin(), t6.entries.end());
    table.malformed_lines += t6.malformed_lines;
    table.truncated = table.truncated || t6.truncated;
  }
  return table;
}

std::map<uint64_t, SocketOwner> MapSocketOwners(const std::string& proc_root, size_t max_fds) {
  std::map<uint64_t, SocketOwner> owners;
  auto pids = procfs::ListPids(proc_root);
  if (!pids.ok()) return owners;
  size_t budget = max_fds;
  for (int pid : *pids) {
    if (budget == 0) break;
    std::string fd_dir = proc_root + "/" + std::to_string(pid) + "/fd";
    DIR* dir = ::opendir(fd_dir.c_str());
    if (!dir) continue;
    std::string comm;
    while (budget > 0) {
      dirent* e = ::readdir(dir);
      if (!e) break;
      if (e->d_name[0] == '.') continue;
      --budget;
      char target[64];
      ssize_t len = ::readlinkat(::dirfd(dir), e->d_name, target, sizeof(target) - 1);
      if (len <= 0) continue;
      std::string_view t(target, static_cast<size_t>(len));
      constexpr std::string_view kPrefix = "socket:[";
      if (t.substr(0, kPrefix.size()) != kPrefix || t.back() != ']') continue;
      uint64_t inode = 0;
      if (!ParseDecimal(t.substr(kPrefix.size(), t.size() - kPrefix.size() - 1), inode)) continue;
      if (owners.count(inode)) continue;  // pids ascend: the lowest pid wins
      if (comm.empty()) {
        auto c = procfs::ReadComm(proc_root, pid);
        comm = c.ok() ? *c : "?";
      }
      owners[inode] = SocketOwner{pid, comm};
    }
    ::closedir(dir);
  }
  return owners;
}

}  // namespace mamori::procnet
