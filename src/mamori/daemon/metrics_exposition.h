// MetricsBoard: what the daemon knows, as the Prometheus text format 0.0.4
// at GET /metrics. Every check's hard status, whether its last run reached
// its target, its run time and the time of its last result, every probe
// metric as a gauge named with its unit in base units (total_ms ->
// mamori_probe_total_seconds), heartbeat ping times, the outbox and its
// channels, build info and the process's own figures.
//
// The daemon's loop writes each result here (Record, a copy of a few numbers
// under one mutex); GET /metrics renders from this copy on a server thread,
// so a scrape never waits for the loop and never touches the loop's state.
// Rendering 10,000 checks walks flat vectors and appends to one string
// reserved at the last render's size: no allocation per series.
//
// Bounded: at most kMaxFamilies distinct probe metric names (more are
// dropped and counted in mamori_metrics_dropped_families). Failure: nothing
// here fails; a /proc file that cannot be read leaves its series out.
// Threading: every public method is thread-safe.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mamori/core/observation.h"
#include "mamori/core/status.h"
#include "mamori/util/mutex.h"
#include "mamori/web/http_server.h"

namespace mamori {
namespace config {
class ConfigNode;
}
namespace heartbeat {
class HeartbeatBook;
}
namespace notify {
class Outbox;
}

// `metrics: {token_file: PATH}`: when set, /metrics asks for
// "Authorization: Bearer <the file's first line>".
struct MetricsConfig {
  std::string token_file;
  std::string token;  // read at load; empty: /metrics is public
};
// Reads `metrics:` of the top level; `base` anchors a relative token_file.
void ReadMetricsConfig(config::ConfigNode& top, const std::filesystem::path& base,
                       MetricsConfig& out);

namespace metrics {

// A probe metric's exposition name with its unit in base units, and the
// divisor that converts the value: "total_ms" -> {"mamori_probe_total_seconds",
// 1000}, "age_s" -> {..._age_seconds, 1}; characters Prometheus does not
// allow become '_'.
struct FamilyName {
  std::string name;
  double divisor = 1;  // a division, so 1500 ms is exactly 1.5 s
};
FamilyName ProbeFamily(std::string_view metric);
// A label value escaped for the text format (\\, \", \n).
std::string EscapeLabel(std::string_view value);
// A sample value as the text format writes it (NaN, +Inf, -Inf, shortest).
void AppendValue(std::string& out, double v);

// The process's own figures from <proc_root>/self/stat and /stat.
struct ProcessFigures {
  double cpu_seconds = 0;
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double start_time_seconds = 0;  // Unix time
};
// `stat`: /proc/self/stat; `btime`: the boot time from /proc/stat.
std::optional<ProcessFigures> ParseSelfStat(std::string_view stat, double btime,
                                            long ticks_per_second, long page_size);
// The process_* families (Prometheus' client conventions).
void AppendProcessMetrics(std::string& out, const std::string& proc_root);

// True when `authorization` is "Bearer <token>" (constant time in the
// token's content).
bool BearerMatches(std::string_view authorization, std::string_view token);

}  // namespace metrics

class MetricsBoard {
 public:
  static constexpr size_t kMaxFamilies = 512;
  static constexpr std::string_view kPath = "/metrics";

  explicit MetricsBoard(std::string proc_root = "/proc");

  // The checks now configured (start and every reload); others are dropped.
  void SetChecks(const std::vector<std::pair<std::string, std::string>>& name_type);
  // A result of `check`: its hard status after it (nullopt while pending).
  void Record(const std::string& check, std::optional<CheckStatus> hard, const Observation& o);
  // Acknowledged / in maintenance now (the loop refreshes these).
  void SetFlags(const std::string& check, bool acknowledged, bool in_maintenance);
  bool HasFlags() const;  // any check acknowledged or in maintenance
  void SetSources(const heartbeat::HeartbeatBook* heartbeats, notify::Outbox* outbox);
  void SetToken(std::string token);

  // The whole exposition.
  std::string Render() const;
  // GET /metrics (401 without the token when one is set).
  web::Response Handle(const web::Request& r) const;

 private:
  struct Entry {
    std::string name, type;
    std::string labels;  // check="...",type="..." escaped once
    bool seen = false;
    int status = 3;
    bool up = false, acked = false, maintenance = false;
    double duration_s = 0, time_s = 0;
    std::vector<std::pair<uint32_t, double>> values;  // family id, scaled value
  };
  struct Family {
    std::string name;
    std::vector<uint32_t> members;  // entries having it (rebuilt when dirty)
  };
  // The family id (UINT32_MAX: dropped) and the unit divisor of a metric name.
  std::pair<uint32_t, double> FamilyOf(const std::string& metric) REQUIRES(mu_);
  void RebuildMembers() const REQUIRES(mu_);
  void AppendChecks(std::string& out) const REQUIRES(mu_);
  void AppendProbeFamilies(std::string& out) const REQUIRES(mu_);

  const std::string proc_root_;
  mutable Mutex mu_;
  std::vector<Entry> entries_ GUARDED_BY(mu_);
  std::unordered_map<std::string, size_t> index_ GUARDED_BY(mu_);
  mutable std::vector<Family> families_ GUARDED_BY(mu_);
  std::unordered_map<std::string, std::pair<uint32_t, double>> family_of_metric_ GUARDED_BY(mu_);
  mutable bool members_dirty_ GUARDED_BY(mu_) = false;
  size_t dropped_families_ GUARDED_BY(mu_) = 0;
  std::vector<std::string> heartbeat_checks_ GUARDED_BY(mu_);
  const heartbeat::HeartbeatBook* heartbeats_ GUARDED_BY(mu_) = nullptr;
  notify::Outbox* outbox_ GUARDED_BY(mu_) = nullptr;
  std::string token_ GUARDED_BY(mu_);
  mutable size_t last_size_ GUARDED_BY(mu_) = 4096;
};

}  // namespace mamori
