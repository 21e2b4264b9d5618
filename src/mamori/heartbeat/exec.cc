#include "mamori/heartbeat/exec.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <iostream>
#include <mutex>
#include <thread>

#include "mamori/heartbeat/ping.h"
#include "mamori/net/http_client.h"
#include "mamori/util/units.h"

extern char** environ;

namespace mamori::heartbeat {
namespace {

std::atomic<pid_t> g_child{0};  // the only global: a signal handler needs it

void Forward(int sig) {
  pid_t c = g_child.load();
  if (c > 0) ::kill(c, sig);
}

// Keeps the last `max` bytes written to it.
class Tail {
 public:
  explicit Tail(size_t max) : max_(max) {}
  void Append(const char* p, size_t n) {
    buf_.append(p, n);
    if (buf_.size() > 2 * max_ + 4096) buf_.erase(0, buf_.size() - max_);
  }
  std::string Take() {
    if (buf_.size() > max_) buf_.erase(0, buf_.size() - max_);
    return std::move(buf_);
  }

 private:
  size_t max_;
  std::string buf_;
};

bool Transient(const Result<HttpResponse>& r) {
  if (!r.ok()) return true;  // connection refused, reset, timeout, DNS
  return r->status == 429 || r->status >= 500;
}

// Sends one ping, retrying transient failures with back-off.
void SendPing(HttpClient& http, const ExecOptions& o, const std::string& url,
              const std::string& body) {
  const auto give_up = std::chrono::steady_clock::now() + o.ping_retry_for;
  Duration backoff = std::chrono::milliseconds(250);
  for (int attempt = 1;; ++attempt) {
    HttpRequest req;
    req.url = url;
    req.method = "POST";
    req.body = body;
    req.timeout = o.ping_timeout;
    req.headers.emplace_back("User-Agent", "mamori-exec/" MAMORI_VERSION);
    std::mutex mu;
    std::condition_variable cv;
    std::optional<Result<HttpResponse>> result;
    http.Fetch(req, [&](Result<HttpResponse> r) {
      std::lock_guard lock(mu);
      result = std::move(r);
      cv.notify_all();
    });
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return result.has_value(); });
    }
    if (result->ok() && (*result)->status >= 200 && (*result)->status < 300) return;
    const std::string why =
        result->ok() ? fmt::format("HTTP {}", (*result)->status) : result->error().message();
    if (!Transient(*result) || std::chrono::steady_clock::now() + backoff > give_up) {
      std::cerr << fmt::format("mamori exec: ping {} failed after {} attempt(s): {}\n", url,
                               attempt, why);
      return;
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min<Duration>(backoff * 2, std::chrono::seconds(8));
  }
}

}  // namespace

int RunExec(const ExecOptions& o) {
  auto http = MakeCurlHttpClient(4);
  std::string base = o.ping_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string rid = NewUuid();
  SendPing(*http, o, base + "/start?rid=" + rid, "");

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    std::cerr << "mamori exec: pipe: " << std::strerror(errno) << "\n";
    return 127;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  std::vector<char*> argv;
  for (const auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  // Its own process group, so a timeout takes its children too.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  int rc = ::posix_spawnp(&pid, argv[0], &fa, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    const std::string why = fmt::format("cannot run {}: {}", o.argv[0], std::strerror(rc));
    std::cerr << "mamori exec: " << why << "\n";
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    SendPing(*http, o, base + "/fail?rid=" + rid, why + "\n");
    return 127;
  }
  if (o.forward_signals) {
    g_child = pid;
    struct sigaction sa {};
    sa.sa_handler = Forward;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
  }

  // Tee both streams, keeping one interleaved tail for the ping body.
  Tail tail(o.max_body);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[16384];
  using SteadyClock = std::chrono::steady_clock;
  const bool has_timeout = o.command_timeout > Duration::zero();
  SteadyClock::time_point deadline = SteadyClock::now() + o.command_timeout;
  bool timed_out = false, killed = false;
  while (open_fds > 0) {
    int wait_ms = -1;
    if (has_timeout) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now())
              .count();
      if (left <= 0) {
        if (!timed_out) {
          timed_out = true;
          ::kill(-pid, SIGTERM);
          deadline = SteadyClock::now() + std::chrono::seconds(5);
        } else if (!killed) {
          killed = true;
          ::kill(-pid, SIGKILL);
          deadline = SteadyClock::now() + std::chrono::hours(24);
        }
        continue;
      }
      wait_ms = static_cast<int>(std::min<int64_t>(left, 1000));
    }
    int n = ::poll(fds, 2, wait_ms);
    if (n == 0) continue;
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
        continue;
      }
      tail.Append(buf, static_cast<size_t>(r));
      if (!o.pass_through) continue;
      const int dst = i == 0 ? 1 : 2;
      for (ssize_t off = 0; off < r;) {
        ssize_t w = ::write(dst, buf + off, static_cast<size_t>(r - off));
        if (w <= 0) break;  // our own stdout is gone: keep the job running anyway
        off += w;
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (o.forward_signals) g_child = 0;
  // Whatever the job left behind in its group goes too.
  if (timed_out) ::kill(-pid, SIGKILL);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::string body = tail.Take();
  if (timed_out) {
    code = 124;  // as timeout(1) reports it
    body += fmt::format("\n[mamori exec: timed out after {}]\n", FormatDuration(o.command_timeout));
  } else if (WIFSIGNALED(status)) {
    body += fmt::format("\n[mamori exec: killed by signal {}]\n", WTERMSIG(status));
  }
  // The exit code as the ping (a signal death reports 128+N, like a shell).
  SendPing(*http, o, fmt::format("{}/{}?rid={}", base, std::min(code, 255), rid), body);
  return code;
}

}  // namespace mamori::heartbeat
