#include "mamori/util/subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>
#include <thread>

extern char** environ;

namespace mamori {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

// After the program exits, how long we keep reading output that a leftover
// descendant may still be holding open.
constexpr Duration kDrainAfterExit = milliseconds(500);
// After SIGKILL, how long we wait for the kernel to let the process go (it can
// hang in uninterruptible sleep, e.g. on a dead NFS mount).
constexpr Duration kReapAfterKill = std::chrono::seconds(5);
// Poll interval when pidfd_open is not available.
constexpr int kTickMs = 10;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// Keeps our pipe ends off 0/1/2: if the daemon runs with a standard
// descriptor closed, pipe2 may hand those numbers out, and dup2(fd, fd) in
// the child would then leave them close-on-exec.
int AboveStdio(int fd) {
  if (fd > 2) return fd;
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  int saved = errno;
  ::close(fd);
  errno = saved;
  return moved;
}

struct Pipe {
  Fd read;
  Fd write;
};

Result<Pipe> MakePipe() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return Error(std::strerror(errno));
  Pipe out;
  int r = AboveStdio(p[0]);
  int w = AboveStdio(p[1]);
  out.read = Fd(r);
  out.write = Fd(w);
  if (r < 0 || w < 0) return Error(std::strerror(EMFILE));
  return out;
}

void SetNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

// Blocks SIGPIPE on this thread while we feed the child's stdin, so a child
// that exits without reading cannot kill the whole daemon; a SIGPIPE raised
// by our own write is consumed before the old mask is restored.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &block, &old_);
  }
  ~SigpipeGuard() {
    if (got_epipe_ && !was_pending_) {
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGPIPE);
      struct timespec zero = {0, 0};
      while (::sigtimedwait(&set, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  void GotEpipe() { got_epipe_ = true; }

 private:
  sigset_t old_;
  bool was_pending_ = false;
  bool got_epipe_ = false;
};

std::vector<std::string> BuildEnv(const ProcessOptions& o) {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool overridden =
        std::any_of(o.env.begin(), o.env.end(), [&](const auto& kv) { return kv.first == name; });
    if (!overridden) out.emplace_back(entry);
  }
  for (const auto& [k, v] : o.env) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// The signals a child gets back to their default action: all of them. A
// daemon commonly ignores SIGPIPE or handles SIGTERM/SIGHUP, a library may
// ignore a real-time signal, and dispositions set to "ignore" survive exec.
// (glibc's sigfillset leaves out the two signals it reserves for itself.)
sigset_t SignalsToReset() {
  sigset_t s;
  sigfillset(&s);
  return s;
}

class SpawnAttrs {
 public:
  SpawnAttrs() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnAttrs() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnAttrs(const SpawnAttrs&) = delete;
  SpawnAttrs& operator=(const SpawnAttrs&) = delete;
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
};

// True once the child has exited (it stays a zombie: WNOWAIT), so its pid and
// process group id cannot be reused while we still signal the group.
// `reaped_elsewhere` is set if someone else already collected it.
bool LeaderExited(pid_t pid, bool* reaped_elsewhere) {
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  while (true) {
    int rc = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if (rc == 0) return info.si_pid == pid;
    if (errno == EINTR) continue;
    *reaped_elsewhere = true;  // ECHILD
    return true;
  }
}

int MillisUntil(Steady::time_point now, Steady::time_point t) {
  if (t <= now) return 0;
  auto ms = std::chrono::ceil<milliseconds>(t - now).count();
  return static_cast<int>(std::min<int64_t>(ms, 60'000));
}

struct Stream {
  Fd fd;
  int target;  // STDOUT_FILENO or STDERR_FILENO, for on_output
  std::string* text;
  bool* truncated;
};

// Reads what is available; closes the descriptor at end of file.
void Drain(Stream& s, size_t cap, const ProcessOptions& o) {
  std::array<char, 16384> buf;
  // Bounded per call so one stream cannot starve the others or the clock.
  for (int i = 0; i < 64 && s.fd.valid(); ++i) {
    ssize_t n = ::read(s.fd.get(), buf.data(), buf.size());
    if (n > 0) {
      if (o.on_output) o.on_output(s.target, std::string_view(buf.data(), static_cast<size_t>(n)));
      size_t room = cap > s.text->size() ? cap - s.text->size() : 0;
      size_t take = std::min(room, static_cast<size_t>(n));
      s.text->append(buf.data(), take);
      if (take < static_cast<size_t>(n)) *s.truncated = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    s.fd.Reset();  // EOF or a read error: either way nothing more will come
  }
}

}  // namespace

Result<ProcessResult> RunProcess(const ProcessOptions& o) {
  if (o.argv.empty() || o.argv[0].empty()) return Error("cannot run an empty command");
  const std::string& program = o.argv[0];
  auto fail = [&](std::string_view why) {
    return Error(fmt::format("cannot run {}: {}", program, why));
  };
  for (const auto& a : o.argv)
    if (HasNul(a)) return fail("an argument contains a NUL byte");
  for (const auto& [k, v] : o.env) {
    if (k.empty() || k.find('=') != std::string::npos || HasNul(k) || HasNul(v))
      return fail(fmt::format("invalid environment variable name '{}'", k));
  }
  if (!o.working_dir.empty()) {
    struct stat st;
    if (HasNul(o.working_dir)) return fail("the working directory contains a NUL byte");
    if (::stat(o.working_dir.c_str(), &st) != 0)
      return fail(fmt::format("working directory {}: {}", o.working_dir, std::strerror(errno)));
    if (!S_ISDIR(st.st_mode))
      return fail(fmt::format("working directory {}: not a directory", o.working_dir));
  }

  auto out_pipe = MakePipe();
  if (!out_pipe) return fail("cannot create a pipe: " + out_pipe.error().message());
  std::optional<Pipe> err_pipe;
  if (!o.merge_stderr) {
    auto p = MakePipe();
    if (!p) return fail("cannot create a pipe: " + p.error().message());
    err_pipe = std::move(*p);
  }
  std::optional<Pipe> in_pipe;
  if (o.stdin_data) {
    auto p = MakePipe();
    if (!p) return fail("cannot create a pipe: " + p.error().message());
    in_pipe = std::move(*p);
  }

  SpawnAttrs sp;
  int rc = 0;
  if (in_pipe)
    rc |= posix_spawn_file_actions_adddup2(&sp.actions, in_pipe->read.get(), STDIN_FILENO);
  else if (!o.inherit_stdin)
    rc |= posix_spawn_file_actions_addopen(&sp.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  rc |= posix_spawn_file_actions_adddup2(&sp.actions, out_pipe->write.get(), STDOUT_FILENO);
  rc |= posix_spawn_file_actions_adddup2(
      &sp.actions, o.merge_stderr ? out_pipe->write.get() : err_pipe->write.get(), STDERR_FILENO);
  // Descriptors someone else opened without O_CLOEXEC (libraries do) must
  // not reach a plugin either.
  rc |= posix_spawn_file_actions_addclosefrom_np(&sp.actions, 3);
  if (!o.working_dir.empty())
    rc |= posix_spawn_file_actions_addchdir_np(&sp.actions, o.working_dir.c_str());
  sigset_t empty;
  sigemptyset(&empty);
  sigset_t defaults = SignalsToReset();
  rc |= posix_spawnattr_setflags(
      &sp.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  rc |= posix_spawnattr_setpgroup(&sp.attr, 0);  // its own group, id = its pid
  rc |= posix_spawnattr_setsigmask(&sp.attr, &empty);
  rc |= posix_spawnattr_setsigdefault(&sp.attr, &defaults);
  if (rc != 0) return fail("cannot prepare the process attributes");

  std::vector<std::string> argv_copy = o.argv;
  std::vector<char*> argv = CStrings(argv_copy);
  std::vector<std::string> env_strings = BuildEnv(o);
  std::vector<char*> envp = CStrings(env_strings);

  std::optional<SigpipeGuard> sigpipe;
  if (in_pipe) sigpipe.emplace();

  const auto start = Steady::now();
  pid_t pid = -1;
  // posix_spawnp reports exec failures (ENOENT, EACCES, ENOEXEC) as its
  // return value, since glibc waits for the exec in the child.
  int spawn_rc =
      ::posix_spawnp(&pid, program.c_str(), &sp.actions, &sp.attr, argv.data(), envp.data());
  if (spawn_rc != 0) return fail(std::strerror(spawn_rc));

  // Close our copies of the child's ends, or we would never see EOF.
  out_pipe->write.Reset();
  if (err_pipe) err_pipe->write.Reset();
  if (in_pipe) in_pipe->read.Reset();

  ProcessResult result;
  result.pid = pid;
  if (o.on_spawn) o.on_spawn(pid);
  const size_t cap = o.max_output;
  std::vector<Stream> streams;
  streams.push_back({std::move(out_pipe->read), STDOUT_FILENO, &result.out, &result.out_truncated});
  if (err_pipe)
    streams.push_back(
        {std::move(err_pipe->read), STDERR_FILENO, &result.err, &result.err_truncated});
  for (auto& s : streams) SetNonBlocking(s.fd.get());
  Fd in_fd;
  size_t in_off = 0;
  if (in_pipe) {
    in_fd = std::move(in_pipe->write);
    SetNonBlocking(in_fd.get());
    if (o.stdin_data->empty()) in_fd.Reset();
  }

#ifdef SYS_pidfd_open
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
#else
  Fd pidfd;
#endif

  const Duration grace = std::clamp(o.kill_grace, Duration(0), Duration(std::chrono::minutes(10)));
  const auto term_at =
      o.timeout == Duration::max()
          ? Steady::time_point::max()
          : start + std::clamp(o.timeout, Duration(0), Duration(std::chrono::hours(24 * 365)));
  enum class Phase { kRunning, kTermSent, kKillSent } phase = Phase::kRunning;
  Steady::time_point kill_at{}, give_up_at{}, drain_until{};
  bool exited = false;
  bool reaped_elsewhere = false;
  bool gave_up = false;

  while (true) {
    auto now = Steady::now();
    if (!exited && LeaderExited(pid, &reaped_elsewhere)) {
      exited = true;
      // The leader is a zombie, so -pid still names its group: kill what is
      // left of it before the id can be reused.
      if (!reaped_elsewhere && (o.kill_group_on_exit || result.timed_out)) ::kill(-pid, SIGKILL);
      drain_until = std::min(now + kDrainAfterExit, std::max(now, term_at));
    }
    bool reading =
        std::any_of(streams.begin(), streams.end(), [](const Stream& s) { return s.fd.valid(); });
    if (exited && (!reading || now >= drain_until)) {
      for (auto& s : streams)
        if (s.fd.valid()) Drain(s, cap, o);  // what is already buffered
      break;
    }

    if (!exited) {
      if (phase == Phase::kRunning && now >= term_at) {
        result.timed_out = true;
        ::kill(-pid, SIGTERM);
        phase = Phase::kTermSent;
        kill_at = now + grace;
      }
      if (phase == Phase::kTermSent && now >= kill_at) {
        ::kill(-pid, SIGKILL);
        phase = Phase::kKillSent;
        give_up_at = now + kReapAfterKill;
      }
      if (phase == Phase::kKillSent && now >= give_up_at) {
        gave_up = true;
        break;
      }
    }

    std::array<pollfd, 4> fds;
    nfds_t n = 0;
    for (auto& s : streams)
      if (s.fd.valid()) fds[n++] = {s.fd.get(), POLLIN, 0};
    int in_index = -1;
    if (in_fd.valid()) {
      in_index = static_cast<int>(n);
      fds[n++] = {in_fd.get(), POLLOUT, 0};
    }
    int pid_index = -1;
    if (!exited && pidfd.valid()) {
      pid_index = static_cast<int>(n);
      fds[n++] = {pidfd.get(), POLLIN, 0};
    }
    Steady::time_point next = exited                      ? drain_until
                              : phase == Phase::kRunning  ? term_at
                              : phase == Phase::kTermSent ? kill_at
                                                          : give_up_at;
    int wait_ms = MillisUntil(now, next);
    if (!exited && !pidfd.valid()) wait_ms = std::min(wait_ms, kTickMs);
    int ready = ::poll(fds.data(), n, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      // Cannot happen with valid descriptors; avoid a busy loop regardless.
      std::this_thread::sleep_for(milliseconds(kTickMs));
      continue;
    }
    if (ready == 0) continue;
    for (auto& s : streams) {
      if (!s.fd.valid()) continue;
      for (nfds_t i = 0; i < n; ++i)
        if (fds[i].fd == s.fd.get() && fds[i].revents != 0) Drain(s, cap, o);
    }
    if (in_index >= 0 && fds[in_index].revents != 0) {
      const std::string& data = *o.stdin_data;
      while (in_fd.valid() && in_off < data.size()) {
        ssize_t w = ::write(in_fd.get(), data.data() + in_off,
                            std::min<size_t>(data.size() - in_off, 65536));
        if (w > 0) {
          in_off += static_cast<size_t>(w);
        } else if (w < 0 && errno == EINTR) {
          continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          break;
        } else {
          if (w < 0 && errno == EPIPE && sigpipe) sigpipe->GotEpipe();
          in_fd.Reset();  // the child does not want (more) input
        }
      }
      if (in_off >= data.size()) in_fd.Reset();
    }
    (void)pid_index;  // readiness is re-checked by LeaderExited at the top
  }
  in_fd.Reset();
  for (auto& s : streams) s.fd.Reset();

  if (gave_up) {
    // Still alive after SIGKILL: it is stuck in the kernel. Reap it whenever
    // it finally goes, without holding up the caller.
    std::thread([pid] {
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }).detach();
  } else if (!reaped_elsewhere) {
    int status = 0;
    pid_t r;
    while ((r = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
    if (r == pid) {
      if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
      if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
    }
  }
  result.elapsed = Steady::now() - start;
  return result;
}

}  // namespace mamori
