#include "mamori/logs/diagnose.h"

#include <re2/re2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include "mamori/logs/journal_reader.h"
#include "mamori/logs/line_reader.h"

namespace mamori::logs {
namespace {

// A line with no known time is kept: its place is unknown, not outside.
bool InWindow(const DiagnoserOptions& o, const std::optional<WallTime>& time) {
  if (!time) return true;
  return (!o.since || *time >= *o.since) && (!o.until || *time < *o.until);
}

namespace fs = std::filesystem;

constexpr size_t kMaxEvidenceText = 1000;
constexpr size_t kMaxEvents = 100000;
constexpr size_t kMaxSuspects = 5;
constexpr size_t kMaxFiles = 2000;
constexpr auto kBootEpisode = std::chrono::minutes(10);
constexpr auto kSuspectWindow = std::chrono::hours(1);

// ------------------------------------------------------------ timestamps

int MonthIndex(std::string_view s) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i)
    if (s == kMonths[i]) return i;
  return -1;
}

bool Num(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// "HH:MM:SS" at pos (also "H:MM:SS" when `short_hour`); returns chars used.
size_t Clock(std::string_view s, size_t pos, int* h, int* m, int* sec, bool short_hour = false) {
  size_t hl = 2;
  if (short_hour && pos + 1 < s.size() && s[pos + 1] == ':') hl = 1;
  if (!Num(s, pos, hl, h) || pos + hl >= s.size() || s[pos + hl] != ':' ||
      !Num(s, pos + hl + 1, 2, m) || pos + hl + 3 >= s.size() || s[pos + hl + 3] != ':' ||
      !Num(s, pos + hl + 4, 2, sec))
    return 0;
  if (*h > 23 || *m > 59 || *sec > 60) return 0;
  return hl + 6;
}

std::optional<WallTime> Make(int y, int mo, int d, int h, int mi, int s, int64_t micros,
                             std::optional<int> utc_offset_s) {
  if (y < 1970 || y > 2200 || mo < 0 || mo > 11 || d < 1 || d > 31) return std::nullopt;
  struct tm tm {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  time_t t;
  if (utc_offset_s) {
    t = timegm(&tm) - *utc_offset_s;
  } else {
    tm.tm_isdst = -1;
    t = mktime(&tm);
  }
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return WallTime(std::chrono::seconds(t)) +
         std::chrono::duration_cast<WallTime::duration>(std::chrono::microseconds(micros));
}

// ".123456" at pos: returns chars used and the value in microseconds.
size_t Fraction(std::string_view s, size_t pos, int64_t* micros) {
  *micros = 0;
  if (pos >= s.size() || (s[pos] != '.' && s[pos] != ',')) return 0;
  size_t i = pos + 1, digits = 0;
  int64_t v = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && digits < 9) {
    if (digits < 6) v = v * 10 + (s[i] - '0');
    ++i;
    ++digits;
  }
  if (digits == 0) return 0;
  for (size_t k = std::min<size_t>(digits, 6); k < 6; ++k) v *= 10;
  *micros = v;
  return i - pos;
}

WallTime::duration DayLength() { return std::chrono::hours(24); }

}  // namespace

std::string FormatLocalTime(WallTime t, const char* strftime_format) {
  time_t tt = std::chrono::system_clock::to_time_t(t);
  struct tm tm {};
  localtime_r(&tt, &tm);
  char buf[128];
  size_t n = std::strftime(buf, sizeof(buf), strftime_format, &tm);
  return std::string(buf, n);
}

std::optional<WallTime> ParseLogTime(std::string_view line, WallTime now) {
  std::string_view s = line;
  if (!s.empty() && s[0] == '[') s.remove_prefix(1);
  int y, mo, d, h, mi, sec;
  int64_t micros = 0;
  // ISO 8601 / RFC 3339 and nginx "2025/11/23 14:01:02".
  if (Num(s, 0, 4, &y) && s.size() >= 19 && (s[4] == '-' || s[4] == '/') && s[7] == s[4] &&
      Num(s, 5, 2, &mo) && Num(s, 8, 2, &d) && (s[10] == 'T' || s[10] == ' ')) {
    size_t n = Clock(s, 11, &h, &mi, &sec);
    if (n == 0) return std::nullopt;
    size_t p = 11 + n;
    p += Fraction(s, p, &micros);
    std::optional<int> off;
    if (p < s.size() && s[p] == 'Z') {
      off = 0;
    } else if (p < s.size() && (s[p] == '+' || s[p] == '-') && s[4] == '-') {
      int oh, om;
      if (Num(s, p + 1, 2, &oh)) {
        size_t q = p + 3;
        if (q < s.size() && s[q] == ':') ++q;
        if (Num(s, q, 2, &om)) off = (s[p] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
      }
    }
    return Make(y, mo - 1, d, h, mi, sec, micros, off);
  }
  // MySQL 5.x "251123 14:01:02" / "251123  9:01:02".
  if (Num(s, 0, 6, &y) && s.size() > 8 && s[6] == ' ') {
    size_t p = s[7] == ' ' ? 8 : 7;
    if (size_t n = Clock(s, p, &h, &mi, &sec, true); n > 0)
      return Make(2000 + y / 10000, (y / 100) % 100 - 1, y % 100, h, mi, sec, 0, std::nullopt);
    return std::nullopt;
  }
  // Apache "[Sun Nov 23 14:01:02.123456 2025]": weekday first.
  if (s.size() >= 24 && s[3] == ' ' && std::isalpha(static_cast<unsigned char>(s[0])) &&
      MonthIndex(s.substr(4, 3)) >= 0) {
    mo = MonthIndex(s.substr(4, 3));
    size_t p = 8;
    if (s[p] == ' ') ++p;
    if (!Num(s, p, 2, &d) && !Num(s, p, 1, &d)) return std::nullopt;
    p += (p + 1 < s.size() && s[p + 1] == ' ') ? 2 : 3;
    size_t n = Clock(s, p, &h, &mi, &sec);
    if (n == 0) return std::nullopt;
    p += n;
    p += Fraction(s, p, &micros);
    if (p >= s.size() || s[p] != ' ' || !Num(s, p + 1, 4, &y)) return std::nullopt;
    return Make(y, mo, d, h, mi, sec, micros, std::nullopt);
  }
  // Syslog "Nov 23 14:01:02" (day space-padded), no year.
  if (s.size() >= 15 && s[3] == ' ' && MonthIndex(s.substr(0, 3)) >= 0) {
    mo = MonthIndex(s.substr(0, 3));
    size_t p = 4;
    if (s[p] == ' ') ++p;
    if (Num(s, p, 2, &d))
      p += 2;
    else if (Num(s, p, 1, &d))
      p += 1;
    else
      return std::nullopt;
    if (p >= s.size() || s[p] != ' ') return std::nullopt;
    size_t n = Clock(s, p + 1, &h, &mi, &sec);
    if (n == 0) return std::nullopt;
    time_t nt = std::chrono::system_clock::to_time_t(now);
    struct tm ntm {};
    localtime_r(&nt, &ntm);
    y = ntm.tm_year + 1900;
    auto t = Make(y, mo, d, h, mi, sec, 0, std::nullopt);
    if (t && *t > now + DayLength()) t = Make(y - 1, mo, d, h, mi, sec, 0, std::nullopt);
    return t;
  }
  return std::nullopt;
}

// ------------------------------------------------------------ file lists

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Binary or foreign-format files found in log directories.
bool SkipInDirectory(const std::string& name) {
  static const std::set<std::string, std::less<>> kNames = {"wtmp",    "btmp", "lastlog",
                                                            "faillog", "utmp", "tallylog"};
  if (kNames.count(name)) return true;
  for (std::string_view ext : {".journal", ".journal~", ".db", ".sqlite", ".bz2", ".xz", ".zst",
                               ".lz4", ".Z", ".pid", ".lock", ".sock", ".tdb"})
    if (EndsWith(name, ext)) return true;
  return false;
}

// Rotation rank of `name` relative to `base` (higher = older), or nullopt when
// it is not a rotated sibling: base.N, base.N.gz, base-YYYYMMDD(.gz).
std::optional<int64_t> RotationRank(const std::string& base, const std::string& name) {
  if (name.size() <= base.size() + 1 || name.compare(0, base.size(), base) != 0)
    return std::nullopt;
  std::string rest = name.substr(base.size());
  if (EndsWith(rest, ".gz")) rest.resize(rest.size() - 3);
  if (rest.size() < 2 || (rest[0] != '.' && rest[0] != '-')) return std::nullopt;
  std::string digits = rest.substr(1);
  if (digits.empty() || digits.size() > 10 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  int64_t v = std::stoll(digits);
  // FILE.1 is newer than FILE.2; FILE-20250102 is newer than FILE-20250101.
  return rest[0] == '.' ? v : -v;
}

void AddFileWithSiblings(const fs::path& file, std::vector<std::string>* out,
                         std::set<std::string>* seen) {
  std::vector<std::pair<int64_t, std::string>> rotated;
  std::error_code ec;
  const std::string base = file.filename().string();
  for (fs::directory_iterator
           it(file.parent_path().empty() ? fs::path(".") : file.parent_path(), ec),
       end;
       !ec && it != end && rotated.size() < 100; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (auto rank = RotationRank(base, name); rank && it->is_regular_file(ec))
      rotated.emplace_back(*rank, it->path().string());
  }
  std::sort(rotated.begin(), rotated.end(), [](const auto& a, const auto& b) {
    return a.first > b.first;  // oldest first
  });
  for (auto& [rank, p] : rotated)
    if (seen->insert(p).second) out->push_back(p);
  if (seen->insert(file.string()).second) out->push_back(file.string());
}

}  // namespace

namespace {
std::string LogGroup(const std::string& path);
}  // namespace

std::vector<std::string> ExpandLogPaths(const std::vector<std::string>& paths, bool quiet_missing,
                                        std::vector<std::string>* problems) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& p : paths) {
    std::error_code ec;
    fs::file_status st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
      if (ec && ec != std::errc::no_such_file_or_directory)
        problems->push_back(fmt::format("{}: {}", p, ec.message()));
      else if (!quiet_missing)
        problems->push_back(fmt::format("{}: no such file or directory", p));
      continue;
    }
    if (fs::is_directory(st)) {
      std::vector<fs::path> files;
      fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec),
          end;
      if (ec) {
        problems->push_back(fmt::format("{}: {}", p, ec.message()));
        continue;
      }
      for (; it != end && files.size() < kMaxFiles; it.increment(ec)) {
        if (ec) break;
        if (it.depth() >= 3) it.disable_recursion_pending();
        if (!it->is_regular_file(ec)) continue;
        std::string name = it->path().filename().string();
        if (SkipInDirectory(name)) continue;
        files.push_back(it->path());
      }
      // Group each file with its rotated siblings, oldest first.
      std::sort(files.begin(), files.end());
      std::set<std::string> names;
      for (const auto& f : files) names.insert(f.string());
      for (const auto& f : files) {
        std::string s = f.string();
        // A rotated sibling whose live file is also here is added with it.
        std::string group = LogGroup(s);
        bool sibling = group != s && names.count(group) > 0;
        if (!sibling) AddFileWithSiblings(f, &out, &seen);
      }
      continue;
    }
    AddFileWithSiblings(fs::path(p), &out, &seen);
  }
  return out;
}

std::vector<std::string> DefaultLogPaths() {
  std::vector<std::string> out;
  for (const char* p :
       {"/var/log/syslog", "/var/log/messages", "/var/log/kern.log", "/var/log/auth.log",
        "/var/log/daemon.log", "/var/log/mail.log", "/var/log/maillog",
        "/var/log/apache2/error.log", "/var/log/httpd/error_log", "/var/log/nginx/error.log",
        "/var/log/mysql/error.log"}) {
    std::error_code ec;
    if (fs::exists(p, ec)) out.push_back(p);
  }
  std::error_code ec;
  for (fs::directory_iterator it("/var/log/postgresql", ec), end; !ec && it != end;
       it.increment(ec))
    if (it->path().extension() == ".log") out.push_back(it->path().string());
  return out;
}

// ------------------------------------------------------------ diagnoser

namespace {

enum class EventKind { kBoot, kWeakBoot, kShutdown, kMention };

struct Event {
  EventKind kind;
  std::optional<WallTime> time;
  uint64_t seq = 0;
  uint32_t source = 0;
  std::string what;  // mentions
  Evidence evidence;
  std::optional<Evidence> before;  // boots: the last line before, same log
};

struct Marker {
  std::string_view needle;  // cheap prefilter
  std::unique_ptr<RE2> re;
  EventKind kind;
};

struct MentionRule {
  std::string_view needle;
  std::unique_ptr<RE2> re;  // one named group
  std::string label;        // fmt pattern with {}
};

std::unique_ptr<RE2> Re(std::string_view pattern) {
  RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(1 << 20);
  return std::make_unique<RE2>(pattern, o);
}

Evidence MakeEvidence(const std::string& file, uint64_t line, std::string_view text,
                      std::optional<WallTime> t) {
  Evidence e;
  e.file = file;
  e.line = line;
  e.text = std::string(text.substr(0, kMaxEvidenceText));
  e.time = t;
  return e;
}

// "messages.1.gz" and "messages" are one log for correlation.
std::string LogGroup(const std::string& path) {
  std::string s = path;
  if (EndsWith(s, ".gz")) s.resize(s.size() - 3);
  size_t cut = s.find_last_of(".-");
  if (cut != std::string::npos && cut + 1 < s.size() &&
      std::all_of(s.begin() + static_cast<long>(cut) + 1, s.end(),
                  [](char c) { return c >= '0' && c <= '9'; }))
    s.resize(cut);
  return s;
}

const char* kUncleanExplanation =
    "The machine booted again without a clean shutdown being logged first: power was cut, "
    "the kernel crashed or the host was reset. Whatever was being written at that moment "
    "(a mailbox, a database table, a lock, mutex or pid file) may be damaged or stale, and "
    "services that keep such files can refuse to start.";

}  // namespace

bool LooksLikeError(std::string_view line) {
  static constexpr std::string_view kWords[] = {
      "error",  "fail",     "fatal",    "panic", "corrupt", "denied", "refused",   "cannot",
      "unable", "segfault", "critical", "emerg", "abort",   "crash",  "timed out", "-err"};
  std::string lower(line.substr(0, 2048));
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto w : kWords)
    if (lower.find(w) != std::string::npos) return true;
  return false;
}

std::vector<RunbookStep> DefaultUncleanShutdownRunbook() {
  return {
      {"Find stale lock, mutex and pid files older than the boot (they block restarts)",
       "find /tmp /var/run /run /var/lock -maxdepth 2 \\( -name '*.pid' -o -name '*.lock' -o "
       "-name '*mutex*' -o -name 'mpmtx*' -o -name '*.sock' \\) ! -newer /proc/1 -ls 2>/dev/null",
       StepRisk::kReadOnly, "the files listed belong to services that are not running"},
      {"Check that every service enabled at boot is running",
       "systemctl --failed 2>/dev/null || service -e", StepRisk::kReadOnly,
       "no failed units; every expected service listed"},
      {"Inspect the suspects named above (the last mailbox, table or file in use before the "
       "cut) for damage",
       "head -c 512 /var/mail/USER | od -c | head; mysqlcheck --all-databases --check",
       StepRisk::kReadOnly, "the mailbox starts with 'From '; the tables check OK"},
      {"Take a snapshot or backup first, then remove the stale files found in step 1 and start "
       "the services again",
       "rm -i STALE_FILES && systemctl start SERVICE", StepRisk::kDestructive,
       "the services start and stay up"},
  };
}

namespace {

// The log a line came from as one shell word for a runbook command: the
// journal as a process substitution, a path quoted when it needs it.
std::string LogFileWord(const std::string& file) {
  if (file.empty() || file == "journal") return "<(journalctl --no-pager)";
  // Absolute, so the command works from any directory the operator is in.
  std::error_code ec;
  std::string path = std::filesystem::absolute(file, ec).lexically_normal().string();
  if (ec) path = file;
  bool plain = std::all_of(path.begin(), path.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '/' || c == '.' || c == '_' || c == '-' || c == '+';
  });
  if (plain) return path;
  std::string out = "'";
  for (char c : path) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

struct Diagnoser::Impl {
  const SignatureScanner& scanner;
  DiagnoserOptions options;
  ScanSession session;
  std::vector<Match> matches;
  std::map<uint32_t, Finding> findings;
  std::map<uint32_t, std::set<std::string>> summaries;
  // Per finding, the fields of its latest line and the log it was read from:
  // they fill the runbook's placeholders when the report is built.
  std::map<uint32_t, std::vector<Field>> latest_fields;

  std::vector<Marker> markers;
  std::vector<MentionRule> mentions;
  std::vector<Event> events;
  uint64_t seq = 0;

  std::vector<std::string> sources;
  uint32_t source = 0;
  std::optional<WallTime> source_time;
  std::unordered_map<std::string, std::optional<Evidence>> last_line_by_group;
  // The last line of each group written in an earlier second than the line
  // after it: a boot's own first lines (syslogd restarting, klogd starting)
  // share the banner's second and are not "the last line before the boot".
  std::unordered_map<std::string, std::optional<Evidence>> last_earlier_by_group;
  std::string group;

  TemplateMiner miner;
  std::map<TemplateMiner::Id, NovelFinding> novel;

  Impl(const SignatureScanner& s, DiagnoserOptions o)
      : scanner(s), options(o), session(s), miner(MinerOptions{4096, 128, 5000, 0.5}) {
    markers.push_back({"Linux version", Re(R"(Linux version \d)"), EventKind::kBoot});
    markers.push_back({"The FreeBSD Project", Re(R"(Copyright \(c\) 1992-\d+ The FreeBSD Project)"),
                       EventKind::kBoot});
    markers.push_back({"kernel boot file is", Re(R"(kernel boot file is)"), EventKind::kBoot});
    markers.push_back({"running in system mode",
                       Re(R"(systemd\[1\]: systemd \d+ running in system mode)"),
                       EventKind::kBoot});
    markers.push_back({"restart", Re(R"(syslogd[^:]*: restart)"), EventKind::kWeakBoot});
    markers.push_back({"Journal started", Re(R"(Journal started)"), EventKind::kWeakBoot});
    markers.push_back({"rsyslogd", Re(R"(rsyslogd.*\] start$)"), EventKind::kWeakBoot});
    markers.push_back({"exiting on signal", Re(R"(exiting on signal \d+)"), EventKind::kShutdown});
    markers.push_back({"Reached target",
                       Re(R"(Reached target .*(Shutdown|Reboot|Power-Off|Halt|Final Step|Kexec))"),
                       EventKind::kShutdown});
    markers.push_back(
        {"Stopped target", Re(R"(systemd\[1\]: Stopped target)"), EventKind::kShutdown});
    markers.push_back({"hutting down",
                       Re(R"((?i)shutting down for system|systemd\[1\]: Shutting down)"),
                       EventKind::kShutdown});
    markers.push_back(
        {" by ", Re(R"((rebooted|halted|power-down|powered off) by \S+)"), EventKind::kShutdown});
    markers.push_back({"going down", Re(R"(System is going down)"), EventKind::kShutdown});

    mentions.push_back({"popper", Re(R"(q?popper\[\d+\]: .*Stats: (\S+))"),
                        "mailbox of {} (last POP session, qpopper)"});
    mentions.push_back({"popper", Re(R"(q?popper\[\d+\]: .*POP login by user \"([^\"]+)\")"),
                        "mailbox of {} (last POP session, qpopper)"});
    mentions.push_back({"popper", Re(R"(q?popper\[\d+\]: ([^\s@:()]+) at \S+ \()"),
                        "mailbox of {} (last POP session, qpopper)"});
    mentions.push_back({"(", Re(R"((?:pop3|imap)\(([^)<>\s]+)\))"),
                        "mailbox of {} (last IMAP/POP session, dovecot)"});
    mentions.push_back({".ibd", Re(R"('(\./[^']+\.ibd)')"), "InnoDB table file {}"});
    mentions.push_back({"Table '", Re(R"(Table '([^']+)')"), "table {}"});
  }

  void Mention(std::string what, const Evidence& ev) {
    // Consecutive mentions of the same thing within a minute are one, shown
    // by its latest line (the end of a session is when a mailbox is written).
    if (!events.empty()) {
      Event& last = events.back();
      if (last.kind == EventKind::kMention && last.what == what && last.source == source &&
          (!ev.time || !last.time || *ev.time - *last.time < std::chrono::minutes(1))) {
        if (ev.time && last.time && *ev.time >= *last.time) {
          last.time = ev.time;
          last.evidence = ev;
        }
        return;
      }
    }
    Push(Event{EventKind::kMention, ev.time, seq, source, std::move(what), ev, std::nullopt});
  }

  void Push(Event e) {
    if (events.size() >= kMaxEvents) {
      // Keep markers; drop the older half of the mentions.
      std::vector<Event> kept;
      size_t mentions_seen = 0, total_mentions = 0;
      for (const auto& x : events) total_mentions += x.kind == EventKind::kMention;
      for (auto& x : events) {
        if (x.kind == EventKind::kMention && mentions_seen++ < total_mentions / 2 + 1) continue;
        kept.push_back(std::move(x));
      }
      events = std::move(kept);
      if (events.size() >= kMaxEvents) return;
    }
    events.push_back(std::move(e));
  }
};

Diagnoser::Diagnoser(const SignatureScanner& scanner, DiagnoserOptions options) {
  if (options.now == WallTime{}) options.now = std::chrono::system_clock::now();
  impl_ = std::make_unique<Impl>(scanner, options);
}

Diagnoser::~Diagnoser() = default;

void Diagnoser::BeginSource(std::string name) {
  Impl& m = *impl_;
  m.source = static_cast<uint32_t>(m.sources.size());
  m.sources.push_back(name);
  report_.sources.push_back(name);
  std::string group = LogGroup(name);
  if (group != m.group) m.source_time.reset();
  m.group = group;
}

void Diagnoser::AddLine(uint64_t number, std::string_view text, std::optional<WallTime> time) {
  Impl& m = *impl_;
  ++report_.lines;
  ++m.seq;
  if (!time) time = ParseLogTime(text, m.options.now);
  if (time)
    m.source_time = time;
  else
    time = m.source_time;
  const std::string& file = m.sources.empty() ? std::string() : m.sources[m.source];

  // Correlation markers (all lines, --since applies to findings only).
  bool marker = false;
  for (const auto& mk : m.markers) {
    if (text.find(mk.needle) == std::string_view::npos) continue;
    if (!RE2::PartialMatch(text, *mk.re)) continue;
    Event e{mk.kind,     time, m.seq, m.source, "", MakeEvidence(file, number, text, time),
            std::nullopt};
    if (mk.kind != EventKind::kShutdown) {
      const auto& last = m.last_line_by_group[m.group];
      const auto& earlier = m.last_earlier_by_group[m.group];
      e.before = last;
      if (time && last && last->time && *last->time >= *time && earlier) e.before = earlier;
    }
    m.Push(std::move(e));
    marker = mk.kind != EventKind::kShutdown;
    break;
  }
  if (!marker) {
    auto& last = m.last_line_by_group[m.group];
    if (last && last->time && time && *last->time < *time) m.last_earlier_by_group[m.group] = last;
    last = MakeEvidence(file, number, text, time);
  }
  for (const auto& mr : m.mentions) {
    if (text.find(mr.needle) == std::string_view::npos) continue;
    std::string v;
    if (RE2::PartialMatch(text, *mr.re, &v) && !v.empty())
      m.Mention(fmt::format(fmt::runtime(mr.label), v.substr(0, 200)),
                MakeEvidence(file, number, text, time));
  }

  const bool recent = InWindow(m.options, time);
  if (!recent) return;
  m.session.Scan(text, &m.matches);
  if (m.matches.empty()) {
    if (LooksLikeError(text)) {
      TemplateMiner::Id id = m.miner.Add(text);
      NovelFinding& n = m.novel[id];
      ++n.count;
      if (time) {
        if (!n.first_seen || *time < *n.first_seen) n.first_seen = time;
        if (!n.last_seen || *time > *n.last_seen) n.last_seen = time;
      }
      if (n.evidence.size() < 2) n.evidence.push_back(MakeEvidence(file, number, text, time));
    }
    return;
  }
  ++report_.matched_lines;
  for (const auto& match : m.matches) {
    const Signature& sig = m.scanner.signature(match.signature);
    Finding& f = m.findings[match.signature];
    if (f.count == 0) {
      f.signature = sig.id;
      f.component = sig.component;
      f.severity = sig.severity;
      f.explanation = sig.explanation;
      f.causes = sig.causes;
      f.runbook = sig.runbook;
    }
    ++f.count;
    f.last_seq = m.seq;
    std::string summary = RenderSummary(sig.summary, match.fields);
    auto& variants = m.summaries[match.signature];
    if (variants.size() < 100) variants.insert(summary);
    f.summary = summary;
    auto& latest = m.latest_fields[match.signature];
    latest = match.fields;
    latest.push_back({std::string(kLogFileField), LogFileWord(file)});
    if (time) {
      if (!f.first_seen || *time < *f.first_seen) f.first_seen = time;
      if (!f.last_seen || *time > *f.last_seen) f.last_seen = time;
    }
    Evidence ev = MakeEvidence(file, number, text, time);
    // The first lines and always the latest one.
    if (f.evidence.size() + 1 < m.options.max_evidence || f.evidence.empty())
      f.evidence.push_back(std::move(ev));
    else if (m.options.max_evidence > 0)
      f.evidence.back() = std::move(ev);
    for (const auto& field : match.fields) {
      if (field.name == "mailbox" || field.name == "table" || field.name == "file" ||
          field.name == "path" || field.name == "database")
        m.Mention(fmt::format("{} {} ({})", field.name, field.value.substr(0, 200), sig.component),
                  MakeEvidence(file, number, text, time));
    }
  }
}

DiagnoseReport Diagnoser::Finish() {
  Impl& m = *impl_;

  // ---- unclean shutdowns: one ordered walk per timeline.
  std::vector<const Event*> timed;
  std::map<uint32_t, std::vector<const Event*>> untimed;
  for (const auto& e : m.events) {
    if (e.time)
      timed.push_back(&e);
    else
      untimed[e.source].push_back(&e);
  }
  std::stable_sort(timed.begin(), timed.end(), [](const Event* a, const Event* b) {
    return *a->time != *b->time ? *a->time < *b->time : a->seq < b->seq;
  });
  Finding unclean;
  const Signature* rule = m.scanner.rules().Find(kUncleanShutdownId);
  unclean.signature = std::string(kUncleanShutdownId);
  unclean.component = rule ? rule->component : "system";
  unclean.severity = rule ? rule->severity : Severity::kWarning;
  unclean.explanation = rule ? rule->explanation : kUncleanExplanation;
  if (rule) unclean.causes = rule->causes;
  unclean.runbook = rule ? rule->runbook : DefaultUncleanShutdownRunbook();

  auto walk = [&](const std::vector<const Event*>& tl) {
    bool clean = false;
    const Event* episode = nullptr;
    std::vector<const Event*> recent_mentions;
    for (const Event* e : tl) {
      switch (e->kind) {
        case EventKind::kShutdown:
          clean = true;
          break;
        case EventKind::kMention:
          recent_mentions.push_back(e);
          break;
        case EventKind::kBoot:
        case EventKind::kWeakBoot: {
          bool same = false;
          if (episode) {
            if (e->time && episode->time)
              same = *e->time - *episode->time <= kBootEpisode;
            else
              same = e->source == episode->source && e->seq - episode->seq < 500;
          }
          if (same || e->kind == EventKind::kWeakBoot) break;
          episode = e;
          // The last line written before the boot is the latest of its own
          // log's and of the lines the other logs mention on the timeline
          // (a mail log often outlives a quiet syslog).
          std::optional<Evidence> latest = e->before;
          for (auto it = recent_mentions.rbegin(); e->time && it != recent_mentions.rend(); ++it) {
            const Evidence& ev = (*it)->evidence;
            if (!ev.time || *ev.time >= *e->time) continue;
            if (!latest || (latest->time && *ev.time > *latest->time)) latest = ev;
            break;
          }
          if (!clean && latest) {
            const Evidence& before = *latest;
            bool in_range = InWindow(m.options, e->time);
            if (in_range) {
              ++unclean.count;
              unclean.last_seq = e->seq;
              if (e->time) {
                if (!unclean.first_seen) unclean.first_seen = e->time;
                unclean.last_seen = e->time;
              }
              // Suspects: the latest of each thing used in the hour before
              // the last line written before the boot.
              std::vector<Suspect> suspects;
              std::set<std::string> seen;
              for (auto it = recent_mentions.rbegin();
                   it != recent_mentions.rend() && suspects.size() < kMaxSuspects; ++it) {
                const Event* me = *it;
                if (before.time && me->time && *me->time + kSuspectWindow < *before.time) break;
                if (!seen.insert(me->what).second) continue;
                suspects.push_back({me->what, me->evidence});
              }
              unclean.suspects = suspects;
              std::string when = e->time
                                     ? FormatLocalTime(*e->time, "%Y-%m-%d %H:%M:%S")
                                     : e->evidence.file + ":" + std::to_string(e->evidence.line);
              std::string last = before.time ? FormatLocalTime(*before.time, "%H:%M:%S")
                                             : before.file + ":" + std::to_string(before.line);
              unclean.summary = fmt::format(
                  "unclean shutdown: booted at {} with no clean shutdown after the last line at {}",
                  when, last);
              if (!suspects.empty()) unclean.summary += "; suspect: " + suspects.front().what;
              auto add = [&](const Evidence& ev) {
                if (unclean.evidence.size() >= std::max<size_t>(m.options.max_evidence, 2)) {
                  unclean.evidence.erase(unclean.evidence.begin());
                }
                unclean.evidence.push_back(ev);
              };
              for (auto it = suspects.rbegin(); it != suspects.rend(); ++it)
                if (it->evidence.file != before.file || it->evidence.line != before.line)
                  add(it->evidence);
              add(before);
              add(e->evidence);
            }
          }
          clean = false;
          recent_mentions.clear();
          break;
        }
      }
    }
  };
  walk(timed);
  for (auto& [src, tl] : untimed) walk(tl);

  // ---- findings, ranked.
  for (auto& [idx, f] : m.findings) {
    size_t variants = m.summaries[idx].size();
    if (variants > 1) f.summary += fmt::format(" (and {} similar)", variants - 1);
    f.runbook = RenderRunbook(f.runbook, m.latest_fields[idx]);
    report_.findings.push_back(std::move(f));
  }
  if (unclean.count > 0) report_.findings.push_back(std::move(unclean));
  std::stable_sort(report_.findings.begin(), report_.findings.end(),
                   [](const Finding& a, const Finding& b) {
                     if (a.severity != b.severity) return a.severity > b.severity;
                     if (a.last_seen && b.last_seen && *a.last_seen != *b.last_seen)
                       return *a.last_seen > *b.last_seen;
                     if (a.last_seen.has_value() != b.last_seen.has_value())
                       return a.last_seen.has_value();
                     return a.last_seq > b.last_seq;
                   });

  for (auto& [id, n] : m.novel) {
    n.template_text = id == TemplateMiner::kOverflowId ? "<overflow>" : m.miner.Template(id);
    report_.novel.push_back(std::move(n));
  }
  std::stable_sort(report_.novel.begin(), report_.novel.end(),
                   [](const NovelFinding& a, const NovelFinding& b) { return a.count > b.count; });
  if (report_.novel.size() > m.options.max_novel) report_.novel.resize(m.options.max_novel);
  return std::move(report_);
}

void DiagnoseFiles(const std::vector<std::string>& files, Diagnoser* d) {
  for (const auto& f : files) {
    auto r = LineReader::Open(f);
    if (!r.ok()) {
      d->AddProblem("cannot read " + r.error().message());
      continue;
    }
    d->BeginSource(f);
    Line line;
    while ((*r)->Next(&line)) d->AddLine(line.number, line.text);
    if (!(*r)->status().ok()) d->AddProblem("reading " + (*r)->status().error().message());
  }
}

void DiagnoseJournal(std::optional<WallTime> since, size_t max_entries, Diagnoser* d) {
  auto j = JournalReader::OpenLocal();
  if (!j.ok()) {
    d->AddNote(j.error().message());
    return;
  }
  Status s = since ? (*j)->SeekSince(*since) : Status::Ok();
  if (!s.ok()) {
    d->AddProblem(s.error().message());
    return;
  }
  d->BeginSource("journal");
  uint64_t n = 0;
  auto r = (*j)->Read(max_entries, [&](const JournalEntry& e) {
    std::string text = e.identifier.empty()
                           ? e.message
                           : fmt::format("{}[{}]: {}", e.identifier, e.pid, e.message);
    d->AddLine(++n, text, e.time);
  });
  if (!r.ok()) d->AddProblem(r.error().message());
}

}  // namespace mamori::logs
