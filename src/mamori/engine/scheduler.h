// Scheduler: decides when each check runs next. It knows nothing of probes; it
// hands out check indices that are due.
//
// Every check runs at its interval with a stable phase: a per-check offset
// derived from a hash of its name, measured against wall-clock time. So a check
// runs at the same second of the minute across restarts. Checks that share an
// interval start in batches: the interval is cut into equal slots, at least
// kMinBatches and doubled while more than kChecksPerBatch checks would share
// one, and each check's phase is rounded down to the start of its slot (each
// interval's slots, and each host's, shifted by their own stable amount, so a
// 10 s and a 60 s interval, or two hosts checking one target, do not all fire
// at the same instants). One
// wake-up of the event loop then starts a batch: a wake-up per check cost
// more CPU than the checks themselves (2.3x at 50 http checks a second, where
// the loop and the CPU's caches went cold between two checks; bench/RESULTS.md,
// "Batches"), and a batch of a few dozen is nothing to a server, where 1,000
// checks firing in one millisecond would be. Checks whose probes run on the
// worker pool are not batched (their wait for a pool thread would count
// against their timeouts): they keep their own spread phase. A check that falls behind
// (machine suspended, run still in flight) skips the missed slots rather than
// running in a burst.
//
// Driven by the times passed in (testable with FakeClock); not thread-safe: the
// daemon's event loop owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "mamori/util/clock.h"

namespace mamori {

// The phase of a check within its interval, in [0, interval).
Duration StableOffset(std::string_view name, Duration interval);

// Checks per batch, on average, before the slots of an interval double.
inline constexpr size_t kChecksPerBatch = 64;
inline constexpr size_t kMinBatches = 4;
// How many slots `checks` checks sharing one interval are cut into:
// kMinBatches, doubled while a slot would hold more than kChecksPerBatch. A
// power of two, so phases change only when the count crosses a doubling.
size_t BatchesFor(size_t checks);
// StableOffset rounded down to the start of its slot, one of `batches`, plus
// the shift of `seed`'s slots for this interval (less than one slot).
Duration BatchPhase(std::string_view name, Duration interval, size_t batches,
                    std::string_view seed = {});

class Scheduler {
 public:
  struct Slot {
    std::string name;
    Duration interval;
    // Starts with the others of its slot (see above); false for probes on
    // the worker pool.
    bool batched = true;
  };
  struct Due {
    size_t index;   // into the slots given to Reset
    MonoTime when;  // when it was due (lateness = now - when)
  };

  // Replaces every slot. `wall` and `mono` are the same instant on both
  // clocks; `seed` (the host's name) shifts the batches' instants.
  void Reset(std::vector<Slot> slots, WallTime wall, MonoTime mono, std::string_view seed = {});
  // The earliest due time, if any slot exists.
  std::optional<MonoTime> NextDue() const;
  // Every slot due at `now` (in due order); each is rescheduled to its next
  // slot after `now`.
  std::vector<Due> PopDue(MonoTime now);
  // Moves a slot's next run to `when` (e.g. "now", after a maintenance window);
  // its regular phase resumes afterwards.
  void RunAt(size_t index, MonoTime when);
  // Makes a slot run no later than `when`: moves its next run there only if
  // the regular one comes after it (a heartbeat's deadline falls between two
  // runs of its check).
  void RunBy(size_t index, MonoTime when);
  size_t size() const { return intervals_.size(); }

 private:
  struct Item {
    MonoTime when;
    size_t index;
    uint64_t generation;
    bool operator>(const Item& o) const { return when > o.when; }
  };
  // Only the intervals are kept: a slot's name matters once, for its phase
  // in Reset, and keeping every check's name here again cost memory per check.
  std::vector<Duration> intervals_;
  std::vector<MonoTime> next_;        // regular next run per slot
  std::vector<uint64_t> generation_;  // bumps invalidate stale heap items
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> heap_;
};

}  // namespace mamori
