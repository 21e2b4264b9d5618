// ReadModel's queries: fetch bounded rows from the store and hand them to the
// pure functions of read_model.cc.
#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "mamori/faces/read_model.h"

namespace mamori::faces {

Result<std::vector<CheckView>> ReadModel::Checks(const std::vector<LiveCheck>& live) {
  auto snaps = store_.LoadSnapshots();
  if (!snaps.ok()) return snaps.error();
  std::unordered_map<std::string, const CheckSnapshot*> by_name;
  for (const auto& s : *snaps) by_name[s.name] = &s;
  std::vector<CheckView> out;
  out.reserve(live.size());
  for (const auto& l : live) {
    CheckView v;
    v.live = l;
    if (auto it = by_name.find(l.name); it != by_name.end()) {
      const CheckSnapshot& s = *it->second;
      v.status = s.hard;
      if (s.hard) v.since = s.hard_since;
      if (s.last_time != WallTime{}) v.last_run = s.last_time;
      v.summary = s.summary;
      v.duration = s.duration;
      v.flapping = s.flapping;
    }
    out.push_back(std::move(v));
  }
  return out;
}

Result<std::vector<Bucket>> ReadModel::History(const std::string& check, WallTime since,
                                               WallTime until, Duration step) {
  if (until <= since) return Error("'until' must be after 'since'");
  if (until - since > kMaxRange) return Error("the range is longer than 400 days");
  if (step < kMinStep) return Error("'step' is shorter than 60s");
  if (static_cast<size_t>((until - since) / step) >= kMaxBuckets)
    return Error(fmt::format("more than {} buckets: use a larger 'step'", kMaxBuckets));
  if (step % std::chrono::hours(1) == Duration::zero()) {
    auto rows = store_.Rollups(check, std::chrono::floor<std::chrono::hours>(since));
    if (!rows.ok()) return rows.error();
    return BucketRollups(*rows, since, until, step);
  }
  auto rows = store_.Observations(check, since, kMaxObservations);
  if (!rows.ok()) return rows.error();
  return BucketObservations(*rows, since, until, step);
}

Result<Counts> ReadModel::Uptime(const std::string& check, Duration window) {
  const WallTime now = clock_.Now();
  const WallTime since = std::chrono::floor<std::chrono::hours>(
      now - std::chrono::duration_cast<WallTime::duration>(window));
  auto rows = store_.Rollups(check, since);
  if (!rows.ok()) return rows.error();
  return SumRollups(*rows, since, now + std::chrono::hours(1));
}

Result<std::unordered_map<std::string, Counts>> ReadModel::UptimeAll(Duration window) {
  const WallTime now = clock_.Now();
  const WallTime since = std::chrono::floor<std::chrono::hours>(
      now - std::chrono::duration_cast<WallTime::duration>(window));
  // The last two hours are read every time: results of the hour just ended
  // may still be committing when it ends.
  const WallTime settled = std::max<WallTime>(
      since, std::chrono::floor<std::chrono::hours>(now) - std::chrono::hours(1));
  std::unordered_map<std::string, Counts> out;
  {
    MutexLock lock(cache_mu_);
    auto it = uptime_cache_.find(window);
    if (it == uptime_cache_.end() || it->second.since != since || it->second.settled != settled) {
      // Computed under the lock: concurrent callers wait for one query
      // instead of each running their own.
      auto rows = store_.RollupTotals(since, settled);
      if (!rows.ok()) return rows.error();
      if (uptime_cache_.size() >= kMaxCachedWindows) uptime_cache_.clear();
      SettledUptime fresh{since, settled, {}};
      for (const auto& [name, r] : *rows) fresh.counts[name].Add(r);
      it = uptime_cache_.insert_or_assign(window, std::move(fresh)).first;
    }
    out = it->second.counts;
  }
  auto live = store_.RollupTotals(settled, now + std::chrono::hours(1));
  if (!live.ok()) return live.error();
  for (const auto& [name, r] : *live) out[name].Add(r);
  return out;
}

Result<std::vector<Bucket>> ReadModel::Daily(const std::string& check, int days) {
  days = std::clamp(days, 1, 400);
  const WallTime now = clock_.Now();
  auto rows = store_.Rollups(check, now - std::chrono::hours(24 * days));
  if (!rows.ok()) return rows.error();
  return DailyBuckets(*rows, now, days);
}

Result<std::vector<Incident>> ReadModel::Incidents(const std::vector<std::string>& only,
                                                   Duration window, size_t limit) {
  const WallTime since =
      clock_.Now() - std::chrono::duration_cast<WallTime::duration>(std::min(window, kMaxRange));
  std::vector<Event> events;
  if (only.size() == 1) {
    auto e = store_.Events(only.front(), since, kMaxEvents);
    if (!e.ok()) return e.error();
    events = std::move(e).value();
  } else {
    auto e = store_.Events(std::nullopt, since, kMaxEvents);
    if (!e.ok()) return e.error();
    events = std::move(e).value();
    if (!only.empty())
      std::erase_if(events, [&](const Event& ev) {
        return std::find(only.begin(), only.end(), ev.check) == only.end();
      });
  }
  auto out = BuildIncidents(std::move(events));
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace mamori::faces
