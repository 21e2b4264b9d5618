// Check type "disk": space and inode use of the file system holding `path`,
// read with statvfs(3).
//
// Used percent is computed the way df(1) does, used / (used + available):
// blocks reserved for root count neither as used nor as available, so a file
// system at 100% here is full for ordinary processes even though root still
// has room. Thresholds trigger at or above the configured value. File systems
// that report no inode counts (btrfs, vfat, some network file systems) skip
// the inode part. Stateless; Run() is safe to call from any pool thread.
#include <sys/statvfs.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "mamori/check/registry.h"
#include "mamori/util/units.h"

namespace mamori::probes::disk {
namespace {

struct Options {
  std::string path;
  double warning = 80, critical = 90;
  double inodes_warning = 80, inodes_critical = 90;
  std::optional<uint64_t> min_free;
};

std::string Pct(double v) { return fmt::format("{:.1f}%", v); }
std::string Limit(double v) { return fmt::format("{:g}%", v); }

class DiskProbe final : public BlockingProbe {
 public:
  explicit DiskProbe(Options o) : o_(std::move(o)) {}

  Observation Run(const Clock&, MonoTime) override {
    struct statvfs st {};
    if (::statvfs(o_.path.c_str(), &st) != 0) {
      return Observation::Make(CheckStatus::kUnknown,
                               fmt::format("cannot stat {}: {}", o_.path, std::strerror(errno)));
    }
    const double frsize = st.f_frsize ? static_cast<double>(st.f_frsize) : st.f_bsize;
    const double total = static_cast<double>(st.f_blocks) * frsize;
    const double used =
        static_cast<double>(st.f_blocks - std::min(st.f_bfree, st.f_blocks)) * frsize;
    const double avail = static_cast<double>(st.f_bavail) * frsize;
    const double used_pct = used + avail > 0 ? used * 100.0 / (used + avail) : 0.0;

    CheckStatus status = CheckStatus::kOk;
    std::string space = fmt::format("{} {} used", o_.path, Pct(used_pct));
    if (used_pct >= o_.critical) {
      status = CheckStatus::kCritical;
      space += fmt::format(" (critical at {})", Limit(o_.critical));
    } else if (used_pct >= o_.warning) {
      status = CheckStatus::kWarning;
      space += fmt::format(" (warning at {})", Limit(o_.warning));
    }
    space += fmt::format(", {} of {} free", FormatBytes(static_cast<uint64_t>(avail)),
                         FormatBytes(static_cast<uint64_t>(total)));
    if (o_.min_free && avail < static_cast<double>(*o_.min_free)) {
      status = CheckStatus::kCritical;
      space += fmt::format(" (below min_free {})", FormatBytes(*o_.min_free));
    }

    Observation obs;
    obs.AddMetric("used_percent", used_pct);
    obs.AddMetric("free_bytes", avail);
    obs.AddMetric("total_bytes", total);

    std::string inodes;
    if (st.f_files > 0) {
      const double files = static_cast<double>(st.f_files);
      const double iused = static_cast<double>(st.f_files - std::min(st.f_ffree, st.f_files));
      const double ipct = iused * 100.0 / files;
      inodes = fmt::format("; inodes {:.0f}% used", ipct);
      if (ipct >= o_.inodes_critical) {
        status = CheckStatus::kCritical;
        inodes += fmt::format(" (critical at {})", Limit(o_.inodes_critical));
      } else if (ipct >= o_.inodes_warning) {
        status = Worst(status, CheckStatus::kWarning);
        inodes += fmt::format(" (warning at {})", Limit(o_.inodes_warning));
      }
      obs.AddMetric("inodes_used_percent", ipct);
    }
    obs.status = status;
    obs.summary = space + inodes;
    return obs;
  }

 private:
  Options o_;
};

std::unique_ptr<Probe> Build(config::ConfigNode& node) {
  Options o;
  auto path = node.GetString("path");
  bool ok = node.GetThresholds("warning", "critical", o.warning, o.critical,
                               &config::ConfigNode::GetPercent, Limit);
  ok &= node.GetThresholds("inodes_warning", "inodes_critical", o.inodes_warning, o.inodes_critical,
                           &config::ConfigNode::GetPercent, Limit);
  o.min_free = node.GetSize("min_free");
  if (!path) {
    node.Error("missing 'path'", "name a directory on the file system to watch, e.g. path: /");
    ok = false;
  } else if (path->empty() || (*path)[0] != '/') {
    node.ErrorAt("path", fmt::format("'{}' is not an absolute path", *path),
                 "write the full path, starting with '/'");
    ok = false;
  } else {
    o.path = *path;
  }
  if (!ok) return nullptr;
  return std::make_unique<DiskProbe>(std::move(o));
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("disk", "space and inode use of a file system (statvfs)", Build);
}

}  // namespace mamori::probes::disk
