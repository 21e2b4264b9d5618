#include "mamori/logs/template_rate.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mamori::logs {
namespace {

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

size_t SliceIndex(int64_t slice) {
  return static_cast<size_t>(((slice % TemplateRate::kSlices) + TemplateRate::kSlices) %
                             TemplateRate::kSlices);
}

}  // namespace

TemplateRate::TemplateRate(BurstOptions options) : o_(options) {
  if (o_.window < std::chrono::seconds(kSlices)) o_.window = std::chrono::seconds(kSlices);
  if (o_.time_constant < std::chrono::hours(1)) o_.time_constant = std::chrono::hours(1);
  slice_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(o_.window).count() / kSlices;
}

void TemplateRate::Decay(Entry& e, WallTime t) const {
  double dt = Seconds(t - e.base.updated);
  if (dt <= 0) return;
  double tau = Seconds(o_.time_constant);
  double d = std::exp(-dt / tau);
  e.base.lines *= d;
  e.base.seconds = e.base.seconds * d + tau * (1 - d);
  e.base.updated = t;
}

double TemplateRate::UsualPerWindow(const RateBaseline& b) const {
  if (b.seconds <= 0) return 0;
  return b.lines / b.seconds * Seconds(o_.window);
}

std::optional<Burst> TemplateRate::Add(Key key, WallTime t) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= o_.max_keys) return std::nullopt;
    Entry fresh;
    fresh.base.updated = t;
    it = entries_.emplace(key, fresh).first;
  }
  Entry& e = it->second;
  t = std::max(t, e.base.updated);
  if (t - e.base.updated > o_.forget_after) {
    e = Entry{};
    e.base.updated = t;
  }
  Decay(e, t);

  const int64_t slice =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count() /
      slice_ns_;
  if (e.newest_slice == kNoSlice || slice > e.newest_slice) {
    if (e.newest_slice == kNoSlice || slice - e.newest_slice >= kSlices) {
      e.slices.fill(0);
      e.fed.fill(0);
    } else {
      for (int64_t s = e.newest_slice + 1; s <= slice; ++s) {
        e.slices[SliceIndex(s)] = 0;
        e.fed[SliceIndex(s)] = 0;
      }
    }
    e.newest_slice = slice;
  }
  const size_t here = SliceIndex(e.newest_slice);
  if (e.slices[here] < std::numeric_limits<uint32_t>::max()) ++e.slices[here];
  uint64_t in_window = 0, fed = 0;
  for (int i = 0; i < kSlices; ++i) {
    in_window += e.slices[static_cast<size_t>(i)];
    fed += e.fed[static_cast<size_t>(i)];
  }

  // "Watched for min_history" in weighted seconds (see Decay), and never less
  // than one window, so the first lines of a template are no burst.
  const double tau = Seconds(o_.time_constant);
  const double trusted_after =
      std::max(tau * (1 - std::exp(-Seconds(o_.min_history) / tau)), Seconds(o_.window)) - 1;
  // The usual count leaves out the current window, which is being judged.
  RateBaseline before = e.base;
  before.lines = std::max(0.0, before.lines - static_cast<double>(fed));
  const double usual = UsualPerWindow(before);
  const bool burst = e.base.seconds >= trusted_after && in_window >= o_.min_lines &&
                     static_cast<double>(in_window) > o_.factor * usual;
  if (!burst) {
    e.base.lines += 1;
    if (e.fed[here] < std::numeric_limits<uint32_t>::max()) ++e.fed[here];
  }
  changed_.insert(key);
  if (!burst) return std::nullopt;
  return Burst{in_window, usual};
}

bool TemplateRate::Restore(Key key, const RateBaseline& baseline) {
  if (entries_.count(key) || entries_.size() >= o_.max_keys) return false;
  Entry e;
  e.base = baseline;
  if (!std::isfinite(e.base.lines) || e.base.lines < 0) e.base.lines = 0;
  if (!std::isfinite(e.base.seconds) || e.base.seconds < 0) e.base.seconds = 0;
  entries_.emplace(key, e);
  return true;
}

const RateBaseline* TemplateRate::Find(Key key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second.base;
}

std::vector<std::pair<TemplateRate::Key, RateBaseline>> TemplateRate::TakeChanged() {
  std::vector<std::pair<Key, RateBaseline>> out;
  out.reserve(changed_.size());
  for (Key k : changed_)
    if (auto it = entries_.find(k); it != entries_.end()) out.emplace_back(k, it->second.base);
  changed_.clear();
  return out;
}

}  // namespace mamori::logs
