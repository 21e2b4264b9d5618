// Tests for remedies on real things: a real nginx's Unix socket (live, then
// stale after SIGKILL), a socket whose listen backlog is full, files held
// open by this very process or mmapped by a child (seen through the real
// /proc), planted symlinks, real commands, and the config reader's errors.
#include "mamori/remedy/remedy.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "mamori/config/diagnostics.h"
#include "testing/cli.h"
#include "testing/full_backlog_socket.h"
#include "testing/nginx.h"

namespace mamori::remedies {
namespace remove_stale_socket {
void Register(remedy::StepRegistry&);
}
namespace remove_unused_files {
void Register(remedy::StepRegistry&);
}
namespace command {
void Register(remedy::StepRegistry&);
}
}  // namespace mamori::remedies

namespace mamori::remedy {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The three step types through their own Register functions, as the
// composition's generated registry has them.
const StepRegistry& Steps() {
  static const StepRegistry registry = [] {
    StepRegistry r;
    remedies::remove_stale_socket::Register(r);
    remedies::remove_unused_files::Register(r);
    remedies::command::Register(r);
    return r;
  }();
  return registry;
}

// Reads `remedy:` from a check mapping, returning the plan and the errors.
// With `unknown_keys`, keys nobody read are reported too, as the loader does.
// A check built with yaml-cpp, as the loader's own tree.
std::shared_ptr<const Plan> Parse(const YAML::Node& check, std::string* errors,
                                  bool unknown_keys = false) {
  config::Diagnostics diag;
  config::ConfigNode node(std::get<config::Yaml>(config::Yaml::Parse(YAML::Dump(check))),
                          "check 'x'", "test.yaml", &diag);
  auto plan = ReadPlan(node, Steps());
  if (unknown_keys) node.CheckUnknownKeys();
  errors->clear();
  for (const auto& d : diag.items()) *errors += d.ToString() + "\n";
  return plan;
}
std::shared_ptr<const Plan> Parse(const std::string& yaml, std::string* errors,
                                  bool unknown_keys = false) {
  return Parse(YAML::Load(yaml), errors, unknown_keys);
}

// One step as a config file states it, read through the registry.
std::shared_ptr<const StepAction> MakeStep(const YAML::Node& step) {
  YAML::Node check;
  check["remedy"]["steps"].push_back(step);
  std::string errors;
  auto plan = Parse(check, &errors, /*unknown_keys=*/true);
  EXPECT_EQ(errors, "");
  if (!plan || plan->steps.size() != 1) {
    ADD_FAILURE() << "no step read from " << YAML::Dump(step);
    return nullptr;
  }
  return plan->steps[0];
}

std::shared_ptr<const StepAction> StaleSocket(const std::string& p) {
  YAML::Node n;
  n["remove_stale_socket"] = p;
  return MakeStep(n);
}
// Test files live in a fresh temp dir, which need not be under /tmp
// ($TMPDIR): the steps say explicitly that they may clean outside the
// runtime dirs, as a config would have to.
std::shared_ptr<const StepAction> UnusedFiles(const std::string& p, bool allow_outside = true) {
  YAML::Node n;
  n["remove_unused_files"] = p;
  if (allow_outside) n["allow_outside_runtime_dirs"] = true;
  return MakeStep(n);
}
std::shared_ptr<const StepAction> Command(std::vector<std::string> argv) {
  YAML::Node n;
  n["command"] = argv;
  return MakeStep(n);
}

TEST(Remedy, StaleSocketIsRemovedOnlyWhenNobodyListens) {
  testing::TempDir dir;
  const std::string sock = dir.path() + "/fpm.sock";
  std::string error;
  auto nginx = testing::NginxServer::StartWithUnixSocket(sock, &error);
  ASSERT_TRUE(nginx) << error;

  Plan plan;
  plan.steps = {StaleSocket(sock)};
  Outcome live = Execute(plan);
  EXPECT_TRUE(live.ok);
  EXPECT_EQ(live.steps.at(0).detail, "live (accepts connections): left alone");
  EXPECT_TRUE(fs::exists(sock));

  nginx->Crash();
  ASSERT_TRUE(testing::Eventually(
      [&] {
        std::string why;
        return SocketIsStale(sock, &why);
      },
      5s));
  Outcome fixed = Execute(plan);
  EXPECT_TRUE(fixed.ok) << fixed.Summary();
  EXPECT_EQ(fixed.Summary(),
            "remedy ok: remove_stale_socket " + sock + ": stale (connection refused): removed");
  EXPECT_FALSE(fs::exists(sock));
  // Nothing left to do is not a failure.
  EXPECT_EQ(Execute(plan).steps.at(0).detail, "not there: nothing to remove");
}

TEST(Remedy, FilesInUseAreKeptAndUnusedOnesRemoved) {
  testing::TempDir dir;
  const std::string busy = dir.Write("mpmtx7120", "");
  const std::string stale = dir.Write("mpmtx6001", "");
  const int fd = ::open(busy.c_str(), O_RDONLY | O_CLOEXEC);  // this process holds it
  ASSERT_GE(fd, 0);
  bool unknown = false;
  EXPECT_EQ(OpenByAnyProcess({busy, stale}, "/proc", &unknown), std::vector<std::string>{busy});

  Plan plan;
  plan.steps = {UnusedFiles(dir.path() + "/mpmtx*")};
  if (unknown) GTEST_SKIP() << "some processes' fds are unreadable here; the step refuses";
  Outcome o = Execute(plan);
  EXPECT_TRUE(o.ok) << o.Summary();
  EXPECT_EQ(o.steps.at(0).detail, "removed " + stale + "; in use, kept " + busy);
  EXPECT_TRUE(fs::exists(busy));
  EXPECT_FALSE(fs::exists(stale));
  ::close(fd);
}

// A socket whose backlog is full is alive, only busy: it is left alone, and
// the check does not hang on it (a blocking connect used to).
TEST(Remedy, FullBacklogSocketIsLiveAndAnsweredAtOnce) {
  testing::TempDir dir;
  const std::string sock = dir.path() + "/fpm.sock";
  std::string error;
  auto busy = testing::FullBacklogSocket::Start(sock, &error);
  ASSERT_TRUE(busy) << error;
  Plan plan;
  plan.steps = {StaleSocket(sock)};
  const auto start = std::chrono::steady_clock::now();
  Outcome o = Execute(plan);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_TRUE(o.ok) << o.Summary();
  EXPECT_EQ(o.steps.at(0).detail, "live but overloaded (listen backlog full): left alone");
  EXPECT_TRUE(fs::exists(sock));
}

// A child that maps `file` into memory, closes its descriptor (so only
// /proc/PID/maps shows the use), creates `ready` and sleeps. Killed and
// reaped on destruction; it exits by itself after 60 s in any case.
class MappingChild {
 public:
  MappingChild(const std::string& file, const std::string& ready) {
    static const char* kScript =
        "import ctypes, os, sys, time\n"
        "libc = ctypes.CDLL(None)\n"
        "libc.mmap.restype = ctypes.c_void_p\n"
        "libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,\n"
        "                      ctypes.c_int, ctypes.c_long]\n"
        "fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "p = libc.mmap(None, 4096, 3, 1, fd, 0)\n"  // PROT_READ|PROT_WRITE, MAP_SHARED
        "if p is None or p == ctypes.c_void_p(-1).value: sys.exit(1)\n"
        "os.close(fd)\n"
        "open(sys.argv[2], 'w').close()\n"
        "time.sleep(60)\n";
    std::vector<const char*> argv = {"python3",    "-c",          kScript,
                                     file.c_str(), ready.c_str(), nullptr};
    if (::posix_spawnp(&pid_, "python3", nullptr, nullptr, const_cast<char**>(argv.data()),
                       environ) != 0)
      pid_ = -1;
  }
  ~MappingChild() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// A proc root holding only `pids`, as symlinks to their real /proc entries:
// the scan reads their real fd/, maps, exe and cwd, while processes that
// this environment may not let even root read (a sandbox's PID 1) stay out
// of a test that is about other things.
std::string ProcOf(const testing::TempDir& dir, const std::vector<pid_t>& pids) {
  const std::string root = dir.path() + "/proc";
  fs::create_directories(root);
  for (pid_t p : pids)
    fs::create_directory_symlink("/proc/" + std::to_string(p), root + "/" + std::to_string(p));
  return root;
}

// An mmapped file has no open descriptor once the mapping is made: only
// /proc/PID/maps shows the use, and a remedy that reads only fd/ removed it.
TEST(Remedy, FileMappedByAnotherProcessIsKept) {
  testing::TempDir dir;
  const std::string mapped = dir.Write("mpmtx7120", "shared state");
  const std::string stale = dir.Write("mpmtx6001", "");
  const std::string ready = dir.path() + "/ready";
  MappingChild child(mapped, ready);
  ASSERT_GT(child.pid(), 0) << "cannot start python3";
  ASSERT_TRUE(testing::Eventually([&] { return fs::exists(ready); }, 10s));
  const std::string proc = ProcOf(dir, {::getpid(), child.pid()});
  bool unknown = true;
  EXPECT_EQ(OpenByAnyProcess({mapped, stale}, proc, &unknown), std::vector<std::string>{mapped});
  EXPECT_FALSE(unknown);

  Plan plan;
  plan.proc_root = proc;
  plan.steps = {UnusedFiles(dir.path() + "/mpmtx*")};
  Outcome o = Execute(plan);
  EXPECT_TRUE(o.ok) << o.Summary();
  EXPECT_EQ(o.steps.at(0).detail, "removed " + stale + "; in use, kept " + mapped);
  EXPECT_TRUE(fs::exists(mapped));
  EXPECT_FALSE(fs::exists(stale));
}

// glob(3) walks through a symlinked directory, so /tmp/app/*/x.lock with a
// planted app/evil -> /etc removed files in /etc. Symlinks below the
// pattern's literal directory are never followed, and a symlink that
// matches is not a file to remove.
TEST(Remedy, SymlinksMatchingThePatternAreNotFollowed) {
  testing::TempDir dir;
  fs::create_directories(dir.path() + "/outside");
  fs::create_directories(dir.path() + "/app/real");
  const std::string victim = dir.Write("outside/victim.lock", "precious");
  const std::string stale = dir.Write("app/real/old.lock", "");
  fs::create_directory_symlink(dir.path() + "/outside", dir.path() + "/app/evil");
  fs::create_symlink(victim, dir.path() + "/app/real/link.lock");

  Plan plan;
  plan.proc_root = ProcOf(dir, {::getpid()});
  plan.steps = {UnusedFiles(dir.path() + "/app/*/*.lock")};
  Outcome o = Execute(plan);
  EXPECT_TRUE(o.ok) << o.Summary();
  EXPECT_EQ(o.steps.at(0).detail, "removed " + stale);
  EXPECT_TRUE(fs::exists(victim));
  EXPECT_TRUE(fs::is_symlink(dir.path() + "/app/real/link.lock"));
}

// The directory a pattern spells out may be a symlink (/var/run -> /run), but
// where it really leads must be a runtime dir unless the step allows more.
// The pattern matches nothing, so a broken guard could not remove anything.
// The directory is made under /tmp, so the pattern passes the check at load
// time and only the one at run time can refuse it.
TEST(Remedy, LiteralDirectoryLeadingOutsideRuntimeDirsIsRefused) {
  char tmpl[] = "/tmp/mamori-remedy-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr) << std::strerror(errno);
  const std::string dir = tmpl;
  fs::create_directory_symlink("/", dir + "/root");
  Plan plan;
  plan.steps = {UnusedFiles(dir + "/root/no-such-file-*", /*allow_outside=*/false)};
  Outcome o = Execute(plan);
  fs::remove_all(dir);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.steps.at(0).detail,
            dir + "/root leads to /, outside the runtime directories: removed nothing");
}

TEST(Remedy, StepsStopAtTheFirstFailure) {
  testing::TempDir dir;
  const std::string marker = dir.path() + "/ran";
  Plan plan;
  plan.steps = {Command({"sh", "-c", "echo restarting; exit 3"}), Command({"touch", marker})};
  Outcome o = Execute(plan);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.Summary(),
            "remedy failed at step 1: sh -c echo restarting; exit 3: exited 3: restarting");
  EXPECT_FALSE(fs::exists(marker));
  plan.steps = {Command({"true"}), Command({"touch", marker})};
  EXPECT_TRUE(Execute(plan).ok);
  EXPECT_TRUE(fs::exists(marker));
  plan.steps = {Command({"/nonexistent/restart-it"})};
  o = Execute(plan);
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.steps.at(0).detail.find("cannot run /nonexistent/restart-it"), std::string::npos)
      << o.Summary();
  plan.command_timeout = 200ms;
  plan.steps = {Command({"sleep", "10"})};
  EXPECT_EQ(Execute(plan).steps.at(0).detail, "timed out after 200ms");
}

TEST(Remedy, GuardAllowsMaxAttemptsPerWindow) {
  Plan plan;
  plan.max_attempts = 2;
  plan.window = std::chrono::hours(1);
  Guard g;
  const WallTime t0 = WallTime(std::chrono::hours(1000));
  EXPECT_TRUE(g.TryAcquire(plan, t0));
  EXPECT_TRUE(g.TryAcquire(plan, t0 + 10min));
  EXPECT_FALSE(g.TryAcquire(plan, t0 + 20min));
  EXPECT_TRUE(g.TryAcquire(plan, t0 + 61min));  // the first attempt left the window
}

// Every check has a Guard and most never repair anything, so an unused one
// must cost no heap (a std::deque took 576 bytes each, 5.6 MiB at 10,000
// checks), and a used one keeps no more than the attempts in its window.
TEST(Remedy, GuardCostsNoHeapUntilUsedAndStaysBounded) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer serves the heap itself: mallinfo2() does not count it";
#endif
  const auto before = static_cast<long long>(mallinfo2().uordblks);
  std::vector<Guard> guards(1000);
  const long long heap_per_guard = (static_cast<long long>(mallinfo2().uordblks) - before) /
                                   static_cast<long long>(guards.size());
  EXPECT_GE(heap_per_guard, static_cast<long long>(sizeof(Guard))) << "the vector itself";
  EXPECT_LE(heap_per_guard, static_cast<long long>(sizeof(Guard) + 16))
      << "bytes of heap per unused Guard";

  Plan plan;
  plan.max_attempts = 3;
  plan.window = std::chrono::minutes(10);
  Guard& g = guards.front();
  WallTime t = WallTime(std::chrono::hours(1000));
  for (int i = 0; i < 500; ++i, t += std::chrono::minutes(1)) (void)g.TryAcquire(plan, t);
  EXPECT_LE(g.remembered(), 3u);
  EXPECT_EQ(g.attempts_in_window(plan, t + std::chrono::hours(1)), 0u);
  EXPECT_EQ(g.remembered(), 0u);
}

TEST(RemedyConfig, ReadsStepsAndRejectsUnsafeOrUnclearOnes) {
  std::string errors;
  auto plan = Parse(
      "remedy: {max_attempts: 2, window: 30m, steps: [{remove_stale_socket: /run/php/fpm.sock}, "
      "{remove_unused_files: /tmp/mpmtx*}, {command: [systemctl, restart, php-fpm]}]}",
      &errors);
  ASSERT_TRUE(plan) << errors;
  EXPECT_EQ(errors, "");
  ASSERT_EQ(plan->steps.size(), 3u);
  EXPECT_EQ(plan->steps[0]->Describe(), "remove_stale_socket /run/php/fpm.sock");
  EXPECT_EQ(plan->steps[1]->Describe(), "remove_unused_files /tmp/mpmtx*");
  EXPECT_EQ(plan->steps[2]->Describe(), "systemctl restart php-fpm");
  EXPECT_EQ(plan->max_attempts, 2);

  EXPECT_FALSE(Parse("remedy: {steps: [{remove_unused_files: /tmp/*}]}", &errors));
  EXPECT_NE(errors.find("would match whole directories of files"), std::string::npos) << errors;
  EXPECT_FALSE(Parse("remedy: {steps: [{command: 'systemctl restart x'}]}", &errors));
  EXPECT_NE(errors.find("command must be a list"), std::string::npos) << errors;
  EXPECT_FALSE(Parse("remedy: {steps: [{remove_stale_socket: run/x.sock}]}", &errors));
  EXPECT_NE(errors.find("'run/x.sock' is not an absolute path"), std::string::npos) << errors;
  EXPECT_FALSE(Parse("remedy: {steps: [{}]}", &errors));
  EXPECT_NE(errors.find("a remedy step needs one action"), std::string::npos) << errors;
  EXPECT_FALSE(Parse("remedy: {max_attempts: 2}", &errors));
  EXPECT_NE(errors.find("remedy has no steps"), std::string::npos) << errors;
  EXPECT_FALSE(Parse("name: x", &errors));
  EXPECT_EQ(errors, "");
}

// A step is exactly one registered action; the errors name them all, and a
// misspelt action is pointed at with the registered key it is closest to.
TEST(RemedyConfig, AStepIsExactlyOneRegisteredAction) {
  std::string errors;
  const std::string forms =
      "each step is exactly one of remove_stale_socket: PATH, remove_unused_files: GLOB, "
      "command: [ARGV]";
  EXPECT_FALSE(Parse("remedy: {steps: [{remove_stale_socket: /run/x.sock, command: [true]}]}",
                     &errors, true));
  EXPECT_EQ(errors,
            "test.yaml:1:18: steps item 1: a remedy step has several actions; " + forms + "\n");
  EXPECT_FALSE(Parse("remedy: {steps: [{}]}", &errors, true));
  EXPECT_EQ(errors,
            "test.yaml:1:18: steps item 1: a remedy step needs one action; " + forms + "\n");
  EXPECT_FALSE(
      Parse("remedy:\n  steps:\n    - remove_stale_sockets: /run/x.sock\n", &errors, true));
  EXPECT_EQ(errors,
            "test.yaml:3:7: steps item 1: unknown remedy step "
            "'remove_stale_sockets'; did you mean 'remove_stale_socket'?\n");
  EXPECT_FALSE(Parse("remedy: {steps: [{reboot: now}]}", &errors, true));
  EXPECT_NE(errors.find("unknown remedy step 'reboot'; " + forms), std::string::npos) << errors;
  // A key of the chosen step's own that it does not know is still reported.
  EXPECT_TRUE(Parse("remedy: {steps: [{command: [true], timeout: 5s}]}", &errors, true));
  EXPECT_NE(errors.find("unknown key 'timeout'"), std::string::npos) << errors;
}

TEST(RemedyConfig, UnusedFilesStayInRuntimeDirsUnlessAllowed) {
  std::string errors;
  for (const char* ok : {"/run/php/*.pid", "/var/run/app.lock", "/run/lock/LCK..ttyS*",
                         "/var/lock/subsys/x*", "/tmp/mpmtx*", "/var/tmp/app-*/lock"}) {
    EXPECT_TRUE(Parse(std::string("remedy: {steps: [{remove_unused_files: ") + ok + "}]}", &errors))
        << ok << ": " << errors;
  }
  EXPECT_FALSE(Parse("remedy: {steps: [{remove_unused_files: /etc/*.conf}]}", &errors));
  EXPECT_EQ(errors,
            "test.yaml:1:40: steps item 1: 'remove_unused_files': '/etc/*.conf' is outside the "
            "runtime directories (/run, "
            "/var/run, /run/lock, /var/lock, /tmp, /var/tmp); stale locks, sockets and PID files "
            "live there; to clean elsewhere on purpose, add allow_outside_runtime_dirs: true to "
            "this step\n");
  EXPECT_FALSE(Parse("remedy: {steps: [{remove_unused_files: /var/lib/mysql/ib*}]}", &errors));
  EXPECT_NE(errors.find("'/var/lib/mysql/ib*' is outside the runtime directories"),
            std::string::npos)
      << errors;
  EXPECT_FALSE(Parse("remedy: {steps: [{remove_unused_files: /tmp/../etc/x*}]}", &errors));
  EXPECT_NE(errors.find("contains '.' or '..' components"), std::string::npos) << errors;
  EXPECT_FALSE(Parse("remedy: {steps: [{remove_unused_files: /run/app/**}]}", &errors));
  EXPECT_NE(errors.find("would match whole directories of files"), std::string::npos) << errors;

  auto plan = Parse(
      "remedy: {steps: [{remove_unused_files: /srv/app/locks/*.lock, "
      "allow_outside_runtime_dirs: true}]}",
      &errors);
  ASSERT_TRUE(plan) << errors;
  // The step carries the permission to run time: /etc, where the pattern's
  // directory leads, is walked (there is no such file) instead of refused.
  plan = Parse(
      "remedy: {steps: [{remove_unused_files: /etc/no-such-mamori-file-*, "
      "allow_outside_runtime_dirs: true}]}",
      &errors);
  ASSERT_TRUE(plan) << errors;
  Outcome o = Execute(*plan);
  EXPECT_TRUE(o.ok) << o.Summary();
  EXPECT_EQ(o.steps.at(0).detail, "no matching files: nothing to remove");
  EXPECT_FALSE(
      Parse("remedy: {steps: [{command: [true], allow_outside_runtime_dirs: true}]}", &errors));
  EXPECT_NE(errors.find("applies only to remove_unused_files"), std::string::npos) << errors;
}

}  // namespace
}  // namespace mamori::remedy
