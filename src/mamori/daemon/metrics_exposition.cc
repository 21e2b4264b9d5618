#include "mamori/daemon/metrics_exposition.h"

#include "mamori/util/secret_file.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>

#include "mamori/config/node.h"
#include "mamori/heartbeat/heartbeat_book.h"
#include "mamori/notify/outbox.h"

namespace mamori {

void ReadMetricsConfig(config::ConfigNode& top, const std::filesystem::path& base,
                       MetricsConfig& out) {
  auto m = top.GetMap("metrics");
  if (!m) return;
  auto file = m->GetString("token_file");
  if (!file) return;
  std::filesystem::path p(*file);
  out.token_file = (p.is_absolute() ? p : base / p).lexically_normal().string();
  auto read = ReadSecretFile(out.token_file, "token_file");
  if (!read.ok()) {
    m->ErrorAt("token_file", read.error().message(),
               "write a long random token on its first line (e.g. `openssl rand -hex 32`)");
    return;
  }
  std::string token = std::move(*read);
  if (token.size() < 16) {
    m->ErrorAt("token_file", "holds a token shorter than 16 characters",
               "use a long random token, e.g. `openssl rand -hex 32`");
    return;
  }
  out.token = std::move(token);
}

namespace metrics {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Suffixes in other units, rewritten to the base unit Prometheus expects.
struct UnitRewrite {
  std::string_view from, to;
  double divisor;
};
constexpr UnitRewrite kUnits[] = {{"_ms", "_seconds", 1000}, {"_s", "_seconds", 1}};

// Suffixes the text format reserves for counters, histograms and summaries.
constexpr std::string_view kReserved[] = {"_total", "_count", "_sum", "_bucket", "_created"};

}  // namespace

FamilyName ProbeFamily(std::string_view metric) {
  FamilyName f;
  std::string base;
  for (char c : metric) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    base += ok ? c : '_';
  }
  for (const auto& u : kUnits) {
    if (EndsWith(base, u.from)) {
      base.resize(base.size() - u.from.size());
      base += u.to;
      f.divisor = u.divisor;
      break;
    }
  }
  // "cert_days_left": days are not a base unit either.
  if (auto at = base.find("_days");
      at != std::string::npos && (at + 5 == base.size() || base[at + 5] == '_')) {
    base.replace(at, 5, "_seconds");
    f.divisor = 1.0 / 86400;
  }
  if (base == "count") base = "items";
  for (auto r : kReserved)
    if (EndsWith(base, r)) base += "_value";
  f.name = "mamori_probe_" + base;
  return f;
}

std::string EscapeLabel(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void AppendValue(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else if (v == std::floor(v) && std::fabs(v) < 1e15) {
    fmt::format_to(std::back_inserter(out), "{}", static_cast<int64_t>(v));
  } else {
    fmt::format_to(std::back_inserter(out), "{}", v);
  }
}

std::optional<ProcessFigures> ParseSelfStat(std::string_view stat, double btime,
                                            long ticks_per_second, long page_size) {
  // The command name (field 2) may hold spaces and parentheses: fields are
  // counted from the last ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0) return std::nullopt;
  std::istringstream in(std::string(stat.substr(close + 1)));
  std::vector<std::string> f{"", "", ""};  // fields 1..2 are before ')'; index = field number
  for (std::string tok; in >> tok;) f.push_back(tok);
  if (f.size() < 25) return std::nullopt;
  try {
    ProcessFigures p;
    const double ticks = static_cast<double>(ticks_per_second);
    p.cpu_seconds = (std::stod(f[14]) + std::stod(f[15])) / ticks;
    p.start_time_seconds = btime + std::stod(f[22]) / ticks;
    p.virtual_bytes = std::stod(f[23]);
    p.resident_bytes = std::stod(f[24]) * static_cast<double>(page_size);
    return p;
  } catch (const std::exception&) {
    return std::nullopt;  // a kernel writing something else: leave the series out
  }
}

namespace {

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text;
  if (in) std::getline(in, text, '\0');
  return text;
}

double BootTime(const std::string& proc_root) {
  std::ifstream in(proc_root + "/stat");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("btime ", 0) == 0) return std::strtod(line.c_str() + 6, nullptr);
  return 0;
}

}  // namespace

void AppendProcessMetrics(std::string& out, const std::string& proc_root) {
  auto gauge = [&](std::string_view name, std::string_view type, std::string_view help, double v) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n{} ", name, help, name,
                   type, name);
    AppendValue(out, v);
    out += '\n';
  };
  const std::string stat = ReadSmallFile(proc_root + "/self/stat");
  if (auto p = ParseSelfStat(stat, BootTime(proc_root), ::sysconf(_SC_CLK_TCK),
                             ::sysconf(_SC_PAGESIZE))) {
    gauge("process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.",
          p->cpu_seconds);
    gauge("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
          p->resident_bytes);
    gauge("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
          p->virtual_bytes);
    gauge("process_start_time_seconds", "gauge",
          "Start time of the process since unix epoch in seconds.", p->start_time_seconds);
  }
  std::error_code ec;
  size_t fds = 0;
  for (std::filesystem::directory_iterator it(proc_root + "/self/fd", ec), end; !ec && it != end;
       it.increment(ec))
    ++fds;
  if (!ec) gauge("process_open_fds", "gauge", "Number of open file descriptors.", double(fds));
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    gauge("process_max_fds", "gauge", "Maximum number of open file descriptors.",
          double(rl.rlim_cur));
}

bool BearerMatches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kBearer = "Bearer ";
  if (token.empty() || authorization.substr(0, kBearer.size()) != kBearer) return false;
  const std::string_view given = authorization.substr(kBearer.size());
  // Digests of both sides, compared in constant time: neither the content
  // nor the length of the token leaks through the time taken.
  unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(given.data()), given.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), b);
  return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

}  // namespace metrics

MetricsBoard::MetricsBoard(std::string proc_root) : proc_root_(std::move(proc_root)) {}

void MetricsBoard::SetChecks(const std::vector<std::pair<std::string, std::string>>& name_type) {
  MutexLock lock(mu_);
  std::vector<Entry> next;
  next.reserve(name_type.size());
  std::unordered_map<std::string, size_t> index;
  heartbeat_checks_.clear();
  for (const auto& [name, type] : name_type) {
    if (index.count(name)) continue;
    auto it = index_.find(name);
    if (it != index_.end() && entries_[it->second].type == type) {
      next.push_back(std::move(entries_[it->second]));
    } else {
      Entry e;
      e.name = name;
      e.type = type;
      e.labels = fmt::format("check=\"{}\",type=\"{}\"", metrics::EscapeLabel(name),
                             metrics::EscapeLabel(type));
      next.push_back(std::move(e));
    }
    index[name] = next.size() - 1;
    if (type == "heartbeat") heartbeat_checks_.push_back(name);
  }
  entries_ = std::move(next);
  index_ = std::move(index);
  members_dirty_ = true;
}

std::pair<uint32_t, double> MetricsBoard::FamilyOf(const std::string& metric) {
  if (auto it = family_of_metric_.find(metric); it != family_of_metric_.end()) return it->second;
  if (family_of_metric_.size() >= 4 * kMaxFamilies) return {UINT32_MAX, 1};
  metrics::FamilyName f = metrics::ProbeFamily(metric);
  uint32_t id = UINT32_MAX;
  for (uint32_t i = 0; i < families_.size(); ++i)
    if (families_[i].name == f.name) id = i;
  if (id == UINT32_MAX && families_.size() < kMaxFamilies) {
    families_.push_back(Family{f.name, {}});
    id = static_cast<uint32_t>(families_.size() - 1);
  }
  if (id == UINT32_MAX) ++dropped_families_;
  return family_of_metric_[metric] = {id, f.divisor};
}

void MetricsBoard::Record(const std::string& check, std::optional<CheckStatus> hard,
                          const Observation& o) {
  MutexLock lock(mu_);
  auto it = index_.find(check);
  if (it == index_.end()) return;
  Entry& e = entries_[it->second];
  e.seen = true;
  e.status = static_cast<int>(hard.value_or(CheckStatus::kUnknown));
  e.up = o.status == CheckStatus::kOk || o.status == CheckStatus::kWarning;
  e.duration_s = std::chrono::duration<double>(o.duration).count();
  e.time_s = std::chrono::duration<double>(o.time.time_since_epoch()).count();
  size_t n = 0;
  bool same = true;
  for (const auto& m : o.metrics) {
    const auto [id, divisor] = FamilyOf(m.name);
    if (id == UINT32_MAX) continue;
    bool dup = false;  // "age_s" and "age_seconds" in one result: the first wins
    for (size_t k = 0; k < n; ++k) dup = dup || e.values[k].first == id;
    if (dup) continue;
    const double v = m.value / divisor;
    if (n < e.values.size()) {
      same = same && e.values[n].first == id;
      e.values[n] = {id, v};
    } else {
      same = false;
      e.values.emplace_back(id, v);
    }
    ++n;
  }
  if (n != e.values.size()) same = false;
  e.values.resize(n);
  if (!same) members_dirty_ = true;
}

void MetricsBoard::SetFlags(const std::string& check, bool acknowledged, bool in_maintenance) {
  MutexLock lock(mu_);
  auto it = index_.find(check);
  if (it == index_.end()) return;
  entries_[it->second].acked = acknowledged;
  entries_[it->second].maintenance = in_maintenance;
}

bool MetricsBoard::HasFlags() const {
  MutexLock lock(mu_);
  return std::any_of(entries_.begin(), entries_.end(),
                     [](const Entry& e) { return e.acked || e.maintenance; });
}

void MetricsBoard::SetSources(const heartbeat::HeartbeatBook* heartbeats, notify::Outbox* outbox) {
  MutexLock lock(mu_);
  heartbeats_ = heartbeats;
  outbox_ = outbox;
}

void MetricsBoard::SetToken(std::string token) {
  MutexLock lock(mu_);
  token_ = std::move(token);
}

void MetricsBoard::RebuildMembers() const {
  if (!members_dirty_) return;
  for (auto& f : families_) f.members.clear();
  for (uint32_t i = 0; i < entries_.size(); ++i)
    for (const auto& [id, v] : entries_[i].values) families_[id].members.push_back(i);
  members_dirty_ = false;
}

namespace {

void Header(std::string& out, std::string_view name, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
}

void Sample(std::string& out, std::string_view name, std::string_view labels, double v) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  metrics::AppendValue(out, v);
  out += '\n';
}

double Seconds(WallTime t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

void AppendHeartbeats(std::string& out, const heartbeat::HeartbeatBook* book,
                      const std::vector<std::string>& checks) {
  if (!book || checks.empty()) return;
  struct Row {
    std::string labels;
    std::optional<double> ping, success;
  };
  std::vector<Row> rows;
  for (const auto& name : checks) {
    auto rec = book->Get(name);
    if (!rec) continue;
    Row r{fmt::format("check=\"{}\"", metrics::EscapeLabel(name)), {}, {}};
    if (rec->last_ping) r.ping = Seconds(rec->last_ping->time);
    if (rec->last_success) r.success = Seconds(rec->last_success->time);
    rows.push_back(std::move(r));
  }
  constexpr std::string_view kPing = "mamori_heartbeat_last_ping_timestamp_seconds";
  constexpr std::string_view kSuccess = "mamori_heartbeat_last_success_timestamp_seconds";
  Header(out, kPing, "Unix time of the heartbeat's last ping of any kind.");
  for (const auto& r : rows)
    if (r.ping) Sample(out, kPing, r.labels, *r.ping);
  Header(out, kSuccess, "Unix time of the heartbeat's last successful run.");
  for (const auto& r : rows)
    if (r.success) Sample(out, kSuccess, r.labels, *r.success);
}

void AppendOutbox(std::string& out, notify::Outbox* outbox) {
  if (!outbox) return;
  auto health = outbox->Health();
  if (!health.ok()) return;
  std::vector<std::string> labels;
  int64_t depth = 0;
  for (const auto& h : *health) {
    labels.push_back(fmt::format("channel=\"{}\"", metrics::EscapeLabel(h.channel)));
    depth += h.pending;
  }
  Header(out, "mamori_outbox_depth", "Notifications not delivered yet, all channels.");
  Sample(out, "mamori_outbox_depth", "", static_cast<double>(depth));
  Header(out, "mamori_outbox_pending", "Notifications not delivered yet, per channel.");
  for (size_t i = 0; i < labels.size(); ++i)
    Sample(out, "mamori_outbox_pending", labels[i], static_cast<double>((*health)[i].pending));
  Header(out, "mamori_notify_channel_up", "1 while the channel's last delivery worked.");
  for (size_t i = 0; i < labels.size(); ++i)
    Sample(out, "mamori_notify_channel_up", labels[i], (*health)[i].failing() ? 0 : 1);
  Header(out, "mamori_notify_channel_consecutive_failures",
         "Failed deliveries since the channel's last success.");
  for (size_t i = 0; i < labels.size(); ++i)
    Sample(out, "mamori_notify_channel_consecutive_failures", labels[i],
           (*health)[i].consecutive_failures);
}

void AppendBuildInfo(std::string& out) {
  Header(out, "mamori_build_info", "Always 1; the labels say which build runs.");
  Sample(out, "mamori_build_info", "version=\"" MAMORI_VERSION "\"", 1);
}

}  // namespace

void MetricsBoard::AppendChecks(std::string& out) const {
  struct Column {
    std::string_view name, help;
    double (*value)(const Entry&);
    bool only_true;  // series only for checks where it holds (1)
  };
  static constexpr Column kColumns[] = {
      {"mamori_check_status", "Hard state: 0 ok, 1 warning, 2 critical, 3 unknown.",
       [](const Entry& e) { return double(e.status); }, false},
      {"mamori_check_up", "1 when the last run reached its target (OK or WARNING).",
       [](const Entry& e) { return e.up ? 1.0 : 0.0; }, false},
      {"mamori_check_duration_seconds", "How long the last run took.",
       [](const Entry& e) { return e.duration_s; }, false},
      {"mamori_check_last_observation_timestamp_seconds", "Unix time of the check's last result.",
       [](const Entry& e) { return e.time_s; }, false},
      {"mamori_check_acknowledged", "1 while the check's problem is acknowledged.",
       [](const Entry& e) { return e.acked ? 1.0 : 0.0; }, true},
      {"mamori_check_in_maintenance", "1 while a maintenance window covers the check.",
       [](const Entry& e) { return e.maintenance ? 1.0 : 0.0; }, true},
  };
  double newest = 0;
  for (const auto& col : kColumns) {
    Header(out, col.name, col.help);
    for (const auto& e : entries_) {
      if (!e.seen) continue;
      newest = std::max(newest, e.time_s);
      const double v = col.value(e);
      if (!col.only_true || v != 0) Sample(out, col.name, e.labels, v);
    }
  }
  Header(out, "mamori_checks", "Checks configured.");
  Sample(out, "mamori_checks", "", static_cast<double>(entries_.size()));
  if (newest > 0) {
    constexpr std::string_view kNewest = "mamori_last_observation_timestamp_seconds";
    Header(out, kNewest, "Unix time of the newest result of any check (staleness).");
    Sample(out, kNewest, "", newest);
  }
}

void MetricsBoard::AppendProbeFamilies(std::string& out) const {
  RebuildMembers();
  for (uint32_t id = 0; id < families_.size(); ++id) {
    const Family& f = families_[id];
    if (f.members.empty()) continue;
    Header(out, f.name, "A probe metric of the check (see the check type's documentation).");
    for (uint32_t i : f.members) {
      const Entry& e = entries_[i];
      for (const auto& [fid, v] : e.values)
        if (fid == id) Sample(out, f.name, e.labels, v);
    }
  }
  Header(out, "mamori_metrics_dropped_families",
         "Probe metric names left out (more than the limit of distinct names).");
  Sample(out, "mamori_metrics_dropped_families", "", static_cast<double>(dropped_families_));
}

std::string MetricsBoard::Render() const {
  std::string out;
  std::vector<std::string> beats;
  const heartbeat::HeartbeatBook* book = nullptr;
  notify::Outbox* outbox = nullptr;
  {
    MutexLock lock(mu_);
    out.reserve(last_size_ + last_size_ / 8);
    AppendChecks(out);
    AppendProbeFamilies(out);
    beats = heartbeat_checks_;
    book = heartbeats_;
    outbox = outbox_;
  }
  AppendHeartbeats(out, book, beats);
  AppendOutbox(out, outbox);
  AppendBuildInfo(out);
  metrics::AppendProcessMetrics(out, proc_root_);
  MutexLock lock(mu_);
  last_size_ = out.size();
  return out;
}

web::Response MetricsBoard::Handle(const web::Request& r) const {
  web::Response resp;
  std::string token;
  {
    MutexLock lock(mu_);
    token = token_;
  }
  if (!token.empty() && !metrics::BearerMatches(r.authorization, token)) {
    resp.status = 401;
    resp.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"mamori metrics\"");
    resp.body = "metrics: a bearer token is required (metrics.token_file)\n";
    return resp;
  }
  if (r.method != "GET" && r.method != "HEAD") {
    resp.status = 405;
    resp.headers.emplace_back("Allow", "GET, HEAD");
    resp.body = "metrics: only GET\n";
    return resp;
  }
  resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
  resp.body = Render();
  return resp;
}

}  // namespace mamori
