#include "mamori/logs/log_probe.h"

#include <glob.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "mamori/logs/diagnose.h"
#include "mamori/logs/rule_loader.h"
#include "mamori/check/registry.h"
#include "mamori/util/units.h"

namespace mamori::probes::log {
namespace {

constexpr size_t kMaxJournalPerRun = 100000;
constexpr size_t kMaxTemplateSample = 2000;
constexpr size_t kMaxNovelPerSource = 5000;

CheckStatus StatusOf(logs::Severity s) {
  switch (s) {
    case logs::Severity::kCritical:
      return CheckStatus::kCritical;
    case logs::Severity::kWarning:
      return CheckStatus::kWarning;
    case logs::Severity::kInfo:
      return CheckStatus::kOk;
  }
  return CheckStatus::kWarning;
}

std::vector<std::string> ExpandGlob(const std::string& pattern, size_t max) {
  std::vector<std::string> out;
  if (pattern.find_first_of("*?[") == std::string::npos) return {pattern};
  glob_t g{};
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc && out.size() < max; ++i) out.emplace_back(g.gl_pathv[i]);
  ::globfree(&g);
  return out;
}

// "10m", "1h", "90s": a window length as people write it.
std::string ShortDuration(Duration d) {
  const int64_t s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s > 0 && s % 3600 == 0) return fmt::format("{}h", s / 3600);
  if (s > 0 && s % 60 == 0) return fmt::format("{}m", s / 60);
  return fmt::format("{}s", s);
}

std::string TimesPer(double usual, Duration window) {
  if (usual >= 1.5) return fmt::format("~{:.0f} times per {}", usual, ShortDuration(window));
  if (usual >= 0.5) return fmt::format("about once per {}", ShortDuration(window));
  return fmt::format("~{:.2f} times per {}", usual, ShortDuration(window));
}

}  // namespace

LogProbe::LogProbe(LogOptions o) : o_(std::move(o)) {}
LogProbe::~LogProbe() = default;

Status LogProbe::Init(const Clock& clock) {
  auto rules = logs::LoadRules(o_.rule_dirs);
  if (!rules.ok()) return rules.error().Wrap("loading the log rules");
  // The daemon keeps the compiled signatures beside the check's state.
  auto scanner = logs::SignatureScanner::Compile(std::move(rules).value(), o_.state_dir);
  if (!scanner.ok()) return scanner.error().Wrap("compiling the log rules");
  scanner_ = std::move(scanner).value();
  session_ = std::make_unique<logs::ScanSession>(*scanner_);

  std::error_code ec;
  std::filesystem::create_directories(o_.state_dir, ec);
  if (ec) return Error(fmt::format("cannot create {}: {}", o_.state_dir, ec.message()));
  auto store = logs::PositionStore::Open(o_.state_dir + "/logpos.db");
  if (!store.ok()) return store.error();
  store_ = std::move(store).value();
  // When learning began for this check; kept across restarts.
  auto st = store_->db().Prepare("SELECT value FROM log_state WHERE owner = ?1 AND key = ?2");
  if (!st.ok()) return st.error();
  st->Bind(1, o_.owner).Bind(2, "learning_started_ms");
  auto row = st->Step();
  if (!row.ok()) return row.error();
  if (*row) {
    learning_started_ = FromUnixMillis(std::stoll("0" + st->ColumnText(0)));
  } else {
    learning_started_ = clock.Now();
    auto ins = store_->db().Prepare("INSERT INTO log_state(owner, key, value) VALUES(?1, ?2, ?3)");
    if (!ins.ok()) return ins.error();
    ins->Bind(1, o_.owner)
        .Bind(2, "learning_started_ms")
        .Bind(3, std::to_string(ToUnixMillis(*learning_started_)));
    if (Status r = ins->Run(); !r.ok()) return r;
  }
  // Templates not seen for 30 days are forgotten: they count as new again.
  auto del = store_->db().Prepare("DELETE FROM log_templates WHERE owner = ?1 AND last_ms < ?2");
  if (!del.ok()) return del.error();
  del->Bind(1, o_.owner).Bind(2, ToUnixMillis(clock.Now() - kForgetTemplatesAfter));
  if (Status r = del->Run(); !r.ok()) return r;
  auto del_rates =
      store_->db().Prepare("DELETE FROM log_template_rates WHERE owner = ?1 AND updated_ms < ?2");
  if (!del_rates.ok()) return del_rates.error();
  del_rates->Bind(1, o_.owner).Bind(2, ToUnixMillis(clock.Now() - kForgetTemplatesAfter));
  if (Status r = del_rates->Run(); !r.ok()) return r;

  if (o_.journal) {
    auto j = logs::JournalReader::OpenLocal();
    if (!j.ok()) {
      journal_absent_ = j.error().message();
    } else {
      journal_ = std::move(j).value();
      if (Status m = journal_->MatchUnits(o_.journal_units); !m.ok()) return m;
      auto c = store_->db().Prepare("SELECT value FROM log_state WHERE owner = ?1 AND key = ?2");
      if (!c.ok()) return c.error();
      c->Bind(1, o_.owner).Bind(2, "journal_cursor");
      auto cr = c->Step();
      Status seek = (cr.ok() && *cr && !c->ColumnText(0).empty())
                        ? journal_->SeekAfterCursor(c->ColumnText(0))
                        : (o_.start_at_end ? journal_->SeekTail() : Status::Ok());
      if (!seek.ok()) return seek;
    }
  }
  return Status::Ok();
}

LogProbe::Source& LogProbe::SourceFor(const std::string& name) {
  auto it = sources_.find(name);
  if (it != sources_.end()) return it->second;
  logs::MinerOptions mo;
  mo.max_line_bytes = 4096;
  mo.max_templates = kMaxNovelPerSource;
  logs::BurstOptions bo = o_.burst_options;
  bo.min_history = o_.learn_for;
  bo.forget_after = kForgetTemplatesAfter;
  bo.max_keys = kMaxRatesPerSource;
  Source& src =
      sources_.emplace(name, Source{logs::TemplateMiner(mo), {}, logs::TemplateRate(bo), {}, {}})
          .first->second;
  if (!store_) return src;
  // Usual rates, keyed by the sample line of their template (ids are not
  // stable across restarts; samples are). Only the newest rows are kept.
  std::map<std::string, logs::RateBaseline> saved;
  if (o_.burst) {
    auto trim = store_->db().Prepare(
        "DELETE FROM log_template_rates WHERE owner = ?1 AND source = ?2 AND rowid NOT IN "
        "(SELECT rowid FROM log_template_rates WHERE owner = ?1 AND source = ?2 "
        "ORDER BY updated_ms DESC LIMIT ?3)");
    if (trim.ok()) {
      trim->Bind(1, o_.owner).Bind(2, name).Bind(3, static_cast<int64_t>(kMaxRatesPerSource));
      (void)trim->Run();
    }
    auto st = store_->db().Prepare(
        "SELECT sample, lines, seconds, updated_ms FROM log_template_rates "
        "WHERE owner = ?1 AND source = ?2");
    if (st.ok()) {
      st->Bind(1, o_.owner).Bind(2, name);
      for (auto row = st->Step(); row.ok() && *row; row = st->Step())
        saved[st->ColumnText(0)] = logs::RateBaseline{st->ColumnDouble(1), st->ColumnDouble(2),
                                                      FromUnixMillis(st->ColumnInt(3))};
    }
  }
  // Rebuild what was learned: replaying one sample line per template gives the
  // streaming miner the same templates (it has no serialised form).
  auto st = store_->db().Prepare(
      "SELECT sample FROM log_templates WHERE owner = ?1 AND source = ?2 ORDER BY rowid LIMIT "
      "?3");
  if (st.ok()) {
    st->Bind(1, o_.owner).Bind(2, name).Bind(3, static_cast<int64_t>(kMaxNovelPerSource));
    for (auto row = st->Step(); row.ok() && *row; row = st->Step()) {
      std::string sample = st->ColumnText(0);
      logs::TemplateMiner::Id id = src.miner.Add(sample);
      src.known.insert(id);
      if (!o_.burst || id == logs::TemplateMiner::kOverflowId) continue;
      auto sv = saved.find(sample);
      if (sv != saved.end() && src.rates.Restore(id, sv->second)) {
        src.rate_samples[id] = std::move(sample);
      } else if (!src.rate_samples.count(id) && src.rate_samples.size() < kMaxRatesPerSource &&
                 logs::LooksLikeError(sample)) {
        src.rate_samples[id] = std::move(sample);
      }
    }
  }
  return src;
}

void LogProbe::CheckBurst(Source& src, std::string_view source, logs::TemplateMiner::Id id,
                          bool is_new, std::string_view text, const std::string& evidence,
                          WallTime t, WallTime now) {
  // Ids are below kMaxNovelPerSource (or kOverflowId, never passed here).
  if (id >= src.error_like.size()) src.error_like.resize(id + 1, -1);
  int8_t& error_like = src.error_like[id];
  if (error_like < 0) error_like = logs::LooksLikeError(src.miner.Template(id)) ? 1 : 0;
  if (error_like == 0) return;
  if (!src.rate_samples.count(id)) {
    // A template is tracked from its first line, which names it in logpos.db.
    if (!is_new || src.rate_samples.size() >= kMaxRatesPerSource) return;
    src.rate_samples.emplace(id, std::string(text.substr(0, kMaxTemplateSample)));
  }
  auto burst = src.rates.Add(id, t);
  // A burst of old lines (read from a backlog) is history, not news.
  if (!burst || t + o_.burst_options.window < now) return;
  // The template may have generalised since it was judged.
  std::string tmpl = src.miner.Template(id);
  if (!logs::LooksLikeError(tmpl)) {
    error_like = 0;
    return;
  }
  Active a;
  a.id = fmt::format("burst:{}:{}", source, id);
  auto existing = active_.find(a.id);
  if (existing == active_.end() && active_.size() >= kMaxActive) return;
  uint64_t& peak = burst_peaks_[a.id];
  peak = std::max(peak, burst->lines);
  a.severity = logs::Severity::kWarning;
  a.evidence = evidence;
  a.last = now;
  a.count = 1;
  a.summary = fmt::format("burst: {} lines in {} of a kind usually seen {}: {}", peak,
                          ShortDuration(o_.burst_options.window),
                          TimesPer(burst->usual, o_.burst_options.window), tmpl.substr(0, 200));
  Raise(std::move(a));
}

void LogProbe::SaveRates() {
  std::vector<std::tuple<const std::string*, const std::string*, logs::RateBaseline>> rows;
  for (auto& [name, src] : sources_)
    for (const auto& [id, b] : src.rates.TakeChanged())
      if (auto s = src.rate_samples.find(id); s != src.rate_samples.end())
        rows.emplace_back(&name, &s->second, b);
  if (rows.empty() || !store_) return;
  auto tx = sqlite::Transaction::Begin(store_->db());
  auto st = store_->db().Prepare(
      "INSERT INTO log_template_rates(owner, source, sample, lines, seconds, updated_ms) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(owner, source, sample) DO UPDATE SET "
      "lines = excluded.lines, seconds = excluded.seconds, updated_ms = excluded.updated_ms");
  if (!tx.ok() || !st.ok()) return;
  for (const auto& [name, sample, b] : rows) {
    st->Reset();
    st->Bind(1, o_.owner)
        .Bind(2, *name)
        .Bind(3, *sample)
        .Bind(4, b.lines)
        .Bind(5, b.seconds)
        .Bind(6, ToUnixMillis(b.updated));
    (void)st->Run();
  }
  (void)tx->Commit();
}

void LogProbe::Raise(Active a) {
  auto it = active_.find(a.id);
  if (it == active_.end()) {
    if (active_.size() >= kMaxActive) return;
    active_.emplace(a.id, std::move(a));
    return;
  }
  it->second.count += a.count;
  it->second.last = a.last;
  it->second.summary = std::move(a.summary);
  it->second.evidence = std::move(a.evidence);
  it->second.severity = std::max(it->second.severity, a.severity);
}

void LogProbe::OnLine(const Clock& clock, std::string_view source, std::string_view file,
                      uint64_t number, std::string_view text, std::optional<WallTime> time) {
  const WallTime now = clock.Now();
  const std::string evidence =
      fmt::format("{}:{}: {}", file, number, text.substr(0, std::min<size_t>(text.size(), 300)));
  session_->Scan(text, &matches_);
  for (const auto& m : matches_) {
    const logs::Signature& sig = scanner_->signature(m.signature);
    if (o_.ignore.count(sig.id)) continue;
    const RateRule* rate = nullptr;
    for (const auto& r : o_.rates)
      if (r.signature == sig.id) rate = &r;
    if (rate) {
      std::string key;
      if (!rate->by.empty())
        for (const auto& f : m.fields)
          if (f.name == rate->by) key = f.value.substr(0, 200);
      std::string wid = sig.id + "\x1f" + key;
      if (!rate_windows_.count(wid) && rate_windows_.size() >= kMaxRateKeys) continue;
      auto& w = rate_windows_[wid];
      WallTime t = time.value_or(now);
      w.push_back(t);
      while (!w.empty() && w.front() + rate->per < t) w.pop_front();
      while (w.size() > static_cast<size_t>(rate->max) + 1) w.pop_front();
      if (static_cast<int64_t>(w.size()) > rate->max) {
        Active a;
        a.id = "rate:" + wid;
        a.severity = std::max(sig.severity, logs::Severity::kWarning);
        a.summary = fmt::format("{}{}: more than {} per {}", sig.id,
                                key.empty() ? "" : " from " + rate->by + " " + key, rate->max,
                                FormatDuration(rate->per));
        a.evidence = evidence;
        a.last = now;
        a.count = 1;
        Raise(std::move(a));
      }
      continue;
    }
    if (sig.severity == logs::Severity::kInfo) continue;
    Active a;
    a.id = sig.id;
    a.severity = sig.severity;
    a.summary = scanner_->Summary(m.signature, text);
    a.evidence = evidence;
    a.last = now;
    a.count = 1;
    Raise(std::move(a));
  }
  if (!o_.novelty && !o_.burst) return;
  Source& src = SourceFor(std::string(source));
  logs::TemplateMiner::Id id = src.miner.Add(text);
  if (id == logs::TemplateMiner::kOverflowId) return;
  const bool is_new = src.known.insert(id).second;
  if (is_new)
    new_templates_.emplace_back(std::string(source),
                                std::string(text.substr(0, kMaxTemplateSample)), ToUnixMillis(now));
  if (o_.burst)
    CheckBurst(src, source, id, is_new, text, evidence, std::min(time.value_or(now), now), now);
  if (!o_.novelty) return;
  std::string nid = fmt::format("novel:{}:{}", source, id);
  if (is_new) {
    if (!learning_started_ || now - *learning_started_ < o_.learn_for) return;
    novel_counts_[nid] = 0;
  }
  auto nc = novel_counts_.find(nid);
  if (nc == novel_counts_.end()) return;
  ++nc->second;
  Active a;
  a.id = nid;
  a.severity = logs::Severity::kWarning;
  a.evidence = evidence;
  a.last = now;
  a.count = 1;
  auto existing = active_.find(nid);
  uint64_t n = (existing == active_.end() ? 0 : existing->second.count) + 1;
  a.summary = fmt::format("novel: {} line{} of a kind never seen in 30 days: {}", n,
                          n == 1 ? "" : "s", src.miner.Template(id).substr(0, 200));
  Raise(std::move(a));
}

void LogProbe::Bind(const ProbeEnv& env) {
  if (!initialized_ && o_.state_dir.empty()) o_.state_dir = env.data_dir;
}

Observation LogProbe::Run(const Clock& clock, MonoTime deadline) {
  if (!initialized_ && o_.state_dir.empty())
    return Observation::Make(CheckStatus::kUnknown,
                             "no state_dir and no data directory to keep log positions in");
  if (!initialized_) {
    initialized_ = true;
    if (Status s = Init(clock); !s.ok()) init_error_ = s.error();
  }
  if (init_error_) return Observation::Make(CheckStatus::kUnknown, init_error_->message());

  // Followers for every file the globs match now (new files are picked up).
  std::vector<std::string> problems;
  for (const auto& g : o_.files) {
    for (const auto& p : ExpandGlob(g, kMaxFiles)) {
      if (followers_.count(p) || followers_.size() >= kMaxFiles) continue;
      logs::FollowerOptions fo;
      fo.start_at_end = o_.start_at_end;
      followers_.emplace(p, std::make_unique<logs::FileFollower>(p, fo, store_.get(), o_.owner));
    }
  }
  uint64_t lines = 0, files_present = 0;
  for (auto& entry : followers_) {
    // Not a structured binding: clang 14 cannot capture those in a lambda.
    const std::string& path = entry.first;
    auto& f = entry.second;
    if (clock.Monotonic() >= deadline) break;
    auto r = f->Poll([&](const logs::FollowedLine& l) {
      ++lines;
      OnLine(clock, path, l.file, l.number, l.text, logs::ParseLogTime(l.text, clock.Now()));
    });
    if (!r.ok())
      problems.push_back(r.error().message());
    else if (!r->missing)
      ++files_present;
  }
  if (journal_) {
    uint64_t n = 0;
    auto r = journal_->Read(kMaxJournalPerRun, [&](const logs::JournalEntry& e) {
      ++lines;
      ++n;
      std::string text = e.identifier.empty()
                             ? e.message
                             : fmt::format("{}[{}]: {}", e.identifier, e.pid, e.message);
      OnLine(clock, "journal", "journal:" + (e.unit.empty() ? e.identifier : e.unit), 0, text,
             e.time);
    });
    if (!r.ok()) problems.push_back(r.error().message());
    if (n > 0 && !journal_->cursor().empty()) {
      auto st = store_->db().Prepare(
          "INSERT INTO log_state(owner, key, value) VALUES(?1, 'journal_cursor', ?2) "
          "ON CONFLICT(owner, key) DO UPDATE SET value = excluded.value");
      if (st.ok()) {
        st->Bind(1, o_.owner).Bind(2, journal_->cursor());
        if (Status s = st->Run(); !s.ok()) problems.push_back(s.error().message());
      }
    }
  }
  if (!new_templates_.empty()) {
    auto tx = sqlite::Transaction::Begin(store_->db());
    auto st = store_->db().Prepare(
        "INSERT INTO log_templates(owner, source, sample, first_ms, last_ms) "
        "VALUES(?1, ?2, ?3, ?4, ?4)");
    if (tx.ok() && st.ok()) {
      for (const auto& [src, sample, ms] : new_templates_) {
        st->Reset();
        st->Bind(1, o_.owner).Bind(2, src).Bind(3, sample).Bind(4, ms);
        (void)st->Run();
      }
      (void)tx->Commit();
    }
    new_templates_.clear();
  }
  SaveRates();
  if (lines > 0 && (o_.novelty || o_.burst) && store_) {
    // Sources that spoke this run keep their templates from being forgotten.
    auto st = store_->db().Prepare("UPDATE log_templates SET last_ms = ?2 WHERE owner = ?1");
    if (st.ok()) {
      st->Bind(1, o_.owner).Bind(2, ToUnixMillis(clock.Now()));
      (void)st->Run();
    }
  }

  // Findings quiet for clear_after are over.
  const WallTime now = clock.Now();
  for (auto it = active_.begin(); it != active_.end();) {
    if (it->second.last + o_.clear_after <= now) {
      novel_counts_.erase(it->first);
      burst_peaks_.erase(it->first);
      it = active_.erase(it);
    } else {
      ++it;
    }
  }

  Observation obs;
  obs.AddMetric("lines", static_cast<double>(lines));
  obs.AddMetric("files", static_cast<double>(files_present));
  obs.AddMetric("findings", static_cast<double>(active_.size()));
  std::vector<const Active*> ranked;
  for (const auto& [id, a] : active_) ranked.push_back(&a);
  std::sort(ranked.begin(), ranked.end(), [](const Active* a, const Active* b) {
    if (a->severity != b->severity) return a->severity > b->severity;
    return a->last > b->last;
  });
  for (const Active* a : ranked)
    obs.details +=
        fmt::format("[{}] {} ({}x, last {})\n  {}\n", logs::SeverityName(a->severity), a->summary,
                    a->count, logs::FormatLocalTime(a->last, "%Y-%m-%d %H:%M:%S"), a->evidence);
  for (const auto& p : problems) obs.details += "problem: " + p + "\n";
  if (journal_absent_) obs.details += "journal: " + *journal_absent_ + "\n";

  if (!ranked.empty()) {
    const Active* top = ranked.front();
    obs.status = StatusOf(top->severity);
    obs.summary = fmt::format("{} ({}x; {})", top->summary, top->count, top->evidence);
    if (ranked.size() > 1)
      obs.summary +=
          fmt::format(" and {} more finding{}", ranked.size() - 1, ranked.size() == 2 ? "" : "s");
    if (obs.status != CheckStatus::kOk) return obs;
  }
  if (!problems.empty()) {
    obs.status = CheckStatus::kUnknown;
    obs.summary = problems.front() +
                  (problems.size() > 1 ? fmt::format(" (and {} more)", problems.size() - 1) : "");
    return obs;
  }
  if (o_.files.empty() && journal_absent_) {
    obs.status = CheckStatus::kUnknown;
    obs.summary = *journal_absent_;
    return obs;
  }
  obs.status = CheckStatus::kOk;
  obs.summary = fmt::format("no problem in the logs ({} new line{}, {} file{} followed{})", lines,
                            lines == 1 ? "" : "s", files_present, files_present == 1 ? "" : "s",
                            journal_ ? " and the journal" : "");
  return obs;
}

void Register(ProbeRegistry& r) {
  r.Add("log", "follow log files and the journal; findings from the signature rules",
        [](config::ConfigNode& node) -> std::unique_ptr<Probe> {
          LogOptions o;
          bool ok = true;
          if (auto f = node.GetStringList("files")) o.files = *f;
          if (auto j = node.GetMap("journal")) {
            o.journal = true;
            if (auto u = j->GetStringList("units")) o.journal_units = *u;
          }
          if (o.files.empty() && !o.journal) {
            node.Error("a log check needs files: or journal:",
                       "e.g. files: [/var/log/mysql/error.log] or journal: {units: [ssh.service]}");
            ok = false;
          }
          if (auto rd = node.GetStringList("rules")) o.rule_dirs = *rd;
          if (auto v = node.GetBool("novelty")) o.novelty = *v;
          if (auto v = node.GetDuration("learn_for")) o.learn_for = *v;
          o.burst = o.novelty;
          std::optional<config::ConfigNode> b;
          if (node.Has("burst") && node.yaml()["burst"].IsMap()) b = node.GetMap("burst");
          if (b) {
            o.burst = true;
            if (auto w = b->GetDuration("window")) {
              if (*w < std::chrono::seconds(10) || *w > std::chrono::hours(24)) {
                b->ErrorAt("window", "must be between 10s and 24h", "e.g. window: 10m");
                ok = false;
              } else {
                o.burst_options.window = *w;
              }
            }
            if (auto f = b->GetNumber("factor")) {
              if (!(*f >= 1 && *f <= 1e6)) {
                b->ErrorAt("factor", "must be at least 1 and at most 1000000",
                           "e.g. factor: 10 (ten times the usual count)");
                ok = false;
              } else {
                o.burst_options.factor = *f;
              }
            }
            if (auto m = b->GetInt("min_lines", 1, 1000000000))
              o.burst_options.min_lines = static_cast<uint64_t>(*m);
          } else if (auto v = node.GetBool("burst")) {
            o.burst = *v;
          }
          if (auto v = node.GetDuration("clear_after")) {
            if (*v <= Duration::zero()) {
              node.ErrorAt("clear_after", "must be positive", "e.g. clear_after: 1h");
              ok = false;
            } else {
              o.clear_after = *v;
            }
          }
          if (auto v = node.GetStringList("ignore")) o.ignore.insert(v->begin(), v->end());
          if (auto v = node.GetString("start")) {
            if (*v == "end" || *v == "beginning") {
              o.start_at_end = *v == "end";
            } else {
              node.ErrorAt("start", fmt::format("'{}' is not end or beginning", *v),
                           "end reads only new lines; beginning reads existing lines too");
              ok = false;
            }
          }
          if (auto rates = node.GetMapList("rates")) {
            for (auto& rn : *rates) {
              RateRule rr;
              auto sig = rn.GetString("signature");
              if (!sig) {
                rn.Error("a rate needs signature:", "e.g. signature: ssh.failed-password");
                ok = false;
                continue;
              }
              rr.signature = *sig;
              rr.by = rn.GetString("by").value_or("");
              if (auto m = rn.GetInt("max", 0, 1000000)) rr.max = *m;
              if (auto p = rn.GetDuration("per")) {
                if (*p <= Duration::zero()) {
                  rn.ErrorAt("per", "must be positive", "e.g. per: 1m");
                  ok = false;
                } else {
                  rr.per = *p;
                }
              }
              o.rates.push_back(rr);
            }
          }
          o.owner = node.GetString("name").value_or("");
          if (o.owner.empty()) o.owner = node.what();
          // Without state_dir, the positions go to the data directory the
          // daemon actually uses (bound at the first run), so --data-dir
          // overrides apply here too.
          if (auto sd = node.GetString("state_dir")) o.state_dir = *sd;
          if (!ok) return nullptr;
          return std::make_unique<LogProbe>(std::move(o));
        });
}

}  // namespace mamori::probes::log
