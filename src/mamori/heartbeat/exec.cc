#include "mamori/heartbeat/exec.h"

#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <deque>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "mamori/heartbeat/ping.h"
#include "mamori/net/http_client.h"
#include "mamori/util/mutex.h"
#include "mamori/util/subprocess.h"
#include "mamori/util/units.h"

namespace mamori::heartbeat {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

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

// Delivers the run's pings in order on a thread of its own, each retried
// until its deadline, so neither the job nor the wrapper ever waits on a
// monitor that is down or hung. Owns its HTTP client and thread; Send() and
// Finish() are for the one thread that runs the job. A run has at most two
// pings, so the queue is bounded by construction (kMaxQueued as a guard).
class Pinger {
 public:
  explicit Pinger(Duration budget) : budget_(budget), http_(MakeHttpClient(1)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Pinger() { Finish(); }
  Pinger(const Pinger&) = delete;
  Pinger& operator=(const Pinger&) = delete;

  // `label` names the ping in the failure line ("/start", "/0").
  void Send(std::string label, std::string url, std::string body) {
    MutexLock lock(mu_);
    if (queue_.size() >= kMaxQueued) return;
    queue_.push_back({std::move(label), std::move(url), std::move(body), Steady::now() + budget_});
    cv_.notify_all();
  }

  // Waits until every ping is delivered or has run out of time (each wait
  // inside is bounded by a ping's deadline); returns what was not delivered,
  // as "/start (connection refused, 4 attempts)".
  std::vector<std::string> Finish() {
    {
      MutexLock lock(mu_);
      closing_ = true;
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
    return failures_;
  }

 private:
  static constexpr size_t kMaxQueued = 4;
  struct Item {
    std::string label, url, body;
    Steady::time_point deadline;
  };
  // The state a fetch's callback writes; shared, so a callback that comes
  // after we stopped waiting (it cannot, the request has the same deadline)
  // still writes somewhere valid.
  struct Slot {
    Mutex mu;
    CondVar cv;
    std::optional<Result<HttpResponse>> result GUARDED_BY(mu);
  };

  void Run() {
    while (true) {
      Item item;
      {
        MutexLock lock(mu_);
        cv_.wait(lock, [&]() REQUIRES(mu_) { return closing_ || !queue_.empty(); });
        if (queue_.empty()) return;
        item = std::move(queue_.front());
        queue_.pop_front();
      }
      std::string why = Deliver(item);
      if (!why.empty()) failures_.push_back(fmt::format("{} ({})", item.label, why));
    }
  }

  // One attempt, bounded by `deadline`; nullopt when no answer came in time.
  std::optional<Result<HttpResponse>> Attempt(const Item& item, Steady::time_point deadline) {
    HttpRequest req;
    req.url = item.url;
    req.method = "POST";
    req.body = item.body;
    req.timeout = std::max<Duration>(deadline - Steady::now(), milliseconds(50));
    req.headers.emplace_back("User-Agent", "mamori-exec/" MAMORI_VERSION);
    auto slot = std::make_shared<Slot>();
    http_->Fetch(req, [slot](Result<HttpResponse> r) {
      MutexLock lock(slot->mu);
      slot->result = std::move(r);
      slot->cv.notify_all();
    });
    MutexLock lock(slot->mu);
    // curl keeps the request's own timeout; the slack only guards against a
    // callback that never comes.
    slot->cv.wait_until(lock, deadline + std::chrono::seconds(1),
                        [&]() REQUIRES(slot->mu) { return slot->result.has_value(); });
    return std::move(slot->result);
  }

  // Empty when delivered; otherwise why not.
  std::string Deliver(const Item& item) {
    Duration backoff = milliseconds(250);
    std::string why = "no time left after the pings before it";
    for (int attempt = 1; Steady::now() + milliseconds(20) < item.deadline; ++attempt) {
      auto r = Attempt(item, item.deadline);
      if (!r) return fmt::format("no answer, {} attempt(s)", attempt);
      if (r->ok() && (*r)->status >= 200 && (*r)->status < 300) return "";
      why = fmt::format("{}, {} attempt(s)",
                        r->ok() ? fmt::format("HTTP {}", (*r)->status) : r->error().message(),
                        attempt);
      if (!Transient(*r)) return why;
      // Back off, but never past the deadline; the last attempt gets
      // whatever time is left.
      const auto left = item.deadline - Steady::now();
      std::this_thread::sleep_for(std::min<Duration>(backoff, left));
      backoff = std::min<Duration>(backoff * 2, std::chrono::seconds(2));
    }
    return why;
  }

  const Duration budget_;
  std::unique_ptr<HttpClient> http_;
  Mutex mu_;
  CondVar cv_;
  std::deque<Item> queue_ GUARDED_BY(mu_);
  bool closing_ GUARDED_BY(mu_) = false;
  std::vector<std::string> failures_;  // written by the thread, read after join
  std::thread thread_;
};

// While the command runs, SIGINT/SIGTERM/SIGHUP go to it; afterwards mamori's
// own dispositions are back, so a second Ctrl-C during the final ping works.
class SignalForwarding {
 public:
  void Start(pid_t pid) {
    g_child = pid;
    struct sigaction sa {};
    sa.sa_handler = Forward;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &sa, &old_[i]);
    active_ = true;
  }
  ~SignalForwarding() {
    if (!active_) return;
    for (size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &old_[i], nullptr);
    g_child = 0;
  }

 private:
  static constexpr std::array<int, 3> kSignals = {SIGINT, SIGTERM, SIGHUP};
  std::array<struct sigaction, 3> old_{};
  bool active_ = false;
};

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // our own stdout is gone: keep the job running anyway
    data.remove_prefix(static_cast<size_t>(w));
  }
}

}  // namespace

int RunExec(const ExecOptions& o) {
  std::string base = o.ping_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string rid = NewUuid();
  Pinger pinger(o.ping_timeout);
  pinger.Send("/start", base + "/start?rid=" + rid, "");

  Tail tail(o.max_body);
  ProcessOptions po;
  po.argv = o.argv;
  po.inherit_stdin = o.pass_through;
  po.max_output = 0;  // the tail is kept here, through on_output
  po.timeout = o.command_timeout > Duration::zero() ? o.command_timeout : Duration::max();
  po.kill_grace = std::chrono::seconds(5);
  po.kill_group_on_exit = false;  // a daemon the job started is its business
  std::optional<SignalForwarding> forwarding;
  po.on_spawn = [&](pid_t pid) {
    if (o.forward_signals) forwarding.emplace().Start(pid);
  };
  po.on_output = [&](int fd, std::string_view data) {
    tail.Append(data.data(), data.size());
    if (o.pass_through) WriteAll(fd, data);
  };
  auto run = RunProcess(po);
  forwarding.reset();

  std::string label, body;
  int code = 0;
  if (!run.ok()) {
    // "cannot run PROGRAM: REASON"
    std::cerr << "mamori exec: " << run.error().message() << "\n";
    code = 127;
    label = "/fail";
    body = run.error().message() + "\n";
  } else {
    body = tail.Take();
    if (run->timed_out) {
      code = 124;  // as timeout(1) reports it
      body +=
          fmt::format("\n[mamori exec: timed out after {}]\n", FormatDuration(o.command_timeout));
    } else if (run->term_signal > 0) {
      code = 128 + run->term_signal;
      body += fmt::format("\n[mamori exec: killed by signal {}]\n", run->term_signal);
    } else {
      code = run->exited() ? run->exit_code : 1;
    }
    // The exit code as the ping (a signal death reports 128+N, like a shell).
    label = fmt::format("/{}", std::min(code, 255));
  }
  pinger.Send(label, fmt::format("{}{}?rid={}", base, label, rid), body);
  auto failed = pinger.Finish();
  if (!failed.empty())
    std::cerr << fmt::format("mamori exec: not delivered to {} within {}: {}\n", base,
                             FormatDuration(o.ping_timeout), fmt::join(failed, ", "));
  return code;
}

}  // namespace mamori::heartbeat
