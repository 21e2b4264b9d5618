// The stale_files judgment on crafted trees: a fake file system (fs root) and
// a fake /proc (pids, exe links, fd links, net/unix, locks) in a temporary
// directory, so every rule is tried on the case a live host rarely shows.
// The live host and the probe's configuration are stale_files_probe_test.cc.
#include "mamori/host/stale_files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "testing/cli.h"

namespace mamori::host::stale {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

void Put(const std::string& path, const std::string& content = "") {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << content;
}

// A socket file whose listener is gone: bind, then close (the file stays).
void DeadSocket(const std::string& path) {
  fs::create_directories(fs::path(path).parent_path());
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof a.sun_path);
  std::strcpy(a.sun_path, path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << path;
  ::close(fd);
}

void Backdate(const std::string& path, std::chrono::seconds age) {
  timespec ts[2];
  ::clock_gettime(CLOCK_REALTIME, &ts[0]);
  ts[0].tv_sec -= age.count();
  ts[1] = ts[0];
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0) << path;
}

std::vector<std::string> Paths(const ScanResult& r) {
  std::vector<std::string> out;
  for (const auto& c : r.files) out.push_back(c.path);
  std::sort(out.begin(), out.end());
  return out;
}

// A host in a temporary directory: <dir>/root is the file system, <dir>/proc
// its /proc.
class StaleTree : public ::testing::Test {
 protected:
  std::string Root() const { return dir_.path() + "/root"; }
  std::string Proc() const { return dir_.path() + "/proc"; }
  void Process(int pid, const std::string& exe = "/usr/sbin/foo") {
    fs::create_directories(Proc() + "/" + std::to_string(pid) + "/fd");
    fs::create_symlink(exe, Proc() + "/" + std::to_string(pid) + "/exe");
  }
  JudgeOptions Options() const {
    JudgeOptions o;
    o.fs_root = Root();
    o.proc_root = Proc();
    o.grace = 0s;
    o.confirm_by_connect = false;
    return o;
  }
  Judgment JudgeAll(const std::vector<UnitFiles>& units = {}, JudgeOptions o = {}) {
    if (o.proc_root == "/proc") o = Options();
    ScanOptions s;
    s.fs_root = Root();
    scan_ = Scan(s);
    return Judge(scan_.files, units, o, clock_);
  }
  static std::vector<std::string> Lines(const Judgment& j) {
    std::vector<std::string> out;
    for (const auto& f : j.stale) out.push_back(f.Line());
    return out;
  }

  mamori::testing::TempDir dir_;
  SystemClock clock_;
  ScanResult scan_;
};

TEST_F(StaleTree, ScanFindsPidLockAndSocketFilesAndNeverFollowsSymlinks) {
  Put(Root() + "/run/foo.pid", "1\n");
  Put(Root() + "/run/daemon/pid", "1\n");
  Put(Root() + "/run/lock/LCK..ttyS0", "");
  Put(Root() + "/run/apache2/ssl_mutex.123", "");
  Put(Root() + "/run/xtables.lock", "");
  Put(Root() + "/run/notes.txt", "");
  DeadSocket(Root() + "/run/php/fpm.sock");
  // A symlinked directory and a symlinked pid file lead outside: not followed.
  Put(dir_.path() + "/outside/evil.pid", "1\n");
  fs::create_symlink(dir_.path() + "/outside", Root() + "/run/link");
  fs::create_symlink(dir_.path() + "/outside/evil.pid", Root() + "/run/link.pid");
  // /var/run and /var/lock as on current systems: symlinks into /run.
  fs::create_directories(Root() + "/var");
  fs::create_symlink("../run", Root() + "/var/run");
  fs::create_symlink("../run/lock", Root() + "/var/lock");

  ScanOptions o;
  o.fs_root = Root();
  auto r = Scan(o);
  EXPECT_EQ(Paths(r), (std::vector<std::string>{"/run/apache2/ssl_mutex.123", "/run/daemon/pid",
                                                "/run/foo.pid", "/run/lock/LCK..ttyS0",
                                                "/run/php/fpm.sock", "/run/xtables.lock"}));
  EXPECT_EQ(r.roots, std::vector<std::string>{"/run"});
  ASSERT_EQ(r.skipped.size(), 2u);
  EXPECT_EQ(r.skipped[0], "/var/run: a symlink, not followed");
  EXPECT_FALSE(r.stopped_early);
  for (const auto& c : r.files)
    if (c.path == "/run/php/fpm.sock") {
      EXPECT_EQ(c.kind, Kind::kSocket);
    }

  o.ignore = {"/run/php/*", "*.lock"};
  auto ignored = Paths(Scan(o));
  EXPECT_EQ(std::count(ignored.begin(), ignored.end(), "/run/php/fpm.sock"), 0);
  EXPECT_EQ(std::count(ignored.begin(), ignored.end(), "/run/xtables.lock"), 0);
  EXPECT_EQ(ignored.size(), 4u);
}

TEST_F(StaleTree, DepthAndCountAreBounded) {
  Put(Root() + "/run/a.pid");
  Put(Root() + "/run/d1/b.pid");
  Put(Root() + "/run/d1/d2/c.pid");
  Put(Root() + "/run/d1/d2/d3/deep.pid");
  ScanOptions o;
  o.fs_root = Root();
  o.dirs = {"/run"};
  EXPECT_EQ(Paths(Scan(o)),
            (std::vector<std::string>{"/run/a.pid", "/run/d1/b.pid", "/run/d1/d2/c.pid"}));
  o.max_depth = 1;
  EXPECT_EQ(Paths(Scan(o)), std::vector<std::string>{"/run/a.pid"});

  for (int i = 0; i < 50; ++i) Put(Root() + "/run/many/" + std::to_string(i) + ".pid");
  o.max_depth = 3;
  o.max_entries = 20;
  auto r = Scan(o);
  EXPECT_TRUE(r.stopped_early);
  EXPECT_EQ(r.entries, 20u);
  EXPECT_LE(r.files.size(), 20u);
  JudgeOptions j;
  j.grace = 0s;
  j.proc_root = Proc();
  auto obs = Report(r, Judge({}, {}, j, clock_));
  EXPECT_NE(obs.summary.find("stopped early after 20 entries"), std::string::npos) << obs.summary;
}

TEST_F(StaleTree, UnreadableDirectoriesAreListedNotFatal) {
  Put(Root() + "/run/open/a.pid", "1\n");
  Put(Root() + "/run/closed/b.pid", "1\n");
  fs::permissions(dir_.path(), fs::perms::all);
  fs::permissions(Root() + "/run/closed", fs::perms::none);
  ScanOptions o;
  o.fs_root = Root();
  o.dirs = {"/run", "/nonexistent"};
  auto check = [&] {
    auto r = Scan(o);
    return Paths(r) == std::vector<std::string>{"/run/open/a.pid"} &&
           r.unreadable == std::vector<std::string>{"/run/closed"} && r.skipped.size() == 1;
  };
  if (::geteuid() != 0) {
    EXPECT_TRUE(check());
    return;
  }
  // Root reads every directory: judge as an ordinary user, in a child.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
    ::_exit(check() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(StaleTables, ProcNetUnix) {
  const std::string text =
      "Num       RefCount Protocol Flags    Type St Inode Path\n"
      "0000000000000000: 00000002 00000000 00010000 0001 01 100 /run/listening.sock\n"
      // An accepted connection carries the listener's path, but not the flag.
      "0000000000000000: 00000003 00000000 00000000 0001 03 101 /run/gone.sock\n"
      "0000000000000000: 00000002 00000000 00000000 0002 01 102 /run/systemd/notify\n"
      "0000000000000000: 00000002 00000000 00010000 0001 01 103 /run/with space.sock\n"
      "0000000000000000: 00000002 00000000 00010000 0001 01 104 @/abstract/name\n"
      "0000000000000000: 00000002 00000000 00010000 0005 01 105 short.sock\n"
      "0000000000000000: 00000002 00000000 00010000 0001 01 106\n"
      "garbage line\n";
  auto t = ParseProcNetUnix(text);
  EXPECT_TRUE(t.Alive("/run/listening.sock"));
  EXPECT_FALSE(t.Alive("/run/gone.sock"));
  EXPECT_TRUE(t.Alive("/run/systemd/notify"));
  EXPECT_TRUE(t.Alive("/run/with space.sock"));
  EXPECT_FALSE(t.Alive("/abstract/name"));
  EXPECT_TRUE(t.Alive("/run/a/very/long/dir/short.sock")) << "bound by a relative path";
  EXPECT_FALSE(t.Alive("/run/notshort.sock"));
  EXPECT_EQ(t.paths.size(), 3u);
}

TEST(StaleTables, ProcLocks) {
  auto l = ParseProcLocks(
      "1: POSIX  ADVISORY  WRITE 1234 08:01:1835012 0 EOF\n"
      "2: FLOCK  ADVISORY  WRITE 567 00:1a:12 0 EOF\n"
      "2: -> FLOCK  ADVISORY  WRITE 568 00:1a:12 0 EOF\n"
      "3: OFDLCK ADVISORY  READ  -1 fd:00:77 0 EOF\n"
      "nonsense\n");
  EXPECT_EQ(l.size(), 3u);
  EXPECT_TRUE(l.count({8, 1, 1835012}));
  EXPECT_TRUE(l.count({0, 0x1a, 12}));
  EXPECT_TRUE(l.count({0xfd, 0, 77}));
}

TEST(StalePaths, CanonicalRunPathAndKinds) {
  EXPECT_EQ(CanonicalRunPath("/var/run/foo.pid"), "/run/foo.pid");
  EXPECT_EQ(CanonicalRunPath("/var/lock/LCK..x"), "/run/lock/LCK..x");
  EXPECT_EQ(CanonicalRunPath("/var/runner/x"), "/var/runner/x");
  Kind k{};
  EXPECT_TRUE(KindByName("nginx.pid", &k) && k == Kind::kPidFile);
  EXPECT_TRUE(KindByName("pid", &k) && k == Kind::kPidFile);
  EXPECT_TRUE(KindByName("mpmtx7120.mutex", &k) && k == Kind::kLock);
  EXPECT_TRUE(KindByName("LCK..ttyS0", &k) && k == Kind::kLock);
  EXPECT_FALSE(KindByName(".pid", &k));
  EXPECT_FALSE(KindByName("pidgin.conf", &k));
}

TEST_F(StaleTree, DeadPidIsStaleAlivePidIsNot) {
  Put(Root() + "/run/alive.pid", "123\n");
  Put(Root() + "/run/dead.pid", "456\n");
  Put(Root() + "/run/empty.pid", "");
  Put(Root() + "/run/junk.pid", "hello\n");
  Process(123);
  auto j = JudgeAll();
  EXPECT_EQ(Lines(j),
            std::vector<std::string>{"stale pid file /run/dead.pid (pid 456 not running)"});
  EXPECT_EQ(j.pid_files, 4u);
  EXPECT_EQ(j.unreadable, 2u);
  EXPECT_TRUE(j.needs_units);
  EXPECT_EQ(j.alive_pid_files, std::set<std::string>{"/run/alive.pid"});

  // With the unit that owns it, the finding names it.
  UnitFiles dead;
  dead.name = "dead.service";
  dead.active_state = "failed";
  dead.pid_file = "/var/run/dead.pid";
  EXPECT_EQ(
      Lines(JudgeAll({dead})),
      std::vector<std::string>{"stale pid file /run/dead.pid (dead.service, pid 456 not running)"});
}

TEST_F(StaleTree, AlivePidOfAnotherProgramIsStaleOnlyWithItsUnitsEvidence) {
  Put(Root() + "/run/foo.pid", "123\n");
  Process(123, "/usr/bin/sleep");
  EXPECT_TRUE(JudgeAll().stale.empty()) << "alive, and no unit to compare with";

  UnitFiles foo;
  foo.name = "foo.service";
  foo.active_state = "inactive";
  foo.pid_file = "/run/foo.pid";
  foo.exec_path = "/usr/sbin/foo";
  EXPECT_EQ(Lines(JudgeAll({foo})),
            std::vector<std::string>{"stale pid file /run/foo.pid (foo.service, pid 123 is "
                                     "/usr/bin/sleep, not /usr/sbin/foo)"});
  // The unit's own main process: fine whatever its exe says.
  foo.main_pid = 123;
  EXPECT_TRUE(JudgeAll({foo}).stale.empty());
  foo.main_pid = 0;
  // A script: the interpreter is the exe, the script its argument.
  std::ofstream(Proc() + "/123/cmdline") << std::string("/usr/bin/python3\0/usr/sbin/foo\0", 31);
  EXPECT_TRUE(JudgeAll({foo}).stale.empty());
  fs::remove(Proc() + "/123/cmdline");
  // Same program name at another path (/sbin vs /usr/sbin), or upgraded in place.
  fs::remove(Proc() + "/123/exe");
  fs::create_symlink("/sbin/foo (deleted)", Proc() + "/123/exe");
  EXPECT_TRUE(JudgeAll({foo}).stale.empty());
  // Unknown ExecStart: no evidence.
  fs::remove(Proc() + "/123/exe");
  fs::create_symlink("/usr/bin/sleep", Proc() + "/123/exe");
  foo.exec_path.clear();
  EXPECT_TRUE(JudgeAll({foo}).stale.empty());
}

TEST_F(StaleTree, SocketListedInProcNetUnixIsAliveOtherwiseStale) {
  DeadSocket(Root() + "/run/php/php8.2-fpm.sock");
  DeadSocket(Root() + "/run/listed.sock");
  Put(Proc() + "/net/unix",
      "Num       RefCount Protocol Flags    Type St Inode Path\n"
      "0000000000000000: 00000002 00000000 00010000 0001 01 100 " +
          Root() + "/run/listed.sock\n");
  // The table shows paths as bound; here they were bound under the fs root.
  ScanOptions s;
  s.fs_root = Root();
  auto scan = Scan(s);
  for (auto& c : scan.files) c.path = Root() + c.path;
  JudgeOptions o = Options();
  o.fs_root = "";
  auto j = Judge(scan.files, {}, o, clock_);
  EXPECT_EQ(Lines(j), std::vector<std::string>{"socket " + Root() +
                                               "/run/php/php8.2-fpm.sock: nobody listening"});
  EXPECT_EQ(j.sockets, 2u);

  UnitFiles fpm;
  fpm.name = "php8.2-fpm.service";
  fpm.active_state = "inactive";
  fpm.runtime_dirs = {Root() + "/run/php"};
  EXPECT_EQ(Lines(Judge(scan.files, {fpm}, o, clock_)),
            std::vector<std::string>{"socket " + Root() +
                                     "/run/php/php8.2-fpm.sock: nobody listening "
                                     "(php8.2-fpm.service inactive)"});
  UnitFiles sock;
  sock.name = "fpm.socket";
  sock.active_state = "failed";
  sock.listen_paths = {Root() + "/run/php/php8.2-fpm.sock"};
  EXPECT_NE(Lines(Judge(scan.files, {fpm, sock}, o, clock_))[0].find("(fpm.socket failed)"),
            std::string::npos);

  // Not in the table but a connect is not refused (a listener in another
  // network namespace would look so): not flagged.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  const std::string live = Root() + "/run/live.sock";
  std::strcpy(a.sun_path, live.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  o.confirm_by_connect = true;
  scan = Scan(s);
  for (auto& c : scan.files) c.path = Root() + c.path;
  auto confirmed = Lines(Judge(scan.files, {}, o, clock_));
  ::close(fd);
  EXPECT_EQ(confirmed, std::vector<std::string>{"socket " + Root() +
                                                "/run/php/php8.2-fpm.sock: nobody listening"});
}

TEST_F(StaleTree, LockFileIsStaleOnlyWhenNotHeldAndItsUnitIsDown) {
  const std::string mutex = "/run/apache2/mpm-accept.mutex";
  Put(Root() + mutex);
  Put(Root() + "/run/orphan.lock");
  fs::create_directories(Proc());
  UnitFiles apache;
  apache.name = "apache2.service";
  apache.active_state = "inactive";
  apache.runtime_dirs = {"/run/apache2"};

  EXPECT_TRUE(JudgeAll().stale.empty()) << "no owning unit: a lock file alone is not flagged";
  EXPECT_EQ(Lines(JudgeAll({apache})),
            std::vector<std::string>{"stale lock file " + mutex +
                                     " (apache2.service inactive, not held by any process)"});
  // Held open by a process (an fd link to it): not stale.
  Process(55);
  fs::create_symlink(Root() + mutex, Proc() + "/55/fd/3");
  EXPECT_TRUE(JudgeAll({apache}).stale.empty());
  fs::remove(Proc() + "/55/fd/3");
  // Locked (flock) by inode in /proc/locks: not stale.
  struct stat st {};
  ASSERT_EQ(::stat((Root() + mutex).c_str(), &st), 0);
  Put(Proc() + "/locks", fmt::format("1: FLOCK  ADVISORY  WRITE 55 {:02x}:{:02x}:{} 0 EOF\n",
                                     major(st.st_dev), minor(st.st_dev), st.st_ino));
  EXPECT_TRUE(JudgeAll({apache}).stale.empty());
  fs::remove(Proc() + "/locks");
  // Its unit running: not stale.
  apache.active_state = "active";
  EXPECT_TRUE(JudgeAll({apache}).stale.empty());
  apache.active_state = "inactive";
  // A process whose descriptors cannot be read might hold it: not guessed.
  Put(Proc() + "/66/fd", "not a directory");
  auto j = JudgeAll({apache});
  EXPECT_TRUE(j.stale.empty());
  EXPECT_TRUE(j.proc_incomplete);
}

TEST_F(StaleTree, GraceLeavesNewFilesAlone) {
  Put(Root() + "/run/new.pid", "456\n");
  Put(Root() + "/run/old.pid", "457\n");
  Backdate(Root() + "/run/old.pid", 10min);
  fs::create_directories(Proc());
  JudgeOptions o = Options();
  o.grace = 5min;
  auto j = JudgeAll({}, o);
  EXPECT_EQ(Lines(j),
            std::vector<std::string>{"stale pid file /run/old.pid (pid 457 not running)"});
  EXPECT_EQ(j.too_young, 1u);
}

TEST_F(StaleTree, ReportNamesEveryPathBounded) {
  fs::create_directories(Proc());
  for (int i = 0; i < 10; ++i) Put(Root() + "/run/s" + std::to_string(i) + ".pid", "999999\n");
  auto j = JudgeAll();
  auto obs = Report(scan_, j);
  EXPECT_EQ(obs.status, CheckStatus::kWarning);
  EXPECT_NE(obs.summary.find("stale pid file /run/s0.pid (pid 999999 not running)"),
            std::string::npos);
  EXPECT_TRUE(obs.summary.ends_with("; and 2 more")) << obs.summary;
  for (int i = 0; i < 10; ++i)
    EXPECT_NE(obs.details.find("/run/s" + std::to_string(i) + ".pid"), std::string::npos);
  auto metric = [&](const std::string& name) {
    for (const auto& m : obs.metrics)
      if (m.name == name) return m.value;
    return -1.0;
  };
  EXPECT_EQ(metric("stale_files"), 10);
  EXPECT_EQ(metric("pid_files"), 10);
  EXPECT_EQ(metric("stale:/run/s9.pid"), 1);

  fs::remove_all(Root() + "/run");
  Put(Root() + "/run/ok.pid", "1\n");
  Process(1);
  obs = Report(scan_, JudgeAll());
  EXPECT_EQ(obs.status, CheckStatus::kOk);
  EXPECT_EQ(obs.summary, "no stale files in /run (1 pid files, 0 sockets, 0 lock files checked)");
}

}  // namespace
}  // namespace mamori::host::stale
