// End-to-end tests of the one-shot commands (`check`, `config validate`,
// `doctor`, `check-types`, `--help`, `--version`): the real binary, real files,
// the exit codes and JSON shape scripts depend on.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "mamori/daemon/builtin_probes.h"
#include "mamori_source_dir.h"
#include "testing/cli.h"
#include "testing/nginx.h"
#include "testing/ports.h"

namespace mamori {
namespace {

using testing::RunMamori;
using testing::TempDir;

nlohmann::json ParseArray(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  EXPECT_TRUE(j.is_array()) << text;
  return j;
}

TEST(Cli, VersionAndHelp) {
  auto v = RunMamori({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("mamori ", 0), 0u) << v.out;
  auto h = RunMamori({"--help"});
  EXPECT_EQ(h.exit_code, 0);
  for (const char* verb : {"doctor", "check", "config", "run", "status", "check-types"})
    EXPECT_NE(h.out.find(verb), std::string::npos) << verb;
  for (const char* verb : {"check", "run", "status", "doctor"}) {
    auto sub = RunMamori({verb, "--help"});
    EXPECT_EQ(sub.exit_code, 0) << verb;
    EXPECT_NE(sub.out.find("Usage:"), std::string::npos) << verb;
  }
}

TEST(Cli, UsageErrorsExit64) {
  EXPECT_EQ(RunMamori({"no-such-verb"}).exit_code, 64);
  EXPECT_EQ(RunMamori({"check", "-c", "/nonexistent/mamori.yaml"}).exit_code, 64);
}

// A mistyped verb is named, the nearest verb suggested and all of them
// listed, instead of CLI11's "A subcommand is required".
TEST(Cli, UnknownVerbSuggestsTheNearestAndListsThem) {
  auto r = RunMamori({"stauts"});
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("mamori: unknown command 'stauts'; did you mean 'status'?"),
            std::string::npos)
      << r.err;
  for (const char* verb : {"doctor", "check", "run", "status", "diagnose", "notify", "baseline"})
    EXPECT_NE(r.err.find(std::string(" ") + verb), std::string::npos) << verb << "\n" << r.err;
  auto far = RunMamori({"xyzzyqwv", "--json"});
  EXPECT_EQ(far.exit_code, 64);
  EXPECT_NE(far.err.find("mamori: unknown command 'xyzzyqwv'\n"), std::string::npos) << far.err;
  EXPECT_EQ(far.err.find("did you mean"), std::string::npos) << far.err;
  EXPECT_EQ(RunMamori({"status", "--help"}).exit_code, 0);  // a real verb is not caught
}

// One rule for every verb: without -c, `check` runs the embedded default
// (the checks `doctor` runs), as `status` and `run` do.
TEST(Cli, CheckWithoutConfigUsesTheEmbeddedDefault) {
  auto r = RunMamori({"check", "--json", "--only", "memory"});
  EXPECT_GE(r.exit_code, 0) << r.err;
  EXPECT_LE(r.exit_code, 3) << r.err;
  auto j = ParseArray(r.out);
  ASSERT_EQ(j.size(), 1u) << r.out << r.err;
  EXPECT_EQ(j[0]["name"], "memory");
  EXPECT_EQ(j[0]["type"], "memory");
  auto bad = RunMamori({"check", "--only", "no-such-check"});
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_NE(bad.err.find("no check named 'no-such-check' in <embedded default>"), std::string::npos)
      << bad.err;
  EXPECT_NE(RunMamori({"check", "--help"}).out.find("default: the embedded default"),
            std::string::npos);
}

// `status --only` narrows what is shown exactly as `check --only` narrows
// what runs, with the same error for a name the configuration lacks.
TEST(Cli, StatusOnlyNarrowsLikeCheckOnly) {
  TempDir dir;
  dir.Write("a", "x");
  const std::string cfg = dir.Write(
      "mamori.yaml",
      "data_dir: ./data\ndefaults: {interval: 200ms, timeout: 150ms}\nchecks:\n"
      "  - {name: first, type: file, path: '" +
          dir.path() + "/a'}\n  - {name: second, type: file, path: '" + dir.path() + "/a'}\n");
  testing::DaemonProcess d({"-c", cfg}, dir.path() + "/daemon.log");
  nlohmann::json all;
  ASSERT_TRUE(testing::Eventually(
      [&] {
        all = nlohmann::json::parse(RunMamori({"status", "-c", cfg, "--json"}).out, nullptr, false);
        return all.is_array() && all.size() == 2 && all[0]["status"] == "ok" &&
               all[1]["status"] == "ok";
      },
      std::chrono::seconds(20)))
      << all << d.Log();
  auto only = RunMamori({"status", "-c", cfg, "--json", "--only", "second"});
  EXPECT_EQ(only.exit_code, 0) << only.err;
  auto j = ParseArray(only.out);
  ASSERT_EQ(j.size(), 1u) << only.out;
  EXPECT_EQ(j[0]["name"], "second");
  EXPECT_EQ(j[0]["status"], "ok");
  for (const char* verb : {"status", "check"}) {
    auto bad = RunMamori({verb, "-c", cfg, "--only", "thrid"});
    EXPECT_EQ(bad.exit_code, 3) << verb;
    EXPECT_EQ(bad.out, "") << verb;
    EXPECT_NE(bad.err.find("mamori: no check named 'thrid' in " + cfg), std::string::npos)
        << verb << ": " << bad.err;
  }
}

// A log named on the command line that does not exist is an error naming it
// (66, EX_NOINPUT), never "No known problem"; the readable ones are still
// reported.
TEST(Cli, DiagnoseOfAMissingFileIsAnError) {
  TempDir dir;
  const std::string rules = std::string(MAMORI_SOURCE_DIR) + "/rules";
  const std::string missing = dir.path() + "/no-such.log";
  auto r = RunMamori({"diagnose", "--rules", rules, "--data-dir", dir.path() + "/data", missing});
  EXPECT_EQ(r.exit_code, 66) << r.out << r.err;
  EXPECT_NE(r.err.find(missing + ": No such file or directory"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("No known problem"), std::string::npos) << r.out;

  const std::string good = dir.Write("app.log", "all quiet\n");
  auto mixed =
      RunMamori({"diagnose", "--rules", rules, "--data-dir", dir.path() + "/data", good, missing});
  EXPECT_EQ(mixed.exit_code, 66) << mixed.out << mixed.err;
  EXPECT_NE(mixed.err.find(missing + ": No such file or directory"), std::string::npos)
      << mixed.err;
  EXPECT_NE(mixed.out.find("1 line from 1 source"), std::string::npos) << mixed.out;
  EXPECT_EQ(
      RunMamori({"diagnose", "--rules", rules, "--data-dir", dir.path() + "/data", good}).exit_code,
      0);
}

// --version names the commit the build came from (one this checkout has) and
// the main libraries, one per line.
TEST(Cli, VersionNamesTheCommitAndTheLibraries) {
  auto v = RunMamori({"--version"});
  ASSERT_EQ(v.exit_code, 0);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(v.out, m, std::regex("(^|\n)commit ([0-9a-f]{7,40})\n"))) << v.out;
  const std::string git = "git -C '" + std::string(MAMORI_SOURCE_DIR) + "' ";
  ASSERT_EQ(std::system((git + "rev-parse -q --verify HEAD >/dev/null").c_str()), 0);
  EXPECT_EQ(std::system((git + "merge-base --is-ancestor " + m[2].str() + " HEAD").c_str()), 0)
      << m[2] << " is not in this checkout's history";
  for (const char* lib :
       {"libsystemd", "SQLite", "libcurl", "Hyperscan", "libarchive", "OpenSSL", "yaml-cpp"})
    EXPECT_TRUE(std::regex_search(v.out, std::regex(std::string("\n") + lib + " [0-9]")))
        << lib << "\n"
        << v.out;
  EXPECT_NE(v.out.find(std::string("\nSQLite ") + sqlite3_libversion() + "\n"), std::string::npos)
      << v.out;
  EXPECT_EQ(v.out.find("\n\n"), std::string::npos) << v.out;  // no blank line
}

TEST(Cli, CheckJsonShapeAndWorstStatusExitCode) {
  TempDir dir;
  dir.Write("present", "x");
  const std::string base =
      "checks:\n  - {name: here, type: file, path: '" + dir.path() + "/present'}\n";
  auto ok = RunMamori({"check", "-c", dir.Write("ok.yaml", base), "--json"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  auto j = ParseArray(ok.out);
  ASSERT_EQ(j.size(), 1u);
  std::set<std::string> keys;
  for (auto& [k, v] : j[0].items()) keys.insert(k);
  EXPECT_EQ(keys,
            (std::set<std::string>{"name", "type", "status", "summary", "duration_ms", "metrics"}));
  EXPECT_EQ(j[0]["name"], "here");
  EXPECT_EQ(j[0]["type"], "file");
  EXPECT_EQ(j[0]["status"], "ok");
  EXPECT_TRUE(j[0]["duration_ms"].is_number());
  EXPECT_TRUE(j[0]["metrics"].is_object());

  // Any real filesystem has more than 0.0001% in use.
  auto warn = RunMamori(
      {"check", "-c",
       dir.Write(
           "warn.yaml",
           base + "  - {name: root, type: disk, path: /, warning: 0.0001%, critical: 100%}\n")});
  EXPECT_EQ(warn.exit_code, 1) << warn.out << warn.err;
  EXPECT_NE(warn.out.find("WARNING"), std::string::npos) << warn.out;
  auto crit = RunMamori({"check", "-c",
                         dir.Write("crit.yaml", base + "  - {name: gone, type: file, path: '" +
                                                    dir.path() + "/absent'}\n"),
                         "--json"});
  EXPECT_EQ(crit.exit_code, 2) << crit.out << crit.err;
  auto cj = ParseArray(crit.out);
  ASSERT_EQ(cj.size(), 2u);
  EXPECT_EQ(cj[1]["status"], "critical");
  EXPECT_NE(cj[1]["summary"].get<std::string>().find("does not exist"), std::string::npos);

  // A plugin that cannot tell is UNKNOWN (3), and UNKNOWN outranks nothing
  // but OK: critical beats it.
  const std::string unknown =
      "  - {name: cannot-tell, type: command, command: [/bin/sh, -c, 'echo UNKNOWN - no data; exit "
      "3']}\n";
  auto u = RunMamori({"check", "-c", dir.Write("unknown.yaml", base + unknown), "--json"});
  EXPECT_EQ(u.exit_code, 3) << u.out << u.err;
  auto both =
      RunMamori({"check", "-c",
                 dir.Write("both.yaml", base + unknown + "  - {name: gone, type: file, path: '" +
                                            dir.path() + "/absent'}\n")});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.out.find("CRITICAL"), std::string::npos) << both.out;
  EXPECT_NE(both.out.find("UNKNOWN"), std::string::npos) << both.out;

  // --only narrows the run.
  auto only = RunMamori({"check", "-c", dir.path() + "/both.yaml", "--json", "--only", "here"});
  EXPECT_EQ(only.exit_code, 0) << only.out;
  EXPECT_EQ(ParseArray(only.out).size(), 1u);
}

TEST(Cli, ConfigValidateReportsEveryErrorWithPosition) {
  TempDir dir;
  auto ok = RunMamori(
      {"config", "validate", "-c",
       dir.Write("ok.yaml",
                 "checks:\n  - {name: root, type: disk, path: /, warning: 80%, critical: 90%}\n")});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;

  const std::string bad_path = dir.Write("bad.yaml",
                                         "defaults: {interval: 5 minutes}\n"
                                         "checks:\n"
                                         "  - {name: root, type: disk, path: /, warnign: 80%}\n"
                                         "  - {name: web, type: htpp, url: 'http://127.0.0.1/'}\n");
  auto bad = RunMamori({"config", "validate", "-c", bad_path});
  EXPECT_EQ(bad.exit_code, 78);
  const std::string all = bad.out + bad.err;
  EXPECT_NE(all.find(bad_path + ":1:22:"), std::string::npos) << all;  // the duration
  EXPECT_NE(all.find(bad_path + ":3:39:"), std::string::npos) << all;  // warnign
  EXPECT_NE(all.find("did you mean 'warning'"), std::string::npos) << all;
  EXPECT_NE(all.find("did you mean 'http'"), std::string::npos) << all;
  EXPECT_NE(all.find("3 errors"), std::string::npos) << all;
}

// For `check`, a broken config means "could not tell": UNKNOWN (3), the
// Nagios convention, so a wrapper script never mistakes it for a healthy run.
TEST(Cli, CheckRefusesAnInvalidConfigWithoutRunningAnything) {
  TempDir dir;
  auto r =
      RunMamori({"check", "-c", dir.Write("bad.yaml", "checks:\n  - {name: a, type: disk}\n")});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("bad.yaml:2:"), std::string::npos) << r.err;
}

TEST(Cli, HttpCheckAgainstRealNginx) {
  std::string error;
  auto nginx = testing::NginxServer::Start({}, &error);
  ASSERT_TRUE(nginx) << error;
  TempDir dir;
  auto r = RunMamori(
      {"check", "--json", "-c",
       dir.Write(
           "web.yaml",
           "checks:\n"
           "  - {name: home, type: http, url: '" +
               nginx->Url("/") +
               "'}\n"
               "  - {name: db-error, type: http, url: '" +
               nginx->Url("/dberror") +
               "', expect: {body_not_contains: ['Error establishing a database connection']}}\n")});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  auto j = ParseArray(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["status"], "ok");
  EXPECT_EQ(j[0]["metrics"]["status_code"], 200);
  EXPECT_EQ(j[1]["status"], "critical");
  EXPECT_EQ(nginx->AccessCount(), 2u);
}

TEST(Cli, DoctorChecksThisMachineWithoutConfig) {
  auto r = RunMamori({"doctor", "--json"});
  EXPECT_GE(r.exit_code, 0);
  EXPECT_LE(r.exit_code, 3);
  auto j = ParseArray(r.out);
  std::set<std::string> types;
  for (auto& c : j) {
    types.insert(c["type"].get<std::string>());
    EXPECT_FALSE(c["summary"].get<std::string>().empty());
  }
  for (const char* t : {"disk", "memory", "load", "listening", "baseline"})
    EXPECT_TRUE(types.count(t)) << t;
  // Nagios order for the exit code: critical (2) outranks unknown (3).
  bool any_crit = false, any_unknown = false, any_warn = false;
  for (auto& c : j) {
    any_crit |= c["status"] == "critical";
    any_unknown |= c["status"] == "unknown";
    any_warn |= c["status"] == "warning";
  }
  const int expected = any_crit ? 2 : any_unknown ? 3 : any_warn ? 1 : 0;
  EXPECT_EQ(r.exit_code, expected) << r.out;
  auto table = RunMamori({"doctor"});
  EXPECT_NE(table.out.find("STATUS"), std::string::npos) << table.out;
}

// `mamori check-types` prints one type per line: the name, spaces, a description.
std::set<std::string> TypesFromCheckTypes(const std::string& out) {
  std::set<std::string> types;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string name;
    if (words >> name) types.insert(name);
  }
  return types;
}

// docs/CONFIGURATION.md lists the types in its contents, as one bullet
// "- Check types: [disk](#disk), ..., [tcp and dns](#tcp-and-dns), ..."
// (continued on indented lines); a link may name two types joined by " and ".
// Each link must lead to a "## " section of that name.
std::set<std::string> TypesFromReference(const std::string& md, std::string* problems) {
  std::string bullet;
  std::set<std::string> headings;
  std::istringstream in(md);
  bool in_bullet = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("## ", 0) == 0) headings.insert(line.substr(3));
    if (line.rfind("- Check types:", 0) == 0) {
      in_bullet = true;
    } else if (in_bullet && line.rfind("  ", 0) != 0) {
      in_bullet = false;
    }
    if (in_bullet) bullet += line + "\n";
  }
  if (bullet.empty()) *problems += "no \"- Check types:\" bullet\n";
  std::set<std::string> types;
  static const std::regex link(R"(\[([^\]]+)\]\(#[^)]+\))");
  for (std::sregex_iterator it(bullet.begin(), bullet.end(), link), end; it != end; ++it) {
    const std::string text = (*it)[1];
    if (!headings.count(text)) *problems += "no \"## " + text + "\" section\n";
    std::string rest = text;
    for (size_t at; (at = rest.find(" and ")) != std::string::npos; rest = rest.substr(at + 5))
      types.insert(rest.substr(0, at));
    types.insert(rest);
  }
  return types;
}

// What `a` has and `b` lacks, comma-separated.
std::string Missing(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::string out;
  for (const auto& t : a)
    if (!b.count(t)) out += (out.empty() ? "" : ", ") + t;
  return out;
}

// The registry is the truth: `check-types` and the reference's list must name
// exactly its types, so a type added without docs, or a documented type that
// no longer exists, fails here by name.
TEST(Cli, CheckTypesListsEveryType) {
  const std::vector<std::string> listed = BuiltinProbes().Types();
  const std::set<std::string> registry(listed.begin(), listed.end());
  ASSERT_FALSE(registry.empty());
  auto r = RunMamori({"check-types"});
  EXPECT_EQ(r.exit_code, 0);
  const std::set<std::string> printed = TypesFromCheckTypes(r.out);
  EXPECT_EQ(Missing(registry, printed), "") << "missing from `mamori check-types`:\n" << r.out;
  EXPECT_EQ(Missing(printed, registry), "") << "printed but not registered:\n" << r.out;

  std::string problems;
  const std::string reference =
      testing::ReadFile(std::string(MAMORI_SOURCE_DIR) + "/docs/CONFIGURATION.md");
  const std::set<std::string> documented = TypesFromReference(reference, &problems);
  EXPECT_EQ(problems, "");
  EXPECT_EQ(Missing(registry, documented), "") << "missing from docs/CONFIGURATION.md's types";
  EXPECT_EQ(Missing(documented, registry), "") << "documented but not registered";

  // The reference quotes the loader's "missing 'type'" message, which lists every type.
  const std::string quoted = "set type to one of: ";
  const size_t at = reference.find(quoted);
  ASSERT_NE(at, std::string::npos);
  const size_t from = at + quoted.size();
  std::istringstream list(reference.substr(from, reference.find('\n', from) - from));
  std::set<std::string> in_message;
  for (std::string t; std::getline(list >> std::ws, t, ',');) in_message.insert(t);
  EXPECT_EQ(Missing(registry, in_message), "") << "missing from the quoted message";
  EXPECT_EQ(Missing(in_message, registry), "") << "in the quoted message but not registered";
}

}  // namespace
}  // namespace mamori
