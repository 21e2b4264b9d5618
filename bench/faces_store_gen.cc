// faces_store_gen: fills a data directory with the history bench/faces.sh
// reads: CHECKS file checks named site-0..site-N-1, DAYS of results one every
// STEP_MINUTES per check, written through the Store's own writer (Record,
// RecordEvent, SaveSnapshot), so the hourly rollups, events and snapshots are
// exactly what a daemon would have left. 1% of the checks had a one-hour
// outage each day. Then Compact() with the default retention (raw 7 d).
//
//   faces_store_gen DATA_DIR [CHECKS=10000] [DAYS=30] [STEP_MINUTES=60]
//
// Prints how many results it wrote and how long that took.
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "mamori/store/store.h"
#include "mamori/util/clock.h"

using namespace mamori;

namespace {

int Arg(int argc, char** argv, int i, int fallback) {
  return argc > i ? std::atoi(argv[i]) : fallback;
}

CheckStatus StatusAt(int check, int day, int hour) {
  return (check % 100 == day % 100 && hour == check % 24) ? CheckStatus::kCritical
                                                          : CheckStatus::kOk;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: {} DATA_DIR [CHECKS] [DAYS] [STEP_MINUTES]\n", argv[0]);
    return 64;
  }
  const int checks = Arg(argc, argv, 2, 10'000), days = Arg(argc, argv, 3, 30);
  const auto step = std::chrono::minutes(Arg(argc, argv, 4, 60));
  SystemClock clock;
  Store::Options options;
  options.batch_size = 20'000;
  options.queue_capacity = 1'000'000;
  auto store = Store::Open(argv[1], clock, Store::OpenMode::kReadWrite, options);
  if (!store.ok()) {
    fmt::print(stderr, "{}\n", store.error().message());
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  const WallTime now = clock.Now();
  const WallTime first = now - std::chrono::hours(24 * days);
  uint64_t written = 0;
  for (WallTime t = first; t < now; t += step) {
    const auto since = std::chrono::duration_cast<std::chrono::hours>(t - first).count();
    const int day = static_cast<int>(since / 24), hour = static_cast<int>(since % 24);
    for (int c = 0; c < checks; ++c) {
      Observation o = Observation::Make(StatusAt(c, day, hour), "file /etc/hostname: 12 bytes");
      o.time = t;
      o.duration = std::chrono::microseconds(150 + (c * 7 + since) % 300);
      o.AddMetric("size_bytes", 12);
      (*store)->Record(fmt::format("site-{}", c), "file", o);
      ++written;
      const CheckStatus before = StatusAt(c, day, hour == 0 ? 23 : hour - 1);
      if (before != o.status) {
        Event e{t,
                fmt::format("site-{}", c),
                EventKind::kStateChange,
                before,
                std::nullopt,
                o.status,
                o.summary};
        (*store)->RecordEvent(e);
      }
    }
    if (Status s = (*store)->Flush(); !s.ok()) {
      fmt::print(stderr, "{}\n", s.error().message());
      return 1;
    }
  }
  for (int c = 0; c < checks; ++c) {
    CheckSnapshot s;
    s.name = fmt::format("site-{}", c);
    s.type = "file";
    s.hard = CheckStatus::kOk;
    s.last = CheckStatus::kOk;
    s.last_time = now;
    s.hard_since = first;
    s.summary = "file /etc/hostname: 12 bytes";
    (*store)->SaveSnapshot(s);
  }
  if (Status s = (*store)->Flush(); !s.ok()) return 1;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (Status s = (*store)->Compact(RetentionConfig{}); !s.ok()) {
    fmt::print(stderr, "compact: {}\n", s.error().message());
    return 1;
  }
  fmt::print("wrote {} results for {} checks over {} days in {:.1f} s ({:.0f}/s)\n", written,
             checks, days, secs, written / secs);
  return 0;
}
