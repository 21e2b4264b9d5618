// Clock: the one way mamori reads time, so the engine, scheduler and store can
// be tested with FakeClock instead of sleeping.
//
// Two readings: Now() is wall-clock time (for timestamps shown to people and
// stored), Monotonic() never jumps (for scheduling and timeouts). SystemClock is
// stateless and thread-safe. FakeClock is thread-safe; tests advance it by hand.
#pragma once

#include <atomic>
#include <chrono>

namespace mamori {

using WallTime = std::chrono::system_clock::time_point;
using MonoTime = std::chrono::steady_clock::time_point;
using Duration = std::chrono::nanoseconds;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime Now() const = 0;
  virtual MonoTime Monotonic() const = 0;
};

class SystemClock final : public Clock {
 public:
  WallTime Now() const override { return std::chrono::system_clock::now(); }
  MonoTime Monotonic() const override { return std::chrono::steady_clock::now(); }
};

// Starts at the given wall time (default 2026-01-01T00:00:00Z) and only moves
// when Advance() is called; both readings move together.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(WallTime start = WallTime(std::chrono::seconds(1767225600)))
      : offset_ns_(0), wall_start_(start) {}
  WallTime Now() const override {
    return wall_start_ +
           std::chrono::duration_cast<WallTime::duration>(Duration(offset_ns_.load()));
  }
  MonoTime Monotonic() const override { return MonoTime(Duration(offset_ns_.load())); }
  void Advance(Duration d) { offset_ns_ += d.count(); }

 private:
  std::atomic<int64_t> offset_ns_;
  WallTime wall_start_;
};

inline int64_t ToUnixMillis(WallTime t) {
  return std::chrono::duration_cast<Millis>(t.time_since_epoch()).count();
}
inline WallTime FromUnixMillis(int64_t ms) { return WallTime(Millis(ms)); }

}  // namespace mamori
