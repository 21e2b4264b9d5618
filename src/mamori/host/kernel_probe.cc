#include "mamori/host/kernel_probe.h"

#include <fnmatch.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <fmt/format.h>

#include <fstream>
#include <set>

#include "mamori/check/registry.h"
#include "mamori/host/kernel_facts.h"
#include "mamori/host/kernel_journal.h"

namespace mamori::probes::kernel {
namespace {

namespace hk = host::kernel;
using namespace std::chrono_literals;

struct Verdict {
  CheckStatus status = CheckStatus::kOk;
  std::vector<std::string> problems, notes;
  Observation obs;
  void Warn(std::string s) {
    status = Worst(status, CheckStatus::kWarning);
    problems.push_back(std::move(s));
  }
};

// "a, b, c and 4 more": a summary line stays one line.
std::string NameList(const std::vector<std::string>& names, size_t max = 8) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < max; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > max) out += fmt::format(" and {} more", names.size() - max);
  return out;
}

// The journal's OOM lines of this boot added to `lines`: half the time left.
void AddJournalLines(const Options& o, MonoTime deadline, std::vector<std::string>& lines,
                     Verdict& v) {
  hk::JournalQuery q;
  q.dir = o.journal_dir;
  q.boot_id = o.boot_id.empty() ? hk::CurrentBootId() : o.boot_id;
  q.max_entries = o.max_log_lines;
  if (q.boot_id.empty()) return;  // without it every boot's kills would count
  bool truncated = false;
  const auto now = std::chrono::steady_clock::now();
  auto got = hk::ReadKernelOomLines(q, now + (deadline - now) / 2, &truncated);
  if (!got.ok()) {
    v.notes.push_back("journal not readable (" + got.error().message() + ")");
    return;
  }
  lines.insert(lines.end(), got->begin(), got->end());
  if (truncated) v.notes.push_back(fmt::format("journal read up to {} entries", q.max_entries));
}

void JudgeOom(const Options& o, MonoTime deadline, Verdict& v) {
  bool truncated = false;
  auto lines = hk::ReadKernelLog(o.kmsg, o.max_log_lines, deadline, &truncated);
  if (!lines.ok()) {
    v.notes.push_back("kernel log not readable (" + lines.error().message() + ")");
    lines = std::vector<std::string>{};
    if (!o.oom_journal) return;
  }
  if (truncated) v.notes.push_back(fmt::format("kernel log read up to {} lines", lines->size()));
  if (o.oom_journal) AddJournalLines(o, deadline, *lines, v);
  std::vector<std::string> named;
  int total = 0;
  for (const auto& [name, n] : hk::OomKills(*lines)) {
    bool ignored = false;
    for (const auto& g : o.ignore_oom) ignored |= ::fnmatch(g.c_str(), name.c_str(), 0) == 0;
    if (ignored) continue;
    total += n;
    named.push_back(n > 1 ? fmt::format("{} ({} times)", name, n) : name);
    v.obs.AddMetric("oom_kills:" + name, n);
  }
  v.obs.AddMetric("oom_kills", total);
  if (total > 0)
    v.Warn("OOM killer killed " + NameList(named) + " since boot");
  else
    v.notes.push_back("no OOM kills since boot");
}

void JudgeRebootRequired(const Options& o, Verdict& v) {
  const std::string flag = o.fs_root + "/run/reboot-required";
  struct stat st {};
  const bool required = ::stat(flag.c_str(), &st) == 0;
  v.obs.AddMetric("reboot_required", required ? 1 : 0);
  if (!required) return;
  std::ifstream in(flag + ".pkgs");
  std::vector<std::string> pkgs;
  std::set<std::string> seen;
  for (std::string line; std::getline(in, line) && seen.size() < 1000;)
    if (!line.empty() && seen.insert(line).second) pkgs.push_back(line);
  v.Warn(pkgs.empty() ? "reboot required (/run/reboot-required)"
                      : "reboot required (" + NameList(pkgs) + ")");
}

std::string Uname() {
  struct utsname u {};
  return ::uname(&u) == 0 ? u.release : "";
}

void JudgeKernelVersion(const Options& o, Verdict& v) {
  const std::string running = o.running_release.empty() ? Uname() : o.running_release;
  const std::string newer = hk::NewerInstalled(running, hk::InstalledKernels(o.fs_root));
  v.obs.AddMetric("newer_kernel_installed", newer.empty() ? 0 : 1);
  if (newer.empty()) {
    v.notes.push_back("running " + running);
    return;
  }
  v.Warn(fmt::format("running {}, installed {}: reboot to use it",
                     hk::SplitRelease(running).version, hk::SplitRelease(newer).version));
}

}  // namespace

Observation KernelProbe::Run(const Clock&, MonoTime deadline) {
  Verdict v;
  if (o_.newer_kernel) JudgeKernelVersion(o_, v);
  if (o_.reboot_required) JudgeRebootRequired(o_, v);
  // Leave a little of the check's time for reporting.
  if (o_.oom) JudgeOom(o_, deadline - 50ms, v);
  const auto& parts = v.problems.empty() ? v.notes : v.problems;
  std::string summary;
  for (const auto& p : parts) summary += (summary.empty() ? "" : "; ") + p;
  if (summary.empty()) summary = "nothing to look at";
  v.obs.status = v.status;
  v.obs.summary = std::move(summary);
  return std::move(v.obs);
}

namespace {

std::unique_ptr<Probe> Build(config::ConfigNode& node) {
  Options o;
  if (auto b = node.GetBool("oom")) o.oom = *b;
  if (auto b = node.GetBool("reboot_required")) o.reboot_required = *b;
  if (auto b = node.GetBool("newer_kernel")) o.newer_kernel = *b;
  if (auto ig = node.GetStringList("ignore_oom")) o.ignore_oom = *ig;
  if (auto b = node.GetBool("oom_journal")) o.oom_journal = *b;
  return std::make_unique<KernelProbe>(std::move(o));
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("kernel",
        "the kernel since boot: OOM kills (kernel log), /run/reboot-required, a newer kernel "
        "installed than the one running",
        Build);
}

}  // namespace mamori::probes::kernel
