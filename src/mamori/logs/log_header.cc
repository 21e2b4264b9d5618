// Header learning for batch mining (declared in template_miner.h): where the
// timestamp, host, level and component of a file's lines end, learned from a
// sample of the lines, so that only the messages are mined. Pure functions
// over string views; no state, safe from any thread; a line without the
// learned separator is mined whole.
#include <algorithm>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "mamori/logs/template_miner.h"

namespace mamori::logs::internal {

namespace {

constexpr std::size_t kHeaderTokens = 12;

// The miner's word separators ('\x01' marks variables in its keys).
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f' || c == '\x01';
}

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// A severity written as a header field ("INFO", "Warning"): what precedes it
// and the severity itself are the header, whatever the other fields are.
bool IsLevelWord(std::string_view t) {
  static constexpr std::string_view kLevels[] = {
      "TRACE",  "DEBUG",   "INFO",     "NOTICE", "WARN",  "WARNING", "ERROR",
      "SEVERE", "FATAL",   "CRITICAL", "Trace",  "Debug", "Info",    "Notice",
      "Warn",   "Warning", "Error",    "Severe", "Fatal", "Critical"};
  for (std::string_view l : kLevels) {
    if (l == t) return true;
  }
  return false;
}

// Whether `tok` can end a header of the given kind.
bool EndsHeader(std::string_view tok, HeaderKind kind) {
  switch (kind) {
    case HeaderKind::kColon:
      return tok.size() >= 2 && tok.back() == ':' && tok[tok.size() - 2] != ':';
    case HeaderKind::kBracket:
      return tok.back() == ']';
    case HeaderKind::kDash:
      return tok == "-";
    case HeaderKind::kPipe:
      return tok == "|";
    case HeaderKind::kLevel:
    case HeaderKind::kLevelComponent:
      return IsLevelWord(tok);
    case HeaderKind::kNone:
      break;
  }
  return false;
}

// Calls f(index, token, end_offset) for the first kHeaderTokens tokens.
template <typename F>
void ForLeadingTokens(std::string_view line, F&& f) {
  std::size_t i = 0;
  for (std::size_t k = 0; k < kHeaderTokens; ++k) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    if (i >= line.size()) return;
    std::size_t start = i;
    while (i < line.size() && !IsSpace(line[i])) ++i;
    if (!f(k, line.substr(start, i - start), i)) return;
  }
}

}  // namespace

std::size_t ContentStart(std::string_view line, HeaderKind kind) {
  if (kind == HeaderKind::kNone) return 0;
  std::size_t start = 0;
  ForLeadingTokens(line, [&](std::size_t, std::string_view tok, std::size_t end) {
    if (!EndsHeader(tok, kind)) return true;
    start = end;
    return false;
  });
  if (kind == HeaderKind::kLevelComponent && start > 0) {
    start += SkipColumns(line.substr(start), 1);
  }
  return start;
}

std::size_t SkipColumns(std::string_view line, std::size_t columns) {
  std::size_t start = 0;
  ForLeadingTokens(line, [&](std::size_t k, std::string_view, std::size_t end) {
    if (k >= columns) return false;
    start = end;
    return true;
  });
  return start;
}

std::size_t LearnNumericColumns(const std::vector<std::string_view>& lines) {
  // A number: digits with signs and separators, no letters ("134681",
  // "1077804742", "-1", "10:42:01.5").
  auto numeric = [](std::string_view t) {
    bool digit = false;
    for (char c : t) {
      if (c >= '0' && c <= '9') {
        digit = true;
      } else if (IsAlpha(c) || static_cast<unsigned char>(c) >= 0x80) {
        return false;
      }
    }
    return digit;
  };
  std::size_t count[kHeaderTokens] = {};
  const std::size_t step = std::max<std::size_t>(1, lines.size() / 4096);
  std::size_t sampled = 0;
  for (std::size_t l = 0; l < lines.size(); l += step) {
    ++sampled;
    ForLeadingTokens(lines[l], [&](std::size_t k, std::string_view tok, std::size_t) {
      count[k] += numeric(tok);
      return true;
    });
  }
  // Nearly every line: a message's own numbers are never that regular, and
  // a few short lines (a header alone) must not hide the shape.
  for (std::size_t k = kHeaderTokens; k > 0; --k) {
    if (sampled >= 8 && count[k - 1] * 100 >= sampled * 98) return k;
  }
  return 0;
}

namespace {

// Whether the token after the level word is a header field too: a component
// name takes a few values over the whole file ("CBS", "CSI"), while the first
// word of the messages takes many.
bool ComponentFollowsLevel(const std::vector<std::string_view>& lines, std::size_t step) {
  std::unordered_set<std::string_view> values;
  std::size_t found = 0;
  for (std::size_t l = 0; l < lines.size(); l += step) {
    std::size_t start = ContentStart(lines[l], HeaderKind::kLevel);
    if (start == 0) continue;
    std::string_view rest = lines[l].substr(start);
    std::size_t end = SkipColumns(rest, 1);
    if (end == 0) continue;
    ++found;
    values.insert(rest.substr(0, end));
    if (values.size() > 64) return false;
  }
  return found >= 8 && values.size() * 50 <= found;
}

}  // namespace

HeaderKind LearnHeader(const std::vector<std::string_view>& lines) {
  // The header of a file has one shape: find which separator ends it in most
  // lines; among the (nearly) equally common ones the header is the longest.
  constexpr HeaderKind kKinds[] = {HeaderKind::kColon, HeaderKind::kBracket, HeaderKind::kDash,
                                   HeaderKind::kPipe, HeaderKind::kLevel};
  constexpr int kNumKinds = 5;
  std::size_t covered[kNumKinds] = {};
  std::size_t index_sum[kNumKinds] = {};
  const std::size_t step = std::max<std::size_t>(1, lines.size() / 4096);  // sample big files
  std::size_t sampled = 0;
  for (std::size_t l = 0; l < lines.size(); l += step) {
    ++sampled;
    bool seen[kNumKinds] = {};
    ForLeadingTokens(lines[l], [&](std::size_t k, std::string_view tok, std::size_t) {
      for (int j = 0; j < kNumKinds; ++j) {
        if (!seen[j] && EndsHeader(tok, kKinds[j])) {
          seen[j] = true;
          ++covered[j];
          index_sum[j] += k;
        }
      }
      return true;
    });
  }
  std::size_t best_cover = 0;
  for (std::size_t c : covered) best_cover = std::max(best_cover, c);
  if (sampled == 0 || best_cover * 10 < sampled * 6) return HeaderKind::kNone;
  HeaderKind best = HeaderKind::kNone;
  double best_index = -1;
  for (int j = 0; j < kNumKinds; ++j) {
    if (covered[j] * 10 < best_cover * 9) continue;
    double mean = static_cast<double>(index_sum[j]) / covered[j];
    if (mean > best_index) best_index = mean, best = kKinds[j];
  }
  if (best == HeaderKind::kLevel && ComponentFollowsLevel(lines, step)) {
    return HeaderKind::kLevelComponent;
  }
  return best;
}

}  // namespace mamori::logs::internal
