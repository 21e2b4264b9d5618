// End-to-end tests of the one-shot commands (`check`, `config validate`,
// `doctor`, `check-types`, `--help`, `--version`): the real binary, real files,
// the exit codes and JSON shape scripts depend on.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "testing/cli.h"
#include "testing/nginx.h"

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
  EXPECT_EQ(RunMamori({"check"}).exit_code, 64);  // -c is required
  EXPECT_EQ(RunMamori({"check", "-c", "/nonexistent/mamori.yaml"}).exit_code, 64);
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
  for (const char* t : {"disk", "memory", "load", "listening"}) EXPECT_TRUE(types.count(t)) << t;
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

TEST(Cli, CheckTypesListsEveryType) {
  auto r = RunMamori({"check-types"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* t :
       {"http", "disk", "memory", "load", "process", "file", "command", "listening", "timesync"})
    EXPECT_NE(r.out.find(t), std::string::npos) << t;
}

}  // namespace
}  // namespace mamori
