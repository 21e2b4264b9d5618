#include "testing/spawn.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <string_view>
#include <thread>

#include "mamori/util/mutex.h"

extern char** environ;

namespace mamori::testing {
namespace {

constexpr size_t kMaxGroups = 4096;

// Closes every descriptor from `first` up (close_range, Linux 5.9+; a loop
// over the usual range otherwise). Async-signal-safe.
void CloseFrom(int first) {
  if (::syscall(SYS_close_range, first, ~0U, 0) == 0) return;
  for (int fd = first; fd < 4096; ++fd) ::close(fd);
}

// Removes what libfaketime (the chronyd fixture preloads it) leaves in
// /dev/shm when its process is killed: faketime_shm_PID and
// sem.faketime_sem_PID. Async-signal-safe: no allocation.
void UnlinkFaketimeFiles(pid_t pid) {
  char digits[16];
  int n = 0;
  for (long v = pid; v > 0 && n < 15; v /= 10) digits[n++] = static_cast<char>('0' + v % 10);
  for (const char* prefix : {"/dev/shm/faketime_shm_", "/dev/shm/sem.faketime_sem_"}) {
    char path[64];
    size_t len = 0;
    for (const char* p = prefix; *p && len < sizeof path - 17; ++p) path[len++] = *p;
    for (int i = n - 1; i >= 0; --i) path[len++] = digits[i];
    path[len] = '\0';
    ::unlink(path);
  }
}

// The reaper's whole life, in a child forked from a threaded process: only
// async-signal-safe calls, no allocation. Messages are one int each: +pgid
// to guard, -pgid to forget. End of file means the test process is gone.
[[noreturn]] void ReaperMain(int fd) {
  static pid_t groups[kMaxGroups];  // this process's own copy, all zero
  while (true) {
    int msg = 0;
    ssize_t n = ::recv(fd, &msg, sizeof msg, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof msg)) break;
    if (msg > 0) {
      for (auto& g : groups)
        if (g == 0) {
          g = msg;
          break;
        }
    } else {
      for (auto& g : groups)
        if (g == -msg) g = 0;
    }
  }
  for (pid_t g : groups)
    if (g > 0) ::kill(-g, SIGKILL);
  for (pid_t g : groups)
    if (g > 0) UnlinkFaketimeFiles(g);
  ::_exit(0);
}

// Forks on one thread that never exits (so PR_SET_PDEATHSIG fires only when
// the test process dies) and keeps the reaper's socket. Leaked on purpose:
// its thread runs until the process exits.
class Spawner {
 public:
  static Spawner& Get() {
    static Spawner* s = new Spawner();
    return *s;
  }

  pid_t Spawn(const SpawnSpec& spec) {
    std::packaged_task<pid_t()> task([&] { return ForkExec(spec); });
    auto result = task.get_future();
    {
      MutexLock lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_all();
    return result.get();
  }

  void Tell(int msg) {
    if (reaper_fd_ < 0) return;
    while (::send(reaper_fd_, &msg, sizeof msg, MSG_NOSIGNAL) < 0 && errno == EINTR) {
    }
  }

 private:
  Spawner() {
    StartReaper();
    std::thread([this] { Loop(); }).detach();
  }

  void StartReaper() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return;
    pid_t pid = ::fork();
    if (pid == 0) {
      // Its own group, so a Ctrl-C or a group kill aimed at the tests leaves
      // it to do its job; nothing of the test process kept open but its end.
      ::setpgid(0, 0);
      int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::dup2(sv[0], 3);
      CloseFrom(4);
      ReaperMain(3);
    }
    ::close(sv[0]);
    if (pid < 0) {
      ::close(sv[1]);
      return;
    }
    reaper_fd_ = sv[1];
    // Reaped by whoever is around: it exits only when we do.
  }

  void Loop() {
    while (true) {
      std::packaged_task<pid_t()> task;
      {
        MutexLock lock(mu_);
        cv_.wait(lock, [&]() REQUIRES(mu_) { return !tasks_.empty(); });
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  pid_t ForkExec(const SpawnSpec& spec) {
    // Everything the child needs is prepared before fork: after it, only
    // async-signal-safe calls.
    std::vector<std::string> args = spec.argv;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env;
    const char* marker = std::getenv("MAMORI_TEST_CHILD");
    // spec.env replaces inherited variables of the same name (getenv() and
    // the sanitizers' runtimes read the first of duplicates).
    auto overridden = [&spec](std::string_view entry) {
      const std::string_view name = entry.substr(0, entry.find('='));
      return std::any_of(spec.env.begin(), spec.env.end(), [name](const std::string& e) {
        return std::string_view(e).substr(0, e.find('=')) == name;
      });
    };
    for (char** e = environ; e && *e; ++e)
      if (!overridden(*e)) env.emplace_back(*e);
    if (!marker) env.emplace_back("MAMORI_TEST_CHILD=1");
    env.insert(env.end(), spec.env.begin(), spec.env.end());
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const std::string output = spec.output.empty() ? "/dev/null" : spec.output;
    const pid_t parent = ::getpid();
    sigset_t empty;
    sigemptyset(&empty);

    pid_t pid = ::fork();
    if (pid == 0) {
      ::setpgid(0, 0);
      int in = ::open("/dev/null", O_RDONLY);
      int out = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (in < 0 || out < 0) ::_exit(126);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(out, 2);
      CloseFrom(3);
      if (spec.uid &&
          (::setgroups(0, nullptr) != 0 || ::setgid(spec.gid) != 0 || ::setuid(*spec.uid) != 0))
        ::_exit(126);
      // After the user change, which clears it. If the test process died
      // before this line, the signal will never come: leave now.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(0);
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
      ::sigprocmask(SIG_SETMASK, &empty, nullptr);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    if (pid > 0) Tell(pid);
    return pid;
  }

  Mutex mu_;
  CondVar cv_;
  std::deque<std::packaged_task<pid_t()>> tasks_ GUARDED_BY(mu_);
  int reaper_fd_ = -1;
};

}  // namespace

pid_t SpawnServer(const SpawnSpec& spec) {
  if (spec.argv.empty()) {
    errno = EINVAL;
    return -1;
  }
  return Spawner::Get().Spawn(spec);
}

void RemoveFaketimeFiles(pid_t pid) {
  if (pid > 0) UnlinkFaketimeFiles(pid);
}

std::string FaketimeLibrary() {
  for (const char* p : {"/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                        "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
                        "/usr/lib/faketime/libfaketime.so.1"})
    if (::access(p, R_OK) == 0) return p;
  return "";
}

void ForgetServer(pid_t pgid) {
  if (pgid > 0) Spawner::Get().Tell(-pgid);
}

bool ServerExited(pid_t& pid, int* status) {
  if (status) *status = 0;
  if (pid <= 0) return true;
  siginfo_t info{};
  int rc;
  while ((rc = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT)) != 0 &&
         errno == EINTR) {
  }
  if (rc != 0) {  // ECHILD: reaped elsewhere; its group id may be reused already
    ForgetServer(pid);
    pid = -1;
    return true;
  }
  if (info.si_pid != pid) return false;
  // The leader is a zombie, so its group id is still ours: take what is left
  // of the group with it before reaping lets the id be reused.
  ::kill(-pid, SIGKILL);
  ForgetServer(pid);
  ::waitpid(pid, status, 0);
  pid = -1;
  return true;
}

}  // namespace mamori::testing
