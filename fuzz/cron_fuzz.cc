// Fuzzes cron expressions and time zones: any bytes must parse or fail with a
// printable message, and a schedule's answers must be consistent: Next() is
// strictly later and within the horizon, Previous() is not later, a firing is
// its own Previous(), and the firing after Previous(t) is Next(t).
//
// Input: an optional first line naming the time zone, then the expression.
// The instant asked about is derived from the input bytes.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mamori/util/cron.h"

namespace {

bool Printable(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view tz = "UTC";
  std::string_view expr = in;
  if (size_t nl = in.find('\n'); nl != std::string_view::npos) {
    tz = in.substr(0, nl);
    expr = in.substr(nl + 1);
  }
  auto parsed = mamori::CronSchedule::Parse(expr, tz);
  if (!parsed.ok()) {
    const std::string& m = parsed.error().message();
    if (m.empty() || !Printable(m)) std::abort();
    return 0;
  }
  const mamori::CronSchedule& s = *parsed;

  // FNV-1a over the input picks an instant between 1890 and 2210, so the
  // edges of the supported years are exercised too.
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : std::string_view(in)) h = (h ^ b) * 1099511628211ull;
  constexpr int64_t kStart = -2524521600;  // 1890-01-01
  constexpr int64_t kSpan = int64_t{320} * 366 * 86400;
  const mamori::WallTime t(std::chrono::seconds(kStart + static_cast<int64_t>(h % kSpan)) +
                           std::chrono::milliseconds(static_cast<int64_t>((h >> 40) % 1000)));
  constexpr auto kHorizon = std::chrono::hours(24 * (5 * 366 + 1));

  auto next = s.Next(t);
  if (next && (*next <= t || *next - t > kHorizon)) std::abort();
  if (next && s.Previous(*next) != next) std::abort();
  auto prev = s.Previous(t);
  if (prev && (*prev > t || t - *prev > kHorizon)) std::abort();
  if (prev) {
    auto after = s.Next(*prev);
    if (after && *after <= *prev) std::abort();
    if (after && next && *after != *next) std::abort();
  }
  return 0;
}
