// Check type "log": follows log files (and optionally the systemd journal)
// across runs, matches new lines against the signature knowledge base and
// keeps the findings active until they have been quiet for clear_after. The
// worst active finding sets the check's state; the summary names it with its
// evidence (file:line).
//
// Keys (see docs/diagnose.md): files (globs), journal: {units}, rules (dirs),
// rates [{signature, by, max, per}], novelty, learn_for,
// burst ({window, factor, min_lines} or false), ignore, clear_after,
// start (end|beginning), state_dir.
//
// Bursts: for each error-looking template (logs::LooksLikeError) a
// TemplateRate keeps its usual rate; a window holding far more lines than
// usual raises "burst: N lines in 10m of a kind usually seen ~M times per
// 10m: <template>".
//
// State lives in the probe object, which the runner keeps across runs: one
// FileFollower per file, the rate windows, the active findings and one
// streaming TemplateMiner (and TemplateRate) per source. Positions, the
// journal cursor, the learned templates and their usual rates are persisted
// in <state_dir>/logpos.db, so a restart neither loses nor repeats lines and
// does not forget what is usual.
//
// Run() is called on the worker pool, never concurrently for one probe.
// Failure: unreadable files or rules give UNKNOWN (unless a real finding is
// active, which wins); nothing a log line contains can crash or stall it (line
// length, files, templates, rate keys and findings are bounded).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mamori/logs/file_follower.h"
#include "mamori/logs/journal_reader.h"
#include "mamori/logs/signature_scanner.h"
#include "mamori/logs/template_miner.h"
#include "mamori/logs/template_rate.h"
#include "mamori/check/probe.h"

namespace mamori::probes::log {

struct RateRule {
  std::string signature;
  std::string by;  // a capture name ("address"); empty = all lines together
  int64_t max = 20;
  Duration per = std::chrono::minutes(1);
};

struct LogOptions {
  std::vector<std::string> files;  // globs
  bool journal = false;
  std::vector<std::string> journal_units;
  std::vector<std::string> rule_dirs;  // empty = default rule directory
  std::vector<RateRule> rates;
  bool novelty = true;
  // Mines templates even without novelty; defaults to the value of novelty.
  bool burst = true;
  logs::BurstOptions burst_options;  // min_history is learn_for
  Duration learn_for = std::chrono::hours(24);
  std::set<std::string> ignore;
  Duration clear_after = std::chrono::hours(1);
  bool start_at_end = true;
  std::string state_dir;
  std::string owner;  // namespaces saved state; the check's name when known
};

class LogProbe final : public BlockingProbe {
 public:
  static constexpr size_t kMaxFiles = 200;
  static constexpr size_t kMaxActive = 1000;
  static constexpr size_t kMaxRateKeys = 10000;
  static constexpr Duration kForgetTemplatesAfter = std::chrono::hours(24 * 30);
  static constexpr size_t kMaxRatesPerSource = 1000;

  explicit LogProbe(LogOptions o);
  ~LogProbe() override;
  Observation Run(const Clock& clock, MonoTime deadline) override;

 protected:
  void Bind(const ProbeEnv& env) override;

 private:
  struct Active {
    // signature id, "rate:<sig>:<key>", "novel:<source>:<template>" or
    // "burst:<source>:<template>"
    std::string id;
    logs::Severity severity = logs::Severity::kWarning;
    std::string summary;
    std::string evidence;  // "file:line: text"
    WallTime last{};
    uint64_t count = 0;
  };
  struct Source {
    logs::TemplateMiner miner;
    std::set<logs::TemplateMiner::Id> known;
    logs::TemplateRate rates;
    // By template id: -1 not judged yet, 0 no, 1 looks like an error.
    std::vector<int8_t> error_like;
    // The sample line that names a tracked template in logpos.db.
    std::map<logs::TemplateMiner::Id, std::string> rate_samples;
  };

  Status Init(const Clock& clock);
  void OnLine(const Clock& clock, std::string_view source, std::string_view file, uint64_t number,
              std::string_view text, std::optional<WallTime> time);
  Source& SourceFor(const std::string& name);
  void CheckBurst(Source& src, std::string_view source, logs::TemplateMiner::Id id, bool is_new,
                  std::string_view text, const std::string& evidence, WallTime t, WallTime now);
  void SaveRates();
  void Raise(Active a);

  LogOptions o_;
  bool initialized_ = false;
  std::optional<Error> init_error_;
  std::unique_ptr<logs::SignatureScanner> scanner_;
  std::unique_ptr<logs::ScanSession> session_;
  std::unique_ptr<logs::PositionStore> store_;
  std::map<std::string, std::unique_ptr<logs::FileFollower>> followers_;
  std::unique_ptr<logs::JournalReader> journal_;
  std::optional<std::string> journal_absent_;
  std::map<std::string, Active> active_;
  std::map<std::string, std::deque<WallTime>> rate_windows_;
  std::map<std::string, Source> sources_;
  std::optional<WallTime> learning_started_;
  std::vector<logs::Match> matches_;
  std::map<std::string, uint64_t> burst_peaks_;  // by finding id, while active
  // Per run, for the summary and the template table.
  std::map<std::string, uint64_t> novel_counts_;
  std::vector<std::tuple<std::string, std::string, int64_t>> new_templates_;
};

}  // namespace mamori::probes::log
