// The `postgres` check against a real PostgreSQL primary and a streaming
// standby (initdb, pg_basebackup -R, two postgres processes on loopback
// ports, started once per suite): a paused standby's lag is named and
// recovers, an inactive slot retaining WAL, exhausted WAL senders, an idle
// transaction, a base backup stuck waiting for a spread checkpoint, a wrong
// password, an unreachable or silent server and a query past its deadline.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "mamori/backup/pg_session.h"
#include "testing/cli.h"
#include "testing/ports.h"
#include "testing/postgres.h"
#include "testing/probe_harness.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::PostgresServer;

bool Has(const std::string& s, const std::string& part) { return s.find(part) != s.npos; }

struct PgConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, PgConnCloser>;

class PostgresCheck : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!PostgresServer::MissingBinaries().empty()) return;
    PostgresServer::Options po;
    // A long checkpoint_timeout spreads a requested checkpoint over minutes
    // (the incident's silent pg_basebackup); four WAL senders are few enough
    // to exhaust.
    po.settings = {"checkpoint_timeout=1h", "max_wal_senders=4", "cluster_name=db1"};
    primary_ = new PostgresServer(po);
    start_error_ = primary_->Start();
  }
  // The standby only for the tests that need one: a base backup costs time.
  static std::string StartStandby() {
    if (standby_) return "";
    PostgresServer::Options so;
    so.settings = {"cluster_name=db2"};
    so.standby_of = primary_;
    standby_ = new PostgresServer(so);
    return standby_->Start();
  }
  static void TearDownTestSuite() {
    delete standby_;
    delete primary_;
    standby_ = primary_ = nullptr;
  }
  void SetUp() override {
    if (auto m = PostgresServer::MissingBinaries(); !m.empty()) GTEST_SKIP() << m;
    ASSERT_EQ(start_error_, "");
  }

  static std::string Check(const PostgresServer& pg, const std::string& extra = "") {
    return fmt::format("{{name: db, type: postgres, dsn: \"{}\"{}{}}}", pg.ConnInfo("postgres"),
                       extra.empty() ? "" : ", ", extra);
  }
  // Runs the check until `done` holds or `limit` passes; the last observation.
  Observation RunUntil(const std::string& yaml, const std::function<bool(const Observation&)>& done,
                       Duration limit = 20s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    Observation o;
    while (true) {
      o = harness_.RunYaml(yaml, 5s);
      if (done(o) || std::chrono::steady_clock::now() > until) return o;
      std::this_thread::sleep_for(100ms);
    }
  }
  static Conn Connect(const PostgresServer& pg, const std::string& extra = "") {
    Conn c(PQconnectdb((pg.ConnInfo("postgres") + " connect_timeout=5 " + extra).c_str()));
    EXPECT_EQ(PQstatus(c.get()), CONNECTION_OK) << PQerrorMessage(c.get());
    return c;
  }
  static void Exec(PGconn* c, const std::string& sql) {
    PGresult* r = PQexec(c, sql.c_str());
    const auto st = PQresultStatus(r);
    EXPECT_TRUE(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        << sql << ": " << PQerrorMessage(c);
    PQclear(r);
  }
  static void Write(int rows) {
    auto r = primary_->Sql(
        fmt::format("CREATE TABLE IF NOT EXISTS filler(x text); INSERT INTO filler SELECT "
                    "repeat('x', 1000) FROM generate_series(1, {});",
                    rows),
        "postgres");
    ASSERT_TRUE(r.ok()) << r.error().message();
  }

  static PostgresServer* primary_;
  static PostgresServer* standby_;
  static std::string start_error_;
  testing::ProbeHarness harness_;
};

PostgresServer* PostgresCheck::primary_ = nullptr;
PostgresServer* PostgresCheck::standby_ = nullptr;
std::string PostgresCheck::start_error_;

TEST_F(PostgresCheck, PausedStandbyIsNamedWithItsLagAndRecovers) {
  ASSERT_EQ(StartStandby(), "");
  const std::string on_primary = Check(*primary_, "lag_bytes: {warning: 1MiB, critical: 2MiB}");
  const std::string on_standby =
      Check(*standby_,
            "lag_bytes: {warning: 1MiB, critical: 2MiB}, lag_seconds: {warning: 1s, "
            "critical: 2s}");
  Observation o = RunUntil(on_primary, [](const Observation& x) {
    return x.status == CheckStatus::kOk && Has(x.summary, "1 standby (db2)");
  });
  ASSERT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_TRUE(Has(o.summary, "primary 15.")) << o.summary;

  ASSERT_TRUE(standby_->Sql("SELECT pg_wal_replay_pause()", "postgres").ok());
  Write(5000);  // about 5 MiB of WAL the standby receives but does not replay
  o = RunUntil(on_primary, [](const Observation& x) { return x.status == CheckStatus::kCritical; });
  EXPECT_EQ(o.status, CheckStatus::kCritical) << o.summary;
  EXPECT_TRUE(Has(o.summary, "standby db2 replay lag ")) << o.summary;
  EXPECT_TRUE(Has(o.summary, "MiB (critical at 2.0 MiB)")) << o.summary;
  o = RunUntil(on_standby, [](const Observation& x) { return Has(x.summary, "not replayed"); });
  EXPECT_EQ(o.status, CheckStatus::kCritical) << o.summary;
  EXPECT_TRUE(Has(o.summary, "recovery is paused")) << o.summary;

  ASSERT_TRUE(standby_->Sql("SELECT pg_wal_replay_resume()", "postgres").ok());
  o = RunUntil(on_primary, [](const Observation& x) { return x.status == CheckStatus::kOk; });
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  // The last commit is seconds old by now, over lag_seconds: an idle primary
  // with everything replayed is still no lag.
  std::this_thread::sleep_for(2500ms);
  o = RunUntil(on_standby, [](const Observation& x) { return x.status == CheckStatus::kOk; });
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_TRUE(Has(o.summary, "standby 15.")) << o.summary;
  EXPECT_TRUE(Has(o.summary, fmt::format("streaming from 127.0.0.1:{}", primary_->port())))
      << o.summary;
}

TEST_F(PostgresCheck, InactiveSlotRetainingWalIsNamed) {
  ASSERT_TRUE(
      primary_->Sql("SELECT pg_create_physical_replication_slot('db3_gone', true)", "postgres")
          .ok());
  Write(3000);
  const Observation o =
      RunUntil(Check(*primary_, "retained_wal: {warning: 2MiB, critical: 1GiB}"),
               [](const Observation& x) { return x.status == CheckStatus::kWarning; });
  EXPECT_EQ(o.status, CheckStatus::kWarning) << o.summary;
  EXPECT_TRUE(Has(o.summary, "inactive slot db3_gone retains ")) << o.summary;
  EXPECT_TRUE(Has(o.summary, "of WAL (warning at 2.0 MiB)")) << o.summary;
  ASSERT_TRUE(primary_->Sql("SELECT pg_drop_replication_slot('db3_gone')", "postgres").ok());
  EXPECT_EQ(
      harness_.RunYaml(Check(*primary_, "retained_wal: {warning: 2MiB, critical: 1GiB}")).status,
      CheckStatus::kOk);
}

TEST_F(PostgresCheck, ExhaustedWalSendersAreCritical) {
  // Idle replication connections take every free sender (of four), as a
  // stuck pg_basebackup or a crowd of standbys would.
  auto busy = primary_->Sql("SELECT count(*) FROM pg_stat_replication", "postgres");
  ASSERT_TRUE(busy.ok());
  std::vector<Conn> held;
  for (int i = std::stoi(*busy); i < 4; ++i) held.push_back(Connect(*primary_, "replication=true"));
  Observation o = harness_.RunYaml(Check(*primary_));
  EXPECT_EQ(o.status, CheckStatus::kCritical) << o.summary;
  EXPECT_TRUE(Has(o.summary, "all 4 WAL senders in use (max_wal_senders)")) << o.summary;
  held.clear();
  o = RunUntil(Check(*primary_), [](const Observation& x) { return x.status == CheckStatus::kOk; });
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
}

TEST_F(PostgresCheck, IdleInTransactionSessionIsNamed) {
  Conn c = Connect(*primary_, "application_name=forgotten");
  Exec(c.get(), "BEGIN; SELECT txid_current()");
  const int pid = PQbackendPID(c.get());
  const std::string yaml = Check(*primary_, "long_transaction: {warning: 1s, critical: 1h}");
  const Observation o =
      RunUntil(yaml, [](const Observation& x) { return x.status == CheckStatus::kWarning; });
  EXPECT_EQ(o.status, CheckStatus::kWarning) << o.summary;
  EXPECT_TRUE(Has(o.summary, fmt::format("pid {} postgres@postgres (forgotten) idle in "
                                         "transaction for ",
                                         pid)))
      << o.summary;
  c.reset();
  EXPECT_EQ(
      RunUntil(yaml, [](const Observation& x) { return x.status == CheckStatus::kOk; }).status,
      CheckStatus::kOk);
}

TEST_F(PostgresCheck, BaseBackupWaitingForACheckpointIsNamed) {
  // Dirty buffers for the checkpointer to spread over checkpoint_timeout (1h).
  Write(20000);
  pid_t bb = primary_->SpawnClient(
      "pg_basebackup",
      {"-h", "127.0.0.1", "-p", std::to_string(primary_->port()), "-U", "postgres", "-D",
       primary_->dir() + "/copy", "-X", "fetch", "--no-sync"},
      "basebackup");
  ASSERT_GT(bb, 0);
  const std::string yaml =
      Check(*primary_, "basebackup_checkpoint_wait: {warning: 1s, critical: 1h}");
  // Other warnings may come first (the backup's walsender starting up), so wait
  // for this one by name.
  Observation o = RunUntil(yaml, [](const Observation& x) {
    return x.status == CheckStatus::kWarning && Has(x.summary, "waiting for checkpoint");
  });
  EXPECT_EQ(o.status, CheckStatus::kWarning) << o.summary;
  EXPECT_TRUE(Has(o.summary,
                  "base backup to 127.0.0.1 (pg_basebackup) waiting for checkpoint "
                  "to finish for "))
      << o.summary;
  EXPECT_TRUE(Has(o.summary,
                  "run CHECKPOINT on the primary, or restart it with pg_basebackup "
                  "--checkpoint=fast"))
      << o.summary;
  // The runbook's first step, for real: the backup moves on.
  ASSERT_TRUE(primary_->Sql("CHECKPOINT", "postgres").ok());
  o = RunUntil(yaml, [](const Observation& x) { return x.status == CheckStatus::kOk; });
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  testing::StopProcess(bb, SIGTERM);
}

double Metric(const Observation& o, const std::string& name) {
  for (const auto& m : o.metrics)
    if (m.name == name) return m.value;
  ADD_FAILURE() << "no metric " << name << " in " << o.summary;
  return -1;
}

TEST_F(PostgresCheck, KeptConnectionIsReusedAndABrokenOneIsReplacedInTheSameRun) {
  const auto yaml = [&](const std::string& extra) {
    return fmt::format("{{name: db, type: postgres, dsn: \"{} application_name=keeper\"{}}}",
                       primary_->ConnInfo("postgres"), extra);
  };
  const auto sessions = [&] {
    auto n = primary_->Sql(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'keeper'", "postgres");
    EXPECT_TRUE(n.ok());
    return n.ok() ? std::stoi(*n) : -1;
  };
  // A closed connection's backend exits a moment after the client goes.
  const auto settles_at = [&](int want) {
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (sessions() != want && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(20ms);
    return sessions();
  };
  std::shared_ptr<Probe> probe = harness_.Build(yaml(""));
  ASSERT_NE(probe, nullptr);
  Observation o = harness_.Run(*probe);
  ASSERT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_EQ(Metric(o, "connection_reused"), 0);
  const double first_queries = Metric(o, "queries");
  EXPECT_EQ(sessions(), 1);  // kept between runs
  o = harness_.Run(*probe);
  ASSERT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_EQ(Metric(o, "connection_reused"), 1);
  // The same reads plus the SET of the new statement_timeout.
  EXPECT_EQ(Metric(o, "queries"), first_queries + 1);
  EXPECT_EQ(sessions(), 1);
  // As a server restart does: the kept connection is cut. The run opens a
  // new one and is not an alarm.
  ASSERT_TRUE(primary_
                  ->Sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                        "application_name = 'keeper'",
                        "postgres")
                  .ok());
  o = harness_.Run(*probe);
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_EQ(Metric(o, "connection_reused"), 0);
  EXPECT_EQ(settles_at(1), 1);
  probe.reset();  // the check goes away with its connection
  EXPECT_EQ(settles_at(0), 0);

  std::shared_ptr<Probe> once = harness_.Build(yaml(", keep_connection: false"));
  ASSERT_NE(once, nullptr);
  for (int i = 0; i < 2; ++i) {
    o = harness_.Run(*once);
    EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
    EXPECT_EQ(Metric(o, "connection_reused"), 0);
    EXPECT_EQ(settles_at(0), 0);
  }
}

TEST_F(PostgresCheck, WrongPasswordIsCriticalWithoutShowingIt) {
  ASSERT_TRUE(primary_
                  ->Sql("CREATE ROLE watcher LOGIN PASSWORD 'right-pw-1'; GRANT pg_monitor TO "
                        "watcher;",
                        "postgres")
                  .ok());
  // Password authentication for this role only, ahead of the trust lines.
  const std::string hba = primary_->dir() + "/data/pg_hba.conf";
  const std::string old = testing::ReadFile(hba);
  testing::TempDir tmp;
  {
    FILE* f = std::fopen(hba.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(("host all watcher 127.0.0.1/32 scram-sha-256\n" + old).c_str(), f);
    std::fclose(f);
  }
  ASSERT_TRUE(primary_->Sql("SELECT pg_reload_conf()", "postgres").ok());
  const std::string wrong = tmp.Write("wrong", "not-the-pw-7\n");
  const std::string right = tmp.Write("right", "right-pw-1\n");
  const auto yaml = [&](const std::string& file) {
    return fmt::format(
        "{{name: db, type: postgres, host: 127.0.0.1, port: {}, user: watcher, "
        "dbname: postgres, password_file: {}}}",
        primary_->port(), file);
  };
  Observation o = RunUntil(yaml(wrong), [](const Observation& x) {
    return Has(x.summary, "password authentication failed");
  });
  EXPECT_EQ(o.status, CheckStatus::kCritical) << o.summary;
  EXPECT_TRUE(Has(o.summary, "password authentication failed for user \"watcher\"")) << o.summary;
  EXPECT_FALSE(Has(o.summary + o.details, "not-the-pw-7")) << o.summary;
  o = harness_.RunYaml(yaml(right));
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
}

// No server needed (and none started): a closed port and a silent listener.
TEST(PostgresCheckNoServer, UnreachableAndSilentServersAreCriticalInTime) {
  testing::ProbeHarness harness_;
  const int closed = testing::PickFreePort();
  Observation o = harness_.RunYaml(fmt::format(
      "{{name: db, type: postgres, host: 127.0.0.1, port: {}, user: postgres}}", closed));
  EXPECT_EQ(o.status, CheckStatus::kCritical) << o.summary;
  EXPECT_TRUE(Has(o.summary, fmt::format("cannot connect to postgres 127.0.0.1:{}", closed)))
      << o.summary;
  EXPECT_TRUE(Has(o.summary, "Connection refused")) << o.summary;

  // A listener that never answers (accepted by the kernel, never read).
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const auto start = std::chrono::steady_clock::now();
  o = harness_.RunYaml(
      fmt::format("{{name: db, type: postgres, host: 127.0.0.1, port: {}, user: postgres}}",
                  ntohs(a.sin_port)),
      1500ms);
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_EQ(o.status, CheckStatus::kCritical) << o.summary;
  EXPECT_TRUE(Has(o.summary, "no answer within")) << o.summary;
  EXPECT_LT(took, 2500ms);
}

TEST_F(PostgresCheck, QueryPastTheDeadlineIsCancelledByTheServer) {
  SystemClock clock;
  auto params = std::map<std::string, std::string>{{"host", "127.0.0.1"},
                                                   {"port", std::to_string(primary_->port())},
                                                   {"user", "postgres"},
                                                   {"dbname", "postgres"}};
  const auto start = std::chrono::steady_clock::now();
  auto s = backup::pg::Session::Open(params, "test", clock.Monotonic() + 1500ms, clock);
  ASSERT_TRUE(s.ok()) << s.error().message();
  auto r = (*s)->Query("SELECT pg_sleep(30)");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Has(r.error().message(), "canceling statement due to statement timeout"))
      << r.error().message();
  EXPECT_EQ((*s)->last_sqlstate(), "57014");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);
}

}  // namespace
}  // namespace mamori
