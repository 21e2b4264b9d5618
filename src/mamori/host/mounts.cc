#include "mamori/host/mounts.h"

#include <set>
#include <sstream>
#include <string_view>

namespace mamori {
namespace {

std::string Unescape(std::string_view s) {
  auto octal = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && octal(s[i + 1]) && octal(s[i + 2]) && octal(s[i + 3])) {
      out.push_back(
          static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

std::vector<Mount> ParseMountInfo(const std::string& text) {
  std::vector<Mount> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<std::string> f;
    std::string tok;
    while (ls >> tok) f.push_back(tok);
    // id parent major:minor root mount_point options [optional...] - fstype source superopts
    size_t dash = 0;
    for (size_t i = 6; i < f.size(); ++i)
      if (f[i] == "-") {
        dash = i;
        break;
      }
    if (dash == 0 || dash + 1 >= f.size()) continue;
    Mount m;
    m.device = f[2];
    m.mount_point = Unescape(f[4]);
    m.fs_type = f[dash + 1];
    m.source = dash + 2 < f.size() ? Unescape(f[dash + 2]) : "";
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<Mount> RealFilesystems(const std::vector<Mount>& all) {
  static const std::set<std::string, std::less<>> kData = {
      "ext2", "ext3",     "ext4", "xfs",   "btrfs", "zfs",     "f2fs",
      "jfs",  "reiserfs", "vfat", "exfat", "ntfs",  "ntfs3",   "fuseblk",
      "nfs",  "nfs4",     "cifs", "smb3",  "ufs",   "hfsplus", "bcachefs"};
  std::vector<Mount> out;
  std::set<std::string> devices;
  for (const auto& m : all) {
    const bool data = kData.count(m.fs_type) || (m.fs_type == "overlay" && m.mount_point == "/");
    if (!data) continue;
    if (m.mount_point.rfind("/proc", 0) == 0 || m.mount_point.rfind("/sys", 0) == 0 ||
        m.mount_point.rfind("/snap/", 0) == 0)
      continue;
    // A bind mount shows the same device again; the first (usually the real
    // mount point) stands for it. Network filesystems have distinct devices.
    if (!devices.insert(m.device).second) continue;
    out.push_back(m);
  }
  return out;
}

}  // namespace mamori
