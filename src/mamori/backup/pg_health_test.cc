// The `postgres` check's judgment on recorded rows: each rule flags what it
// should, names the standby/slot/session, and stays quiet when it should.
#include "mamori/backup/pg_health.h"

#include <gtest/gtest.h>

namespace mamori::backup::pg {
namespace {

constexpr double kMiB = 1024.0 * 1024;

Facts Primary() {
  Facts f;
  f.version = "15.18";
  f.connections = 5;
  f.max_connections = 100;
  f.reserved_connections = 3;
  f.wal_senders = 1;
  f.max_wal_senders = 10;
  f.oldest_xid_age = 1000;
  f.oldest_xid_database = "postgres";
  Standby s;
  s.name = "db2";
  s.client_addr = "127.0.0.1";
  s.state = "streaming";
  s.sent_lag_bytes = s.write_lag_bytes = s.flush_lag_bytes = s.replay_lag_bytes = 0;
  f.standbys.push_back(s);
  return f;
}

Facts Standby() {
  Facts f;
  f.version = "15.18";
  f.in_recovery = true;
  f.connections = 1;
  f.max_connections = 100;
  f.receiver_status = "streaming";
  f.upstream = "127.0.0.1:5432";
  f.receive_replay_bytes = 0;
  return f;
}

double MetricValue(const Observation& o, const std::string& name) {
  for (const auto& m : o.metrics)
    if (m.name == name) return m.value;
  ADD_FAILURE() << "no metric " << name;
  return -1;
}

bool Has(const std::string& s, const std::string& part) { return s.find(part) != s.npos; }

TEST(PgHealth, HealthyPrimaryIsOkAndRecordsEveryFigure) {
  const Observation o = Judge(Primary(), Limits{});
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_EQ(o.summary, "primary 15.18; 1 standby (db2); 5/97 connections (5%)");
  EXPECT_EQ(MetricValue(o, "standby_replay_lag_bytes:db2"), 0);
  EXPECT_EQ(MetricValue(o, "wal_senders"), 1);
  EXPECT_EQ(MetricValue(o, "connections"), 5);
  EXPECT_EQ(MetricValue(o, "oldest_xid_age"), 1000);
  EXPECT_TRUE(Has(o.details, "standby db2 from 127.0.0.1: streaming")) << o.details;
}

TEST(PgHealth, LaggingStandbyIsNamedWithItsBytes) {
  Facts f = Primary();
  f.standbys[0].replay_lag_bytes = 300 * kMiB;
  f.standbys[0].replay_lag_seconds = 12;
  const Observation o = Judge(f, Limits{});
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_TRUE(
      Has(o.summary, "primary 15.18; standby db2 replay lag 300.0 MiB (critical at 256.0 MiB)"))
      << o.summary;
  EXPECT_EQ(MetricValue(o, "standby_replay_lag_bytes:db2"), 300 * kMiB);
  EXPECT_EQ(MetricValue(o, "standby_replay_lag_seconds:db2"), 12);
}

TEST(PgHealth, CaughtUpStandbyWithAStaleLagTimeIsNotLagging) {
  Facts f = Primary();
  f.standbys[0].replay_lag_seconds = 5000;  // the last figure before the primary went idle
  EXPECT_EQ(Judge(f, Limits{}).status, CheckStatus::kOk);
}

TEST(PgHealth, StandbyOnAnIdlePrimaryDoesNotCryWolf) {
  Facts f = Standby();
  f.replay_timestamp_age = 3600;  // no commit for an hour, everything replayed
  const Observation o = Judge(f, Limits{});
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_EQ(MetricValue(o, "replay_lag_seconds"), 0);
  EXPECT_EQ(o.summary, "standby 15.18; streaming from 127.0.0.1:5432; 1/100 connections (1%)");

  f.receive_replay_bytes = 4096;  // now WAL waits: the hour is real
  const Observation lag = Judge(f, Limits{});
  EXPECT_EQ(lag.status, CheckStatus::kCritical);
  EXPECT_TRUE(Has(lag.summary, "replay lag 1h 0m (critical at 5m")) << lag.summary;
}

TEST(PgHealth, PausedRecoveryAndADeadReceiverAreNamed) {
  Facts f = Standby();
  f.replay_paused = true;
  Observation o = Judge(f, Limits{});
  EXPECT_EQ(o.status, CheckStatus::kWarning);
  EXPECT_TRUE(Has(o.summary, "recovery is paused (SELECT pg_wal_replay_resume()")) << o.summary;
  f = Standby();
  f.receiver_status.reset();
  EXPECT_TRUE(Has(Judge(f, Limits{}).summary, "no WAL receiver"));
  f.receiver_status = "waiting";
  o = Judge(f, Limits{});
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_TRUE(Has(o.summary, "WAL receiver is waiting (from 127.0.0.1:5432)")) << o.summary;
}

TEST(PgHealth, SlotsRetainingWalOrLostAreNamed) {
  Facts f = Primary();
  f.slots.push_back({"old_standby", "physical", false, 2048 * kMiB, "extended"});
  f.slots.push_back({"live", "physical", true, 1 * kMiB, "reserved"});
  Observation o = Judge(f, Limits{});
  EXPECT_EQ(o.status, CheckStatus::kWarning);
  EXPECT_TRUE(
      Has(o.summary, "inactive slot old_standby retains 2.0 GiB of WAL (warning at 1.0 GiB)"))
      << o.summary;
  EXPECT_FALSE(Has(o.summary, "slot live")) << o.summary;
  EXPECT_EQ(MetricValue(o, "slot_retained_bytes:old_standby"), 2048 * kMiB);
  f.slots[1].wal_status = "lost";
  o = Judge(f, Limits{});
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_TRUE(Has(o.summary, "slot live lost WAL")) << o.summary;
}

TEST(PgHealth, ExhaustedSendersAndConnections) {
  Facts f = Primary();
  f.wal_senders = 10;
  Observation o = Judge(f, Limits{});
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_TRUE(Has(o.summary, "all 10 WAL senders in use")) << o.summary;
  f = Primary();
  f.connections = 80;  // of 97 usable: 82%
  o = Judge(f, Limits{});
  EXPECT_EQ(o.status, CheckStatus::kWarning);
  EXPECT_TRUE(Has(o.summary, "80/97 connections (82%) (warning at 80%)")) << o.summary;
}

TEST(PgHealth, LongTransactionsAndLockWaitsNameTheSession) {
  Facts f = Primary();
  f.transactions.push_back({4242, "app@shop (worker)", "idle in transaction", 400, false, 0});
  f.transactions.push_back({4243, "app@shop", "active", 40, true, 40});
  const Observation o = Judge(f, Limits{});
  EXPECT_EQ(o.status, CheckStatus::kWarning);
  EXPECT_TRUE(
      Has(o.summary, "pid 4242 app@shop (worker) idle in transaction for 6m 40s (warning at 5m"))
      << o.summary;
  EXPECT_TRUE(Has(o.summary, "pid 4243 app@shop waits on a lock for 40")) << o.summary;
  EXPECT_EQ(MetricValue(o, "lock_waits"), 1);
  EXPECT_EQ(MetricValue(o, "oldest_transaction_seconds"), 400);
}

TEST(PgHealth, BaseBackupWaitingForACheckpointIsNamedWithTheRunbook) {
  Facts f = Primary();
  f.base_backups.push_back(
      {77, "127.0.0.1 (pg_basebackup)", "waiting for checkpoint to finish", 90, 0, std::nullopt});
  Observation o = Judge(f, Limits{});
  EXPECT_EQ(o.status, CheckStatus::kWarning);
  EXPECT_TRUE(Has(o.summary,
                  "base backup to 127.0.0.1 (pg_basebackup) waiting for checkpoint to "
                  "finish for 1m 30s (warning at 1m"))
      << o.summary;
  EXPECT_TRUE(Has(o.summary, "CHECKPOINT on the primary")) << o.summary;
  EXPECT_TRUE(Has(o.summary, "--checkpoint=fast")) << o.summary;
  f.base_backups[0].phase = "streaming database files";
  o = Judge(f, Limits{});
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_TRUE(Has(o.details, "base backup pid 77")) << o.details;
}

TEST(PgHealth, MissingViewsAreNamedNotFatal) {
  Facts f = Primary();
  f.missing = {"pg_stat_progress_basebackup (13+)", "pg_replication_slots.wal_status (13+)"};
  const Observation o = Judge(f, Limits{});
  EXPECT_EQ(o.status, CheckStatus::kOk);
  EXPECT_TRUE(Has(o.summary,
                  "not available on this server: pg_stat_progress_basebackup (13+), "
                  "pg_replication_slots.wal_status (13+)"))
      << o.summary;
}

TEST(PgHealth, FailingArchiverAndXidAge) {
  Facts f = Primary();
  f.archive_failed_count = 3;
  f.archive_failing = true;
  f.archive_last_failed_wal = "000000010000000000000003";
  f.oldest_xid_age = 1.6e9;
  f.oldest_xid_database = "shop";
  const Observation o = Judge(f, Limits{});
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_TRUE(Has(o.summary, "WAL archiving fails (3 failures, last 000000010000000000000003)"))
      << o.summary;
  EXPECT_TRUE(Has(o.summary, "database shop transaction ID age 1600000000")) << o.summary;
  f.archive_failing = false;  // failed once, archived since
  f.oldest_xid_age = 1000;
  EXPECT_EQ(Judge(f, Limits{}).status, CheckStatus::kOk);
}

}  // namespace
}  // namespace mamori::backup::pg
