#include "mamori/logs/log_probe.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>

#include "mamori_source_dir.h"
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

// Lines of three kinds: two that look like errors, one that does not.
std::string Lines(const std::string& text, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += fmt::format(fmt::runtime(text), i % 200) + "\n";
  return out;
}
const std::string kPoolFailed = "db pool: connection to 10.0.0.{} failed, retrying";
const std::string kUpstream = "upstream timed out while reading header, client 10.1.1.{}";
const std::string kServed = "request {} served from cache";

// Every 10 minutes for `span`: 3 pool failures, 50 upstream time-outs and 3
// requests; checks the run stays OK once `ok_after` has passed.
void Steady(Probe& p, FakeClock& clock, const std::string& log, Duration span,
            Duration ok_after = Duration::max()) {
  for (Duration d{}; d < span; d += std::chrono::minutes(10)) {
    clock.Advance(std::chrono::minutes(10));
    Append(log, Lines(kPoolFailed, 3) + Lines(kUpstream, 50) + Lines(kServed, 3));
    Observation o = RunAt(p, clock);
    if (d >= ok_after) {
      EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
    }
  }
}

TEST(LogProbeTest, ErrorBurstFarAboveItsUsualRateWarnsWithTheNumbers) {
  testing::TempDir dir;
  std::string log = dir.Write("app.log", "");
  testing::ProbeHarness h;
  std::string errors;
  auto p = h.Build(Yaml(dir, ", learn_for: 6h, burst: {window: 10m, factor: 10, min_lines: 20}"),
                   &errors);
  ASSERT_TRUE(p) << errors;
  FakeClock clock;
  RunAt(*p, clock);
  // Steady rates, low and high (50 per 10m is over min_lines but usual): no
  // finding, during and after learning.
  Steady(*p, clock, log, std::chrono::hours(8), Duration::zero());

  clock.Advance(std::chrono::minutes(10));
  Append(log, Lines(kPoolFailed, 470));
  Observation o = RunAt(*p, clock);
  EXPECT_EQ(o.status, CheckStatus::kWarning) << o.summary;
  EXPECT_NE(o.summary.find("burst: 470 lines in 10m of a kind usually seen ~3 times per 10m: "
                           "db pool: connection to"),
            std::string::npos)
      << o.summary;
  EXPECT_EQ(o.summary.find("upstream"), std::string::npos) << o.summary;

  // It clears like any finding: an hour after its last burst line.
  Steady(*p, clock, log, std::chrono::minutes(50));
  EXPECT_EQ(RunAt(*p, clock).status, CheckStatus::kWarning);
  Steady(*p, clock, log, std::chrono::minutes(20), std::chrono::minutes(10));

  // A burst of lines that do not look like errors is no finding.
  clock.Advance(std::chrono::minutes(10));
  Append(log, Lines(kServed, 470));
  o = RunAt(*p, clock);
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
}

TEST(LogProbeTest, BurstBaselineSurvivesARestartAndCanBeTurnedOff) {
  testing::TempDir dir;
  std::string log = dir.Write("app.log", "");
  testing::ProbeHarness h;
  FakeClock clock;
  const std::string yaml = Yaml(dir, ", learn_for: 6h");  // default burst settings
  {
    auto p = h.Build(yaml);
    ASSERT_TRUE(p);
    RunAt(*p, clock);
    Steady(*p, clock, log, std::chrono::hours(8));
  }
  // A new probe has only logpos.db to tell it what is usual.
  auto p = h.Build(yaml);
  ASSERT_TRUE(p);
  clock.Advance(std::chrono::minutes(10));
  Append(log, Lines(kPoolFailed, 100));
  Observation o = RunAt(*p, clock);
  EXPECT_EQ(o.status, CheckStatus::kWarning) << o.summary;
  EXPECT_NE(o.summary.find("burst: 100 lines in 10m of a kind usually seen ~3 times per 10m"),
            std::string::npos)
      << o.summary;

  // burst: false keeps novelty but never reports a burst.
  testing::TempDir dir2;
  std::string log2 = dir2.Write("app.log", "");
  auto q = h.Build(Yaml(dir2, ", learn_for: 6h, burst: false"));
  ASSERT_TRUE(q);
  RunAt(*q, clock);
  Steady(*q, clock, log2, std::chrono::hours(8));
  clock.Advance(std::chrono::minutes(10));
  Append(log2, Lines(kPoolFailed, 470));
  o = RunAt(*q, clock);
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
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
  EXPECT_FALSE(h.Build("{name: x, type: log, files: [a], burst: {window: 1s}}", &errors));
  EXPECT_NE(errors.find("between 10s and 24h"), std::string::npos) << errors;
  EXPECT_FALSE(h.Build("{name: x, type: log, files: [a], burst: {factor: 0.5}}", &errors));
  EXPECT_NE(errors.find("at least 1"), std::string::npos) << errors;
  EXPECT_FALSE(h.Build("{name: x, type: log, files: [a], burst: {windw: 5m}}", &errors));
  EXPECT_NE(errors.find("windw"), std::string::npos) << errors;
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
