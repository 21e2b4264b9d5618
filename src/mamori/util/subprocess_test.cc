#include "mamori/util/subprocess.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace mamori {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

ProcessOptions Sh(const std::string& script) {
  ProcessOptions o;
  o.argv = {"/bin/sh", "-c", script};
  return o;
}

ProcessResult MustRun(const ProcessOptions& o) {
  auto r = RunProcess(o);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message());
  if (!r.ok()) return ProcessResult{};
  return std::move(r).value();
}

// The process state letter from /proc/PID/stat, or 0 if there is no such
// process.
char ProcState(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return 0;
  return stat[paren + 2];
}

// Dead means gone, or a zombie waiting for its new parent (init) to reap it.
bool IsDead(pid_t pid) {
  char s = ProcState(pid);
  return s == 0 || s == 'Z' || s == 'X';
}

// Polls: a killed process disappears asynchronously.
bool BecomesDead(pid_t pid) {
  auto until = Steady::now() + 3s;
  while (Steady::now() < until) {
    if (IsDead(pid)) return true;
    std::this_thread::sleep_for(5ms);
  }
  return IsDead(pid);
}

// Live (non-zombie) processes whose process group is `pgid`.
std::vector<pid_t> LiveGroupMembers(pid_t pgid) {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(paren + 2));
    char state = 0;
    long ppid = 0, pgrp = 0;
    fields >> state >> ppid >> pgrp;
    if (pgrp == pgid && state != 'Z' && state != 'X') out.push_back(static_cast<pid_t>(pid));
  }
  closedir(d);
  return out;
}

bool GroupBecomesEmpty(pid_t pgid) {
  auto until = Steady::now() + 3s;
  while (Steady::now() < until) {
    if (LiveGroupMembers(pgid).empty()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return LiveGroupMembers(pgid).empty();
}

size_t OpenFdCount() {
  size_t n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}

void ExpectReaped(pid_t pid) {
  int status = 0;
  errno = 0;
  EXPECT_EQ(waitpid(pid, &status, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD) << "child " << pid << " was not reaped";
}

TEST(Subprocess, ExitCodes) {
  for (int code : {0, 1, 2, 3, 4, 127, 255}) {
    auto r = MustRun(Sh("exit " + std::to_string(code)));
    EXPECT_TRUE(r.exited());
    EXPECT_EQ(r.exit_code, code);
    EXPECT_EQ(r.term_signal, 0);
    EXPECT_FALSE(r.timed_out);
    ExpectReaped(r.pid);
  }
}

TEST(Subprocess, KilledBySignal) {
  auto r = MustRun(Sh("kill -KILL $$"));
  EXPECT_FALSE(r.exited());
  EXPECT_EQ(r.term_signal, SIGKILL);
  EXPECT_FALSE(r.timed_out);
  r = MustRun(Sh("kill -SEGV $$"));
  EXPECT_EQ(r.term_signal, SIGSEGV);
}

TEST(Subprocess, CapturesStdoutAndStderrSeparately) {
  auto r = MustRun(Sh("echo out1; echo err1 >&2; echo out2; printf err2 >&2"));
  EXPECT_EQ(r.out, "out1\nout2\n");
  EXPECT_EQ(r.err, "err1\nerr2");
  EXPECT_FALSE(r.out_truncated);
  EXPECT_FALSE(r.err_truncated);
}

TEST(Subprocess, MergedStreamsKeepWriteOrder) {
  auto o = Sh("echo a; echo b >&2; echo c; echo d >&2");
  o.merge_stderr = true;
  auto r = MustRun(o);
  EXPECT_EQ(r.out, "a\nb\nc\nd\n");
  EXPECT_EQ(r.err, "");
}

TEST(Subprocess, BigOutputIsTruncatedWithoutDeadlock) {
  // 10 MB on each stream at once: neither pipe may fill up and stall the
  // child while we wait on the other.
  auto o =
      Sh("head -c 10000000 /dev/zero | tr '\\0' x & head -c 10000000 /dev/zero >&2; wait; "
         "echo done >&2");
  o.max_output = 64 * 1024;
  auto start = Steady::now();
  auto r = MustRun(o);
  EXPECT_LT(Steady::now() - start, 8s);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.size(), 64u * 1024);
  EXPECT_EQ(r.out, std::string(64 * 1024, 'x'));  // the head is kept
  EXPECT_TRUE(r.out_truncated);
  EXPECT_EQ(r.err.size(), 64u * 1024);
  EXPECT_TRUE(r.err_truncated);
}

TEST(Subprocess, OutputExactlyAtTheCapIsNotTruncated) {
  auto o = Sh("head -c 1000 /dev/zero");
  o.max_output = 1000;
  auto r = MustRun(o);
  EXPECT_EQ(r.out.size(), 1000u);
  EXPECT_FALSE(r.out_truncated);
}

TEST(Subprocess, StdinIsFedAndDefaultsToDevNull) {
  auto o = Sh("cat; echo; wc -c < /dev/stdin");
  o.stdin_data = "hello";
  auto r = MustRun(o);
  EXPECT_EQ(r.out, "hello\n0\n");
  r = MustRun(Sh("cat; echo end"));  // /dev/null: cat ends at once
  EXPECT_EQ(r.out, "end\n");
}

TEST(Subprocess, LargeStdinThroughCatDoesNotDeadlock) {
  // Both directions fill their pipes: we must write and read at once.
  auto o = Sh("cat");
  o.stdin_data = std::string(4 << 20, 'y');
  o.max_output = 1 << 20;
  auto r = MustRun(o);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.size(), 1u << 20);
  EXPECT_TRUE(r.out_truncated);
}

TEST(Subprocess, ChildThatIgnoresStdinDoesNotRaiseSigpipe) {
  // Writing to a pipe nobody reads would kill this process with SIGPIPE if
  // RunProcess did not guard against it.
  auto o = Sh("exec 0<&-; exit 5");
  o.stdin_data = std::string(8 << 20, 'z');
  auto r = MustRun(o);
  EXPECT_EQ(r.exit_code, 5);
}

TEST(Subprocess, EnvironmentAdditionsAndWorkingDir) {
  setenv("MAMORI_SUBPROCESS_TEST_KEEP", "kept", 1);
  auto o = Sh("echo \"$MAMORI_A|$MAMORI_SUBPROCESS_TEST_KEEP|$HOME\"; pwd");
  o.env = {{"MAMORI_A", "x y"}, {"HOME", "/nonexistent-home"}};
  o.working_dir = "/tmp";
  auto r = MustRun(o);
  EXPECT_EQ(r.out, "x y|kept|/nonexistent-home\n/tmp\n");
  unsetenv("MAMORI_SUBPROCESS_TEST_KEEP");
}

TEST(Subprocess, TimeoutKillsTheWholeProcessGroup) {
  // The grandchild (the background sleep) keeps stdout open: without killing
  // the group we would wait for it for 100 s.
  auto o = Sh("sleep 100 & echo $!; sleep 100");
  o.timeout = 300ms;
  auto start = Steady::now();
  auto r = MustRun(o);
  auto took = Steady::now() - start;
  EXPECT_TRUE(r.timed_out);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 2s);
  EXPECT_EQ(r.term_signal, SIGTERM);
  pid_t grandchild = static_cast<pid_t>(std::atoi(r.out.c_str()));
  ASSERT_GT(grandchild, 0) << r.out;
  EXPECT_TRUE(BecomesDead(grandchild));
  EXPECT_TRUE(GroupBecomesEmpty(r.pid));
  ExpectReaped(r.pid);
}

TEST(Subprocess, SigkillAfterGraceWhenSigtermIsIgnored) {
  // The ignored disposition is inherited by the sleeps too.
  auto o = Sh("trap '' TERM; sleep 100 & sleep 100");
  o.timeout = 200ms;
  o.kill_grace = 200ms;
  auto start = Steady::now();
  auto r = MustRun(o);
  auto took = Steady::now() - start;
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.term_signal, SIGKILL);
  EXPECT_GE(took, 400ms);
  EXPECT_LT(took, 2s);
  EXPECT_TRUE(GroupBecomesEmpty(r.pid));
}

TEST(Subprocess, LeftoverChildrenAreKilledWhenTheProgramExits) {
  auto o = Sh("sleep 100 & echo $!");
  auto start = Steady::now();
  auto r = MustRun(o);
  EXPECT_LT(Steady::now() - start, 2s);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(r.timed_out);
  pid_t bg = static_cast<pid_t>(std::atoi(r.out.c_str()));
  ASSERT_GT(bg, 0);
  EXPECT_TRUE(BecomesDead(bg));
}

TEST(Subprocess, LeftoverChildrenCanBeKeptAlive) {
  // Redirected so it does not hold our pipe.
  auto o = Sh("sleep 100 >/dev/null 2>&1 & echo $!");
  o.kill_group_on_exit = false;
  auto r = MustRun(o);
  pid_t bg = static_cast<pid_t>(std::atoi(r.out.c_str()));
  ASSERT_GT(bg, 0);
  EXPECT_FALSE(IsDead(bg));
  kill(bg, SIGKILL);
  EXPECT_TRUE(BecomesDead(bg));
}

TEST(Subprocess, MissingProgramIsAnError) {
  ProcessOptions o;
  o.argv = {"/nonexistent/check_x", "-w", "1"};
  auto r = RunProcess(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "cannot run /nonexistent/check_x: No such file or directory");
  o.argv = {"mamori-no-such-program-in-path"};
  r = RunProcess(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "cannot run mamori-no-such-program-in-path: No such file or directory");
}

TEST(Subprocess, NotExecutableIsPermissionDenied) {
  std::string path = ::testing::TempDir() + "/mamori_not_executable.sh";
  {
    std::ofstream f(path);
    f << "#!/bin/sh\nexit 0\n";
  }
  chmod(path.c_str(), 0644);
  ProcessOptions o;
  o.argv = {path};
  auto r = RunProcess(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "cannot run " + path + ": Permission denied");
  unlink(path.c_str());
}

TEST(Subprocess, BadInputsAreErrors) {
  ProcessOptions o;
  EXPECT_EQ(RunProcess(o).error().message(), "cannot run an empty command");
  o.argv = {"/bin/true", std::string("a\0b", 3)};
  EXPECT_FALSE(RunProcess(o).ok());
  o.argv = {"/bin/true"};
  o.env = {{"A=B", "c"}};
  EXPECT_FALSE(RunProcess(o).ok());
  o.env.clear();
  o.working_dir = "/nonexistent-dir";
  EXPECT_EQ(RunProcess(o).error().message(),
            "cannot run /bin/true: working directory /nonexistent-dir: No such file or directory");
}

TEST(Subprocess, NoDescriptorLeaksAndChildSeesOnlyStdio) {
  size_t before = OpenFdCount();
  for (int i = 0; i < 20; ++i) {
    auto o = Sh("echo x");
    o.stdin_data = "in";
    (void)MustRun(o);
    o.argv = {"/nonexistent"};
    (void)RunProcess(o);
  }
  EXPECT_EQ(OpenFdCount(), before);
  // The child's open descriptors, listed by a glob in the shell itself; 3 is
  // the directory the glob reads. Whatever this test process inherited
  // without close-on-exec must not reach the child either.
  auto r = MustRun(Sh("cd /proc/$$/fd && echo *"));
  EXPECT_EQ(r.out, "0 1 2 3\n");
}

TEST(Subprocess, RunsConcurrentlyFromManyThreads) {
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &good] {
      for (int i = 0; i < 10; ++i) {
        auto r = RunProcess(
            Sh("echo " + std::to_string(t * 100 + i) + "; exit " + std::to_string(i % 4)));
        if (r.ok() && r->out == std::to_string(t * 100 + i) + "\n" && r->exit_code == i % 4) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 80);
}

}  // namespace
}  // namespace mamori
