// The `mounts` check: mountinfo and fstab parsing, the read-only rule (an
// errors=remount-ro remount as the kernel shows it, old and new), fstab
// entries not mounted and inode use on fixtures under a temporary proc root;
// then for real, as root: a loop-mounted ext4 image that the kernel remounts
// read-only after an error it is told to raise.
#include "mamori/host/mounts_probe.h"

#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "testing/cli.h"
#include "testing/ports.h"
#include "testing/probe_harness.h"

namespace mamori::probes::mounts {
namespace {

namespace fs = std::filesystem;
using host::mounts::FstabEntry;

// A Debian VPS after the kernel remounted /srv read-only (old kernels: the
// superblock says ro; per-mount options stay rw), with an NFS backup share in
// fstab that did not come back.
constexpr const char* kMountInfo =
    "22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "23 28 0:5 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw\n"
    "28 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro\n"
    "45 28 254:17 / /srv rw,relatime shared:26 - ext4 /dev/vdb1 ro,errors=remount-ro\n"
    "46 28 254:18 / /var/lib/postgresql rw,noatime shared:27 - xfs /dev/vdc1 "
    "rw,attr2,inode64,logbufs=8,logbsize=32k,noquota\n"
    "47 28 0:45 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs "
    "rw,size=401060k,mode=755\n"
    "48 28 7:0 / /snap/core/1 ro,nodev,relatime shared:30 - squashfs /dev/loop0 ro\n"
    "49 45 254:17 /www /var/www ro,relatime shared:26 - ext4 /dev/vdb1 ro,errors=remount-ro\n";

constexpr const char* kFstab =
    "# /etc/fstab: static file system information.\n"
    "UUID=0d1c3f4e-1111-2222-3333-444455556666 /               ext4    errors=remount-ro 0 1\n"
    "UUID=7a8b9c0d-1111-2222-3333-444455556666 /srv            ext4    defaults 0 2\n"
    "/dev/vdc1 /var/lib/postgresql xfs noatime 0 2\n"
    "backup.lan:/export/vps /srv/backup nfs rw,hard,_netdev 0 0\n"
    "/dev/sr0 /media/cdrom0 udf,iso9660 user,noauto 0 0\n"
    "/swapfile none swap sw 0 0\n"
    "/dev/vdd1 /mnt/old\\040disk ext4 defaults,nofail 0 2\n";

std::vector<Mount> Parsed() { return ParseMountInfo(kMountInfo); }

TEST(Mounts, ParsesOptionsAndSuperOptions) {
  const auto m = Parsed();
  ASSERT_EQ(m.size(), 8u);
  EXPECT_EQ(m[3].mount_point, "/srv");
  EXPECT_EQ(m[3].options, "rw,relatime");
  EXPECT_EQ(m[3].super_options, "ro,errors=remount-ro");
  EXPECT_EQ(m[3].source, "/dev/vdb1");
  const auto real = RealFilesystems(m);
  std::vector<std::string> points;
  for (const auto& r : real) points.push_back(r.mount_point);
  // The bind of /srv's device at /var/www is a duplicate; tmpfs and squashfs hold no data.
  EXPECT_EQ(points, (std::vector<std::string>{"/", "/srv", "/var/lib/postgresql"}));
}

TEST(Mounts, ParsesFstab) {
  const auto f = host::mounts::ParseFstab(kFstab);
  ASSERT_EQ(f.size(), 7u);
  EXPECT_EQ(f[3].mount_point, "/srv/backup");
  EXPECT_EQ(f[3].fs_type, "nfs");
  EXPECT_EQ(f[6].mount_point, "/mnt/old disk");
  EXPECT_TRUE(host::mounts::HasOption(f[0].options, "errors=remount-ro"));
  EXPECT_FALSE(host::mounts::HasOption(f[0].options, "ro"));
}

Mount Data(const std::string& point, const std::string& opts, const std::string& super) {
  return Mount{point, "ext4", "/dev/vdb1", "254:17", opts, super};
}

TEST(Mounts, ReadOnlyRule) {
  const auto fstab = host::mounts::ParseFstab(kFstab);
  using host::mounts::ReadOnlyReason;
  EXPECT_EQ(ReadOnlyReason(Data("/srv", "rw,relatime", "rw,errors=remount-ro"), fstab), "");
  // Old kernels: the superblock read-only after errors.
  EXPECT_NE(ReadOnlyReason(Data("/srv", "rw,relatime", "ro,errors=remount-ro"), fstab)
                .find("errors=remount-ro: the kernel remounted it after I/O errors"),
            std::string::npos);
  // Newer ext4 (6.18): the superblock still rw, marked emergency_ro; and not in fstab.
  EXPECT_NE(ReadOnlyReason(Data("/data", "rw,relatime", "rw,errors=remount-ro,emergency_ro"), fstab)
                .find("emergency_ro"),
            std::string::npos);
  // Mounted ro though fstab says rw (defaults).
  EXPECT_EQ(ReadOnlyReason(Data("/srv", "ro,relatime", "rw"), fstab),
            "mounted read-only, /etc/fstab says rw");
  // Meant to be read-only: fstab says ro, or a read-only bind fstab does not list.
  auto ro_fstab = host::mounts::ParseFstab("/dev/vdb1 /srv ext4 ro 0 2\n");
  EXPECT_EQ(ReadOnlyReason(Data("/srv", "ro,relatime", "ro"), ro_fstab), "");
  EXPECT_EQ(ReadOnlyReason(Data("/srv/ro-view", "ro,relatime", "rw"), fstab), "");
}

TEST(Mounts, FstabEntriesNotMounted) {
  const auto missing = host::mounts::NotMounted(host::mounts::ParseFstab(kFstab), Parsed());
  std::vector<std::string> points;
  for (const auto& e : missing) points.push_back(e.mount_point);
  // noauto, swap and what is mounted are not missing.
  EXPECT_EQ(points, (std::vector<std::string>{"/srv/backup", "/mnt/old disk"}));
}

Options Fixed(std::map<std::string, double> inodes) {
  Options o;
  o.inode_percent = [inodes](const std::string& p) -> std::optional<double> {
    auto it = inodes.find(p);
    if (it == inodes.end()) return std::nullopt;  // btrfs: no inode counts
    return it->second;
  };
  return o;
}

TEST(Mounts, ProbeNamesEveryProblemFromAProcRoot) {
  testing::TempDir root;
  root.Write("1/mountinfo", kMountInfo);
  Options o = Fixed({{"/", 12}, {"/srv", 3}, {"/var/lib/postgresql", 85}});
  o.proc_root = root.path();
  o.fstab = root.Write("fstab", kFstab);
  MountsProbe probe(o);
  SystemClock clock;
  const auto obs = probe.Run(clock, clock.Monotonic() + std::chrono::seconds(5));
  EXPECT_EQ(obs.status, CheckStatus::kCritical) << obs.summary;
  EXPECT_EQ(obs.summary,
            "/srv (ext4) read-only, errors=remount-ro: the kernel remounted it after I/O errors; "
            "/srv/backup (nfs) is in /etc/fstab and not mounted; "
            "/mnt/old disk (ext4) is in /etc/fstab and not mounted; "
            "/var/lib/postgresql inodes 85% used (warning at 80%)");
}

TEST(Mounts, HealthyIsOkAndIgnoreAndOptionsWork) {
  const std::string healthy =
      "28 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro\n"
      "40 28 0:40 / /home rw,relatime shared:2 - btrfs /dev/vdb1 rw,space_cache=v2\n";
  Options o = Fixed({{"/", 40}});
  auto fstab = host::mounts::ParseFstab("/dev/vda1 / ext4 errors=remount-ro 0 1\n");
  auto obs = Judge(o, ParseMountInfo(healthy), fstab);
  EXPECT_EQ(obs.status, CheckStatus::kOk);
  EXPECT_EQ(obs.summary,
            "2 filesystems writable, every /etc/fstab entry mounted, fullest inodes / 40%");

  const auto mounted = Parsed();
  const auto full = host::mounts::ParseFstab(kFstab);
  o.ignore = {"/srv*", "/mnt/*"};
  o.inodes_critical = 95;
  o.inodes_warning = 90;
  obs = Judge(o, mounted, full);
  EXPECT_EQ(obs.status, CheckStatus::kOk) << obs.summary;
  o.ignore = {};
  o.unmounted = false;
  o.inodes = false;
  obs = Judge(o, mounted, full);
  EXPECT_EQ(obs.summary,
            "/srv (ext4) read-only, errors=remount-ro: the kernel remounted it after I/O errors");
}

TEST(Mounts, Config) {
  testing::ProbeHarness h;
  std::string errors;
  EXPECT_TRUE(h.Build("{name: m, type: mounts}", &errors)) << errors;
  EXPECT_TRUE(h.Build("{name: m, type: mounts, inodes: false, unmounted: false, ignore: [/mnt/*]}",
                      &errors))
      << errors;
  EXPECT_TRUE(h.Build("{name: m, type: mounts, inodes: {warning: 70%, critical: 95%}}", &errors))
      << errors;
  EXPECT_FALSE(h.Build("{name: m, type: mounts, inodes: {warning: 95%, critical: 90%}}", &errors));
  EXPECT_NE(errors.find("above critical"), std::string::npos) << errors;
  EXPECT_FALSE(h.Build("{name: m, type: mounts, inode: false}", &errors));
  EXPECT_NE(errors.find("unknown key 'inode'"), std::string::npos) << errors;
}

// A real ext4 filesystem on a loop device, mounted errors=remount-ro, then
// made to fail the way a disk error does (ext4's trigger_fs_error).
class LoopExt4 {
 public:
  explicit LoopExt4(const std::string& dir) : dir_(dir) {}
  ~LoopExt4() {
    if (mounted_) ::umount2((dir_ + "/mnt").c_str(), MNT_DETACH);
  }
  // "" on success, else why it cannot be done here.
  std::string Mount() {
    if (::geteuid() != 0) return "needs root";
    fs::create_directories(dir_ + "/mnt");
    if (std::system(
            ("truncate -s 8M " + dir_ + "/img && mkfs.ext4 -q -F " + dir_ + "/img >/dev/null 2>&1")
                .c_str()) != 0)
      return "mkfs.ext4 failed";
    if (std::system(
            ("mount -o loop,errors=remount-ro " + dir_ + "/img " + dir_ + "/mnt >/dev/null 2>&1")
                .c_str()) != 0)
      return "cannot mount a loop device here";
    mounted_ = true;
    return "";
  }
  std::string point() const { return dir_ + "/mnt"; }
  // The block device's name under /sys/fs/ext4 ("loop3").
  std::string Device() const {
    for (const auto& m : ParseMountInfo(testing::ReadFile("/proc/self/mountinfo")))
      if (m.mount_point == point()) return fs::path(m.source).filename();
    return "";
  }

 private:
  std::string dir_;
  bool mounted_ = false;
};

TEST(Mounts, RealExt4RemountedReadOnlyAfterAnError) {
  testing::TempDir tmp;
  LoopExt4 disk(tmp.path());
  if (auto why = disk.Mount(); !why.empty()) GTEST_SKIP() << why;
  const std::string trigger = "/sys/fs/ext4/" + disk.Device() + "/trigger_fs_error";
  if (::access(trigger.c_str(), W_OK) != 0) GTEST_SKIP() << "no " << trigger << " on this kernel";

  Options o;
  o.fstab = tmp.Write("fstab", "/dev/loop99 " + disk.point() + " ext4 errors=remount-ro 0 2\n");
  o.ignore = {"/"};  // the host's own root is not this test's
  MountsProbe probe(o);
  SystemClock clock;
  auto obs = probe.Run(clock, clock.Monotonic() + std::chrono::seconds(5));
  EXPECT_EQ(obs.summary.find(disk.point() + " (ext4)"), std::string::npos) << obs.summary;
  // The real statvfs: a fresh filesystem's inodes, counted.
  const auto pct = StatvfsInodePercent(disk.point());
  ASSERT_TRUE(pct);
  EXPECT_GT(*pct, 0);
  EXPECT_LT(*pct, 10);

  std::ofstream(trigger) << "1\n";
  obs = probe.Run(clock, clock.Monotonic() + std::chrono::seconds(5));
  EXPECT_EQ(obs.status, CheckStatus::kCritical) << obs.summary;
  EXPECT_NE(obs.summary.find(disk.point() + " (ext4) "), std::string::npos) << obs.summary;
  std::ofstream write(disk.point() + "/x");
  EXPECT_FALSE(write.is_open()) << "the filesystem is still writable";
}

}  // namespace
}  // namespace mamori::probes::mounts
