// Tests for the "process" check type against real processes this test
// spawns (sleep and a busy shell loop, renamed through argv[0] so they can be
// matched uniquely) and real pidfiles in a temporary directory.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "testing/probe_harness.h"

extern char** environ;

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
bool HasMetric(const Observation& o, const std::string& name) {
  for (const auto& m : o.metrics)
    if (m.name == name) return true;
  return false;
}

std::string UniqueToken() {
  static std::atomic<int> n{0};
  return fmt::format("mamori-proc-test-{}-{}", ::getpid(), n++);
}

// A real child process; killed and reaped on destruction.
class Child {
 public:
  Child(const std::string& path, const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int rc = ::posix_spawn(&pid_, path.c_str(), nullptr, nullptr, args.data(), environ);
    if (rc != 0) {
      ADD_FAILURE() << "posix_spawn " << path << ": " << std::strerror(rc);
      pid_ = -1;
      return;
    }
    // posix_spawn returns during the exec, before the kernel has published
    // the new command line: wait until /proc shows it.
    std::string want;
    for (const auto& a : argv) want += (want.empty() ? "" : " ") + a;
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (Cmdline() != want && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(Cmdline(), want);
    // Its memory too: right after the exec /proc can still show 0 resident
    // pages, and the tests judge rss.
    while (ResidentPages() == 0 && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  long ResidentPages() const {
    std::ifstream in(fmt::format("/proc/{}/statm", pid_));
    long size = 0, resident = 0;
    in >> size >> resident;
    return resident;
  }
  std::string Cmdline() const {
    std::ifstream in(fmt::format("/proc/{}/cmdline", pid_));
    std::string s((std::istreambuf_iterator<char>(in)), {});
    while (!s.empty() && s.back() == '\0') s.pop_back();
    std::replace(s.begin(), s.end(), '\0', ' ');
    return s;
  }
  // Waits until the process sleeps (for sleep(1): it has finished starting
  // up, so its resident memory is stable).
  void WaitSleeping() const {
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < give_up) {
      std::ifstream in(fmt::format("/proc/{}/stat", pid_));
      std::string s((std::istreambuf_iterator<char>(in)), {});
      size_t p = s.rfind(')');
      if (p != std::string::npos && p + 2 < s.size() && s[p + 2] == 'S') return;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ADD_FAILURE() << "process " << pid_ << " never went to sleep";
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// `sleep 300` whose argv[0] is `name` (comm stays "sleep").
std::unique_ptr<Child> Sleeper(const std::string& name) {
  return std::make_unique<Child>("/bin/sleep", std::vector<std::string>{name, "300"});
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/mamori-proc-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

uint64_t CpuTicks(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(in)), {});
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  return utime + stime;
}

TEST(ProcessProbe, DocumentedPhpFpmConfig) {
  auto fpm = Sleeper("php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)");
  ProbeHarness h;
  auto o = h.RunYaml("{name: php-fpm, type: process, match: \"php-fpm: master\", min: 1}");
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_GE(Metric(o, "count"), 1);
  EXPECT_NE(o.summary.find(std::to_string(fpm->pid())), std::string::npos) << o.summary;
  EXPECT_EQ(o.summary.rfind("1 process matches /php-fpm: master/ (pid ", 0), 0u) << o.summary;
  EXPECT_FALSE(HasMetric(o, "cpu_percent")) << "the first run has no CPU figure";
}

TEST(ProcessProbe, CountsAgainstMinAndMax) {
  std::string token = UniqueToken();
  ProbeHarness h;
  std::string yaml = "{name: p, type: process, match: " + token;
  auto none = h.RunYaml(yaml + "}");
  EXPECT_EQ(none.status, CheckStatus::kCritical);
  EXPECT_EQ(none.summary, "no process matches /" + token + "/");
  EXPECT_EQ(Metric(none, "count"), 0);
  EXPECT_EQ(h.RunYaml(yaml + ", min: 0}").status, CheckStatus::kOk);

  auto a = Sleeper(token + "-a");
  auto one = h.RunYaml(yaml + ", min: 2}");
  EXPECT_EQ(one.status, CheckStatus::kCritical);
  EXPECT_EQ(one.summary.rfind(fmt::format("1 process matches /{}/ (pid {}), expected at least 2, "
                                          "rss ",
                                          token, a->pid()),
                              0),
            0u)
      << one.summary;

  auto b = Sleeper(token + "-b");
  auto two = h.RunYaml(yaml + ", max: 1}");
  EXPECT_EQ(two.status, CheckStatus::kCritical);
  EXPECT_EQ(Metric(two, "count"), 2);
  pid_t lo = std::min(a->pid(), b->pid()), hi = std::max(a->pid(), b->pid());
  EXPECT_EQ(two.summary.rfind(fmt::format("2 processes match /{}/ (pids {}, {}), expected at "
                                          "most 1, rss ",
                                          token, lo, hi),
                              0),
            0u)
      << two.summary;
  EXPECT_EQ(h.RunYaml(yaml + ", min: 2, max: 2}").status, CheckStatus::kOk);

  // comm and match together must both hold.
  EXPECT_EQ(h.RunYaml(yaml + ", comm: sleep, min: 2}").status, CheckStatus::kOk);
  auto wrong = h.RunYaml(yaml + ", comm: nginx}");
  EXPECT_EQ(wrong.summary, "no process matches 'nginx' /" + token + "/");
}

TEST(ProcessProbe, ExcludesItself) {
  // Our own exact command line: any other match is another process with the
  // same command line, counted independently here.
  std::ifstream in("/proc/self/cmdline");
  std::string self((std::istreambuf_iterator<char>(in)), {});
  while (!self.empty() && self.back() == '\0') self.pop_back();
  std::replace(self.begin(), self.end(), '\0', ' ');
  int others = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (std::stoi(name) == ::getpid()) continue;
    std::ifstream c(e.path() / "cmdline");
    std::string cmd((std::istreambuf_iterator<char>(c)), {});
    while (!cmd.empty() && cmd.back() == '\0') cmd.pop_back();
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (cmd == self) ++others;
  }
  std::string re;
  for (char c : self) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == ' ')
      re += c;
    else
      re += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
  }
  ProbeHarness h;
  auto o = h.RunYaml("{name: self, type: process, min: 0, match: \"^" + re + "$\"}");
  EXPECT_EQ(Metric(o, "count"), others) << o.summary;
}

TEST(ProcessProbe, RssAndCpuBetweenRuns) {
  std::string token = UniqueToken();
  // A busy loop: the shell's own command line carries the token.
  Child busy("/bin/sh", {"sh", "-c", "while :; do :; done", token});
  ASSERT_GT(busy.pid(), 0);
  ProbeHarness h;
  std::string errors;
  auto probe = h.Build("{name: busy, type: process, match: " + token +
                           ", rss_warning: 1, cpu_warning: 1%, cpu_critical: 1000%}",
                       &errors);
  ASSERT_NE(probe, nullptr) << errors;
  auto first = h.Run(*probe);
  EXPECT_FALSE(HasMetric(first, "cpu_percent"));
  EXPECT_EQ(first.status, CheckStatus::kWarning) << first.summary;  // rss above 1 byte
  EXPECT_NE(first.summary.find(" (warning at 1 B)"), std::string::npos) << first.summary;

  // Wait (polling) until the loop has burnt 20 ticks of CPU, then measure.
  uint64_t start = CpuTicks(busy.pid());
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (CpuTicks(busy.pid()) < start + 20 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto second = h.Run(*probe);
  ASSERT_TRUE(HasMetric(second, "cpu_percent")) << second.summary;
  EXPECT_GT(Metric(second, "cpu_percent"), 5.0) << second.summary;
  EXPECT_LE(Metric(second, "cpu_percent"), 105.0) << second.summary;
  EXPECT_EQ(second.status, CheckStatus::kWarning);
  EXPECT_NE(second.summary.find("% (warning at 1%)"), std::string::npos) << second.summary;

  // An idle sleeper stays near 0% CPU, and its rss_bytes is VmRSS, read
  // independently from /proc/<pid>/status.
  auto idle = Sleeper(token + "-idle");
  idle->WaitSleeping();
  std::ifstream status(fmt::format("/proc/{}/status", idle->pid()));
  std::string line;
  double vmrss_kb = -1;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) vmrss_kb = std::stod(line.substr(6));
  auto idle_probe =
      h.Build("{name: idle, type: process, match: " + token + "-idle, cpu_warning: 50%}");
  ASSERT_NE(idle_probe, nullptr);
  h.Run(*idle_probe);
  auto idle_second = h.Run(*idle_probe);
  EXPECT_EQ(idle_second.status, CheckStatus::kOk) << idle_second.summary;
  EXPECT_LT(Metric(idle_second, "cpu_percent"), 50.0);
  // The two views differ slightly: the kernel batches per-thread RSS
  // counters, and /proc/<pid>/stat and status fold them at different times.
  EXPECT_NEAR(Metric(idle_second, "rss_bytes"), vmrss_kb * 1024, vmrss_kb * 1024 * 0.2);
}

TEST(ProcessProbe, Pidfiles) {
  TempDir dir;
  ProbeHarness h;
  auto sleeper = Sleeper(UniqueToken());
  std::string good = dir.Write("good.pid", std::to_string(sleeper->pid()) + "\n");
  auto ok = h.RunYaml("{name: p, type: process, pidfile: " + good + "}");
  EXPECT_EQ(ok.status, CheckStatus::kOk) << ok.summary;
  EXPECT_EQ(
      ok.summary.rfind(fmt::format("pidfile {}: pid {} 'sleep', rss ", good, sleeper->pid()), 0),
      0u)
      << ok.summary;
  EXPECT_EQ(h.RunYaml("{name: p, type: process, pidfile: " + good + ", comm: sleep}").status,
            CheckStatus::kOk);

  // The pid now belongs to another program.
  auto reused = h.RunYaml("{name: p, type: process, pidfile: " + good + ", comm: nginx}");
  EXPECT_EQ(reused.status, CheckStatus::kCritical);
  EXPECT_EQ(reused.summary,
            fmt::format("stale pidfile {}: pid {} is now 'sleep'", good, sleeper->pid()));

  // A pid that certainly does not exist: a child that has exited and been reaped.
  pid_t gone = -1;
  char true_arg0[] = "true";
  char* true_argv[] = {true_arg0, nullptr};
  ASSERT_EQ(::posix_spawn(&gone, "/bin/true", nullptr, nullptr, true_argv, environ), 0);
  ASSERT_EQ(::waitpid(gone, nullptr, 0), gone);
  std::string stale = dir.Write("stale.pid", std::to_string(gone));
  auto s = h.RunYaml("{name: p, type: process, pidfile: " + stale + "}");
  EXPECT_EQ(s.status, CheckStatus::kCritical);
  EXPECT_EQ(s.summary, fmt::format("stale pidfile {}: process {} is not running", stale, gone));

  std::string garbage = dir.Write("garbage.pid", "12ab\x01\n");
  auto g = h.RunYaml("{name: p, type: process, pidfile: " + garbage + "}");
  EXPECT_EQ(g.status, CheckStatus::kCritical);
  EXPECT_EQ(g.summary, "pidfile " + garbage + " does not hold a process id: '12ab?'");

  std::string empty = dir.Write("empty.pid", " \n");
  EXPECT_EQ(h.RunYaml("{name: p, type: process, pidfile: " + empty + "}").summary,
            "pidfile " + empty + " is empty");
  EXPECT_EQ(h.RunYaml("{name: p, type: process, pidfile: " + dir.path() + "/none.pid}").summary,
            "pidfile " + dir.path() + "/none.pid does not exist");
  auto isdir = h.RunYaml("{name: p, type: process, pidfile: " + dir.path() + "}");
  EXPECT_EQ(isdir.status, CheckStatus::kCritical);
  EXPECT_EQ(isdir.summary, "cannot read pidfile " + dir.path() + ": Is a directory");
}

TEST(ProcessProbeConfig, GoldenErrors) {
  ProbeHarness h;
  std::string errors;
  EXPECT_EQ(h.Build("{name: p, type: process, min: 1}", &errors), nullptr);
  EXPECT_EQ(errors,
            "test.yaml:2:5: check 'p': no process selector: set 'comm', 'match' or 'pidfile'; "
            "comm: nginx (the name ps -e shows), match: \"php-fpm: master\" (a regular expression "
            "over the command line) or pidfile: /run/nginx.pid\n");
  EXPECT_EQ(h.Build("{name: p, type: process, match: \"a(b\"}", &errors), nullptr);
  EXPECT_EQ(errors,
            "test.yaml:2:37: check 'p': 'match': invalid regular expression: missing ): a(b; use "
            "RE2 syntax; escape special characters such as ( [ . with a backslash\n");
  EXPECT_EQ(h.Build("{name: p, type: process, comm: x, min: 3, max: 2}", &errors), nullptr);
  EXPECT_EQ(errors,
            "test.yaml:2:52: check 'p': 'max': 2 is below min (3); max must be greater than or "
            "equal to min\n");
  EXPECT_EQ(h.Build("{name: p, type: process, comm: x, cpu_warning: 90}", &errors), nullptr);
  EXPECT_NE(errors.find("'90' is not a CPU percentage"), std::string::npos) << errors;
  EXPECT_EQ(h.Build("{name: p, type: process, comm: x, nmae: y}", &errors), nullptr);
  EXPECT_NE(errors.find("unknown key 'nmae'"), std::string::npos) << errors;
  EXPECT_NE(
      h.Build("{name: p, type: process, comm: x, cpu_warning: 150%, cpu_critical: 250%}", &errors),
      nullptr)
      << errors;
}

}  // namespace
}  // namespace mamori
