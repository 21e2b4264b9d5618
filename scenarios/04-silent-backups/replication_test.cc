// Replay of incident 4's replication half (INCIDENTS.md, the GitLab.com
// database incident): the secondary fell ~4 GB behind and nobody was told
// until it stopped, and the pg_basebackup that was to re-seed it "hung"
// silently while the primary took its time over a spread checkpoint. Against
// a real PostgreSQL 15 primary and a streaming standby started here, the
// real `mamori run` with a `postgres` check and a webhook:
//   - replay paused on the standby while the primary takes writes: the
//     webhook hears the standby named, with its lag over lag_bytes;
//   - replay resumed: the check recovers;
//   - pg_basebackup without --checkpoint=fast against a primary with a long
//     checkpoint_timeout: the webhook hears "waiting for checkpoint to
//     finish" with the runbook, and CHECKPOINT lets the backup go on.
#include <signal.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>

#include "testing/cli.h"
#include "testing/notify_servers.h"
#include "testing/ports.h"
#include "testing/postgres.h"

namespace mamori {
namespace {

using testing::PostgresServer;

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

int Count(const std::string& s, const std::string& part) {
  int n = 0;
  for (size_t at = s.find(part); at != std::string::npos; at = s.find(part, at + 1)) ++n;
  return n;
}

TEST(ScenarioReplication, LaggingStandbyAndStuckBaseBackupAreAlerted) {
  if (auto m = PostgresServer::MissingBinaries(); !m.empty()) GTEST_SKIP() << m;
  PostgresServer::Options po;
  po.settings = {"checkpoint_timeout=1h", "cluster_name=db1"};
  PostgresServer db1(po);
  ASSERT_EQ(db1.Start(), "");
  PostgresServer::Options so;
  so.settings = {"cluster_name=db2"};
  so.standby_of = &db1;
  PostgresServer db2(so);
  ASSERT_EQ(db2.Start(), "");

  std::string error;
  auto hook = testing::WebhookSink::Start(&error);
  ASSERT_TRUE(hook) << error;
  testing::TempDir dir;
  const std::string config = dir.Write(
      "mamori.yaml", fmt::format("data_dir: {}/data\n"
                                 "alerting: {{group_wait: 200ms}}\n"
                                 "notify:\n  - {{name: hook, type: webhook, url: '{}'}}\n"
                                 "checks:\n"
                                 "  - {{name: db1, type: postgres, dsn: \"{}\", interval: 1s, "
                                 "failures_before_alert: 1, successes_before_recovery: 1, "
                                 "lag_bytes: {{warning: 1MiB, critical: 2MiB}}, "
                                 "basebackup_checkpoint_wait: {{warning: 1s, critical: 2s}}}}\n",
                                 dir.path(), hook->Url(), db1.ConnInfo("postgres")));
  testing::DaemonProcess d({"-c", config}, dir.path() + "/daemon.log");
  ASSERT_TRUE(d.WaitForLog("db1: PENDING -> OK")) << d.Log();

  auto request_with = [&](const std::string& a, const std::string& b) {
    for (const auto& r : hook->Requests())
      if (Contains(r, a) && Contains(r, b)) return r;
    return std::string();
  };
  // The standby stops replaying while the primary keeps writing.
  ASSERT_TRUE(db2.Sql("SELECT pg_wal_replay_pause()", "postgres").ok());
  ASSERT_TRUE(db1.Sql("CREATE TABLE notes(x text); INSERT INTO notes SELECT repeat('x', 1000) "
                      "FROM generate_series(1, 5000);",
                      "postgres")
                  .ok());
  std::string lag;
  ASSERT_TRUE(testing::WaitFor(
      [&] { return !(lag = request_with("db1", "standby db2 replay lag")).empty(); }, 20))
      << d.Log();
  EXPECT_TRUE(Contains(lag, "(critical at 2.0 MiB)")) << lag;

  ASSERT_TRUE(db2.Sql("SELECT pg_wal_replay_resume()", "postgres").ok());
  ASSERT_TRUE(d.WaitForLog("db1: CRITICAL -> OK")) << d.Log();

  // Re-seeding the standby the way the incident did: no --checkpoint=fast,
  // and dirty buffers for the checkpointer to spread over the hour.
  ASSERT_TRUE(db1.Sql("INSERT INTO notes SELECT repeat('y', 1000) FROM generate_series(1, 20000)",
                      "postgres")
                  .ok());
  pid_t bb = db1.SpawnClient("pg_basebackup",
                             {"-h", "127.0.0.1", "-p", std::to_string(db1.port()), "-U", "postgres",
                              "-D", db1.dir() + "/reseed", "-X", "fetch", "--no-sync"},
                             "reseed");
  ASSERT_GT(bb, 0);
  std::string stuck;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        // The alert itself (the details of other notices list base backups too).
        stuck = request_with("waiting for checkpoint to finish for", "--checkpoint=fast");
        return !stuck.empty();
      },
      20))
      << d.Log();
  EXPECT_TRUE(Contains(stuck, "base backup to 127.0.0.1 (pg_basebackup)")) << stuck;
  EXPECT_TRUE(Contains(stuck, "db1")) << stuck;
  ASSERT_TRUE(db1.Sql("CHECKPOINT", "postgres").ok());
  // Back to OK for the third time (after the start and after the lag).
  EXPECT_TRUE(testing::WaitFor([&] { return Count(d.Log(), " -> OK: primary") >= 3; }, 20))
      << d.Log();
  testing::StopProcess(bb, SIGTERM);
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(), 0) << d.Log();
}

}  // namespace
}  // namespace mamori
