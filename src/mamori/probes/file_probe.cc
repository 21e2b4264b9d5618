// Check type "file": a file (or every file matching a glob) exists or must
// not exist, and has the expected age, size, owner, group and mode.
//
// `exists: false` turns the check around: any match is CRITICAL. That is how
// stale lock and mutex files left by an unclean shutdown are caught
// (path: /tmp/mpmtx*, the Apache mutex that blocked a restart). A path with
// glob characters (* ? [) is expanded with glob(3); at most 1000 matches are
// examined. Ages are measured from the modification time against the wall
// clock; a file modified in the future counts as age 0.
//
// Every violation of every matched file is named in the summary (up to a
// few), so the operator sees what is wrong without a shell. stat(2) follows
// symlinks: a dangling symlink counts as missing. Stateless; thread-safe.
#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>

#include "mamori/check/registry.h"
#include "mamori/util/units.h"

namespace mamori::probes::file {
namespace {

constexpr size_t kMaxMatches = 1000;
constexpr size_t kMaxProblemsShown = 3;

struct Options {
  std::string path;
  bool exists = true;
  std::optional<Duration> max_age, min_age;
  std::optional<uint64_t> min_size, max_size;
  std::optional<std::string> owner, group;
  std::optional<unsigned> mode;
};

bool HasGlob(std::string_view p) { return p.find_first_of("*?[") != std::string_view::npos; }

std::string UserName(uid_t uid) {
  struct passwd pw {};
  struct passwd* out = nullptr;
  char buf[4096];
  if (::getpwuid_r(uid, &pw, buf, sizeof(buf), &out) == 0 && out) return pw.pw_name;
  return std::to_string(uid);
}

std::string GroupName(gid_t gid) {
  struct group gr {};
  struct group* out = nullptr;
  char buf[4096];
  if (::getgrgid_r(gid, &gr, buf, sizeof(buf), &out) == 0 && out) return gr.gr_name;
  return std::to_string(gid);
}

// `want` is a name or a numeric id; the file's id matches either way.
bool IdMatches(const std::string& want, unsigned id, const std::string& name) {
  unsigned n = 0;
  auto r = std::from_chars(want.data(), want.data() + want.size(), n);
  if (r.ec == std::errc() && r.ptr == want.data() + want.size()) return n == id;
  return want == name;
}

Duration Age(const struct stat& st, WallTime now) {
  auto mtime = WallTime(std::chrono::duration_cast<WallTime::duration>(
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
  auto age = std::chrono::duration_cast<Duration>(now - mtime);
  return age < Duration(0) ? Duration(0) : age;
}

class FileProbe final : public BlockingProbe {
 public:
  explicit FileProbe(Options o) : o_(std::move(o)) {}

  Observation Run(const Clock& clock, MonoTime) override {
    std::vector<std::string> paths;
    bool truncated = false;
    if (HasGlob(o_.path)) {
      glob_t g{};
      int rc = ::glob(o_.path.c_str(), GLOB_NOSORT, nullptr, &g);
      if (rc == 0) {
        for (size_t i = 0; i < g.gl_pathc; ++i) {
          if (paths.size() >= kMaxMatches) {
            truncated = true;
            break;
          }
          paths.emplace_back(g.gl_pathv[i]);
        }
        std::sort(paths.begin(), paths.end());
      }
      ::globfree(&g);
      if (rc != 0 && rc != GLOB_NOMATCH)
        return Observation::Make(CheckStatus::kUnknown,
                                 fmt::format("cannot expand {}: {}", o_.path,
                                             rc == GLOB_NOSPACE ? "out of memory" : "read error"));
    } else {
      paths.push_back(o_.path);
    }

    const WallTime now = clock.Now();
    std::vector<std::pair<std::string, struct stat>> found;
    for (const auto& p : paths) {
      struct stat st {};
      if (::stat(p.c_str(), &st) == 0) {
        found.emplace_back(p, st);
      } else if (errno != ENOENT && errno != ENOTDIR) {
        return Observation::Make(CheckStatus::kUnknown,
                                 fmt::format("cannot stat {}: {}", p, std::strerror(errno)));
      }
    }
    Observation obs;
    obs.AddMetric("count", static_cast<double>(found.size()));

    if (!o_.exists) {
      if (found.empty()) {
        obs.status = CheckStatus::kOk;
        obs.summary = HasGlob(o_.path) ? fmt::format("no file matches {}, as expected", o_.path)
                                       : fmt::format("{} does not exist, as expected", o_.path);
        return obs;
      }
      obs.status = CheckStatus::kCritical;
      std::vector<std::string> items;
      for (const auto& [p, st] : found) {
        items.push_back(fmt::format("{} ({} old)", p, FormatDuration(Age(st, now))));
        obs.details += fmt::format("{}\n", p);
      }
      obs.summary = fmt::format("{} should not exist: {}", o_.path, Join(items, truncated));
      return obs;
    }

    if (found.empty()) {
      obs.status = CheckStatus::kCritical;
      obs.summary = HasGlob(o_.path) ? fmt::format("no file matches {}", o_.path)
                                     : fmt::format("{} does not exist", o_.path);
      return obs;
    }
    std::vector<std::string> problems;
    for (const auto& [p, st] : found) {
      for (auto& problem : Problems(st, now)) problems.push_back(p + " " + problem);
    }
    if (found.size() == 1) {
      obs.AddMetric("age_seconds",
                    std::chrono::duration<double>(Age(found[0].second, now)).count());
      obs.AddMetric("size_bytes", static_cast<double>(found[0].second.st_size));
    }
    if (!problems.empty()) {
      obs.status = CheckStatus::kCritical;
      obs.summary = Join(problems, false);
      for (const auto& p : problems) obs.details += p + "\n";
      return obs;
    }
    obs.status = CheckStatus::kOk;
    if (found.size() == 1) {
      const auto& st = found[0].second;
      obs.summary =
          fmt::format("{}: {}, modified {} ago, {:04o} {}:{}", found[0].first,
                      FormatBytes(static_cast<uint64_t>(st.st_size)), FormatDuration(Age(st, now)),
                      st.st_mode & 07777, UserName(st.st_uid), GroupName(st.st_gid));
    } else {
      obs.summary = fmt::format("{} files match {}{}, all as expected", found.size(), o_.path,
                                truncated ? " (only the first 1000 examined)" : "");
    }
    return obs;
  }

 private:
  static std::string Join(const std::vector<std::string>& items, bool truncated) {
    std::string out;
    for (size_t i = 0; i < items.size() && i < kMaxProblemsShown; ++i)
      out += (i ? "; " : "") + items[i];
    if (items.size() > kMaxProblemsShown)
      out += fmt::format("; and {} more", items.size() - kMaxProblemsShown);
    if (truncated) out += " (stopped at 1000 files)";
    return out;
  }

  // What is wrong with one existing file, each as "is 26h old (max_age 25h)".
  std::vector<std::string> Problems(const struct stat& st, WallTime now) const {
    std::vector<std::string> out;
    Duration age = Age(st, now);
    if (o_.max_age && age > *o_.max_age)
      out.push_back(
          fmt::format("is {} old (max_age {})", FormatDuration(age), FormatDuration(*o_.max_age)));
    if (o_.min_age && age < *o_.min_age)
      out.push_back(fmt::format("was modified {} ago (min_age {})", FormatDuration(age),
                                FormatDuration(*o_.min_age)));
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (o_.min_size && size < *o_.min_size)
      out.push_back(
          fmt::format("is {} (min_size {})", FormatBytes(size), FormatBytes(*o_.min_size)));
    if (o_.max_size && size > *o_.max_size)
      out.push_back(
          fmt::format("is {} (max_size {})", FormatBytes(size), FormatBytes(*o_.max_size)));
    if (o_.owner) {
      std::string name = UserName(st.st_uid);
      if (!IdMatches(*o_.owner, st.st_uid, name))
        out.push_back(fmt::format("is owned by {} (expected {})", name, *o_.owner));
    }
    if (o_.group) {
      std::string name = GroupName(st.st_gid);
      if (!IdMatches(*o_.group, st.st_gid, name))
        out.push_back(fmt::format("has group {} (expected {})", name, *o_.group));
    }
    if (o_.mode && (st.st_mode & 07777) != *o_.mode)
      out.push_back(fmt::format("has mode {:04o} (expected {:04o})", st.st_mode & 07777, *o_.mode));
    return out;
  }

  Options o_;
};

// "0640", "640", "04755" -> bits; nullopt if not 3-4 octal digits (after an
// optional leading 0 on a 4-digit form).
std::optional<unsigned> ParseMode(std::string_view s) {
  if (s.size() < 3 || s.size() > 5) return std::nullopt;
  if (s.size() == 5 && s[0] != '0') return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '7') return std::nullopt;
    v = v * 8 + static_cast<unsigned>(c - '0');
  }
  return v <= 07777 ? std::optional<unsigned>(v) : std::nullopt;
}

std::unique_ptr<Probe> Build(config::ConfigNode& node) {
  Options o;
  bool ok = true;
  auto path = node.GetString("path");
  if (auto v = node.GetBool("exists")) o.exists = *v;
  ok &= node.GetOrdered(
      "min_age", "max_age", o.min_age, o.max_age, &config::ConfigNode::GetDuration, FormatDuration,
      {"min_age", "is longer than max_age", "min_age must be shorter than max_age"});
  ok &= node.GetOrdered(
      "min_size", "max_size", o.min_size, o.max_size, &config::ConfigNode::GetSize, FormatBytes,
      {"min_size", "is larger than max_size", "min_size must be at most max_size"});
  o.owner = node.GetString("owner");
  o.group = node.GetString("group");
  if (auto m = node.GetString("mode")) {
    o.mode = ParseMode(*m);
    if (!o.mode) {
      node.ErrorAt("mode", fmt::format("'{}' is not an octal file mode", *m),
                   "write 3 or 4 octal digits in quotes, such as \"0640\"");
      ok = false;
    }
  }
  if (!path) {
    node.Error("missing 'path'", "name the file to watch, e.g. path: /var/backups/db.sql.gz");
    ok = false;
  } else if (path->empty() || (*path)[0] != '/') {
    node.ErrorAt("path", fmt::format("'{}' is not an absolute path", *path),
                 "write the full path, starting with '/'");
    ok = false;
  } else {
    o.path = *path;
  }
  if (!o.exists) {
    for (const char* key :
         {"max_age", "min_age", "min_size", "max_size", "owner", "group", "mode"}) {
      if (node.Has(key)) {
        node.ErrorAt(key, "cannot be combined with exists: false",
                     "a file that must not exist has no attributes to check; remove this key");
        ok = false;
      }
    }
  }
  if (!ok) return nullptr;
  return std::make_unique<FileProbe>(std::move(o));
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("file", "a file exists (or must not), with age, size, owner and mode limits", Build);
}

}  // namespace mamori::probes::file
