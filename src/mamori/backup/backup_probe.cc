// Check type "backup": see backup_probe.h for what is judged and why.
#include "mamori/backup/backup_probe.h"

#include <glob.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "mamori/backup/history.h"
#include "mamori/backup/verify.h"
#include "mamori/check/registry.h"
#include "mamori/util/subprocess.h"
#include "mamori/util/units.h"

namespace mamori::probes::backup {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using mamori::backup::ArtifactKey;
using mamori::backup::ArtifactRecord;
using mamori::backup::ArtifactVerdict;
using mamori::backup::History;
using mamori::backup::SqlTarget;

constexpr size_t kMaxArtifacts = 10'000;
constexpr size_t kMaxOlderVerified = 10;  // when looking for the newest good one
constexpr size_t kGrowthTrend = 5;        // good artifacts in the growth median

struct Artifact {
  fs::path path;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  bool directory = false;
  ArtifactKey key() const { return {path.string(), size, mtime_ns}; }
  WallTime mtime() const {
    return WallTime(std::chrono::duration_cast<WallTime::duration>(Duration(mtime_ns)));
  }
};

bool HasGlob(std::string_view p) { return p.find_first_of("*?[") != std::string_view::npos; }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Files beside the backups that are not backups.
bool Ignored(const std::string& name) {
  if (name.empty() || name[0] == '.') return true;
  for (std::string_view suf :
       {".tmp", ".part", ".partial", ".sha256", ".md5", ".sig", ".asc", ".lock", ".log"})
    if (EndsWith(name, suf)) return true;
  return name == "SHA256SUMS" || name == "MD5SUMS" || name == "SHA256SUMS.asc";
}

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

// One candidate path -> an artifact, or nullopt when it is not one.
std::optional<Artifact> Examine(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return std::nullopt;
  if (Ignored(p.filename().string())) return std::nullopt;
  Artifact a;
  a.path = p;
  a.mtime_ns = MtimeNs(st);
  if (S_ISREG(st.st_mode)) {
    a.size = static_cast<uint64_t>(st.st_size);
    return a;
  }
  if (!S_ISDIR(st.st_mode)) return std::nullopt;
  std::error_code ec;
  if (!fs::exists(p / "toc.dat", ec)) return std::nullopt;  // only pg_dump -Fd folders
  a.directory = true;
  size_t n = 0;
  for (auto it = fs::directory_iterator(p, ec); !ec && it != fs::end(it) && n < 100'000;
       it.increment(ec), ++n) {
    struct stat fst {};
    if (::stat(it->path().c_str(), &fst) == 0 && S_ISREG(fst.st_mode)) {
      a.size += static_cast<uint64_t>(fst.st_size);
      a.mtime_ns = std::max(a.mtime_ns, MtimeNs(fst));
    }
  }
  return a;
}

Result<std::vector<Artifact>> ListArtifacts(const std::string& path) {
  std::vector<fs::path> candidates;
  if (HasGlob(path)) {
    glob_t g{};
    int rc = ::glob(path.c_str(), GLOB_NOSORT, nullptr, &g);
    if (rc == 0)
      for (size_t i = 0; i < g.gl_pathc && candidates.size() < kMaxArtifacts; ++i)
        candidates.emplace_back(g.gl_pathv[i]);
    ::globfree(&g);
    if (rc != 0 && rc != GLOB_NOMATCH)
      return Error(fmt::format("cannot expand {}: {}", path,
                               rc == GLOB_NOSPACE ? "out of memory" : "read error"));
  } else {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return std::vector<Artifact>();
      return Error(fmt::format("cannot stat {}: {}", path, std::strerror(errno)));
    }
    std::error_code ec;
    if (S_ISDIR(st.st_mode) && !fs::exists(fs::path(path) / "toc.dat", ec)) {
      for (auto it = fs::directory_iterator(path, ec);
           !ec && it != fs::end(it) && candidates.size() < kMaxArtifacts; it.increment(ec))
        candidates.push_back(it->path());
      if (ec) return Error(fmt::format("cannot list {}: {}", path, ec.message()));
    } else {
      candidates.emplace_back(path);
    }
  }
  std::vector<Artifact> out;
  for (const auto& c : candidates)
    if (auto a = Examine(c)) out.push_back(std::move(*a));
  std::sort(out.begin(), out.end(), [](const Artifact& a, const Artifact& b) {
    if (a.mtime_ns != b.mtime_ns) return a.mtime_ns > b.mtime_ns;
    return a.path > b.path;
  });
  return out;
}

std::string PrettyFormat(std::string f) {
  for (char& c : f)
    if (c == '-') c = ' ';
  size_t plus;
  while ((plus = f.find('+')) != std::string::npos) f.replace(plus, 1, ", ");
  return f;
}

bool Usable(const ArtifactRecord& r) { return r.usable(); }

Duration AgeOf(WallTime t, WallTime now) {
  auto d = std::chrono::duration_cast<Duration>(now - t);
  return d < Duration(0) ? Duration(0) : d;
}

std::string Percent(double v) { return fmt::format("{:.0f}%", v); }

// pg_dump --version -> "15.18" (the first dotted number).
Result<std::string> LocalPgDumpVersion(const std::string& pg_dump, MonoTime deadline,
                                       const Clock& clock) {
  ProcessOptions o;
  o.argv = {pg_dump, "--version"};
  o.timeout = std::clamp<Duration>(deadline - clock.Monotonic(), 1s, 30s);
  o.max_output = 4096;
  auto r = RunProcess(o);
  if (!r.ok()) return r.error();
  if (r->exit_code != 0) return Error(fmt::format("{} --version failed", pg_dump));
  const std::string& s = r->out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(s[i])) && (i == 0 || s[i - 1] == ' ')) {
      size_t e = i;
      while (e < s.size() && (std::isdigit(static_cast<unsigned char>(s[e])) || s[e] == '.')) ++e;
      return s.substr(i, e - i);
    }
  }
  return Error(fmt::format("cannot read a version from '{}'", s.substr(0, 100)));
}

// Everything one run learns, merged into an Observation at the end.
struct Verdicts {
  CheckStatus status = CheckStatus::kOk;
  std::vector<std::string> problems;  // shown first
  std::vector<std::string> facts;     // shown after, when all is well or as context
  std::string details;
  void Flag(CheckStatus s, std::string text) {
    status = Worst(status, s);
    problems.push_back(std::move(text));
  }
};

// One run of the backup check, one step per function; BackupProbe::Run calls
// them in order. Every step adds to `obs_` (metrics) and `v_` (problems,
// facts, details); the judged artifacts are kept in `judged_` and written to
// the history at the end. Used by one pool thread for one run.
class BackupRun {
 public:
  BackupRun(const BackupOptions& o, const Clock& clock, MonoTime deadline)
      : o_(o), clock_(clock), deadline_(deadline), now_(clock.Now()) {}

  Status FindArtifacts();
  void OpenHistory(const std::string& data_dir);
  bool Empty() const { return all_.empty(); }
  Observation NothingToJudge();
  void JudgeNewest();
  void JudgeAgeAndCount();
  void CheckServerVersion();
  void RestoreTest();
  void FindNewestGood();
  void CheckOffsite();
  void RecordHistory();
  Observation Summarize();

 private:
  ArtifactRecord& Judge(const Artifact& a);
  void VerifyContent(const Artifact& a, ArtifactRecord& rec) const;
  void JudgeSize();
  void FlagNewestVerdict();
  void CheckPgDumpVersion(const std::string& version);

  const BackupOptions& o_;
  const Clock& clock_;
  const MonoTime deadline_;
  const WallTime now_;
  MonoTime t0_{};
  std::vector<Artifact> all_;  // newest first, old enough to judge
  size_t settling_ = 0;        // too fresh to judge: may still be being written
  std::unique_ptr<History> history_;
  std::vector<ArtifactRecord> past_;
  std::vector<const ArtifactRecord*> vanished_;   // in the history, gone from disk
  std::map<std::string, ArtifactRecord> judged_;  // by path
  Verdicts v_;
  Observation obs_;
  // The newest artifact and its record (set by JudgeNewest).
  const Artifact* newest_ = nullptr;
  std::string newest_name_;
  Duration newest_age_{};
  ArtifactRecord* top_ = nullptr;
};

Status BackupRun::FindArtifacts() {
  auto listed = ListArtifacts(o_.path);
  if (!listed.ok()) return listed.error();
  for (auto& a : *listed) {
    if (o_.settle > Duration(0) && AgeOf(a.mtime(), now_) < o_.settle)
      ++settling_;
    else
      all_.push_back(std::move(a));
  }
  return Status::Ok();
}

void BackupRun::OpenHistory(const std::string& data_dir) {
  if (!data_dir.empty()) {
    auto h = History::Open(data_dir, History::Mode::kReadWrite, o_.history_keep);
    if (h.ok()) {
      history_ = std::move(*h);
      auto l = history_->List(o_.check, 1000);
      if (l.ok())
        past_ = std::move(*l);
      else
        v_.details += "backup history unreadable: " + l.error().message() + "\n";
    } else {
      v_.details += "backup history unavailable: " + h.error().message() + "\n";
    }
  }
  std::set<std::tuple<std::string, uint64_t, int64_t>> present;
  for (const auto& a : all_) present.insert({a.path.string(), a.size, a.mtime_ns});
  for (const auto& r : past_)
    if (!present.count({r.key.path, r.key.size_bytes, r.key.mtime_ns}) && !fs::exists(r.key.path))
      vanished_.push_back(&r);
  obs_.AddMetric("count", static_cast<double>(all_.size()));
}

Observation BackupRun::NothingToJudge() {
  obs_.status = CheckStatus::kCritical;
  obs_.summary = settling_ ? fmt::format("no finished backup in {} ({} still being written)",
                                         o_.path, settling_)
                           : fmt::format("no backup in {}", o_.path);
  if (!vanished_.empty())
    obs_.summary +=
        fmt::format("; {} seen before, all gone (newest was {}, {} old)", vanished_.size(),
                    fs::path(vanished_[0]->key.path).filename().string(),
                    FormatDuration(AgeOf(vanished_[0]->mtime(), now_)));
  if (history_) (void)history_->Sync(o_.check, {}, now_);
  return std::move(obs_);
}

// Judges one artifact's content, once per run and cached by identity in the
// history.
ArtifactRecord& BackupRun::Judge(const Artifact& a) {
  auto it = judged_.find(a.path.string());
  if (it != judged_.end()) return it->second;
  ArtifactRecord rec;
  bool cached = false;
  if (history_) {
    auto f = history_->Find(o_.check, a.key());
    if (f.ok() && f->has_value()) {
      rec = std::move(**f);
      cached = rec.judged;
    }
  }
  if (!cached) {
    if (!rec.judged) {
      rec.judged = true;
    } else {
      rec.check = o_.check;
      rec.key = a.key();
      rec.first_seen = now_;
    }
    VerifyContent(a, rec);
  }
  rec.last_seen = now_;
  return judged_.emplace(a.path.string(), std::move(rec)).first->second;
}

// The decoders' verdict, and the skew between the pg_dump that wrote a dump
// and the server it was taken from.
void BackupRun::VerifyContent(const Artifact& a, ArtifactRecord& rec) const {
  if (!o_.verify) {
    rec.verdict = CheckStatus::kOk;
    rec.summary = "content not verified (verify: false)";
    return;
  }
  mamori::backup::VerifyOptions vo;
  vo.compute_sha256 = o_.offsite.has_value();
  vo.allow_newer_pg_dump = o_.server && o_.server->allow_newer_pg_dump;
  ArtifactVerdict verdict = mamori::backup::VerifyArtifact(a.path, vo);
  rec.format = verdict.format;
  rec.verdict = verdict.status;
  rec.summary = verdict.summary;
  rec.sha256 = verdict.sha256;
  if (!verdict.pg || verdict.pg->pg_dump_major.empty() || verdict.pg->server_major.empty() ||
      verdict.pg->pg_dump_major == verdict.pg->server_major)
    return;
  const bool newer =
      std::atof(verdict.pg->pg_dump_major.c_str()) > std::atof(verdict.pg->server_major.c_str());
  if (newer && o_.server && o_.server->allow_newer_pg_dump) return;
  rec.verdict = CheckStatus::kCritical;
  rec.summary =
      fmt::format("version skew: written by pg_dump {} from a PostgreSQL {} server ({}); {}",
                  verdict.pg->pg_dump_version, verdict.pg->server_version, verdict.summary,
                  newer ? "it may not restore into that server's version"
                        : "run the pg_dump of the server's major version");
}

void BackupRun::JudgeNewest() {
  t0_ = clock_.Monotonic();
  newest_ = &all_.front();
  newest_name_ = newest_->path.filename().string();
  newest_age_ = AgeOf(newest_->mtime(), now_);
  top_ = &Judge(*newest_);
  obs_.AddMetric("age_s", std::chrono::duration<double>(newest_age_).count());
  obs_.AddMetric("size_bytes", static_cast<double>(newest_->size));
  JudgeSize();
  FlagNewestVerdict();
}

// Size: absolute, then against the previous good artifact and the trend. The
// artifact's own verdict includes its size, so a collapsed dump is not the
// "previous good one" next time.
void BackupRun::JudgeSize() {
  const Artifact& newest = *newest_;
  CheckStatus size_status = CheckStatus::kOk;
  std::string size_problem;
  if (o_.min_size && newest.size < *o_.min_size) {
    size_status = CheckStatus::kCritical;
    size_problem =
        fmt::format("is {} (min_size {})", FormatBytes(newest.size), FormatBytes(*o_.min_size));
  }
  std::vector<const ArtifactRecord*> good_before;  // newest first
  for (const auto& r : past_)
    if (r.judged && r.key.mtime_ns < newest.mtime_ns && Usable(r)) good_before.push_back(&r);
  if (size_problem.empty() && !good_before.empty() && good_before[0]->key.size_bytes > 0) {
    const double prev = static_cast<double>(good_before[0]->key.size_bytes);
    const double change = (static_cast<double>(newest.size) - prev) * 100.0 / prev;
    obs_.AddMetric("size_change_percent", change);
    if (-change > o_.max_shrink_percent) {
      size_status = CheckStatus::kCritical;
      size_problem =
          fmt::format("is {}, {} smaller than the previous good one ({}, {}, max_shrink {})",
                      FormatBytes(newest.size), Percent(-change),
                      fs::path(good_before[0]->key.path).filename().string(),
                      FormatBytes(good_before[0]->key.size_bytes), Percent(o_.max_shrink_percent));
    } else if (o_.max_growth_percent) {
      std::vector<uint64_t> sizes;
      for (size_t i = 0; i < good_before.size() && i < kGrowthTrend; ++i)
        sizes.push_back(good_before[i]->key.size_bytes);
      std::sort(sizes.begin(), sizes.end());
      const double median = static_cast<double>(sizes[sizes.size() / 2]);
      const double growth = (static_cast<double>(newest.size) - median) * 100.0 / median;
      if (median > 0 && growth > *o_.max_growth_percent) {
        size_status = CheckStatus::kWarning;
        size_problem = fmt::format("is {}, {} above the recent good ones ({}, max_growth {})",
                                   FormatBytes(newest.size), Percent(growth),
                                   FormatBytes(static_cast<uint64_t>(median)),
                                   Percent(*o_.max_growth_percent));
      }
    }
  }
  ArtifactRecord& top = *top_;
  const bool cached_size_verdict = top.summary.rfind("size: ", 0) == 0;
  if (!size_problem.empty() && !cached_size_verdict &&
      Severity(size_status) > Severity(top.verdict)) {
    top.verdict = size_status;
    top.summary = "size: " + size_problem + (top.summary.empty() ? "" : "; " + top.summary);
  }
}

void BackupRun::FlagNewestVerdict() {
  if (top_->verdict == CheckStatus::kOk) return;
  std::string what = top_->summary;
  if (what.rfind("size: ", 0) == 0) {
    // The size problem alone; the decoder's account stays in the details.
    what = what.substr(
        6, what.find("; ") == std::string::npos ? std::string::npos : what.find("; ") - 6);
    v_.Flag(top_->verdict, fmt::format("newest {} {}", newest_name_, what));
  } else {
    v_.Flag(top_->verdict, fmt::format("newest {}: {}", newest_name_, what));
  }
}

// Freshness and retention.
void BackupRun::JudgeAgeAndCount() {
  if (o_.max_age && newest_age_ > *o_.max_age)
    v_.Flag(CheckStatus::kCritical,
            fmt::format("newest {} is {} old (max_age {})", newest_name_,
                        FormatDuration(newest_age_), FormatDuration(*o_.max_age)));
  if (all_.size() < o_.min_count) {
    std::string text = fmt::format("only {} backup{} kept (min_count {})", all_.size(),
                                   all_.size() == 1 ? "" : "s", o_.min_count);
    if (!vanished_.empty())
      text += fmt::format("; {} older one{} vanished (e.g. {}, last seen {} ago)", vanished_.size(),
                          vanished_.size() == 1 ? "" : "s",
                          fs::path(vanished_[0]->key.path).filename().string(),
                          FormatDuration(AgeOf(vanished_[0]->last_seen, now_)));
    v_.Flag(CheckStatus::kCritical, text);
  }
  obs_.AddMetric("vanished", static_cast<double>(vanished_.size()));
}

// Version skew against the live server.
void BackupRun::CheckServerVersion() {
  if (!o_.server) return;
  const auto& srv = *o_.server;
  auto version = mamori::backup::ServerVersion(srv.target, deadline_, clock_);
  if (!version.ok()) {
    v_.Flag(CheckStatus::kUnknown,
            "cannot ask the server its version: " + version.error().message());
    return;
  }
  v_.details += fmt::format("server {}: {}\n", srv.target.Describe(), *version);
  if (srv.target.kind == SqlTarget::Kind::kPostgres) CheckPgDumpVersion(*version);
}

// The configured pg_dump against the PostgreSQL server's `version`.
void BackupRun::CheckPgDumpVersion(const std::string& version) {
  const auto& srv = *o_.server;
  const std::string server_major = mamori::backup::MajorVersion(version, srv.target.kind);
  std::vector<std::pair<std::string, std::string>> dumpers;  // (what, version)
  if (!srv.pg_dump.empty()) {
    auto local = LocalPgDumpVersion(srv.pg_dump, deadline_, clock_);
    if (local.ok())
      dumpers.emplace_back(srv.pg_dump, *local);
    else
      v_.Flag(CheckStatus::kUnknown, "cannot read the pg_dump version: " + local.error().message());
  }
  for (const auto& [what, ver] : dumpers) {
    const std::string major = mamori::backup::MajorVersion(ver, srv.target.kind);
    if (major == server_major) continue;
    const bool newer = std::atof(major.c_str()) > std::atof(server_major.c_str());
    if (newer && srv.allow_newer_pg_dump) continue;
    v_.Flag(CheckStatus::kCritical,
            newer ? fmt::format("version skew: {} is pg_dump {}, the server is {}; its dumps "
                                "may not restore into a {} server (allow_newer_pg_dump: true "
                                "if that is intended)",
                                what, ver, version, server_major)
                  : fmt::format("version skew: {} is pg_dump {}, the server is {}: pg_dump "
                                "refuses a newer server (\"server version mismatch\") and the "
                                "job writes an error message instead of a dump; use the "
                                "pg_dump of version {}",
                                what, ver, version, server_major));
  }
}

// Restore test: once per artifact, remembered in the history.
void BackupRun::RestoreTest() {
  ArtifactRecord& top = *top_;
  if (!o_.restore || top.verdict == CheckStatus::kCritical) return;
  if (!top.restore_status) {
    auto r = mamori::backup::RunRestore(*o_.restore, newest_->path, deadline_, clock_);
    top.restore_status = r.status;
    top.restore_duration = r.restore_duration;
    top.restore_summary = r.summary;
    if (!r.details.empty()) v_.details += r.details + "\n";
    // A restore that could not tell (timeout, target down) is tried again next run.
    if (r.status == CheckStatus::kUnknown) {
      v_.Flag(CheckStatus::kUnknown, r.summary);
      top.restore_status.reset();
      top.restore_duration.reset();
    }
  }
  if (top.restore_status) {
    obs_.AddMetric("restore_s", std::chrono::duration<double>(*top.restore_duration).count());
    if (*top.restore_status == CheckStatus::kOk)
      v_.facts.push_back(top.restore_summary);
    else
      v_.Flag(*top.restore_status, "restore test failed: " + top.restore_summary);
  }
}

// The newest good one, when the newest is bad: how much would be lost. After
// the restore test, because a dump that does not restore is bad too.
void BackupRun::FindNewestGood() {
  if (Usable(*top_)) {
    obs_.AddMetric("good_age_s", std::chrono::duration<double>(newest_age_).count());
    return;
  }
  const Artifact* good = nullptr;
  size_t verified = 0;
  for (size_t i = 1; i < all_.size() && !good; ++i) {
    if (clock_.Monotonic() > deadline_) break;
    auto f = history_ ? history_->Find(o_.check, all_[i].key())
                      : Result<std::optional<ArtifactRecord>>(std::optional<ArtifactRecord>());
    const bool known = f.ok() && f->has_value() && (*f)->judged;
    if (!known && ++verified > kMaxOlderVerified) break;
    if (Usable(Judge(all_[i]))) good = &all_[i];
  }
  if (good) {
    const Duration age = AgeOf(good->mtime(), now_);
    obs_.AddMetric("good_age_s", std::chrono::duration<double>(age).count());
    v_.problems.push_back(fmt::format("newest good one is {} old ({})", FormatDuration(age),
                                      good->path.filename().string()));
  } else {
    v_.problems.push_back(all_.size() == 1
                              ? std::string("no older backup to fall back on")
                              : fmt::format("no good backup among the {} kept", all_.size()));
  }
}

// Offsite copy of the newest (or, within the grace period, the one before).
void BackupRun::CheckOffsite() {
  if (!o_.offsite) return;
  auto res =
      mamori::backup::CompareOffsite(*o_.offsite, newest_->path, top_->sha256, deadline_, clock_);
  if (res.local_sha256) top_->sha256 = res.local_sha256;
  if (res.status == CheckStatus::kCritical && newest_age_ < o_.offsite->grace && all_.size() > 1) {
    ArtifactRecord& prev_rec = Judge(all_[1]);
    auto prev = mamori::backup::CompareOffsite(*o_.offsite, all_[1].path, prev_rec.sha256,
                                               deadline_, clock_);
    if (prev.local_sha256) prev_rec.sha256 = prev.local_sha256;
    if (prev.status == CheckStatus::kOk)
      res.summary =
          fmt::format("{} (newest {} is {} old, within the offsite grace {})", prev.summary,
                      newest_name_, FormatDuration(newest_age_), FormatDuration(o_.offsite->grace));
    else
      res.summary = prev.summary;
    res.status = prev.status;
  }
  if (res.status == CheckStatus::kOk)
    v_.facts.push_back(res.summary);
  else
    v_.Flag(res.status, res.summary);
}

// Every artifact on disk is recorded, judged or not, so a cleanup that deletes
// the older ones is noticed next time.
void BackupRun::RecordHistory() {
  obs_.AddMetric("verify_s", std::chrono::duration<double>(clock_.Monotonic() - t0_).count());
  if (!history_) return;
  for (const auto& a : all_) {
    if (judged_.count(a.path.string())) continue;
    auto f = history_->Find(o_.check, a.key());
    if (!f.ok() || f->has_value()) continue;
    ArtifactRecord seen;
    seen.check = o_.check;
    seen.key = a.key();
    seen.first_seen = seen.last_seen = now_;
    seen.judged = false;
    seen.verdict = CheckStatus::kUnknown;
    seen.summary = "not verified (an older artifact)";
    if (Status s = history_->Put(seen); !s.ok()) break;
  }
  for (auto& [p, rec] : judged_) {
    if (Status s = history_->Put(rec); !s.ok())
      v_.details += "cannot record in the backup history: " + s.error().message() + "\n";
  }
  std::vector<ArtifactKey> keys;
  for (const auto& a : all_) keys.push_back(a.key());
  if (Status s = history_->Sync(o_.check, keys, now_); !s.ok())
    v_.details += "cannot update the backup history: " + s.error().message() + "\n";
}

Observation BackupRun::Summarize() {
  const ArtifactRecord& top = *top_;
  obs_.status = v_.status;
  std::string base = fmt::format("newest {} {} old, {}", newest_name_, FormatDuration(newest_age_),
                                 FormatBytes(newest_->size));
  if (top.verdict == CheckStatus::kOk)
    base += top.format.empty() ? "" : ", " + PrettyFormat(top.format) + " OK";
  std::vector<std::string> tail = v_.facts;
  tail.push_back(fmt::format("{} kept", all_.size()));
  if (settling_) tail.push_back(fmt::format("{} being written", settling_));
  if (v_.problems.empty()) {
    obs_.summary = base + "; " + fmt::format("{}", fmt::join(tail, "; "));
  } else {
    obs_.summary = fmt::format("{}", fmt::join(v_.problems, "; "));
  }
  obs_.details =
      fmt::format("{}: {} ({})\n", newest_name_, top.summary, StatusName(top.verdict)) + v_.details;
  return std::move(obs_);
}

}  // namespace

void BackupProbe::Start(ProbeEnv& env, MonoTime deadline, ProbeDone done) {
  const Clock* clock = &env.clock;
  if (o_.budget) deadline = std::min(deadline, clock->Monotonic() + *o_.budget);
  boost::asio::post(env.pool, [this, clock, deadline, dir = env.data_dir,
                               done = std::move(done)]() { done(Run(*clock, deadline, dir)); });
}

Observation BackupProbe::Run(const Clock& clock, MonoTime deadline,
                             const std::string& data_dir) const {
  BackupRun run(o_, clock, deadline);
  if (Status s = run.FindArtifacts(); !s.ok())
    return Observation::Make(CheckStatus::kUnknown, s.error().message());
  run.OpenHistory(data_dir);
  if (run.Empty()) return run.NothingToJudge();
  run.JudgeNewest();  // content and size
  run.JudgeAgeAndCount();
  run.CheckServerVersion();
  run.RestoreTest();
  run.FindNewestGood();
  run.CheckOffsite();
  run.RecordHistory();
  return run.Summarize();
}

namespace {

// "300%", "50%", "12.5%": unlike ParsePercent, above 100 is fine.
std::optional<double> ReadGrowth(config::ConfigNode& n, std::string_view key) {
  auto s = n.GetString(key);
  if (!s) return std::nullopt;
  double v = 0;
  const char* b = s->data();
  const char* e = s->data() + s->size();
  if (s->empty() || s->back() != '%') {
    n.ErrorAt(key, fmt::format("'{}' is not a percentage", *s), "write e.g. 300%");
    return std::nullopt;
  }
  auto [p, ec] = std::from_chars(b, e - 1, v);
  if (ec != std::errc() || p != e - 1 || v <= 0 || !std::isfinite(v)) {
    n.ErrorAt(key, fmt::format("'{}' is not a positive percentage", *s), "write e.g. 300%");
    return std::nullopt;
  }
  return v;
}

std::optional<SqlTarget::Kind> ReadKind(config::ConfigNode& n, bool allow_command, bool* command) {
  auto t = n.GetString("type");
  if (!t) {
    n.Error("missing 'type'",
            allow_command ? "type: postgres, mariadb or command" : "type: postgres or mariadb");
    return std::nullopt;
  }
  if (*t == "postgres" || *t == "postgresql") return SqlTarget::Kind::kPostgres;
  if (*t == "mariadb" || *t == "mysql") return SqlTarget::Kind::kMariadb;
  if (allow_command && *t == "command") {
    *command = true;
    return SqlTarget::Kind::kPostgres;
  }
  n.ErrorAt("type", fmt::format("unknown type '{}'", *t),
            allow_command ? "type: postgres, mariadb or command" : "type: postgres or mariadb");
  return std::nullopt;
}

bool ValidScratch(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::unique_ptr<Probe> Build(config::ConfigNode& node) {
  BackupOptions o;
  bool ok = true;
  o.check = node.GetString("name").value_or("");
  auto path = node.GetString("path");
  if (!path || path->empty()) {
    node.Error("missing 'path'",
               "the backups to judge: a directory, a glob such as /var/backups/pg/shop-*.dump, or "
               "one file");
    ok = false;
  } else {
    o.path = *path;
  }
  o.max_age = node.GetDuration("max_age");
  if (auto c = node.GetInt("min_count", 0, 100'000)) o.min_count = static_cast<size_t>(*c);
  o.min_size = node.GetSize("min_size");
  if (auto s = node.GetPercent("max_shrink")) o.max_shrink_percent = *s;
  o.max_growth_percent = ReadGrowth(node, "max_growth");
  if (auto s = node.GetDuration("settle")) o.settle = *s;
  if (auto v = node.GetBool("verify")) o.verify = *v;
  if (auto k = node.GetInt("history", 10, 100'000)) o.history_keep = static_cast<size_t>(*k);

  std::string production_db;
  if (auto s = node.GetMap("server")) {
    bool cmd = false;
    auto kind = ReadKind(*s, false, &cmd);
    auto t = kind ? mamori::backup::ReadSqlTarget(*s, *kind, true) : std::nullopt;
    ServerSpec spec;
    if (t) spec.target = *t;
    spec.pg_dump =
        s->GetString("pg_dump").value_or(kind == SqlTarget::Kind::kPostgres ? "pg_dump" : "");
    if (auto a = s->GetBool("allow_newer_pg_dump")) spec.allow_newer_pg_dump = *a;
    if (kind && *kind == SqlTarget::Kind::kMariadb && s->Has("pg_dump"))
      s->ErrorAt("pg_dump", "only for PostgreSQL servers");
    if (!t) {
      ok = false;
    } else {
      production_db = t->EffectiveDatabase();
      o.server = std::move(spec);
    }
  }
  if (auto r = node.GetMap("restore")) {
    bool cmd = false;
    auto kind = ReadKind(*r, true, &cmd);
    mamori::backup::RestoreSpec spec;
    if (!kind) {
      ok = false;
    } else if (cmd) {
      spec.kind = mamori::backup::RestoreSpec::Kind::kCommand;
      auto argv = r->GetStringList("command");
      if (!argv || argv->empty()) {
        r->Error("a command restore needs 'command'",
                 "e.g. command: [/usr/local/bin/restore-test.sh]; the artifact is passed as the "
                 "last argument and in $MAMORI_ARTIFACT");
        ok = false;
      } else {
        spec.command = *argv;
      }
      if (r->Has("assertions")) {
        r->ErrorAt("assertions", "a command restore judges by its exit code",
                   "check the rows inside the command, or use type: postgres or mariadb");
        ok = false;
      }
    } else {
      spec.kind = *kind == SqlTarget::Kind::kPostgres ? mamori::backup::RestoreSpec::Kind::kPostgres
                                                      : mamori::backup::RestoreSpec::Kind::kMariadb;
      auto t = mamori::backup::ReadSqlTarget(*r, *kind, false);
      if (!t)
        ok = false;
      else
        spec.target = *t;
      // The server to restore into defaults to the `server:` connection
      // (another database on it), the common single-server case.
      if (t && t->dsn.empty() && t->host.empty() && t->socket.empty() && o.server &&
          o.server->target.kind == *kind) {
        spec.target = o.server->target;
        spec.target.database.clear();
        if (!t->user.empty()) spec.target.user = t->user;
        if (!t->password.empty()) spec.target.password = t->password;
        if (t->port) spec.target.port = t->port;
        if (*kind == SqlTarget::Kind::kPostgres && !spec.target.dsn.empty())
          spec.target.database = "postgres";  // the dsn's dbname is production's
      }
      const char* scratch_key =
          *kind == SqlTarget::Kind::kMariadb && r->Has("schema") ? "schema" : "database";
      if (*kind == SqlTarget::Kind::kMariadb) r->Known("schema");
      std::string def = "mamori_restore";
      for (char c : o.check) def.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
      if (!o.check.empty()) def.insert(14, "_");
      spec.scratch = r->GetString(scratch_key).value_or(def.substr(0, 63));
      if (!ValidScratch(spec.scratch)) {
        r->ErrorAt(scratch_key, fmt::format("'{}' is not a valid scratch name", spec.scratch),
                   "letters, digits and '_' only, at most 63, e.g. shop_restore_test");
        ok = false;
      }
      const std::string own = spec.target.EffectiveDatabase();
      if (!production_db.empty() && spec.scratch == production_db) {
        r->ErrorAt(
            scratch_key,
            fmt::format("the scratch {} '{}' is the production database (server:)",
                        *kind == SqlTarget::Kind::kMariadb ? "schema" : "database", spec.scratch),
            "a restore test drops and recreates its scratch database: give it its own "
            "name, e.g. " +
                spec.scratch + "_restore_test");
        ok = false;
      } else if (!own.empty() && spec.scratch == own) {
        r->ErrorAt(scratch_key,
                   fmt::format("the scratch database '{}' is the one the restore connects to",
                               spec.scratch),
                   "connect to a maintenance database (dbname=postgres) and give the scratch "
                   "database its own name");
        ok = false;
      }
      if (auto a = r->GetMapList("assertions")) {
        for (auto& item : *a) {
          mamori::backup::Assertion as;
          auto q = item.GetString("query");
          if (!q || q->empty()) {
            item.Error("an assertion needs 'query'", "e.g. query: SELECT count(*) FROM users");
            ok = false;
            continue;
          }
          as.query = *q;
          as.name = item.GetString("name").value_or("");
          as.min = item.GetNumber("min");
          as.max = item.GetNumber("max");
          as.within_percent_of_production = item.GetPercent("within_percent_of_production");
          if (as.within_percent_of_production && !o.server) {
            item.ErrorAt(
                "within_percent_of_production", "needs the production server",
                "add a server: block (type, dsn or host/port/user, database) to the check");
            ok = false;
          }
          if (!as.min && !as.max && !as.within_percent_of_production) {
            item.Error("an assertion needs min, max or within_percent_of_production",
                       "e.g. min: 1000");
            ok = false;
          }
          spec.assertions.push_back(std::move(as));
        }
      }
      if (o.server && o.server->target.kind == *kind) spec.production = o.server->target;
    }
    if (auto k = r->GetBool("keep")) spec.keep = *k;
    spec.bin_dir = r->GetString("bin_dir").value_or("");
    if (ok) o.restore = std::move(spec);
  }
  if (auto off = node.GetMap("offsite")) {
    mamori::backup::OffsiteSpec spec;
    auto p = off->GetString("path");
    auto c = off->GetStringList("command");
    if (auto g = off->GetDuration("grace")) spec.grace = *g;
    if (p.has_value() == c.has_value()) {
      off->Error("give exactly one of 'path' or 'command'",
                 "path: /mnt/offsite/pg (a mounted directory), or command: [rclone, hashsum, "
                 "sha256, remote:bucket/pg]");
      ok = false;
    } else if (p) {
      spec.path = *p;
    } else if (c->empty()) {
      off->ErrorAt("command", "is empty", "the program that lists the offsite location");
      ok = false;
    } else {
      spec.command = *c;
    }
    o.offsite = std::move(spec);
  }
  if (!o.restore && !node.Has("timeout")) o.budget = kDefaultTimeoutWithoutRestore;
  if (!ok) return nullptr;
  return std::make_unique<BackupProbe>(std::move(o));
}

}  // namespace

void Register(ProbeRegistry& r) {
  auto& e = r.Add("backup",
                  "backup artifacts: fresh, enough kept, sane size, content verified, restore "
                  "test, offsite copy",
                  Build, /*settled=*/true);
  e.default_interval = kDefaultInterval;
  e.default_timeout = kDefaultTimeout;
}

}  // namespace mamori::probes::backup
