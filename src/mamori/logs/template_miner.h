// TemplateMiner: turns raw log lines into templates ("Invalid user <*> from
// <*>") without any per-source format or tuning. Lines are taken as they are:
// leading timestamps, dates, pids and host names are masked like any other
// variable (tokens holding digits, month and weekday names), so no header
// format has to be configured.
//
// Two modes share the same tokenizer and masking:
//  - Batch (MineBatch): two passes over a whole file. It first learns what
//    ends the file's header (a "comp[pid]:" token, a "]", a lone "-" or "|",
//    a level word such as "INFO" with the component after it when that takes
//    few values, in the first 12 tokens of most lines; failing that, a run of
//    leading columns that hold a number in nearly every line) and mines only
//    what follows; then it folds lines into distinct masked token sequences
//    ("patterns") and groups patterns of equal length by the frequency of
//    (position, token) pairs (after Brain, Yu et al. 2023). A line whose only
//    extra constant is a word more frequent than its root (a variable that
//    equals a word of another message) joins the group that masks it. A group
//    splits on a column with at most 3 values (5 if one repeats), on a first
//    word or a column of words in capitals that repeat (the word that starts
//    a message names it; "NEW", "RUNNING" are states), or on one
//    linked to another varying column, unless every value fits the masked
//    shape most lines hold there ("LOCAL(0)," among "<*>,") or the words vary
//    in two different groups (user names, not message words). Last, templates
//    whose lengths differ only by optional masked parts ("<*> bytes (<*> KB)
//    sent" and "<*> bytes sent") merge. This is the accurate mode, used by
//    `mamori logs mine` (average GA 0.98 on the 16 Loghub samples, see
//    bench/RESULTS-logs.md).
//  - Streaming (TemplateMiner::Add): one line at a time, for the daemon. A new
//    pattern joins the most similar template of the same length and leading
//    token (Drain-style) or starts a new one. Ids are stable: a template only
//    generalises (a position turns into <*>), it never splits. It is less
//    accurate than batch mode: it cannot look ahead and does not strip the
//    header (masked fields still differ by host or component name).
//
// Bounded whatever the input: a line is cut at max_line_bytes and max_tokens
// (flagged as truncated); bytes are bytes (invalid UTF-8 is carried through
// unchanged); past max_templates every new pattern lands in one overflow
// template (kOverflowId). Not thread-safe: one miner per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mamori::logs {

struct MinerOptions {
  std::size_t max_line_bytes = 64 * 1024;  // longer lines are cut and flagged
  std::size_t max_tokens = 256;            // the rest of a line becomes one <*>
  std::size_t max_templates = 50000;       // then everything new -> overflow
  // Streaming: minimum share of equal constant tokens to join a template.
  double similarity = 0.5;
};

namespace internal {
// Masks one line into `key`: tokens joined by ' ', a variable-looking token
// (or a run of them) as a single '\x01'. Returns the token count.
std::uint32_t MaskLine(std::string_view line, const MinerOptions& options, std::string* key,
                       bool* truncated);

// What ends the header (timestamp, host, level, component) of a file's lines.
enum class HeaderKind : std::uint8_t {
  kNone,
  kColon,           // "sshd[24200]:", "INFO dfs.DataNode:"
  kBracket,         // "[10.30 16:49:06]", "[req-... - - -]"
  kDash,            // "chrome.exe - ", "INFO [..] - "
  kPipe,            // "... | "
  kLevel,           // "... RAS KERNEL FATAL "
  kLevelComponent,  // "..., Info CBS ": a level, then a component of few values
};
// Learns the header shape from (a sample of) a file's lines.
HeaderKind LearnHeader(const std::vector<std::string_view>& lines);
// Offset of the content in `line` (0 when the header separator is absent).
std::size_t ContentStart(std::string_view line, HeaderKind kind);
// For files without a separator: how many leading whitespace-separated
// columns form a header of fixed fields, i.e. the last of the first 12
// positions that holds a number (an id, an epoch time, a flag) in nearly every
// line; 0 when there is none.
std::size_t LearnNumericColumns(const std::vector<std::string_view>& lines);
// Offset after the first `columns` whitespace-separated tokens of `line`.
std::size_t SkipColumns(std::string_view line, std::size_t columns);
}  // namespace internal

class TemplateMiner {
 public:
  using Id = std::uint32_t;
  static constexpr Id kOverflowId = 0xFFFFFFFFu;

  explicit TemplateMiner(MinerOptions options = {});
  ~TemplateMiner();
  TemplateMiner(TemplateMiner&&) noexcept;
  TemplateMiner& operator=(TemplateMiner&&) noexcept;

  // Streaming mode. Returns the template id of `line` (ids count from 0 in
  // order of first appearance, or kOverflowId). `truncated`, if given, is set
  // when the line was cut.
  Id Add(std::string_view line, bool* truncated = nullptr);
  // The current text of a template, variables as <*>. Unknown ids give "".
  std::string Template(Id id) const;
  std::size_t template_count() const;
  std::size_t truncated_lines() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct BatchResult {
  std::vector<TemplateMiner::Id> line_template;  // one per input line
  std::vector<std::string> templates;            // indexed by id
  std::vector<std::uint32_t> truncated_lines;    // 0-based indexes of cut lines
  bool overflow = false;  // some lines got kOverflowId (template "<overflow>")
};

// Batch mode over a whole file (the lines are only read during the call).
// Template ids count from 0 in order of first appearance.
BatchResult MineBatch(const std::vector<std::string_view>& lines, const MinerOptions& options = {});

}  // namespace mamori::logs
