#include "mamori/util/units.h"

#include <fmt/format.h>
#include <charconv>
#include <cmath>

namespace mamori {
namespace {

// Parses a non-negative decimal number at the front of `s`; advances `s`.
bool TakeNumber(std::string_view& s, double& out) {
  size_t i = 0;
  bool digits = false, dot = false;
  while (i < s.size()) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
    ++i;
  }
  if (!digits) return false;
  auto r = std::from_chars(s.data(), s.data() + i, out);
  if (r.ec != std::errc()) return false;
  s.remove_prefix(i);
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  std::string_view s = Trim(text);
  const std::string hint = "; write a number with a unit: 500ms, 90s, 5m, 26h, 7d, 1h30m";
  if (s.empty()) return Error("empty duration" + hint);
  if (s == "0") return Duration(0);
  double total_ns = 0;
  while (!s.empty()) {
    double n;
    if (!TakeNumber(s, n)) return Error("invalid duration '" + std::string(text) + "'" + hint);
    size_t u = 0;
    while (u < s.size() && ((s[u] >= 'a' && s[u] <= 'z') || (s[u] >= 'A' && s[u] <= 'Z'))) ++u;
    std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    double mult;
    if (unit == "ms")
      mult = 1e6;
    else if (unit == "s")
      mult = 1e9;
    else if (unit == "m")
      mult = 60e9;
    else if (unit == "h")
      mult = 3600e9;
    else if (unit == "d")
      mult = 86400e9;
    else if (unit == "w")
      mult = 7 * 86400e9;
    else if (unit.empty())
      return Error("duration '" + std::string(text) + "' has no unit" + hint);
    else
      return Error("unknown duration unit '" + std::string(unit) + "' in '" + std::string(text) +
                   "'" + hint);
    total_ns += n * mult;
    if (total_ns > 1e18) return Error("duration '" + std::string(text) + "' is too large");
  }
  return Duration(static_cast<int64_t>(std::llround(total_ns)));
}

Result<uint64_t> ParseSize(std::string_view text) {
  std::string_view s = Trim(text);
  const std::string hint = "; write bytes or a number with a unit: 512, 10MB, 1.5GB, 1MiB";
  double n;
  if (!TakeNumber(s, n)) return Error("invalid size '" + std::string(text) + "'" + hint);
  s = Trim(s);
  double mult;
  if (s.empty() || s == "B")
    mult = 1;
  else if (s == "kB" || s == "KB" || s == "k" || s == "K")
    mult = 1e3;
  else if (s == "MB" || s == "M")
    mult = 1e6;
  else if (s == "GB" || s == "G")
    mult = 1e9;
  else if (s == "TB" || s == "T")
    mult = 1e12;
  else if (s == "KiB")
    mult = 1024.0;
  else if (s == "MiB")
    mult = 1024.0 * 1024;
  else if (s == "GiB")
    mult = 1024.0 * 1024 * 1024;
  else if (s == "TiB")
    mult = 1024.0 * 1024 * 1024 * 1024;
  else
    return Error("unknown size unit '" + std::string(s) + "' in '" + std::string(text) + "'" +
                 hint);
  double v = n * mult;
  if (v > 1.8e19) return Error("size '" + std::string(text) + "' is too large");
  return static_cast<uint64_t>(std::llround(v));
}

Result<double> ParsePercent(std::string_view text) {
  std::string_view s = Trim(text);
  const std::string hint = "; write a percentage such as 80% or 92.5%";
  double n;
  if (!TakeNumber(s, n) || s != "%")
    return Error("invalid percentage '" + std::string(text) + "'" + hint);
  if (n > 100) return Error("percentage '" + std::string(text) + "' is above 100%");
  return n;
}

std::string FormatDuration(Duration d) {
  using namespace std::chrono;
  const int64_t ns = d.count();
  if (ns < 0) return fmt::format("-{}", FormatDuration(Duration(-ns)));
  if (ns < 1'000'000) return fmt::format("{:.2f}ms", ns / 1e6);
  if (ns < 1'000'000'000) return fmt::format("{}ms", ns / 1'000'000);
  if (ns < 60'000'000'000) return fmt::format("{:.1f}s", ns / 1e9);
  // Rounded to the smallest unit shown, so 2h 59m 59.9s reads "3h 0m".
  const int64_t s = (ns + 500'000'000) / 1'000'000'000;
  if (s < 3600) return fmt::format("{}m {}s", s / 60, s % 60);
  if (s < 86400 - 30) {
    const int64_t m = (s + 30) / 60;
    return fmt::format("{}h {}m", m / 60, m % 60);
  }
  const int64_t h = (s + 1800) / 3600;
  return fmt::format("{}d {}h", h / 24, h % 24);
}

std::string FormatBytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(b);
  int i = 0;
  while (v >= 1024 && i < 5) {
    v /= 1024;
    ++i;
  }
  if (i == 0) return fmt::format("{} B", b);
  return fmt::format("{:.1f} {}", v, units[i]);
}

}  // namespace mamori
