// Fuzzes the zone file reader (util::TimeZone::FromTzif) and the POSIX rule
// at a file's end: any bytes must be read or refused, never read past their
// end, and a zone read must answer every instant with a period that holds
// it (begin <= t < end) and an offset within a day either side of UTC.
//
// Input: the bytes of a zone file (the corpus holds real ones); the instants
// asked about are derived from the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mamori/util/time_zone.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto zone = mamori::util::TimeZone::FromTzif(in, "fuzz");
  if (!zone.ok()) {
    if (zone.error().message().empty()) std::abort();
    return 0;
  }
  uint64_t seed = 1469598103934665603ull;
  for (unsigned char c : in) seed = (seed ^ c) * 1099511628211ull;
  // From 1800 to 2500: the years a schedule or a log line can name.
  constexpr int64_t kFrom = -5364662400, kSpan = 22090000000;
  for (int i = 0; i < 16; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    const int64_t t = kFrom + static_cast<int64_t>((seed >> 11) % kSpan);
    const auto p = zone->PeriodAt(t);
    if (!(p.begin <= t && t < p.end)) std::abort();
    if (p.offset <= -86400 || p.offset >= 86400) std::abort();
  }
  return 0;
}
