#include "mamori/backup/restore.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <span>

#include "mamori/util/subprocess.h"
#include "mamori/util/units.h"

namespace mamori::backup {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr size_t kChunk = 1 << 16;
constexpr size_t kMaxLine = 1 << 20;  // longer lines are skipped, not buffered
constexpr size_t kTail = 2000;

std::string Tail(const std::string& s) {
  std::string t = s.size() > kTail ? "..." + s.substr(s.size() - kTail) : s;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  return t;
}

std::string LastLine(const std::string& s) {
  std::string t = Tail(s);
  auto nl = t.rfind('\n');
  std::string line = nl == std::string::npos ? t : t.substr(nl + 1);
  if (line.size() > 200) line = line.substr(0, 200) + "...";
  return line;
}

std::string Tool(const RestoreSpec& spec, const std::string& name) {
  return spec.bin_dir.empty() ? name : (fs::path(spec.bin_dir) / name).string();
}

// Streams the decompressed bytes of a plain or gzip file (gzread is
// transparent on uncompressed input) or of a zstd file.
class DecompressedReader {
 public:
  static Result<std::unique_ptr<DecompressedReader>> Open(const fs::path& p,
                                                          DumpShape::Compression c) {
    auto r = std::unique_ptr<DecompressedReader>(new DecompressedReader());
    r->zstd_ = c == DumpShape::Compression::kZstd;
    if (r->zstd_) {
      r->file_.open(p, std::ios::binary);
      if (!r->file_)
        return Error(fmt::format("cannot open {}: {}", p.string(), std::strerror(errno)));
      r->dctx_ = ZSTD_createDStream();
      if (!r->dctx_) return Error("out of memory");
      ZSTD_initDStream(r->dctx_);
      r->in_buf_.resize(ZSTD_DStreamInSize());
    } else {
      r->gz_ = gzopen(p.c_str(), "rb");
      if (!r->gz_)
        return Error(fmt::format("cannot open {}: {}", p.string(), std::strerror(errno)));
    }
    return r;
  }
  ~DecompressedReader() {
    if (gz_) gzclose(gz_);
    if (dctx_) ZSTD_freeDStream(dctx_);
  }
  // Bytes read into `out` (0 at the end), or an error.
  Result<size_t> Read(char* out, size_t cap) {
    if (!zstd_) {
      int n = gzread(gz_, out, static_cast<unsigned>(cap));
      if (n < 0) {
        int err = 0;
        const char* msg = gzerror(gz_, &err);
        return Error(std::string("gzip: ") + (msg ? msg : "read error"));
      }
      return static_cast<size_t>(n);
    }
    ZSTD_outBuffer ob{out, cap, 0};
    while (ob.pos == 0) {
      if (in_.pos == in_.size) {
        file_.read(in_buf_.data(), static_cast<std::streamsize>(in_buf_.size()));
        const auto got = static_cast<size_t>(file_.gcount());
        if (got == 0) return size_t{0};
        in_ = ZSTD_inBuffer{in_buf_.data(), got, 0};
      }
      size_t rc = ZSTD_decompressStream(dctx_, &ob, &in_);
      if (ZSTD_isError(rc)) return Error(std::string("zstd: ") + ZSTD_getErrorName(rc));
    }
    return ob.pos;
  }

 private:
  DecompressedReader() = default;
  bool zstd_ = false;
  gzFile gz_ = nullptr;
  ZSTD_DStream* dctx_ = nullptr;
  std::ifstream file_;
  std::vector<char> in_buf_;
  ZSTD_inBuffer in_{nullptr, 0, 0};
};

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

// PostgreSQL plain dumps: only psql meta-commands and CREATE DATABASE switch
// (a COPY data line may start with any word). MariaDB dumps hold statements
// only, so USE at a line start is a statement.
std::optional<std::string> SwitchesDatabase(std::string_view line, SqlTarget::Kind kind) {
  size_t b = line.find_first_not_of(" \t");
  if (b == std::string_view::npos) return std::nullopt;
  std::string_view l = line.substr(b);
  static constexpr std::string_view kPg[] = {"\\connect", "\\c ", "create database"};
  static constexpr std::string_view kMy[] = {"use ", "use\t", "use`", "create database",
                                             "create schema"};
  const bool pg = kind == SqlTarget::Kind::kPostgres;
  for (std::string_view p :
       pg ? std::span<const std::string_view>(kPg) : std::span<const std::string_view>(kMy)) {
    if (StartsWithNoCase(l, p)) {
      std::string shown(l.substr(0, 120));
      while (!shown.empty() && (shown.back() == '\r' || shown.back() == '\n')) shown.pop_back();
      return shown;
    }
  }
  return std::nullopt;
}

Duration Left(MonoTime deadline, const Clock& clock) {
  return std::max<Duration>(deadline - clock.Monotonic(), Duration(0));
}

// Runs a restore tool reading `artifact` (decompressed if needed) on stdin,
// or given as an argument when `as_argument`.
Result<ProcessResult> RunTool(const RestoreSpec& spec, const fs::path& artifact, DumpShape shape,
                              std::vector<std::string> tool_argv,
                              std::vector<std::pair<std::string, std::string>> env,
                              bool as_argument, Duration timeout) {
  ProcessOptions o;
  o.env = std::move(env);
  o.merge_stderr = true;
  o.max_output = spec.max_output;
  o.timeout = timeout;
  if (as_argument && shape.compression == DumpShape::Compression::kNone) {
    o.argv = std::move(tool_argv);
    o.argv.push_back(artifact.string());
  } else {
    // bash: pipefail, so a corrupt gzip stream fails the restore even when
    // the tool accepts the truncated SQL it was fed.
    std::string script;
    if (shape.compression == DumpShape::Compression::kGzip)
      script = "set -o pipefail; gzip -dc -- \"$1\" | \"${@:2}\"";
    else if (shape.compression == DumpShape::Compression::kZstd)
      script = "set -o pipefail; zstd -dcq -- \"$1\" | \"${@:2}\"";
    else
      script = "exec \"${@:2}\" < \"$1\"";
    o.argv = {"bash", "-c", script, "mamori-restore", artifact.string()};
    o.argv.insert(o.argv.end(), tool_argv.begin(), tool_argv.end());
  }
  return RunProcess(o);
}

std::string DefaultName(const Assertion& a) {
  if (!a.name.empty()) return a.name;
  // "SELECT count(*) FROM users" -> "users"
  std::string q = a.query;
  std::string lower = q;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto from = lower.find(" from ");
  if (lower.rfind("select count(", 0) == 0 && from != std::string::npos) {
    std::string rest = q.substr(from + 6);
    size_t e = rest.find_first_of(" ;\n\t");
    rest = rest.substr(0, e);
    if (!rest.empty() && rest.size() <= 64) return rest;
  }
  return q.size() > 60 ? q.substr(0, 57) + "..." : q;
}

std::string Num(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{:.4g}", v);
}

AssertionOutcome Evaluate(const Assertion& a, const SqlTarget& scratch,
                          const std::optional<SqlTarget>& production, MonoTime deadline,
                          const Clock& clock) {
  AssertionOutcome out;
  out.name = DefaultName(a);
  const bool counts = a.name.empty() && out.name != a.query;
  auto v = QueryNumber(scratch, a.query, deadline, clock);
  if (!v.ok()) {
    out.text = fmt::format("{}: {}", out.name, v.error().message());
    return out;
  }
  out.value = *v;
  const std::string shown = counts ? fmt::format("{} {} rows", out.name, Num(*v))
                                   : fmt::format("{} = {}", out.name, Num(*v));
  std::vector<std::string> fails;
  if (a.min && *v < *a.min) fails.push_back(fmt::format("min {}", Num(*a.min)));
  if (a.max && *v > *a.max) fails.push_back(fmt::format("max {}", Num(*a.max)));
  if (a.within_percent_of_production) {
    if (!production) {
      fails.push_back("no server: to compare with");
    } else {
      auto p = QueryNumber(*production, a.query, deadline, clock);
      if (!p.ok()) {
        fails.push_back("production: " + p.error().message());
      } else {
        out.production = *p;
        const double pct = *a.within_percent_of_production;
        const double diff = std::fabs(*v - *p);
        const bool ok = *p == 0 ? *v == 0 : diff <= std::fabs(*p) * pct / 100.0;
        if (!ok) {
          fails.push_back(fmt::format("production has {}, {:.1f}% {}; within {}% expected", Num(*p),
                                      *p == 0 ? 100.0 : diff * 100.0 / std::fabs(*p),
                                      *v < *p ? "fewer" : "more", Num(pct)));
        }
      }
    }
  }
  out.passed = fails.empty();
  if (out.passed && out.production)
    return out.text = fmt::format("{} (production {})", shown, Num(*out.production)), out;
  out.text = fails.empty()
                 ? shown
                 : fmt::format("{} ({})", shown, fmt::format("{}", fmt::join(fails, "; ")));
  return out;
}

bool ValidScratchName(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

// Creates the scratch database, dropping a previous one only if mamori made it.
Status PrepareScratch(const RestoreSpec& spec, const SqlTarget& admin, MonoTime deadline,
                      const Clock& clock) {
  const auto kind = spec.target.kind;
  const std::string ident = QuoteIdent(spec.scratch, kind);
  const std::string lit = QuoteLiteral(spec.scratch);
  Result<std::optional<std::string>> existing =
      kind == SqlTarget::Kind::kPostgres
          ? QueryText(admin,
                      "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database "
                      "WHERE datname = " +
                          lit,
                      deadline, clock)
          : QueryText(
                admin,
                "SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = " + lit,
                deadline, clock);
  if (!existing.ok()) return existing.error();
  if (existing->has_value()) {
    if (**existing != kScratchMarker)
      return Error(
          fmt::format("{} {} already exists and was not created by mamori; refusing to drop it",
                      kind == SqlTarget::Kind::kPostgres ? "database" : "schema", spec.scratch));
    Status s = Execute(admin, "DROP DATABASE " + ident, deadline, clock);
    if (!s.ok()) return s;
  }
  if (kind == SqlTarget::Kind::kPostgres) {
    Status s = Execute(admin, "CREATE DATABASE " + ident, deadline, clock);
    if (!s.ok()) return s;
    return Execute(admin,
                   fmt::format("COMMENT ON DATABASE {} IS {}", ident, QuoteLiteral(kScratchMarker)),
                   deadline, clock);
  }
  return Execute(admin,
                 fmt::format("CREATE DATABASE {} COMMENT {}", ident, QuoteLiteral(kScratchMarker)),
                 deadline, clock);
}

}  // namespace

Result<DumpShape> SniffDump(const fs::path& artifact) {
  DumpShape shape;
  std::error_code ec;
  if (fs::is_directory(artifact, ec)) {
    if (!fs::exists(artifact / "toc.dat", ec))
      return Error(fmt::format("{} is a directory without toc.dat (not a pg_dump -Fd dump)",
                               artifact.string()));
    shape.pg_archive = shape.directory = true;
    return shape;
  }
  std::ifstream f(artifact, std::ios::binary);
  if (!f) return Error(fmt::format("cannot open {}: {}", artifact.string(), std::strerror(errno)));
  char head[512] = {};
  f.read(head, sizeof(head));
  const size_t n = static_cast<size_t>(f.gcount());
  auto starts = [&](std::string_view magic) {
    return n >= magic.size() && std::memcmp(head, magic.data(), magic.size()) == 0;
  };
  if (starts("\x1f\x8b"))
    shape.compression = DumpShape::Compression::kGzip;
  else if (starts("\x28\xb5\x2f\xfd"))
    shape.compression = DumpShape::Compression::kZstd;
  if (shape.compression == DumpShape::Compression::kNone) {
    shape.pg_archive = starts("PGDMP") || (n >= 262 && std::memcmp(head + 257, "ustar", 5) == 0);
    return shape;
  }
  auto reader = DecompressedReader::Open(artifact, shape.compression);
  if (!reader.ok()) return reader.error();
  char inner[8] = {};
  auto got = (*reader)->Read(inner, sizeof(inner));
  if (!got.ok()) return got.error().Wrap(artifact.string());
  shape.pg_archive = *got >= 5 && std::memcmp(inner, "PGDMP", 5) == 0;
  return shape;
}

Result<std::optional<std::string>> FindDatabaseSwitch(const fs::path& artifact, DumpShape shape,
                                                      SqlTarget::Kind kind, MonoTime deadline,
                                                      const Clock& clock) {
  auto reader = DecompressedReader::Open(artifact, shape.compression);
  if (!reader.ok()) return reader.error();
  std::vector<char> buf(kChunk);
  std::string line;
  bool skipping = false;  // inside an over-long line
  size_t chunks = 0;
  while (true) {
    auto n = (*reader)->Read(buf.data(), buf.size());
    if (!n.ok()) return n.error().Wrap(artifact.string());
    if (*n == 0) break;
    if (++chunks % 64 == 0 && clock.Monotonic() > deadline)
      return Error("ran out of time scanning the dump");
    for (size_t i = 0; i < *n; ++i) {
      char c = buf[i];
      if (c == '\n') {
        if (!skipping)
          if (auto s = SwitchesDatabase(line, kind)) return std::optional<std::string>(*s);
        line.clear();
        skipping = false;
      } else if (!skipping) {
        line.push_back(c);
        if (line.size() > kMaxLine) {
          line.clear();
          skipping = true;
        }
      }
    }
  }
  if (!skipping)
    if (auto s = SwitchesDatabase(line, kind)) return std::optional<std::string>(*s);
  return std::optional<std::string>();
}

RestoreOutcome RunRestore(const RestoreSpec& spec, const fs::path& artifact, MonoTime deadline,
                          const Clock& clock) {
  RestoreOutcome out;
  const std::string name = artifact.filename().string();
  // Keep a little time to drop the scratch database after a slow restore.
  const Duration reserve = std::min<Duration>(30s, Left(deadline, clock) / 10);
  const MonoTime work_deadline = deadline - reserve;

  if (spec.kind == RestoreSpec::Kind::kCommand) {
    ProcessOptions o;
    o.argv = spec.command;
    o.argv.push_back(artifact.string());
    o.env = {{"MAMORI_ARTIFACT", artifact.string()}, {"MAMORI_SCRATCH", spec.scratch}};
    o.merge_stderr = true;
    o.max_output = spec.max_output;
    o.timeout = Left(work_deadline, clock);
    const MonoTime start = clock.Monotonic();
    auto r = RunProcess(o);
    out.restore_duration = clock.Monotonic() - start;
    if (!r.ok()) {
      out.status = CheckStatus::kUnknown;
      out.summary = "restore command: " + r.error().message();
      return out;
    }
    out.details = Tail(r->out);
    if (r->timed_out) {
      out.status = CheckStatus::kUnknown;
      out.summary = fmt::format("restore command did not finish within {} (killed)",
                                FormatDuration(r->elapsed));
    } else if (r->exit_code != 0) {
      out.status = CheckStatus::kCritical;
      out.summary = fmt::format("restore command failed ({}{}) after {}: {}",
                                r->exited() ? "exit " : "signal ",
                                r->exited() ? r->exit_code : r->term_signal,
                                FormatDuration(out.restore_duration), LastLine(r->out));
    } else {
      out.restored = true;
      out.status = CheckStatus::kOk;
      out.summary = fmt::format("restore {}", FormatDuration(out.restore_duration));
    }
    return out;
  }

  const auto kind = spec.target.kind;
  const bool pg = kind == SqlTarget::Kind::kPostgres;
  if (!ValidScratchName(spec.scratch)) {
    out.summary = fmt::format("scratch name '{}' is not [A-Za-z0-9_]{{1,63}}", spec.scratch);
    return out;
  }
  // Where CREATE/DROP DATABASE run: the target's own database, never the scratch.
  SqlTarget admin = spec.target;
  if (pg && admin.EffectiveDatabase().empty()) admin.database = "postgres";
  if (admin.EffectiveDatabase() == spec.scratch) {
    out.summary =
        fmt::format("the restore target's own database is the scratch name '{}'", spec.scratch);
    return out;
  }
  const SqlTarget scratch = spec.target.WithDatabase(spec.scratch);

  auto shape = SniffDump(artifact);
  if (!shape.ok()) {
    out.status = CheckStatus::kCritical;
    out.summary = "cannot restore: " + shape.error().message();
    return out;
  }
  if (!pg && shape->pg_archive) {
    out.status = CheckStatus::kCritical;
    out.summary = fmt::format("{} is a PostgreSQL archive; it cannot restore into MariaDB", name);
    return out;
  }
  if (!shape->pg_archive) {
    auto sw = FindDatabaseSwitch(artifact, *shape, kind, work_deadline, clock);
    if (!sw.ok()) {
      out.summary = "cannot restore: " + sw.error().message();
      return out;
    }
    if (sw->has_value()) {
      out.summary = fmt::format(
          "refusing to restore {}: it switches databases ('{}') and would write outside the "
          "scratch {}",
          name, **sw, pg ? "database" : "schema");
      out.details = pg ? "dump a single database without -C (pg_dump -Fc shop), or use a restore "
                         "command"
                       : "dump the schema without --databases/--all-databases (mariadb-dump shop), "
                         "or use a restore command";
      return out;
    }
  }

  if (Status s = PrepareScratch(spec, admin, work_deadline, clock); !s.ok()) {
    out.summary = "cannot prepare the scratch database: " + s.error().message();
    return out;
  }

  auto [conn_args, env] = scratch.ClientArgs();
  std::vector<std::string> argv;
  bool as_argument = false;
  if (pg && shape->pg_archive) {
    argv = {Tool(spec, "pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"};
    argv.insert(argv.end(), conn_args.begin(), conn_args.end());
    as_argument = true;
  } else if (pg) {
    argv = {Tool(spec, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null"};
    argv.insert(argv.end(), conn_args.begin(), conn_args.end());
  } else {
    argv = {Tool(spec, "mariadb"), "--batch"};
    argv.insert(argv.end(), conn_args.begin(), conn_args.end());
    argv.push_back(spec.scratch);
  }
  if (pg) env.emplace_back("PGCONNECT_TIMEOUT", "30");
  const MonoTime start = clock.Monotonic();
  auto r = RunTool(spec, artifact, *shape, argv, env, as_argument,
                   std::max<Duration>(Left(work_deadline, clock), 1s));
  out.restore_duration = clock.Monotonic() - start;

  auto cleanup = [&] {
    if (spec.keep) return;
    Status s = Execute(admin, "DROP DATABASE " + QuoteIdent(spec.scratch, kind),
                       std::max(deadline, clock.Monotonic() + 10s), clock);
    if (!s.ok()) out.details += "\ncould not drop the scratch database: " + s.error().message();
  };

  const std::string tool = fs::path(argv[0]).filename().string();
  if (!r.ok()) {
    out.summary = "cannot run " + tool + ": " + r.error().message();
    cleanup();
    return out;
  }
  out.details = Tail(r->out);
  if (r->timed_out) {
    out.summary = fmt::format(
        "restore did not finish within {} ({} killed); it takes longer "
        "than the check's timeout",
        FormatDuration(r->elapsed), tool);
    cleanup();
    return out;
  }
  if (r->exit_code != 0) {
    out.status = CheckStatus::kCritical;
    out.summary =
        fmt::format("restore failed after {}: {} {}{}: {}", FormatDuration(out.restore_duration),
                    tool, r->exited() ? "exit " : "signal ",
                    r->exited() ? r->exit_code : r->term_signal, LastLine(r->out));
    cleanup();
    return out;
  }
  out.restored = true;
  out.status = CheckStatus::kOk;
  std::vector<std::string> parts{fmt::format("restore {}", FormatDuration(out.restore_duration))};
  for (const auto& a : spec.assertions) {
    AssertionOutcome ao = Evaluate(a, scratch, spec.production, work_deadline, clock);
    if (!ao.passed) out.status = CheckStatus::kCritical;
    parts.push_back(ao.text);
    out.details +=
        (out.details.empty() ? "" : "\n") + std::string(ao.passed ? "ok: " : "FAILED: ") + ao.text;
    out.assertions.push_back(std::move(ao));
  }
  out.summary = fmt::format("{}", fmt::join(parts, ", "));
  cleanup();
  return out;
}

}  // namespace mamori::backup
