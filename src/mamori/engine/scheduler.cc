#include "mamori/engine/scheduler.h"

#include <algorithm>
#include <map>
#include <string>

namespace mamori {

Duration StableOffset(std::string_view name, Duration interval) {
  // FNV-1a, then a 64-bit finaliser so similar names ("web-1", "web-2")
  // land far apart.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  const auto n = static_cast<uint64_t>(interval.count());
  return n == 0 ? Duration(0) : Duration(static_cast<int64_t>(h % n));
}

size_t BatchesFor(size_t checks) {
  size_t batches = kMinBatches;
  while (checks > batches * kChecksPerBatch) batches *= 2;
  return batches;
}

Duration BatchPhase(std::string_view name, Duration interval, size_t batches,
                    std::string_view seed) {
  const Duration offset = StableOffset(name, interval);
  const int64_t grain = interval.count() / static_cast<int64_t>(std::max<size_t>(batches, 1));
  if (grain <= 0) return offset;
  const std::string grid = std::string(seed) + "/" + std::to_string(interval.count());
  const int64_t shift = StableOffset(grid, Duration(grain)).count();
  return Duration((offset.count() / grain * grain + shift) % interval.count());
}

void Scheduler::Reset(std::vector<Slot> slots, WallTime wall, MonoTime mono,
                      std::string_view seed) {
  intervals_.clear();
  intervals_.reserve(slots.size());
  for (const Slot& s : slots) intervals_.push_back(s.interval);
  intervals_.shrink_to_fit();  // a reload with fewer checks gives memory back
  next_.assign(slots.size(), MonoTime{});
  next_.shrink_to_fit();
  generation_.assign(slots.size(), 0);
  generation_.shrink_to_fit();
  heap_ = {};
  const int64_t wall_ns = std::chrono::duration_cast<Duration>(wall.time_since_epoch()).count();
  std::map<Duration, size_t> sharing;  // batched checks per interval
  for (const Slot& s : slots) sharing[s.interval] += s.batched ? 1 : 0;
  for (size_t i = 0; i < slots.size(); ++i) {
    const int64_t iv = slots[i].interval.count();
    if (iv <= 0) continue;
    const Slot& slot = slots[i];
    const int64_t phase = (slot.batched ? BatchPhase(slot.name, slot.interval,
                                                     BatchesFor(sharing[slot.interval]), seed)
                                        : StableOffset(slot.name, slot.interval))
                              .count();
    int64_t delay = (phase - wall_ns % iv) % iv;
    if (delay < 0) delay += iv;
    next_[i] = mono + Duration(delay);
    heap_.push({next_[i], i, 0});
  }
}

std::optional<MonoTime> Scheduler::NextDue() const {
  if (heap_.empty()) return std::nullopt;
  return heap_.top().when;
}

std::vector<Scheduler::Due> Scheduler::PopDue(MonoTime now) {
  std::vector<Due> out;
  while (!heap_.empty() && heap_.top().when <= now) {
    Item it = heap_.top();
    heap_.pop();
    if (it.generation != generation_[it.index]) continue;
    out.push_back({it.index, it.when});
    const Duration iv = intervals_[it.index];
    MonoTime next = next_[it.index];
    if (next <= now) {
      // Skip missed slots: jump to the first regular slot after now.
      const int64_t behind = (now - next).count() / iv.count() + 1;
      next += iv * behind;
    }
    next_[it.index] = next;
    heap_.push({next, it.index, generation_[it.index]});
  }
  return out;
}

void Scheduler::RunAt(size_t index, MonoTime when) {
  if (index >= intervals_.size()) return;
  ++generation_[index];
  heap_.push({when, index, generation_[index]});
}

void Scheduler::RunBy(size_t index, MonoTime when) {
  if (index >= intervals_.size() || when >= next_[index]) return;
  RunAt(index, when);
}

}  // namespace mamori
