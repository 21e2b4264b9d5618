// `mamori diagnose` and `mamori runbook done` end to end: the real binary on
// log files built from the lines of incidents 1 and 3 (docs: INCIDENTS.md).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "mamori_source_dir.h"
#include "testing/cli.h"

namespace mamori {
namespace {

using testing::RunMamori;
using testing::TempDir;

const std::string kRules = std::string(MAMORI_SOURCE_DIR) + "/rules";

// Incident 1: MariaDB page corruption and PHP-FPM leftovers on a Bitnami box.
void WriteIncident1(const TempDir& dir) {
  std::filesystem::create_directories(dir.path() + "/mysql");
  std::string page =
      "[ERROR] InnoDB: Failed to read page 27258 from file './bitnami_wordpress/wp_statpress.ibd': "
      "Page read from tablespace is corrupted.\n";
  dir.Write("mysql/error.log",
            "2023-03-02 10:11:10 0 [Note] InnoDB: Starting crash recovery from checkpoint LSN=1\n"
            "2023-03-02 10:11:12 0 " +
                page + "2023-03-02 10:11:13 0 " + page + "2023-03-02 10:11:14 0 " + page);
  dir.Write("syslog",
            "Mar  2 10:09:00 wp systemd[1]: bitnami.service: Unit process 641 (php-fpm) remains "
            "running after unit stopped.\n"
            "Mar  2 10:09:01 wp systemd[1]: Failed to start LSB: bitnami init script.\n");
}

// Incident 3: the FreeBSD home server after a power cut. The older file is
// rotated and compressed and holds a clean reboot, which must not count.
void WriteIncident3(const TempDir& dir) {
  std::filesystem::create_directories(dir.path() + "/freebsd");
  dir.Write("freebsd/messages.1",
            "Nov 20 23:00:00 home syslogd: exiting on signal 15\n"
            "Nov 20 23:01:10 home syslogd: kernel boot file is /boot/kernel/kernel\n"
            "Nov 20 23:01:10 home kernel: Copyright (c) 1992-2009 The FreeBSD Project.\n"
            "Nov 20 23:05:00 home qpopper[31000]: Stats: carol 0 0 1 200 c.example 192.168.1.30\n");
  ASSERT_EQ(std::system(("gzip -f " + dir.path() + "/freebsd/messages.1").c_str()), 0);
  dir.Write("freebsd/messages",
            "Nov 21 15:10:03 home qpopper[31640]: Stats: bob 0 0 2 3456 c.example 192.168.1.21\n"
            "Nov 21 15:19:40 home qpopper[31650]: (v4.0.9) POP login by user \"alice\" at "
            "(laptop.example) 192.168.1.20\n"
            "Nov 21 15:19:41 home qpopper[31650]: Stats: alice 0 0 12 45678 laptop.example "
            "192.168.1.20\n"
            "Nov 21 15:21:48 home syslogd: kernel boot file is /boot/kernel/kernel\n"
            "Nov 21 15:21:48 home kernel: Copyright (c) 1992-2009 The FreeBSD Project.\n"
            "Nov 21 17:02:10 home qpopper[31656]: alice at laptop.example (192.168.1.20): -ERR "
            "[SYS/PERM] Unable to process From lines (envelopes), change recognition modes or "
            "check for corrupted mail drop.\n");
  dir.Write("freebsd/httpd-error.log",
            "[Fri Nov 21 15:22:01 2025] [notice] modpython: using mutexdirectory /tmp\n"
            "[Fri Nov 21 15:22:01 2025] [error] (17)File exists: modpython: Failed to create "
            "global mutex 0 of 8 (/tmp/mpmtx7120).\n"
            "Configuration Failed\n");
}

const nlohmann::json* FindingById(const nlohmann::json& j, const std::string& id) {
  for (const auto& f : j["findings"])
    if (f["signature"] == id) return &f;
  return nullptr;
}

TEST(DiagnoseCliTest, Incident1FindingsWithEvidenceAndRunbook) {
  TempDir dir;
  WriteIncident1(dir);
  auto r = RunMamori(
      {"diagnose", "--json", "--rules", kRules, "--data-dir", dir.path() + "/data", dir.path()});
  EXPECT_EQ(r.exit_code, 2) << r.err;  // critical
  auto j = nlohmann::json::parse(r.out);
  const auto* f = FindingById(j, "mariadb.innodb-page-corrupted");
  ASSERT_NE(f, nullptr) << r.out;
  EXPECT_EQ((*f)["severity"], "critical");
  EXPECT_EQ((*f)["component"], "mariadb");
  EXPECT_EQ((*f)["count"], 3);
  EXPECT_NE((*f)["summary"].get<std::string>().find("wp_statpress.ibd"), std::string::npos);
  EXPECT_TRUE((*f)["first_seen"].get<std::string>().rfind("2023-03-02T10:11:12", 0) == 0);
  EXPECT_TRUE((*f)["last_seen"].get<std::string>().rfind("2023-03-02T10:11:14", 0) == 0);
  ASSERT_GE((*f)["evidence"].size(), 2u);
  EXPECT_EQ((*f)["evidence"][0]["file"], dir.path() + "/mysql/error.log");
  EXPECT_EQ((*f)["evidence"][0]["line"], 2);
  EXPECT_NE((*f)["evidence"][0]["text"].get<std::string>().find("page 27258"), std::string::npos);
  EXPECT_FALSE((*f)["explanation"].get<std::string>().empty());
  ASSERT_GE((*f)["runbook"].size(), 3u);
  for (const auto& s : (*f)["runbook"]) {
    EXPECT_TRUE(s.contains("step") && s.contains("command") && s.contains("risk"));
  }
  EXPECT_EQ((*f)["next_step"], 1);
  EXPECT_TRUE(j["novel"].is_array());
  // The PHP-FPM leftover that blocked the restart is found in the syslog.
  EXPECT_NE(r.out.find("remains running after unit stopped"), std::string::npos);
  // Critical findings come first.
  EXPECT_EQ(j["findings"][0]["severity"], "critical");
}

TEST(DiagnoseCliTest, Incident3UncleanShutdownNamesTheLastMailbox) {
  TempDir dir;
  WriteIncident3(dir);
  auto r = RunMamori({"diagnose", "--json", "--rules", kRules, "--data-dir", dir.path() + "/data",
                      dir.path() + "/freebsd"});
  ASSERT_NE(r.exit_code, 3) << r.err;
  auto j = nlohmann::json::parse(r.out);
  const auto* u = FindingById(j, "system.unclean-shutdown");
  ASSERT_NE(u, nullptr) << r.out;
  // The clean reboot in the rotated, compressed file does not count.
  EXPECT_EQ((*u)["count"], 1);
  std::string summary = (*u)["summary"];
  EXPECT_NE(summary.find("15:21:48"), std::string::npos) << summary;
  EXPECT_NE(summary.find("15:19:41"), std::string::npos) << summary;
  ASSERT_TRUE(u->contains("suspects"));
  EXPECT_NE((*u)["suspects"][0]["what"].get<std::string>().find("mailbox of alice"),
            std::string::npos);
  bool boot_line = false, last_line = false;
  for (const auto& e : (*u)["evidence"]) {
    if (e["file"] == dir.path() + "/freebsd/messages" && e["line"] == 4) boot_line = true;
    if (e["file"] == dir.path() + "/freebsd/messages" && e["line"] == 3) last_line = true;
  }
  EXPECT_TRUE(boot_line && last_line) << u->dump(2);
  // carol's session was before the clean reboot: not a suspect.
  EXPECT_EQ(u->dump().find("carol"), std::string::npos);
  // The stale modpython mutex that kept Apache down is a finding.
  EXPECT_NE(r.out.find("mpmtx7120"), std::string::npos);
  bool mutex = false;
  for (const auto& f : j["findings"])
    if (f["component"] == "apache" && f["severity"] == "critical") mutex = true;
  EXPECT_TRUE(mutex) << r.out;
  // The corrupted mail drop is reported (as a finding or as a novel line).
  EXPECT_NE(r.out.find("corrupted mail drop"), std::string::npos);
  // The rotated gzip file was read.
  bool rotated = false;
  for (const auto& s : j["sources"])
    if (s.get<std::string>().find("messages.1.gz") != std::string::npos) rotated = true;
  EXPECT_TRUE(rotated);
}

TEST(DiagnoseCliTest, RunbookDoneMarksStepsAndMovesToTheNextOne) {
  TempDir dir;
  WriteIncident1(dir);
  const std::string data = dir.path() + "/data";
  const std::string id = "mariadb.innodb-page-corrupted";
  auto d1 = RunMamori(
      {"runbook", "done", id, "1", "--result", "ok", "--data-dir", data, "--rules", kRules});
  ASSERT_EQ(d1.exit_code, 0) << d1.err;
  EXPECT_NE(d1.out.find("next untried: step 2"), std::string::npos) << d1.out;
  ASSERT_EQ(RunMamori({"runbook", "done", id, "2", "--result", "ok", "--data-dir", data, "--rules",
                       kRules})
                .exit_code,
            0);
  auto d3 = RunMamori({"runbook", "done", id, "3", "--result", "failed", "--note",
                       "still crashes at start", "--data-dir", data, "--rules", kRules});
  ASSERT_EQ(d3.exit_code, 0) << d3.err;
  EXPECT_NE(d3.out.find("next untried: step 4"), std::string::npos) << d3.out;

  // Bad input is refused with a reason.
  auto bad = RunMamori(
      {"runbook", "done", id, "99", "--result", "ok", "--data-dir", data, "--rules", kRules});
  EXPECT_EQ(bad.exit_code, 64);
  EXPECT_NE(bad.err.find("there is no step 99"), std::string::npos) << bad.err;
  auto unknown = RunMamori({"runbook", "done", "no.such-finding", "1", "--result", "ok",
                            "--data-dir", data, "--rules", kRules});
  EXPECT_EQ(unknown.exit_code, 64);

  auto r = RunMamori(
      {"diagnose", "--json", "--rules", kRules, "--data-dir", data, dir.path() + "/mysql"});
  auto j = nlohmann::json::parse(r.out);
  const auto* f = FindingById(j, id);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ((*f)["runbook"][0]["tried"]["result"], "ok");
  EXPECT_EQ((*f)["runbook"][2]["tried"]["result"], "failed");
  EXPECT_EQ((*f)["runbook"][2]["tried"]["note"], "still crashes at start");
  EXPECT_FALSE((*f)["runbook"][3].contains("tried"));
  EXPECT_EQ((*f)["next_step"], 4);

  auto text = RunMamori({"diagnose", "--rules", kRules, "--data-dir", data, dir.path() + "/mysql"});
  EXPECT_NE(text.out.find(": failed - still crashes at start]"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("next: step 4"), std::string::npos) << text.out;

  auto ctx = RunMamori(
      {"diagnose", "--context", "--rules", kRules, "--data-dir", data, dir.path() + "/mysql"});
  EXPECT_EQ(ctx.exit_code, 2);
  const std::string& c = ctx.out;
  EXPECT_NE(c.find("host: "), std::string::npos) << c;
  EXPECT_NE(c.find("### Failing checks"), std::string::npos);
  EXPECT_NE(c.find("[critical] mariadb.innodb-page-corrupted"), std::string::npos) << c;
  EXPECT_NE(c.find("/mysql/error.log:2: "), std::string::npos) << c;
  EXPECT_NE(c.find("step 3 \""), std::string::npos) << c;
  EXPECT_NE(c.find("FAILED"), std::string::npos) << c;
  EXPECT_NE(c.find("still crashes at start"), std::string::npos);
  EXPECT_NE(c.find("next untried step 4"), std::string::npos) << c;
}

TEST(DiagnoseCliTest, SinceSkipsOldLinesAndMissingFilesAreReported) {
  TempDir dir;
  WriteIncident1(dir);
  auto r = RunMamori({"diagnose", "--json", "--since", "1h", "--rules", kRules, "--data-dir",
                      dir.path() + "/data", dir.path() + "/mysql", dir.path() + "/nope.log"});
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(FindingById(j, "mariadb.innodb-page-corrupted"), nullptr) << r.out;
  ASSERT_EQ(j["problems"].size(), 1u);
  EXPECT_NE(j["problems"][0].get<std::string>().find("nope.log"), std::string::npos);
  // The readable paths are reported; the missing one makes it an error (EX_NOINPUT).
  EXPECT_EQ(r.exit_code, 66);
  EXPECT_NE(r.err.find("nope.log: No such file or directory"), std::string::npos) << r.err;
  auto bad = RunMamori({"diagnose", "--since", "yesterday", dir.path()});
  EXPECT_EQ(bad.exit_code, 64);
}

}  // namespace
}  // namespace mamori
