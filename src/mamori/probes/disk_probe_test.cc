// Tests for the "disk" check type against real file systems: "/" (compared
// with df(1)), /proc (a file system without inode counts) and, when the test
// may mount, a small tmpfs filled to exact levels.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "testing/probe_harness.h"

namespace mamori {
namespace {

using testing::ProbeHarness;

double Metric(const Observation& o, const std::string& name) {
  for (const auto& m : o.metrics)
    if (m.name == name) return m.value;
  ADD_FAILURE() << "no metric " << name << " in: " << o.summary;
  return NAN;
}
bool HasMetric(const Observation& o, const std::string& name) {
  for (const auto& m : o.metrics)
    if (m.name == name) return true;
  return false;
}

// df -P's Use% for a path (df rounds up).
int DfUsePercent(const std::string& path) {
  std::string cmd = "df -P " + path + " 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return -1;
  char line[512];
  int pct = -1;
  // Filesystem 1024-blocks Used Available Capacity Mounted-on
  while (std::fgets(line, sizeof(line), p)) {
    std::istringstream in(line);
    std::string fs, blocks, used, avail, capacity;
    if (in >> fs >> blocks >> used >> avail >> capacity && !capacity.empty() &&
        capacity.back() == '%' && std::isdigit(static_cast<unsigned char>(capacity[0])))
      pct = std::stoi(capacity);
  }
  ::pclose(p);
  return pct;
}

TEST(DiskProbe, RootWithTheDocumentedConfigMatchesDf) {
  ProbeHarness h;
  auto o = h.RunYaml("{name: root-disk, type: disk, path: /, warning: 80%, critical: 90%}");
  ASSERT_NE(o.status, CheckStatus::kUnknown) << o.summary;
  double used = Metric(o, "used_percent");
  int df = DfUsePercent("/");
  ASSERT_GE(df, 0) << "df did not run";
  // df rounds up to a whole percent; other processes write meanwhile.
  EXPECT_NEAR(std::ceil(used), df, 1.0) << o.summary;
  CheckStatus want = used >= 90   ? CheckStatus::kCritical
                     : used >= 80 ? CheckStatus::kWarning
                                  : CheckStatus::kOk;
  if (Metric(o, "inodes_used_percent") < 80) {
    EXPECT_EQ(o.status, want) << o.summary;
  }
  EXPECT_EQ(o.summary.rfind("/ ", 0), 0u) << o.summary;
  EXPECT_NE(o.summary.find("% used"), std::string::npos) << o.summary;

  struct statvfs st {};
  ASSERT_EQ(::statvfs("/", &st), 0);
  EXPECT_NEAR(Metric(o, "total_bytes"), double(st.f_blocks) * st.f_frsize, 1.0);
  EXPECT_NEAR(Metric(o, "free_bytes"), double(st.f_bavail) * st.f_frsize,
              0.01 * double(st.f_blocks) * st.f_frsize);
}

// Thresholds set around the real value of "/" force each outcome.
TEST(DiskProbe, ThresholdsAroundTheRealValue) {
  ProbeHarness h;
  auto base = h.RunYaml(
      "{name: d, type: disk, path: /, inodes_warning: 100%, "
      "inodes_critical: 100%}");
  double used = Metric(base, "used_percent");
  if (used < 2 || used > 97) GTEST_SKIP() << "root file system too empty/full: " << used;
  auto run = [&](double w, double c) {
    return h.RunYaml(
        fmt::format("{{name: d, type: disk, path: /, warning: {:.1f}%, critical: "
                    "{:.1f}%, inodes_warning: 100%, inodes_critical: 100%}}",
                    w, c));
  };
  auto ok = run(used + 1.5, used + 2);
  EXPECT_EQ(ok.status, CheckStatus::kOk) << ok.summary;
  EXPECT_EQ(ok.summary.find("at "), std::string::npos) << ok.summary;
  auto warn = run(used - 1.5, used + 2);
  EXPECT_EQ(warn.status, CheckStatus::kWarning) << warn.summary;
  EXPECT_NE(
      warn.summary.find(fmt::format("(warning at {:g}%)", std::round((used - 1.5) * 10) / 10)),
      std::string::npos)
      << warn.summary;
  auto crit = run(used - 1.5, used - 1);
  EXPECT_EQ(crit.status, CheckStatus::kCritical) << crit.summary;
  EXPECT_NE(crit.summary.find("(critical at "), std::string::npos) << crit.summary;

  // min_free above what is free is CRITICAL even with relaxed percentages.
  auto mf = h.RunYaml(
      "{name: d, type: disk, path: /, warning: 100%, critical: 100%, "
      "inodes_warning: 100%, inodes_critical: 100%, min_free: 1000TiB}");
  EXPECT_EQ(mf.status, CheckStatus::kCritical) << mf.summary;
  EXPECT_NE(mf.summary.find("(below min_free 1000.0 TiB)"), std::string::npos) << mf.summary;
}

TEST(DiskProbe, FileSystemWithoutInodesSkipsTheInodePart) {
  struct statvfs st {};
  ASSERT_EQ(::statvfs("/proc", &st), 0);
  ASSERT_EQ(st.f_files, 0u) << "expected procfs to report no inode counts";
  ProbeHarness h;
  auto o = h.RunYaml("{name: d, type: disk, path: /proc}");
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_FALSE(HasMetric(o, "inodes_used_percent"));
  EXPECT_EQ(o.summary.find("inodes"), std::string::npos) << o.summary;
}

TEST(DiskProbe, MissingPathIsUnknown) {
  ProbeHarness h;
  auto o = h.RunYaml("{name: d, type: disk, path: /nonexistent-mamori-dir/x}");
  EXPECT_EQ(o.status, CheckStatus::kUnknown);
  EXPECT_EQ(o.summary, "cannot stat /nonexistent-mamori-dir/x: No such file or directory");
}

// A 1 MiB tmpfs with 64 inodes, filled to known levels. Needs the right to
// mount (root in this sandbox); skipped otherwise.
class DiskTmpfs : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mamori-disk-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=1m,nr_inodes=64,mode=0700") != 0) {
      ::rmdir(dir_.c_str());
      dir_.clear();
      GTEST_SKIP() << "cannot mount tmpfs here: " << std::strerror(errno);
    }
  }
  void TearDown() override {
    if (dir_.empty()) return;
    ::umount2(dir_.c_str(), MNT_DETACH);
    ::rmdir(dir_.c_str());
  }
  void Write(const std::string& name, size_t bytes) {
    std::ofstream f(dir_ + "/" + name, std::ios::binary);
    std::string chunk(bytes, 'x');
    f.write(chunk.data(), chunk.size());
  }
  std::string dir_;
};

TEST_F(DiskTmpfs, ExactSpaceLevels) {
  Write("data", 150 * 4096);  // 150 of 256 pages: 58.59%
  struct statvfs st {};
  ASSERT_EQ(::statvfs(dir_.c_str(), &st), 0);
  ASSERT_EQ(st.f_blocks * st.f_frsize, 1u << 20);
  double expect = double(st.f_blocks - st.f_bfree) * 100.0 / double(st.f_blocks);
  double ipct = double(st.f_files - st.f_ffree) * 100.0 / double(st.f_files);
  ProbeHarness h;
  auto o = h.RunYaml("{name: t, type: disk, path: " + dir_ + ", warning: 50%, critical: 90%}");
  EXPECT_EQ(o.status, CheckStatus::kWarning) << o.summary;
  EXPECT_NEAR(Metric(o, "used_percent"), expect, 1e-9);
  EXPECT_EQ(o.summary, fmt::format("{} 58.6% used (warning at 50%), 424.0 KiB of 1.0 MiB free; "
                                   "inodes {:.0f}% used",
                                   dir_, ipct));
  EXPECT_EQ(Metric(o, "free_bytes"), 424.0 * 1024);
  EXPECT_EQ(Metric(o, "total_bytes"), 1 << 20);

  Write("more", 100 * 4096);  // 250 of 256
  auto c = h.RunYaml("{name: t, type: disk, path: " + dir_ + ", warning: 50%, critical: 90%}");
  EXPECT_EQ(c.status, CheckStatus::kCritical) << c.summary;
  EXPECT_EQ(c.summary.rfind(dir_ + " 97.7% used (critical at 90%), 24.0 KiB of 1.0 MiB free", 0),
            0u)
      << c.summary;
}

TEST_F(DiskTmpfs, InodeLevels) {
  for (int i = 0; i < 59; ++i) Write("f" + std::to_string(i), 0);
  struct statvfs st {};
  ASSERT_EQ(::statvfs(dir_.c_str(), &st), 0);
  double ipct = double(st.f_files - st.f_ffree) * 100.0 / double(st.f_files);
  ASSERT_GE(ipct, 90.0);
  ProbeHarness h;
  auto o = h.RunYaml("{name: t, type: disk, path: " + dir_ + "}");
  EXPECT_EQ(o.status, CheckStatus::kCritical) << o.summary;
  EXPECT_NEAR(Metric(o, "inodes_used_percent"), ipct, 1e-9);
  EXPECT_NE(o.summary.find(fmt::format("; inodes {:.0f}% used (critical at 90%)", ipct)),
            std::string::npos)
      << o.summary;
  auto w = h.RunYaml("{name: t, type: disk, path: " + dir_ +
                     ", inodes_warning: 50%, inodes_critical: 99%}");
  EXPECT_EQ(w.status, CheckStatus::kWarning) << w.summary;
  EXPECT_NE(w.summary.find("(warning at 50%)"), std::string::npos) << w.summary;
}

TEST(DiskProbeConfig, GoldenErrors) {
  ProbeHarness h;
  std::string errors;
  EXPECT_EQ(h.Build("{name: d, type: disk, path: /, warning: 95%, critical: 90%}", &errors),
            nullptr);
  EXPECT_EQ(errors,
            "test.yaml:2:45: check 'd': 'warning': 95% is above critical (90%); warning must be "
            "lower than or equal to critical\n");
  EXPECT_EQ(h.Build("{name: d, type: disk, path: /, warnng: 80%}", &errors), nullptr);
  EXPECT_EQ(errors, "test.yaml:2:36: check 'd': unknown key 'warnng'; did you mean 'warning'?\n");
  EXPECT_EQ(h.Build("{name: d, type: disk, warning: 80}", &errors), nullptr);
  EXPECT_NE(errors.find("test.yaml:2:5: check 'd': missing 'path'"), std::string::npos) << errors;
  EXPECT_NE(errors.find("test.yaml:2:36: check 'd': 'warning': invalid percentage '80'"),
            std::string::npos)
      << errors;
  EXPECT_EQ(h.Build("{name: d, type: disk, path: var/lib}", &errors), nullptr);
  EXPECT_EQ(errors,
            "test.yaml:2:33: check 'd': 'path': 'var/lib' is not an absolute path; write the "
            "full path, starting with '/'\n");
}

}  // namespace
}  // namespace mamori
