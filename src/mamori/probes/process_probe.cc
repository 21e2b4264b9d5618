// Check type "process": are the expected processes running, how many, and how
// much memory and CPU do they use.
//
// Processes are selected by `comm` (the kernel's process name as `ps -e`
// shows it, exact; the kernel cuts it to 15 bytes, so a longer one is
// compared on its first 15; the key is not `name`, which names the check), by `match`
// (an RE2 regular expression searched in the command line, arguments joined
// with spaces) or by `pidfile`. With a pidfile plus comm/match, the latter
// verify that the pid still belongs to the expected program (pids are reused
// after a crash or reboot). Zombies and mamori itself never count.
//
// rss_warning/rss_critical apply to the summed resident memory of all
// matching processes (php-fpm's pool as a whole). cpu_warning/cpu_critical
// are percent of one CPU (so 250% is possible), summed over the processes,
// measured between two consecutive runs: the probe keeps the previous run's
// CPU ticks per pid under a mutex; the first run has no CPU figure.
//
// A process that cannot be read (it exited between listing and reading) is
// skipped. Bounded: at most 1M pids listed, 64 KiB of command line each, and
// the scan stops at the run's deadline.
#include <re2/re2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>

#include "mamori/check/registry.h"
#include "mamori/probes/procfs.h"
#include "mamori/util/mutex.h"
#include "mamori/util/units.h"

namespace mamori::probes::process {
namespace {

struct Options {
  std::optional<std::string> comm;
  std::shared_ptr<const RE2> match;
  std::optional<std::string> pidfile;
  int64_t min = 1;
  std::optional<int64_t> max;
  std::optional<uint64_t> rss_warning, rss_critical;
  std::optional<double> cpu_warning, cpu_critical;
};

struct Matched {
  int pid;
  procfs::ProcStat stat;
};

class ProcessProbe final : public BlockingProbe {
 public:
  explicit ProcessProbe(Options o, std::string proc_root = "/proc")
      : o_(std::move(o)), proc_root_(std::move(proc_root)) {}

  Observation Run(const Clock& clock, MonoTime deadline) override;

 private:
  // "'nginx'", "/php-fpm: master/", "'nginx' /-g daemon/".
  std::string Selector() const {
    std::string s;
    if (o_.comm) s = fmt::format("'{}'", *o_.comm);
    if (o_.match) s += fmt::format("{}/{}/", s.empty() ? "" : " ", o_.match->pattern());
    return s;
  }
  // Does the process match comm/match (true when neither is set)?
  bool Matches(int pid, const procfs::ProcStat& st) const {
    if (o_.comm) {
      std::string_view want = *o_.comm;
      if (want.size() > 15) want = want.substr(0, 15);
      if (st.comm != want) return false;
    }
    if (o_.match) {
      auto cmd = procfs::ReadCmdline(proc_root_, pid);
      if (!cmd.ok() || !RE2::PartialMatch(*cmd, *o_.match)) return false;
    }
    return true;
  }
  // Fills `out` from the pidfile; returns a CRITICAL observation on failure.
  std::optional<Observation> FromPidfile(std::vector<Matched>& out) const;
  // Summed CPU percent of one CPU since the previous run, if there was one.
  std::optional<double> CpuPercent(const std::vector<Matched>& procs, MonoTime now);

  Options o_;
  std::string proc_root_;

  struct CpuSample {
    uint64_t start_ticks;
    uint64_t ticks;
  };
  Mutex mu_;
  std::map<int, CpuSample> prev_ GUARDED_BY(mu_);
  std::optional<MonoTime> prev_time_ GUARDED_BY(mu_);
};

Observation Critical(std::string s) {
  return Observation::Make(CheckStatus::kCritical, std::move(s));
}

std::optional<Observation> ProcessProbe::FromPidfile(std::vector<Matched>& out) const {
  const std::string& path = *o_.pidfile;
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0 && errno == ENOENT)
    return Critical(fmt::format("pidfile {} does not exist", path));
  auto text = procfs::ReadFileBounded(path, 128);
  if (!text.ok()) return Critical("cannot read pidfile " + text.error().message());
  std::string_view s = *text;
  while (!s.empty() &&
         (s.back() == '\n' || s.back() == ' ' || s.back() == '\r' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  if (s.empty()) return Critical(fmt::format("pidfile {} is empty", path));
  int pid = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), pid);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || pid <= 0)
    return Critical(
        fmt::format("pidfile {} does not hold a process id: '{}'", path, procfs::Printable(s, 40)));
  auto st = procfs::ReadStat(proc_root_, pid);
  if (!st.ok() || st->state == 'Z' || st->state == 'X')
    return Critical(fmt::format("stale pidfile {}: process {} is not running", path, pid));
  if ((o_.comm || o_.match) && !Matches(pid, *st))
    return Critical(fmt::format("stale pidfile {}: pid {} is now '{}'", path, pid,
                                procfs::Printable(st->comm)));
  out.push_back({pid, *st});
  return std::nullopt;
}

std::optional<double> ProcessProbe::CpuPercent(const std::vector<Matched>& procs, MonoTime now) {
  MutexLock lock(mu_);
  std::optional<double> result;
  const long hz = ::sysconf(_SC_CLK_TCK);
  if (prev_time_ && now > *prev_time_ && hz > 0) {
    double elapsed = std::chrono::duration<double>(now - *prev_time_).count();
    uint64_t ticks = 0;
    for (const auto& m : procs) {
      auto it = prev_.find(m.pid);
      // Only processes seen both times count: a new process has no baseline.
      if (it == prev_.end() || it->second.start_ticks != m.stat.start_ticks) continue;
      uint64_t now_ticks = m.stat.utime_ticks + m.stat.stime_ticks;
      if (now_ticks >= it->second.ticks) ticks += now_ticks - it->second.ticks;
    }
    result = static_cast<double>(ticks) / static_cast<double>(hz) / elapsed * 100.0;
  }
  prev_.clear();
  for (const auto& m : procs)
    prev_[m.pid] = {m.stat.start_ticks, m.stat.utime_ticks + m.stat.stime_ticks};
  prev_time_ = now;
  return result;
}

Observation ProcessProbe::Run(const Clock& clock, MonoTime deadline) {
  std::vector<Matched> procs;
  std::string what;
  if (o_.pidfile) {
    if (auto bad = FromPidfile(procs)) return *bad;
    what = fmt::format("pidfile {}", *o_.pidfile);
  } else {
    auto pids = procfs::ListPids(proc_root_);
    if (!pids.ok())
      return Observation::Make(CheckStatus::kUnknown,
                               "cannot list processes: " + pids.error().message());
    const int self = ::getpid();
    size_t n = 0;
    for (int pid : *pids) {
      if (++n % 256 == 0 && clock.Monotonic() > deadline)
        return Observation::Make(
            CheckStatus::kUnknown,
            fmt::format("timed out after scanning {} of {} processes", n, pids->size()));
      if (pid == self) continue;
      auto st = procfs::ReadStat(proc_root_, pid);
      if (!st.ok() || st->state == 'Z' || st->state == 'X') continue;
      if (Matches(pid, *st)) procs.push_back({pid, std::move(*st)});
    }
    what = Selector();
  }

  const int64_t count = static_cast<int64_t>(procs.size());
  const long page = ::sysconf(_SC_PAGESIZE);
  uint64_t rss = 0;
  for (const auto& m : procs)
    if (m.stat.rss_pages > 0) rss += static_cast<uint64_t>(m.stat.rss_pages) * page;
  std::optional<double> cpu = CpuPercent(procs, clock.Monotonic());

  Observation obs;
  obs.AddMetric("count", static_cast<double>(count));
  obs.AddMetric("rss_bytes", static_cast<double>(rss));
  if (cpu) obs.AddMetric("cpu_percent", *cpu);

  std::string pids;
  for (size_t i = 0; i < procs.size() && i < 5; ++i)
    pids += fmt::format("{}{}", i ? ", " : "", procs[i].pid);
  if (procs.size() > 5) pids += ", ...";

  if (count == 0 && o_.min > 0) {
    obs.status = CheckStatus::kCritical;
    obs.summary = fmt::format("no process matches {}", what);
    return obs;
  }
  std::string head;
  if (o_.pidfile) {
    head = fmt::format("{}: pid {} '{}'", what, pids, procfs::Printable(procs[0].stat.comm));
  } else {
    head = fmt::format("{} process{} match{} {}", count, count == 1 ? "" : "es",
                       count == 1 ? "es" : "", what);
    if (count > 0) head += fmt::format(" (pid{} {})", count == 1 ? "" : "s", pids);
  }
  std::vector<std::string> problems;
  CheckStatus status = CheckStatus::kOk;
  if (count < o_.min) {
    status = CheckStatus::kCritical;
    problems.push_back(fmt::format("expected at least {}", o_.min));
  }
  if (o_.max && count > *o_.max) {
    status = CheckStatus::kCritical;
    problems.push_back(fmt::format("expected at most {}", *o_.max));
  }
  std::string usage = fmt::format("rss {}", FormatBytes(rss));
  if (o_.rss_critical && rss >= *o_.rss_critical) {
    status = CheckStatus::kCritical;
    usage += fmt::format(" (critical at {})", FormatBytes(*o_.rss_critical));
  } else if (o_.rss_warning && rss >= *o_.rss_warning) {
    status = Worst(status, CheckStatus::kWarning);
    usage += fmt::format(" (warning at {})", FormatBytes(*o_.rss_warning));
  }
  if (cpu) {
    usage += fmt::format(", cpu {:.1f}%", *cpu);
    if (o_.cpu_critical && *cpu >= *o_.cpu_critical) {
      status = CheckStatus::kCritical;
      usage += fmt::format(" (critical at {:g}%)", *o_.cpu_critical);
    } else if (o_.cpu_warning && *cpu >= *o_.cpu_warning) {
      status = Worst(status, CheckStatus::kWarning);
      usage += fmt::format(" (warning at {:g}%)", *o_.cpu_warning);
    }
  }
  obs.status = status;
  obs.summary = head;
  for (const auto& p : problems) obs.summary += ", " + p;
  obs.summary += ", " + usage;
  return obs;
}

// "80%", "250%": percent of one CPU, so above 100 is allowed.
std::optional<double> GetCpuPercent(config::ConfigNode& node, std::string_view key) {
  auto s = node.GetString(key);
  if (!s) return std::nullopt;
  std::string_view v = *s;
  double out = 0;
  bool ok = !v.empty() && v.back() == '%';
  if (ok) {
    v.remove_suffix(1);
    auto r = std::from_chars(v.data(), v.data() + v.size(), out);
    ok = !v.empty() && r.ec == std::errc() && r.ptr == v.data() + v.size() && out >= 0 &&
         out <= 100000;
  }
  if (!ok) {
    node.ErrorAt(key, fmt::format("'{}' is not a CPU percentage", *s),
                 "write percent of one CPU such as 80% (250% = two and a half CPUs)");
    return std::nullopt;
  }
  return out;
}

std::unique_ptr<Probe> Build(config::ConfigNode& node) {
  Options o;
  bool ok = true;
  o.comm = node.GetString("comm");
  auto match = node.GetString("match");
  o.pidfile = node.GetString("pidfile");
  ok &= node.GetOrdered(
      "min", "max", o.min, o.max,
      [](config::ConfigNode& n, std::string_view key) { return n.GetInt(key, 0, 1000000); },
      [](int64_t v) { return std::to_string(v); },
      {"max", "{1} is below min ({0})", "max must be greater than or equal to min"});
  ok &= node.GetThresholds("rss_warning", "rss_critical", o.rss_warning, o.rss_critical,
                           &config::ConfigNode::GetSize, FormatBytes);
  ok &= node.GetThresholds("cpu_warning", "cpu_critical", o.cpu_warning, o.cpu_critical,
                           GetCpuPercent, [](double v) { return fmt::format("{:g}%", v); });
  if (!o.comm && !match && !o.pidfile) {
    node.Error("no process selector: set 'comm', 'match' or 'pidfile'",
               "comm: nginx (the name ps -e shows), match: \"php-fpm: master\" (a regular "
               "expression over the command line) or pidfile: /run/nginx.pid");
    ok = false;
  }
  if (o.comm && o.comm->empty()) {
    node.ErrorAt("comm", "is empty", "write the process name as ps -e shows it");
    ok = false;
  }
  if (match) {
    RE2::Options ro;
    ro.set_log_errors(false);
    auto re = std::make_shared<const RE2>(*match, ro);
    if (!re->ok()) {
      node.ErrorAt("match", fmt::format("invalid regular expression: {}", re->error()),
                   "use RE2 syntax; escape special characters such as ( [ . with a backslash");
      ok = false;
    } else {
      o.match = std::move(re);
    }
  }
  if (o.pidfile && (o.pidfile->empty() || (*o.pidfile)[0] != '/')) {
    node.ErrorAt("pidfile", fmt::format("'{}' is not an absolute path", *o.pidfile),
                 "write the full path, e.g. /run/nginx.pid");
    ok = false;
  }
  if (!ok) return nullptr;
  return std::make_unique<ProcessProbe>(std::move(o));
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("process", "processes by name, command line or pidfile: count, memory, CPU", Build);
}

}  // namespace mamori::probes::process
