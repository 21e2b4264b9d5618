#include "mamori/host/baseline_probe.h"

#include <fnmatch.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include "mamori/check/registry.h"
#include "mamori/host/baseline_file.h"
#include "mamori/host/systemd_bus.h"

namespace mamori::probes::baseline {

namespace hb = host::baseline;

bool Ignored(const Options& o, const std::string& name) {
  for (const auto& g : o.ignore)
    if (::fnmatch(g.c_str(), name.c_str(), 0) == 0) return true;
  return false;
}

namespace {

// Only the unit list: no unit is selected for its details.
Result<std::vector<host::systemd::UnitRecord>> ReadUnitList(const Clock& clock, MonoTime deadline) {
  host::systemd::ReadOptions ro;
  ro.select.ignore = {"*"};
  ro.select.restart_count = 0;
  return host::systemd::ReadUnits(ro, clock, deadline);
}

constexpr size_t kNamedInSummary = 8;

// "45s", "30m", "1h", "2h 5m", "3d 4h": how long ago, or how long it takes.
std::string Short(Duration d) {
  using namespace std::chrono;
  const int64_t s = std::max<int64_t>(0, duration_cast<seconds>(d).count());
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m", s / 60);
  auto two = [](int64_t a, const char* ua, int64_t b, const char* ub) {
    return b ? fmt::format("{}{} {}{}", a, ua, b, ub) : fmt::format("{}{}", a, ua);
  };
  if (s < 86400) return two(s / 3600, "h", s % 3600 / 60, "m");
  return two(s / 86400, "d", s % 86400 / 3600, "h");
}

std::string Counts(const std::vector<hb::Item>& items) {
  std::array<size_t, 4> n{};
  for (const auto& i : items) ++n[static_cast<size_t>(i.kind)];
  return fmt::format("{} listeners, {} processes, {} units, {} filesystems", n[0], n[1], n[2],
                     n[3]);
}

Observation Report(const std::vector<hb::Item>& baseline, const hb::Snapshot& now,
                   const std::vector<hb::Item>& missing, WallTime created, WallTime at) {
  std::string notes;
  for (const auto& p : now.problems) notes += "; " + p;
  Observation o;
  o.AddMetric("baseline_items", static_cast<double>(baseline.size()));
  o.AddMetric("missing_items", static_cast<double>(missing.size()));
  if (missing.empty()) {
    o.status = CheckStatus::kOk;
    o.summary = fmt::format("baseline: {} present (learned {} ago){}", Counts(baseline),
                            Short(at - created), notes);
    return o;
  }
  o.status = CheckStatus::kWarning;
  std::string text;
  for (size_t i = 0; i < missing.size() && i < kNamedInSummary; ++i)
    text += (i ? "; " : "") + hb::MissingText(missing[i]);
  if (missing.size() > kNamedInSummary)
    text += fmt::format("; and {} more", missing.size() - kNamedInSummary);
  o.summary = text + notes;
  for (const auto& m : missing) o.details += hb::MissingText(m) + "\n";
  return o;
}

}  // namespace

hb::Snapshot LookAtHost(const Options& o, const Clock& clock, MonoTime deadline) {
  std::optional<Result<std::vector<host::systemd::UnitRecord>>> units;
  struct stat st {};
  if (hb::Includes(o.snapshot, hb::Kind::kUnit) && ::stat(o.systemd_dir.c_str(), &st) == 0 &&
      S_ISDIR(st.st_mode))
    units = o.read_units ? o.read_units(clock, deadline) : ReadUnitList(clock, deadline);
  hb::Snapshot snap = hb::TakeSnapshot(o.snapshot, units);
  std::erase_if(snap.items, [&](const hb::Item& i) { return Ignored(o, i.name); });
  return snap;
}

Observation BaselineProbe::Run(const Clock& clock, MonoTime deadline) {
  if (data_dir_.empty())
    return Observation::Make(CheckStatus::kUnknown,
                             "no data_dir to keep the baseline in; set data_dir:");
  const hb::Snapshot now = LookAtHost(o_, clock, deadline - std::chrono::milliseconds(50));
  // Unknown health (a one-shot run) is not health: learn only when told.
  const bool healthy = health_ && health_->AllOk();
  const WallTime wall = clock.Now();
  // Only learning writes (and locks); otherwise the file is only read, so a
  // one-shot run works where the data directory does not exist yet.
  if (!healthy) learner_.Reset();
  auto doc = !healthy ? hb::Load(hb::BaselinePath(data_dir_))
                      : hb::Update(data_dir_, deadline, clock, [&](hb::Document& d) {
                          auto due = learner_.Observe(now, true, clock.Monotonic(), o_.learn_after,
                                                      [&](const hb::Item& i) { return d.Has(i); });
                          for (const auto& i : due) d.Add(i, wall);
                          return !due.empty();
                        });
  if (!doc.ok()) return Observation::Make(CheckStatus::kUnknown, doc.error().message());
  std::vector<hb::Item> baseline;
  for (auto& i : doc->Items())
    if (hb::Includes(o_.snapshot, i.kind) && !Ignored(o_, i.name)) baseline.push_back(i);
  if (baseline.empty()) {
    std::string why = healthy || health_
                          ? fmt::format("needs {} of healthy host", Short(o_.learn_after))
                          : "learns under `mamori run` while every check is OK, or take it now "
                            "with `mamori baseline accept`";
    return Observation::Make(CheckStatus::kOk, "learning: nothing learned yet (" + why + ")");
  }
  return Report(baseline, now, hb::Missing(baseline, now), doc->created, wall);
}

std::unique_ptr<Options> ParseOptions(config::ConfigNode& node) {
  auto o = std::make_unique<Options>();
  if (auto d = node.GetDuration("learn_after")) {
    if (*d <= Duration::zero()) {
      node.ErrorAt("learn_after", "learn_after must be longer than zero", "e.g. learn_after: 1h");
      return nullptr;
    }
    o->learn_after = *d;
  }
  if (auto ig = node.GetStringList("ignore")) o->ignore = *ig;
  if (auto inc = node.GetStringList("include")) {
    o->snapshot.include = {false, false, false, false};
    for (const auto& k : *inc) {
      auto kind = hb::ParseKind(k);
      if (!kind) {
        node.ErrorAt("include", "'" + k + "' is not a kind of baseline item",
                     "use listeners, processes, units and/or mounts");
        return nullptr;
      }
      o->snapshot.include[static_cast<size_t>(*kind)] = true;
    }
  }
  // A process (or an ephemeral port's owner) younger than the learning
  // period cannot have been seen for all of it; past a few minutes it is
  // settled.
  o->snapshot.min_age = std::min<Duration>(o->learn_after, std::chrono::minutes(5));
  o->snapshot.min_owner_age = o->snapshot.min_age;
  return o;
}

namespace {

std::unique_ptr<Probe> Build(config::ConfigNode& node) {
  auto o = ParseOptions(node);
  if (!o) return nullptr;
  return std::make_unique<BaselineProbe>(std::move(*o));
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("baseline",
        "what this host normally has (listeners, processes, units, mounts), learned while "
        "healthy: names what is missing",
        Build);
}

}  // namespace mamori::probes::baseline
