// Tests for the "file" check type on real files in a temporary directory,
// with ages set through utimensat(2) and modes through chmod(2).
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "testing/probe_harness.h"

namespace mamori {
namespace {

using testing::ProbeHarness;
namespace fs = std::filesystem;

double Metric(const Observation& o, const std::string& name) {
  for (const auto& m : o.metrics)
    if (m.name == name) return m.value;
  ADD_FAILURE() << "no metric " << name << " in: " << o.summary;
  return NAN;
}

class FileProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mamori-file-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Make(const std::string& name, size_t bytes, int age_seconds = 0, mode_t mode = 0644) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p) << std::string(bytes, 'x');
    EXPECT_EQ(::chmod(p.c_str(), mode), 0);
    if (age_seconds) {
      struct timespec ts[2];
      ::clock_gettime(CLOCK_REALTIME, &ts[0]);
      ts[0].tv_sec -= age_seconds;
      ts[1] = ts[0];
      EXPECT_EQ(::utimensat(AT_FDCWD, p.c_str(), ts, 0), 0);
    }
    return p;
  }
  Observation Run(const std::string& keys) {
    return h_.RunYaml("{name: f, type: file, " + keys + "}");
  }
  std::string dir_;
  ProbeHarness h_;
};

std::string MyUser() {
  struct passwd* pw = ::getpwuid(::getuid());
  return pw ? pw->pw_name : std::to_string(::getuid());
}
std::string MyGroup() {
  struct group* gr = ::getgrgid(::getgid());
  return gr ? gr->gr_name : std::to_string(::getgid());
}

TEST_F(FileProbeTest, ExistingFileOk) {
  std::string p = Make("backup.sql.gz", 2048, 3 * 3600, 0640);
  auto o = Run("path: " + p + ", max_age: 26h, min_size: 1KiB, mode: 0640, owner: " + MyUser() +
               ", group: " + MyGroup());
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_EQ(o.summary,
            fmt::format("{}: 2.0 KiB, modified 3h 0m ago, 0640 {}:{}", p, MyUser(), MyGroup()));
  EXPECT_NEAR(Metric(o, "age_seconds"), 3 * 3600, 5);
  EXPECT_EQ(Metric(o, "size_bytes"), 2048);
  EXPECT_EQ(Metric(o, "count"), 1);
  // Numeric ids work too.
  EXPECT_EQ(Run(fmt::format("path: {}, owner: {}, group: {}", p, ::getuid(), ::getgid())).status,
            CheckStatus::kOk);
}

TEST_F(FileProbeTest, MissingFileIsCritical) {
  auto o = Run("path: " + dir_ + "/nope");
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_EQ(o.summary, dir_ + "/nope does not exist");
  EXPECT_EQ(Metric(o, "count"), 0);
}

TEST_F(FileProbeTest, EveryViolationIsNamed) {
  std::string p = Make("db.sql.gz", 100, 26 * 3600, 0644);
  auto o = Run("path: " + p + ", max_age: 25h, min_size: 1KB, mode: \"0600\"");
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_EQ(o.summary, fmt::format("{0} is 1d 2h old (max_age 1d 1h); {0} is 100 B (min_size "
                                   "1000 B); {0} has mode 0644 (expected 0600)",
                                   p));
  auto big = Run("path: " + p + ", max_size: 10");
  EXPECT_EQ(big.summary, p + " is 100 B (max_size 10 B)");
  auto owner = Run("path: " + p + ", owner: nobody, group: 65534");
  EXPECT_EQ(owner.summary, fmt::format("{0} is owned by {1} (expected nobody); {0} has group {2} "
                                       "(expected 65534)",
                                       p, MyUser(), MyGroup()));
}

TEST_F(FileProbeTest, MinAgeAndFutureMtime) {
  std::string p = Make("fresh", 1);
  auto o = Run("path: " + p + ", min_age: 1h");
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_EQ(o.summary.rfind(p + " was modified ", 0), 0u) << o.summary;
  EXPECT_NE(o.summary.find(" ago (min_age 1h 0m)"), std::string::npos) << o.summary;
  // A file stamped in the future has age 0, not a negative one.
  Make("future", 1, -3600);
  auto f = Run("path: " + dir_ + "/future, max_age: 1s");
  EXPECT_EQ(f.status, CheckStatus::kOk) << f.summary;
  EXPECT_EQ(Metric(f, "age_seconds"), 0);
}

// Incident 3: a stale Apache mutex file in /tmp blocked the restart.
TEST_F(FileProbeTest, StaleMutexFilesMustNotExist) {
  std::string pattern = dir_ + "/mpmtx*";
  auto clean = Run("path: \"" + pattern + "\", exists: false");
  EXPECT_EQ(clean.status, CheckStatus::kOk);
  EXPECT_EQ(clean.summary, "no file matches " + pattern + ", as expected");
  EXPECT_EQ(Metric(clean, "count"), 0);

  std::string p = Make("mpmtx7120", 0, 3 * 3600);
  auto stale = Run("path: \"" + pattern + "\", exists: false");
  EXPECT_EQ(stale.status, CheckStatus::kCritical);
  EXPECT_EQ(stale.summary, pattern + " should not exist: " + p + " (3h 0m old)");
  EXPECT_EQ(Metric(stale, "count"), 1);

  auto single = Run("path: " + p + ", exists: false");
  EXPECT_EQ(single.status, CheckStatus::kCritical);
  ASSERT_EQ(::unlink(p.c_str()), 0);
  EXPECT_EQ(Run("path: " + p + ", exists: false").summary, p + " does not exist, as expected");
}

TEST_F(FileProbeTest, GlobWithExistsTrue) {
  EXPECT_EQ(Run("path: \"" + dir_ + "/*.log\"").summary, "no file matches " + dir_ + "/*.log");
  Make("a.log", 10);
  Make("b.log", 10);
  Make("c.txt", 10);
  auto o = Run("path: \"" + dir_ + "/*.log\", max_size: 1KB");
  EXPECT_EQ(o.status, CheckStatus::kOk);
  EXPECT_EQ(o.summary, "2 files match " + dir_ + "/*.log, all as expected");
  Make("d.log", 2000);
  auto bad = Run("path: \"" + dir_ + "/*.log\", max_size: 1KB");
  EXPECT_EQ(bad.status, CheckStatus::kCritical);
  EXPECT_EQ(bad.summary, dir_ + "/d.log is 2.0 KiB (max_size 1000 B)");
}

TEST(FileProbeConfig, GoldenErrors) {
  ProbeHarness h;
  std::string errors;
  EXPECT_EQ(h.Build("{name: f, type: file, path: /etc/passwd, mode: rw-r--r--}", &errors), nullptr);
  EXPECT_EQ(errors,
            "test.yaml:2:52: check 'f': 'mode': 'rw-r--r--' is not an octal file mode; write 3 "
            "or 4 octal digits in quotes, such as \"0640\"\n");
  EXPECT_EQ(h.Build("{name: f, type: file, path: /etc/passwd, mode: \"0999\"}", &errors), nullptr);
  EXPECT_NE(errors.find("'0999' is not an octal file mode"), std::string::npos) << errors;
  EXPECT_EQ(h.Build("{name: f, type: file, path: /etc/passwd, max_agee: 1h}", &errors), nullptr);
  EXPECT_EQ(errors, "test.yaml:2:46: check 'f': unknown key 'max_agee'; did you mean 'max_age'?\n");
  EXPECT_EQ(h.Build("{name: f, type: file, path: /tmp/x, exists: false, max_age: 1h}", &errors),
            nullptr);
  EXPECT_EQ(errors,
            "test.yaml:2:65: check 'f': 'max_age': cannot be combined with exists: false; a "
            "file that must not exist has no attributes to check; remove this key\n");
  EXPECT_EQ(h.Build("{name: f, type: file}", &errors), nullptr);
  EXPECT_EQ(errors,
            "test.yaml:2:5: check 'f': missing 'path'; name the file to watch, e.g. path: "
            "/var/backups/db.sql.gz\n");
  // YAML's unquoted 0640 stays the octal text the user wrote.
  EXPECT_NE(h.Build("{name: f, type: file, path: /etc/passwd, mode: 0644, owner: root}", &errors),
            nullptr)
      << errors;
}

}  // namespace
}  // namespace mamori
