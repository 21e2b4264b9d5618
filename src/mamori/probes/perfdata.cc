#include "mamori/probes/perfdata.h"

#include <charconv>
#include <cmath>

namespace mamori::probes {
namespace {

// Thresholds and min/max longer than this are not something a plugin means.
constexpr size_t kMaxField = 64;
constexpr size_t kMaxUom = 8;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}
// '|' between items shows up when plugins glue several perfdata sections.
bool IsSeparator(char c) { return IsSpace(c) || c == '|'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// "0.180", "-5", "1e3", "0,18" (some plugins follow the locale's decimal
// comma) followed by an optional unit of measurement.
bool ParseValue(std::string_view field, PerfDatum& d) {
  if (field == "U") return true;  // unknown: value stays nullopt
  size_t i = 0;
  if (i < field.size() && (field[i] == '+' || field[i] == '-')) ++i;
  size_t digits_start = i;
  while (i < field.size() && (IsDigit(field[i]) || field[i] == '.' || field[i] == ',')) ++i;
  if (i == digits_start) return false;
  if (i < field.size() && (field[i] == 'e' || field[i] == 'E')) {
    size_t j = i + 1;
    if (j < field.size() && (field[j] == '+' || field[j] == '-')) ++j;
    if (j < field.size() && IsDigit(field[j])) {
      while (j < field.size() && IsDigit(field[j])) ++j;
      i = j;
    }
  }
  std::string number(field.substr(field[0] == '+' ? 1 : 0, field[0] == '+' ? i - 1 : i));
  size_t comma = number.find(',');
  if (comma != std::string::npos) {
    if (number.find('.') != std::string::npos || number.find(',', comma + 1) != std::string::npos)
      return false;
    number[comma] = '.';
  }
  double v = 0;
  auto r = std::from_chars(number.data(), number.data() + number.size(), v);
  if (r.ec != std::errc() || r.ptr != number.data() + number.size() || !std::isfinite(v))
    return false;
  std::string_view uom = field.substr(i);
  if (uom.size() > kMaxUom) return false;
  for (char c : uom)
    if (!IsAlpha(c) && c != '%') return false;
  d.value = v;
  d.uom = std::string(uom);
  return true;
}

// `spec` is everything after '=': value[UOM];warn;crit;min;max. Fields
// beyond the fifth are ignored.
bool ParseSpec(std::string_view spec, PerfDatum& d) {
  std::string_view fields[5];
  size_t n = 0;
  while (n < 5) {
    size_t semi = spec.find(';');
    fields[n++] = spec.substr(0, semi);
    if (semi == std::string_view::npos) break;
    spec.remove_prefix(semi + 1);
  }
  if (!ParseValue(fields[0], d)) return false;
  std::string* out[4] = {&d.warn, &d.crit, &d.min, &d.max};
  for (size_t k = 1; k < n; ++k) {
    if (fields[k].size() > kMaxField) return false;
    *out[k - 1] = std::string(fields[k]);
  }
  return true;
}

}  // namespace

void ParsePerfData(std::string_view s, PluginOutput& out) {
  size_t i = 0;
  const size_t n = s.size();
  auto skip_token = [&] {
    while (i < n && !IsSeparator(s[i])) ++i;
  };
  while (true) {
    while (i < n && IsSeparator(s[i])) ++i;
    if (i >= n) return;
    PerfDatum d;
    bool ok = true;
    if (s[i] == '\'') {
      ++i;
      bool closed = false;
      while (i < n) {
        if (s[i] == '\'') {
          if (i + 1 < n && s[i + 1] == '\'') {
            if (d.label.size() <= kMaxLabel) d.label.push_back('\'');
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        // Stop copying once over the limit; the item is dropped anyway.
        if (d.label.size() <= kMaxLabel) d.label.push_back(s[i]);
        ++i;
      }
      if (!closed) {  // runs to the end: nothing after it can be trusted
        ++out.skipped;
        return;
      }
      if (i >= n || s[i] != '=') ok = false;
    } else {
      size_t start = i;
      while (i < n && s[i] != '=' && !IsSeparator(s[i])) ++i;
      if (i >= n || s[i] != '=') ok = false;
      d.label = std::string(s.substr(start, std::min(i - start, kMaxLabel + 1)));
    }
    if (!ok) {
      ++out.skipped;
      skip_token();
      continue;
    }
    ++i;  // '='
    size_t spec_start = i;
    skip_token();
    std::string_view spec = s.substr(spec_start, i - spec_start);
    if (d.label.empty() || d.label.size() > kMaxLabel || out.perfdata.size() >= kMaxPerfData ||
        !ParseSpec(spec, d)) {
      ++out.skipped;
      continue;
    }
    out.perfdata.push_back(std::move(d));
  }
}

PluginOutput ParsePluginOutput(std::string_view text) {
  PluginOutput out;
  bool first = true;
  bool in_perfdata = false;
  std::string_view rest = text;
  while (!rest.empty() || first) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (in_perfdata) {
      ParsePerfData(line, out);
    } else {
      size_t bar = line.find('|');
      std::string_view words = line.substr(0, bar);
      if (first) {
        out.summary = std::string(Trim(words));
      } else {
        if (!out.long_text.empty()) out.long_text.push_back('\n');
        out.long_text.append(TrimRight(words));
      }
      if (bar != std::string_view::npos) {
        ParsePerfData(line.substr(bar + 1), out);
        // Only a '|' in the long text switches to perfdata-only lines; the
        // first line's perfdata is self-contained.
        if (!first) in_perfdata = true;
      }
    }
    first = false;
  }
  out.long_text = std::string(TrimRight(out.long_text));
  // Leading blank lines carry nothing.
  size_t lead = out.long_text.find_first_not_of("\n");
  out.long_text.erase(0, lead == std::string::npos ? out.long_text.size() : lead);
  return out;
}

}  // namespace mamori::probes
