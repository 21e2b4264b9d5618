// TemplateRate: how often each log template usually appears, and whether it
// is appearing far more often right now (a burst).
//
// For every key (a template id of one source) it keeps a baseline rate as an
// exponentially weighted count of lines divided by an equally weighted span
// of time, so old days weigh less than recent ones (time constant 7 days by
// default) and a silent day counts as a day with no lines. Next to it, the
// lines of the current window are counted in ten slices of window/10, which
// makes the window slide with that granularity.
//
// A line is part of a burst when its template has been watched for at least
// min_history, the window holds at least min_lines lines and more than factor
// times the usual count for a window of that length (the usual count leaves
// the current window out). Lines beyond that
// threshold do not feed the baseline, so a burst does not teach itself; a
// lasting rise is still learned, because the threshold grows with the
// baseline.
//
// Times should not go backwards for a key; an earlier time is taken as the
// latest one seen. Bounded: at most max_keys keys (later keys are not tracked)
// and a fixed size per key; a key not seen for forget_after starts afresh.
// Not thread-safe: one instance per thread. Nothing here fails.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "mamori/util/clock.h"

namespace mamori::logs {

struct BurstOptions {
  Duration window = std::chrono::minutes(10);
  double factor = 10;
  uint64_t min_lines = 20;
  // How long a template must have been watched before its rate is trusted.
  Duration min_history = std::chrono::hours(24);
  // Weight of the past: a day this long ago counts 1/e as much as today.
  Duration time_constant = std::chrono::hours(24 * 7);
  Duration forget_after = std::chrono::hours(24 * 30);
  std::size_t max_keys = 1000;
};

// The part of a key's state worth keeping across restarts.
struct RateBaseline {
  double lines = 0;    // weighted count of lines
  double seconds = 0;  // weighted time watched
  WallTime updated{};  // the weights above are as of this time
};

struct Burst {
  uint64_t lines = 0;  // in the current window, this line included
  double usual = 0;    // usual count for a window of the same length
};

class TemplateRate {
 public:
  using Key = uint32_t;
  static constexpr int kSlices = 10;

  explicit TemplateRate(BurstOptions options = {});

  // Counts one line of `key` at time `t`. Returns the burst this line belongs
  // to, if any.
  std::optional<Burst> Add(Key key, WallTime t);
  // Restores a saved baseline for a key not seen yet. False when the key is
  // already tracked or there is no room.
  bool Restore(Key key, const RateBaseline& baseline);
  // The baseline of `key`, or null when it is not tracked.
  const RateBaseline* Find(Key key) const;
  // The usual count per window of `b`.
  double UsualPerWindow(const RateBaseline& b) const;
  // Baselines changed since the last call, to be saved.
  std::vector<std::pair<Key, RateBaseline>> TakeChanged();

  std::size_t size() const { return entries_.size(); }
  const BurstOptions& options() const { return o_; }

 private:
  static constexpr int64_t kNoSlice = std::numeric_limits<int64_t>::min();
  struct Entry {
    RateBaseline base;
    std::array<uint32_t, kSlices> slices{};  // lines per slice
    std::array<uint32_t, kSlices> fed{};     // of which added to the baseline
    int64_t newest_slice = kNoSlice;         // index of slices since the epoch
  };
  // Moves the weights of `e` forward to `t` (t >= e.base.updated).
  void Decay(Entry& e, WallTime t) const;

  BurstOptions o_;
  int64_t slice_ns_;
  std::map<Key, Entry> entries_;
  std::set<Key> changed_;
};

}  // namespace mamori::logs
