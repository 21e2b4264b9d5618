// Finding data directories on a fake proc and file-system tree.
#include "mamori/db/data_dirs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "mamori/db/guard_shell.h"

namespace mamori::db {
namespace {

namespace fs = std::filesystem;

// /proc/PID/cmdline: the arguments, each ended by a NUL.
std::string Cmdline(std::initializer_list<std::string> args) {
  std::string out;
  for (const auto& a : args) out += a + '\0';
  return out;
}

class FakeHost : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("mamori-datadirs-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "proc");
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  void Process(int pid, int ppid, const std::string& comm, const std::string& cmdline,
               const std::string& cwd) {
    const fs::path d = root_ / "proc" / std::to_string(pid);
    Write(d / "comm", comm + "\n");
    Write(d / "stat", std::to_string(pid) + " (" + comm + ") S " + std::to_string(ppid) + " 1 1");
    Write(d / "cmdline", cmdline);
    fs::create_directory_symlink(cwd, d / "cwd");
  }
  HostRoots Roots() { return {(root_ / "proc").string(), (root_ / "fs").string(), ""}; }
  fs::path root_;
};

TEST_F(FakeHost, RunningPostmasterAndMariadbAreFoundWithTheirSockets) {
  Process(100, 1, "postgres", Cmdline({"/usr/lib/postgresql/15/bin/postgres", "-D", "/srv/pg"}),
          "/srv/pg");
  Process(101, 100, "postgres", "postgres: checkpointer", "/srv/pg");  // a child: not a server
  Write(root_ / "fs/srv/pg/postmaster.pid", "100\n/srv/pg\n1700000000\n5433\n/run/pg\n*\n");
  Process(200, 1, "mariadbd",
          Cmdline({"/usr/sbin/mariadbd", "--datadir=/srv/my", "--socket=/s.sock"}), "/srv/my");
  Process(300, 1, "nginx", "nginx", "/");
  auto dirs = FindDataDirs(Roots());
  ASSERT_EQ(dirs.size(), 2u);
  const DataDir& pg = dirs[0].engine == Engine::kPostgres ? dirs[0] : dirs[1];
  const DataDir& my = dirs[0].engine == Engine::kPostgres ? dirs[1] : dirs[0];
  EXPECT_EQ(pg.path, "/srv/pg");
  EXPECT_EQ(pg.pid, 100);
  EXPECT_EQ(pg.port, 5433);
  EXPECT_EQ(pg.socket_dir, "/run/pg");
  EXPECT_EQ(my.path, "/srv/my");
  EXPECT_EQ(my.pid, 200);
  EXPECT_EQ(my.socket_dir, "/s.sock");
}

TEST_F(FakeHost, DebianDirectoriesAndPgdataOnDiskAreLiveOnlyWithARunningPostmaster) {
  Write(root_ / "fs/var/lib/postgresql/15/main/PG_VERSION", "15\n");
  // A stale postmaster.pid: pid 4242 is not running.
  Write(root_ / "fs/var/lib/postgresql/15/main/postmaster.pid", "4242\nx\n1\n5432\n/run\n");
  Write(root_ / "fs/var/lib/mysql/mysql/user.frm", "");
  Write(root_ / "fs/data/pg/PG_VERSION", "15\n");
  Write(root_ / "fs/data/pg/postmaster.pid", "77\n/data/pg\n1\n5434\n/tmp\n");
  Process(77, 1, "postgres", "postgres", "/data/pg");
  HostRoots roots = Roots();
  roots.pgdata = "/data/pg/";
  auto dirs = FindDataDirs(roots);
  ASSERT_EQ(dirs.size(), 3u);
  EXPECT_EQ(dirs[0].path, "/data/pg");  // from the process
  EXPECT_EQ(dirs[0].pid, 77);
  EXPECT_EQ(dirs[1].path, "/var/lib/postgresql/15/main");
  EXPECT_EQ(dirs[1].pid, 0);
  EXPECT_EQ(dirs[2].path, "/var/lib/mysql");
  EXPECT_EQ(dirs[2].engine, Engine::kMariadb);
}

TEST(GuardShell, WrapsTheDangerousCommandsForBashAndZshOnly) {
  auto bash = GuardShellInit("bash", "/opt/it's/mamori");
  ASSERT_TRUE(bash.has_value());
  EXPECT_NE(bash->find("__mamori_guard_bin='/opt/it'\\''s/mamori'"), std::string::npos) << *bash;
  for (const char* c : {"rm", "mv", "dropdb", "pg_ctl", "systemctl", "mkfs"})
    EXPECT_NE(bash->find(std::string("function ") + c + " {"), std::string::npos) << c;
  EXPECT_TRUE(GuardShellInit("zsh", "/m").has_value());
  EXPECT_FALSE(GuardShellInit("fish", "/m").has_value());
}

}  // namespace
}  // namespace mamori::db
