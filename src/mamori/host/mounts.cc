#include "mamori/host/mounts.h"

#include <set>
#include <sstream>

namespace mamori {
namespace {

// mountinfo and fstab escape space, tab, newline and backslash as \ooo.
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

std::vector<std::string> Fields(const std::string& line) {
  std::istringstream ls(line);
  std::vector<std::string> f;
  for (std::string tok; ls >> tok;) f.push_back(tok);
  return f;
}

}  // namespace

std::vector<Mount> ParseMountInfo(const std::string& text) {
  std::vector<Mount> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto f = Fields(line);
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
    m.options = f[5];
    m.fs_type = f[dash + 1];
    m.source = dash + 2 < f.size() ? Unescape(f[dash + 2]) : "";
    m.super_options = dash + 3 < f.size() ? f[dash + 3] : "";
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

namespace mamori::host::mounts {

std::vector<FstabEntry> ParseFstab(const std::string& text) {
  std::vector<FstabEntry> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto f = Fields(line);
    if (f.size() < 2 || f[0][0] == '#') continue;
    FstabEntry e;
    e.source = Unescape(f[0]);
    e.mount_point = Unescape(f[1]);
    e.fs_type = f.size() > 2 ? f[2] : "auto";
    e.options = f.size() > 3 ? f[3] : "defaults";
    out.push_back(std::move(e));
  }
  return out;
}

bool HasOption(std::string_view options, std::string_view option) {
  while (!options.empty()) {
    const size_t comma = options.find(',');
    if (options.substr(0, comma) == option) return true;
    if (comma == std::string_view::npos) break;
    options.remove_prefix(comma + 1);
  }
  return false;
}

namespace {

const FstabEntry* Find(const std::vector<FstabEntry>& fstab, const std::string& mount_point) {
  const FstabEntry* found = nullptr;
  for (const auto& e : fstab)
    if (e.mount_point == mount_point) found = &e;  // mount(8) uses the last one too
  return found;
}

}  // namespace

std::string ReadOnlyReason(const Mount& m, const std::vector<FstabEntry>& fstab) {
  const bool super_ro = HasOption(m.super_options, "ro");
  const bool emergency = HasOption(m.super_options, "emergency_ro");
  const bool mount_ro = HasOption(m.options, "ro");
  if (!super_ro && !emergency && !mount_ro) return "";
  const FstabEntry* e = Find(fstab, m.mount_point);
  if (e && HasOption(e->options, "ro")) return "";
  // Errors remounted it: whatever fstab says, it was writable and is not.
  if (emergency) return "remounted read-only after errors (emergency_ro)";
  if (super_ro && HasOption(m.super_options, "errors=remount-ro"))
    return "read-only, errors=remount-ro: the kernel remounted it after I/O errors";
  if (super_ro) return e ? "read-only, /etc/fstab says rw" : "read-only";
  // Only this mount is read-only: a bind made so on purpose, unless fstab
  // declares the mount point writable.
  return e ? "mounted read-only, /etc/fstab says rw" : "";
}

std::vector<FstabEntry> NotMounted(const std::vector<FstabEntry>& fstab,
                                   const std::vector<Mount>& mounted) {
  std::set<std::string> points;
  for (const auto& m : mounted) points.insert(m.mount_point);
  std::vector<FstabEntry> out;
  for (const auto& e : fstab) {
    if (e.fs_type == "swap" || e.mount_point.empty() || e.mount_point[0] != '/') continue;
    if (HasOption(e.options, "noauto")) continue;
    std::string point = e.mount_point;
    while (point.size() > 1 && point.back() == '/') point.pop_back();
    if (!points.count(point)) out.push_back(e);
  }
  return out;
}

}  // namespace mamori::host::mounts
