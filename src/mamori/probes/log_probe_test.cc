#include "mamori/probes/log_probe.h"

#include <gtest/gtest.h>

#include <fstream>

#include "testing/cli.h"
#include "testing/probe_harness.h"

namespace mamori::probes::log {
namespace {

const std::string kRules = std::string(MAMORI_SOURCE_DIR) + "/rules";

void Append(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::app) << text;
}

std::string Yaml(const testing::TempDir& dir, const std::string& extra) {
  return "{name: logs, type: log, files: ['" + dir.path() + "/*.log'], rules: ['" + kRules +
         "'], state_dir: '" + dir.path() + "/state'" + extra + "}";
}

// Runs the probe's blocking body with a clock the test controls.
Observation RunAt(Probe& p, const Clock& clock) {
  return dynamic_cast<BlockingProbe&>(p).Run(clock, clock.Monotonic() + std::chrono::seconds(30));
}

const std::string kCorrupt =
    "2023-03-02 10:11:12 0 [ERROR] InnoDB: Failed to read page 27258 from file "
    "'./bitnami_wordpress/wp_statpress.ibd': Page read from tablespace is corrupted.\n";

TEST(LogProbeTest, NewCorruptionLineTurnsTheCheckCriticalUntilItClears) {
  testing::TempDir dir;
  std::string log = dir.Write("error.log", kCorrupt + "2023-03-02 10:00:00 0 [Note] old\n");
  testing::ProbeHarness h;
  std::string errors;
  auto p = h.Build(Yaml(dir, ", novelty: false, clear_after: 1h"), &errors);
  ASSERT_TRUE(p) << errors;
  FakeClock clock;
  // start: end (the default): history is not news.
  Observation o = RunAt(*p, clock);
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  Append(log, kCorrupt);
  o = RunAt(*p, clock);
  EXPECT_EQ(o.status, CheckStatus::kCritical) << o.summary;
  EXPECT_NE(o.summary.find("InnoDB page 27258"), std::string::npos) << o.summary;
  EXPECT_NE(o.summary.find(log + ":3:"), std::string::npos) << o.summary;
  clock.Advance(std::chrono::minutes(30));
  EXPECT_EQ(RunAt(*p, clock).status, CheckStatus::kCritical);
  clock.Advance(std::chrono::minutes(31));
  o = RunAt(*p, clock);
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
}

TEST(LogProbeTest, RateRulePerAddress) {
  testing::TempDir dir;
  std::string log = dir.Write("auth.log", "");
  testing::ProbeHarness h;
  std::string errors;
  auto p = h.Build(Yaml(dir,
                        ", novelty: false, rates: [{signature: ssh.failed-password, by: "
                        "address, max: 20, per: 1m}]"),
                   &errors);
  ASSERT_TRUE(p) << errors;
  FakeClock clock;
  RunAt(*p, clock);
  std::string lines;
  for (int i = 0; i < 15; ++i) {
    lines += "Nov 23 10:00:0" + std::to_string(i % 10) +
             " web sshd[1]: Failed password for root from 203.0.113.5 port 4000 ssh2\n";
    lines += "Nov 23 10:00:0" + std::to_string(i % 10) +
             " web sshd[1]: Failed password for root from 203.0.113.6 port 4000 ssh2\n";
  }
  Append(log, lines);
  Observation o = RunAt(*p, clock);
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;  // 15 each: under 20 per address
  lines.clear();
  for (int i = 0; i < 10; ++i)
    lines += "Nov 23 10:00:30 web sshd[1]: Failed password for root from 203.0.113.5 port 1 ssh2\n";
  Append(log, lines);
  o = RunAt(*p, clock);
  EXPECT_EQ(o.status, CheckStatus::kWarning) << o.summary;
  EXPECT_NE(o.summary.find("203.0.113.5"), std::string::npos) << o.summary;
  EXPECT_EQ(o.summary.find("203.0.113.6"), std::string::npos) << o.summary;
}

TEST(LogProbeTest, NovelTemplateAfterLearningAndRememberedAcrossRestarts) {
  testing::TempDir dir;
  std::string log = dir.Write("app.log", "");
  testing::ProbeHarness h;
  FakeClock clock;
  std::string yaml = Yaml(dir, ", learn_for: 24h");
  {
    auto p = h.Build(yaml);
    ASSERT_TRUE(p);
    RunAt(*p, clock);
    Append(log, "worker 1 started job 17\nworker 2 started job 18\n");
    EXPECT_EQ(RunAt(*p, clock).status, CheckStatus::kOk);  // learning
    clock.Advance(std::chrono::hours(25));
    Append(log, "worker 3 started job 99\n");
    Observation o = RunAt(*p, clock);
    EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;  // a known kind
    Append(log, "cache shard 4 lost quorum, rebuilding\ncache shard 5 lost quorum, rebuilding\n");
    o = RunAt(*p, clock);
    EXPECT_EQ(o.status, CheckStatus::kWarning) << o.summary;
    EXPECT_NE(o.summary.find("novel: 2 lines of a kind never seen in 30 days"), std::string::npos)
        << o.summary;
  }
  // A restart keeps the position (nothing re-read) and what was learned.
  clock.Advance(std::chrono::hours(2));
  auto p = h.Build(yaml);
  Append(log, "cache shard 9 lost quorum, rebuilding\nworker 7 started job 3\n");
  Observation o = RunAt(*p, clock);
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_EQ(o.metrics[0].name, "lines");
  EXPECT_EQ(o.metrics[0].value, 2);
}

TEST(LogProbeTest, ConfigErrorsAreLocated) {
  testing::ProbeHarness h;
  std::string errors;
  EXPECT_FALSE(h.Build("{name: x, type: log}", &errors));
  EXPECT_NE(errors.find("needs files: or journal:"), std::string::npos) << errors;
  EXPECT_FALSE(h.Build("{name: x, type: log, files: [a], start: middle}", &errors));
  EXPECT_NE(errors.find("not end or beginning"), std::string::npos) << errors;
  EXPECT_FALSE(h.Build("{name: x, type: log, files: [a], rates: [{max: 3}]}", &errors));
  EXPECT_NE(errors.find("signature"), std::string::npos) << errors;
}

TEST(LogProbeTest, JournalOnlyOnAMachineWithoutOneIsUnknownWithTheReason) {
  if (!logs::JournalAbsentReason()) GTEST_SKIP() << "this machine has a journal";
  testing::TempDir dir;
  testing::ProbeHarness h;
  auto p = h.Build("{name: j, type: log, journal: {units: [ssh.service]}, rules: ['" + kRules +
                   "'], state_dir: '" + dir.path() + "'}");
  ASSERT_TRUE(p);
  Observation o = h.Run(*p);
  EXPECT_EQ(o.status, CheckStatus::kUnknown);
  EXPECT_NE(o.summary.find("no systemd journal"), std::string::npos) << o.summary;
}

}  // namespace
}  // namespace mamori::probes::log
