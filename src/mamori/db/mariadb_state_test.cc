// The mariadb check's judgment on rows, without a server.
#include "mamori/db/mariadb_state.h"

#include <gtest/gtest.h>

namespace mamori::db {
namespace {

MariadbFacts Healthy() {
  MariadbFacts f;
  f.status = {{"Threads_connected", "12"},
              {"Max_used_connections", "40"},
              {"Aborted_connects", "3"},
              {"Innodb_deadlocks", "0"},
              {"Innodb_history_list_length", "250"}};
  f.variables = {{"max_connections", "100"}, {"innodb_force_recovery", "0"}, {"read_only", "OFF"}};
  return f;
}

double Metric(const Observation& o, const std::string& name) {
  for (const auto& m : o.metrics)
    if (m.name == name) return m.value;
  ADD_FAILURE() << "no metric " << name;
  return -1;
}

TEST(MariadbState, HealthyServerIsOkWithItsFigures) {
  MariadbCounters c;
  auto o = JudgeMariadb(Healthy(), {}, c);
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_EQ(o.summary, "12/100 connections (12%, peak 40); InnoDB history list 250");
  EXPECT_EQ(Metric(o, "connections_percent"), 12);
  EXPECT_EQ(Metric(o, "max_used_connections"), 40);
  EXPECT_EQ(Metric(o, "read_only"), 0);
}

TEST(MariadbState, ConnectionsNearTheLimit) {
  MariadbCounters c;
  auto f = Healthy();
  f.status["Threads_connected"] = "85";
  EXPECT_EQ(JudgeMariadb(f, {}, c).status, CheckStatus::kWarning);
  f.status["Threads_connected"] = "95";
  auto o = JudgeMariadb(f, {}, c);
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_NE(o.summary.find("95/100 connections (95%, peak 40) (critical at 90)"), std::string::npos)
      << o.summary;
}

TEST(MariadbState, CountersAreJudgedOnWhatIsNewSinceTheLastRun) {
  MariadbCounters c;
  auto f = Healthy();
  f.status["Aborted_connects"] = "5000";  // years of history: not news
  EXPECT_EQ(JudgeMariadb(f, {}, c).status, CheckStatus::kOk);
  f.status["Aborted_connects"] = "5020";
  f.status["Innodb_deadlocks"] = "60";
  auto o = JudgeMariadb(f, {}, c);
  EXPECT_EQ(o.status, CheckStatus::kCritical) << o.summary;
  EXPECT_NE(o.summary.find("20 aborted connects since the last run (warning at 10)"),
            std::string::npos)
      << o.summary;
  EXPECT_NE(o.summary.find("60 InnoDB deadlocks since the last run (critical at 50)"),
            std::string::npos)
      << o.summary;
  f.status["Aborted_connects"] = "2";  // the server restarted
  f.status["Innodb_deadlocks"] = "0";
  EXPECT_EQ(JudgeMariadb(f, {}, c).status, CheckStatus::kOk);
}

TEST(MariadbState, ReplicaThreadsAndLag) {
  MariadbCounters c;
  auto f = Healthy();
  f.replicas.push_back({{"Connection_name", ""},
                        {"Master_Host", "10.0.0.1"},
                        {"Master_Port", "3306"},
                        {"Slave_IO_Running", "Yes"},
                        {"Slave_SQL_Running", "Yes"},
                        {"Seconds_Behind_Master", "120"}});
  auto o = JudgeMariadb(f, {}, c);
  EXPECT_EQ(o.status, CheckStatus::kWarning) << o.summary;
  EXPECT_NE(o.summary.find("replica of 10.0.0.1:3306 120s behind (warning at 60)"),
            std::string::npos)
      << o.summary;
  f.replicas[0]["Slave_SQL_Running"] = "No";
  f.replicas[0]["Seconds_Behind_Master"] = "";
  f.replicas[0]["Last_SQL_Error"] = "Could not execute Write_rows_v1 event";
  f.replicas[0]["Slave_IO_Running"] = "Connecting";
  o = JudgeMariadb(f, {}, c);
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_NE(o.summary.find("SQL thread stopped: Could not execute Write_rows_v1 event"),
            std::string::npos)
      << o.summary;
  EXPECT_NE(o.summary.find("IO thread still connecting"), std::string::npos) << o.summary;
  EXPECT_EQ(Metric(o, "replica_sql_running"), 0);
}

TEST(MariadbState, ForceRecoveryHistoryAndReadOnly) {
  MariadbCounters c;
  auto f = Healthy();
  f.variables["innodb_force_recovery"] = "1";
  EXPECT_EQ(JudgeMariadb(f, {}, c).status, CheckStatus::kCritical);
  f = Healthy();
  f.status["Innodb_history_list_length"] = "2000000";
  EXPECT_EQ(JudgeMariadb(f, {}, c).status, CheckStatus::kCritical);
  f = Healthy();
  f.variables["read_only"] = "ON";
  MariadbLimits l;
  EXPECT_EQ(JudgeMariadb(f, l, c).status, CheckStatus::kOk);
  l.read_only = false;
  auto o = JudgeMariadb(f, l, c);
  EXPECT_EQ(o.status, CheckStatus::kWarning);
  EXPECT_NE(o.summary.find("read_only is ON (expected OFF)"), std::string::npos) << o.summary;
}

}  // namespace
}  // namespace mamori::db
