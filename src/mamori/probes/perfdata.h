// ParsePluginOutput: splits the output of a Nagios-compatible plugin into its
// summary line, long text and performance data, following the Nagios plugin
// development guidelines:
//
//   TEXT OUTPUT | OPTIONAL PERFDATA
//   LONG TEXT LINE 1
//   LONG TEXT LINE N | PERFDATA LINE 2
//   PERFDATA LINE 3
//
// where each perfdata item is 'label'=value[UOM];[warn];[crit];[min];[max].
// Labels may be quoted ('' stands for one quote) and then contain spaces.
// Thresholds are kept as the plugin wrote them (ranges such as "10:20",
// "~:5", "@1:2" are not interpreted); "U" as value means unknown.
//
// Pure function, thread-safe, never throws. Output is bounded: at most
// kMaxPerfData items and labels of at most kMaxLabel bytes; items that are
// malformed or over a bound are skipped and counted in `skipped`, so one bad
// item never hides the others.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mamori::probes {

struct PerfDatum {
  std::string label;
  std::optional<double> value;  // nullopt for "U"
  std::string uom;              // "", "s", "ms", "%", "B", "KB", "c", ...
  std::string warn;             // as written, "" when absent
  std::string crit;
  std::string min;
  std::string max;
};

struct PluginOutput {
  std::string summary;    // the first line, before any '|', trimmed
  std::string long_text;  // the other text lines, joined with '\n'
  std::vector<PerfDatum> perfdata;
  size_t skipped = 0;  // perfdata items ignored as malformed or over the limits
};

inline constexpr size_t kMaxPerfData = 256;
inline constexpr size_t kMaxLabel = 128;

PluginOutput ParsePluginOutput(std::string_view text);

// Parses just the perfdata part ("a=1;2;3 'b c'=4ms"), appending to `out`.
void ParsePerfData(std::string_view perfdata, PluginOutput& out);

}  // namespace mamori::probes
