// Strict parsers and printers for the units users write in configuration:
// durations ("500ms", "90s", "5m", "26h", "7d", "1h30m"), sizes ("10MB",
// "1MiB", "512"), percentages ("80%"). Strict means the whole string must be
// consumed, numbers are non-negative, and every failure says what is accepted.
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori {

// Units: ms, s, m, h, d, w. Components may be chained ("1h30m"); a bare number
// is rejected (ambiguous), except "0".
Result<Duration> ParseDuration(std::string_view text);

// Units: B, kB/KB, MB, GB, TB (powers of 1000), KiB, MiB, GiB, TiB (powers of
// 1024); a bare number is bytes. Decimals allowed ("1.5GB").
Result<uint64_t> ParseSize(std::string_view text);

// "80%", "80.5%" (0..100). The % sign is required so "80" is not mistaken.
Result<double> ParsePercent(std::string_view text);

// Human forms used in summaries: "1.2s", "350ms", "3h 5m", "2d 4h".
std::string FormatDuration(Duration d);
// "1.5 GiB", "512 B".
std::string FormatBytes(uint64_t bytes);

}  // namespace mamori
