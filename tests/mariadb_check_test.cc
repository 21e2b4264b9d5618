// The `mariadb` check against real servers: a primary with a binary log, a
// replica whose SQL thread was stopped by a duplicate-key error (a row
// written on the replica, then the same key on the primary), and a server
// left with innodb_force_recovery=1 in its configuration file. The three
// start once for the suite, in parallel. The guard is asked about the
// MariaDB data directories too, since the servers are running anyway.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "mamori/db/mariadb_session.h"
#include "testing/cli.h"
#include "testing/mariadb.h"
#include "testing/ports.h"
#include "testing/probe_harness.h"

namespace mamori::testing {
namespace {

class MariadbCheck : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!MariaDbServer::MissingBinaries().empty()) return;
    MariaDbServer::Options p, r, f;
    p.config = "server-id=1";
    p.binary_log = true;
    r.config = "server-id=2";
    r.database = "";  // comes from the primary through replication
    f.config = "innodb_force_recovery=1";
    primary_ = new MariaDbServer(p);
    replica_ = new MariaDbServer(r);
    rescue_ = new MariaDbServer(f);
    std::string errors[3];
    std::thread a([&] { errors[1] = replica_->Start(); });
    std::thread b([&] { errors[2] = rescue_->Start(); });
    errors[0] = primary_->Start();
    a.join();
    b.join();
    for (const auto& e : errors)
      if (start_error_.empty()) start_error_ = e;
    if (start_error_.empty()) start_error_ = BreakReplication();
  }
  // The replica follows the primary until a row it already has arrives.
  static std::string BreakReplication() {
    auto r = replica_->Sql("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=" +
                               std::to_string(primary_->port()) +
                               ", MASTER_USER='root', MASTER_PASSWORD=''; START SLAVE;",
                           "mysql");
    if (!r.ok()) return r.error().message();
    r = primary_->Sql("CREATE TABLE orders (id INT PRIMARY KEY)");
    if (!r.ok()) return r.error().message();
    if (!Eventually([] { return replica_->Sql("SELECT 1 FROM orders", "mamori_test").ok(); },
                    std::chrono::seconds(20)))
      return "the replica never received the table: " + replica_->Log();
    if (auto w = replica_->Sql("INSERT INTO orders VALUES (1)", "mamori_test"); !w.ok())
      return w.error().message();
    if (auto w = primary_->Sql("INSERT INTO orders VALUES (1)"); !w.ok())
      return w.error().message();
    const bool stopped = Eventually(
        [] {
          db::MariadbTarget t{"127.0.0.1", replica_->port(), "", "root", ""};
          auto s = db::ReadMariadb(t, std::chrono::seconds(5));
          return s.ok() && s->facts.replicas.size() == 1 &&
                 s->facts.replicas[0]["Slave_SQL_Running"] == "No";
        },
        std::chrono::seconds(20));
    return stopped ? "" : "the replica's SQL thread did not stop: " + replica_->Log();
  }
  static void TearDownTestSuite() {
    delete primary_;
    delete replica_;
    delete rescue_;
  }
  void SetUp() override {
    if (auto m = MariaDbServer::MissingBinaries(); !m.empty()) GTEST_SKIP() << m;
    ASSERT_EQ(start_error_, "");
  }
  static std::string Yaml(const MariaDbServer& s, const std::string& extra = "") {
    return "{name: db, type: mariadb, host: 127.0.0.1, port: " + std::to_string(s.port()) +
           ", user: root" + extra + "}";
  }
  static double Metric(const Observation& o, const std::string& name) {
    for (const auto& m : o.metrics)
      if (m.name == name) return m.value;
    ADD_FAILURE() << "no metric " << name;
    return -1;
  }
  ProbeHarness harness_;
  static MariaDbServer* primary_;
  static MariaDbServer* replica_;
  static MariaDbServer* rescue_;
  static std::string start_error_;
};
MariaDbServer* MariadbCheck::primary_ = nullptr;
MariaDbServer* MariadbCheck::replica_ = nullptr;
MariaDbServer* MariadbCheck::rescue_ = nullptr;
std::string MariadbCheck::start_error_;

TEST_F(MariadbCheck, PrimaryIsOkWithEveryFigureAsAMetric) {
  auto o = harness_.RunYaml(Yaml(*primary_));
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_NE(o.summary.find("connections"), std::string::npos) << o.summary;
  EXPECT_GE(Metric(o, "connections"), 1);
  EXPECT_EQ(Metric(o, "max_connections"), 151);
  EXPECT_GE(Metric(o, "max_used_connections"), 1);
  EXPECT_EQ(Metric(o, "innodb_force_recovery"), 0);
  EXPECT_EQ(Metric(o, "read_only"), 0);
  EXPECT_EQ(Metric(o, "replicas"), 0);
  EXPECT_GE(Metric(o, "history_list_length"), 0);
  EXPECT_GE(Metric(o, "aborted_connects"), 0);
  EXPECT_GE(Metric(o, "innodb_deadlocks"), 0);
  // A tight connection limit turns the same server WARNING.
  o = harness_.RunYaml(Yaml(*primary_, ", connections_warning: 0.1%, connections_critical: 99%"));
  EXPECT_EQ(o.status, CheckStatus::kWarning) << o.summary;
  // Expected to be a replica, and it is not.
  o = harness_.RunYaml(Yaml(*primary_, ", replica: true"));
  EXPECT_EQ(o.status, CheckStatus::kCritical) << o.summary;
  EXPECT_NE(o.summary.find("not a replica"), std::string::npos) << o.summary;
}

TEST_F(MariadbCheck, ReplicaWithAStoppedSqlThreadIsCriticalWithTheError) {
  auto o = harness_.RunYaml(Yaml(*replica_, ", replica: true"));
  EXPECT_EQ(o.status, CheckStatus::kCritical) << o.summary;
  EXPECT_NE(o.summary.find("SQL thread stopped"), std::string::npos) << o.summary;
  EXPECT_NE(o.summary.find("Duplicate entry '1'"), std::string::npos) << o.summary;
  EXPECT_NE(o.summary.find("127.0.0.1:" + std::to_string(primary_->port())), std::string::npos)
      << o.summary;
  EXPECT_EQ(Metric(o, "replicas"), 1);
  EXPECT_EQ(Metric(o, "replica_sql_running"), 0);
  EXPECT_EQ(Metric(o, "replica_io_running"), 1);
}

TEST_F(MariadbCheck, ForceRecoveryLeftInTheConfigIsCritical) {
  auto o = harness_.RunYaml(Yaml(*rescue_));
  EXPECT_EQ(o.status, CheckStatus::kCritical) << o.summary;
  EXPECT_NE(o.summary.find("innodb_force_recovery=1: InnoDB runs in rescue mode"),
            std::string::npos)
      << o.summary;
  EXPECT_EQ(Metric(o, "innodb_force_recovery"), 1);
}

TEST_F(MariadbCheck, WrongPasswordIsCriticalWithoutThePassword) {
  ASSERT_TRUE(primary_
                  ->Sql("CREATE USER IF NOT EXISTS 'watch'@'127.0.0.1' IDENTIFIED BY "
                        "'right-Secret-1'; GRANT PROCESS, SLAVE MONITOR ON *.* TO "
                        "'watch'@'127.0.0.1'",
                        "mysql")
                  .ok());
  TempDir tmp;
  const std::string file = tmp.Write("pw", "wrong-Secret-2\n");
  const std::string base =
      "{name: db, type: mariadb, host: 127.0.0.1, port: " + std::to_string(primary_->port()) +
      ", user: watch, ";
  auto o = harness_.RunYaml(base + "password_file: " + file + "}");
  EXPECT_EQ(o.status, CheckStatus::kCritical) << o.summary;
  EXPECT_NE(o.summary.find("Access denied for user 'watch'"), std::string::npos) << o.summary;
  EXPECT_EQ(o.summary.find("wrong-Secret-2"), std::string::npos) << o.summary;
  tmp.Write("pw", "right-Secret-1\n");  // read again at every run
  o = harness_.RunYaml(base + "password_file: " + file + "}");
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
}

TEST_F(MariadbCheck, UnreachableServerIsCriticalInBoundedTime) {
  const int port = PickFreePort();
  const auto started = std::chrono::steady_clock::now();
  auto o = harness_.RunYaml(
      "{name: db, type: mariadb, host: 127.0.0.1, port: " + std::to_string(port) + ", user: root}");
  EXPECT_EQ(o.status, CheckStatus::kCritical) << o.summary;
  EXPECT_NE(o.summary.find("cannot connect to mariadb 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << o.summary;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST_F(MariadbCheck, GuardRefusesThePrimaryAndAsksOnTheReplica) {
  auto r = RunMamori({"guard", "--", "rm", "-rf", primary_->data_dir()}, "x\n");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("MariaDB " + primary_->data_dir() + ": PRIMARY"), std::string::npos)
      << r.err;
  EXPECT_TRUE(std::filesystem::exists(primary_->data_dir() + "/mysql"));
  r = RunMamori({"guard", "--", "rm", "-rf", replica_->data_dir() + "/no-such-file"}, "x\n");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("standby (SHOW SLAVE STATUS)"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace mamori::testing
