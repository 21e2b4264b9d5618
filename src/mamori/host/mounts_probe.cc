#include "mamori/host/mounts_probe.h"

#include <fnmatch.h>
#include <sys/statvfs.h>

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "mamori/check/registry.h"

namespace mamori::probes::mounts {
namespace {

using host::mounts::FstabEntry;

std::string ReadText(const std::string& path, bool* ok = nullptr) {
  std::ifstream in(path);
  if (ok) *ok = static_cast<bool>(in);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Ignored(const Options& o, const std::string& mount_point) {
  for (const auto& g : o.ignore)
    if (::fnmatch(g.c_str(), mount_point.c_str(), 0) == 0) return true;
  return false;
}

bool Network(const std::string& fs_type) {
  return fs_type == "nfs" || fs_type == "nfs4" || fs_type == "cifs" || fs_type == "smb3";
}

struct Inodes {
  CheckStatus status = CheckStatus::kOk;
  std::vector<std::string> over;  // "/var inodes 93% used (critical at 90%)"
  std::string fullest;            // "/ 12%"
  double fullest_pct = -1;
};

Inodes JudgeInodes(const Options& o, const std::vector<Mount>& real, Observation& obs) {
  Inodes r;
  if (!o.inodes || !o.inode_percent) return r;
  for (const auto& m : real) {
    if (Network(m.fs_type) || Ignored(o, m.mount_point)) continue;
    const auto pct = o.inode_percent(m.mount_point);
    if (!pct) continue;
    obs.AddMetric("inodes_used_percent:" + m.mount_point, *pct);
    if (*pct > r.fullest_pct) {
      r.fullest_pct = *pct;
      r.fullest = fmt::format("{} {:.0f}%", m.mount_point, *pct);
    }
    if (*pct >= o.inodes_critical) {
      r.status = CheckStatus::kCritical;
      r.over.push_back(fmt::format("{} inodes {:.0f}% used (critical at {:g}%)", m.mount_point,
                                   *pct, o.inodes_critical));
    } else if (*pct >= o.inodes_warning) {
      r.status = Worst(r.status, CheckStatus::kWarning);
      r.over.push_back(fmt::format("{} inodes {:.0f}% used (warning at {:g}%)", m.mount_point, *pct,
                                   o.inodes_warning));
    }
  }
  return r;
}

}  // namespace

std::optional<double> StatvfsInodePercent(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0 || st.f_files == 0) return std::nullopt;
  const double used = static_cast<double>(st.f_files - std::min(st.f_ffree, st.f_files));
  return used * 100.0 / static_cast<double>(st.f_files);
}

Observation Judge(const Options& o, const std::vector<Mount>& mounted,
                  const std::vector<FstabEntry>& fstab) {
  Observation obs;
  std::vector<std::string> problems;
  CheckStatus status = CheckStatus::kOk;
  const auto real = RealFilesystems(mounted);
  int read_only = 0, not_mounted = 0;
  for (const auto& m : real) {
    if (Ignored(o, m.mount_point)) continue;
    const std::string why = host::mounts::ReadOnlyReason(m, fstab);
    if (why.empty()) continue;
    ++read_only;
    status = CheckStatus::kCritical;
    problems.push_back(fmt::format("{} ({}) {}", m.mount_point, m.fs_type, why));
    obs.AddMetric("read_only:" + m.mount_point, 1);
  }
  if (o.unmounted) {
    for (const auto& e : host::mounts::NotMounted(fstab, mounted)) {
      if (Ignored(o, e.mount_point)) continue;
      ++not_mounted;
      status = Worst(status, CheckStatus::kWarning);
      problems.push_back(
          fmt::format("{} ({}) is in /etc/fstab and not mounted", e.mount_point, e.fs_type));
      obs.AddMetric("not_mounted:" + e.mount_point, 1);
    }
  }
  const Inodes inodes = JudgeInodes(o, real, obs);
  status = Worst(status, inodes.status);
  problems.insert(problems.end(), inodes.over.begin(), inodes.over.end());
  obs.AddMetric("filesystems", static_cast<double>(real.size()));
  obs.AddMetric("read_only", read_only);
  obs.AddMetric("not_mounted", not_mounted);
  obs.status = status;
  if (!problems.empty()) {
    obs.summary = problems[0];
    for (size_t i = 1; i < problems.size(); ++i) obs.summary += "; " + problems[i];
  } else {
    obs.summary =
        fmt::format("{} filesystem{} writable{}", real.size(), real.size() == 1 ? "" : "s",
                    o.unmounted ? ", every /etc/fstab entry mounted" : "");
    if (!inodes.fullest.empty()) obs.summary += ", fullest inodes " + inodes.fullest;
  }
  return obs;
}

MountsProbe::MountsProbe(Options o) : o_(std::move(o)) {
  if (!o_.inode_percent) o_.inode_percent = StatvfsInodePercent;
}

Observation MountsProbe::Run(const Clock&, MonoTime) {
  bool ok = false;
  std::string text = ReadText(o_.proc_root + "/1/mountinfo", &ok);
  if (!ok || text.empty()) text = ReadText(o_.proc_root + "/self/mountinfo", &ok);
  if (!ok || text.empty())
    return Observation::Make(CheckStatus::kUnknown,
                             "cannot read " + o_.proc_root + "/self/mountinfo");
  // No fstab (a container, an image booted without one) means nothing is
  // declared: nothing can be missing, and no read-only mount was meant rw.
  const auto fstab = host::mounts::ParseFstab(ReadText(o_.fstab));
  return Judge(o_, ParseMountInfo(text), fstab);
}

namespace {

bool ReadInodes(config::ConfigNode& node, Options& o) {
  if (!node.Has("inodes")) return true;
  if (node.yaml()["inodes"].IsScalar()) {
    if (auto b = node.GetBool("inodes")) o.inodes = *b;
    return true;
  }
  auto in = node.GetMap("inodes");
  if (!in) return false;
  if (auto v = in->GetPercent("warning")) o.inodes_warning = *v;
  if (auto v = in->GetPercent("critical")) o.inodes_critical = *v;
  if (o.inodes_warning > o.inodes_critical) {
    in->ErrorAt("warning",
                fmt::format("{:g}% is above critical ({:g}%)", o.inodes_warning, o.inodes_critical),
                "warning must be lower than or equal to critical");
    return false;
  }
  return true;
}

std::unique_ptr<Probe> Build(config::ConfigNode& node) {
  Options o;
  if (auto ig = node.GetStringList("ignore")) o.ignore = *ig;
  if (auto u = node.GetBool("unmounted")) o.unmounted = *u;
  if (!ReadInodes(node, o)) return nullptr;
  return std::make_unique<MountsProbe>(std::move(o));
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("mounts",
        "filesystems: data filesystems read-only that should be writable (errors=remount-ro), "
        "/etc/fstab entries not mounted, inode use",
        Build);
}

}  // namespace mamori::probes::mounts
