// Replay of incident 4's last step: re-seeding the broken standby db2 meant
// wiping its data directory, and a tired engineer ran the wipe on db1, the
// primary. Here a real PostgreSQL primary (with the incident's table) and a
// real standby run side by side; the shell has mamori's guard functions, as
// `eval "$(mamori guard shell-init bash)"` in the operators' .bashrc would.
// The wipe on the primary is refused without a question and the data is
// intact; the same wipe on the standby runs once the hostname is typed back.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "mamori/util/subprocess.h"
#include "mamori_binary_path.h"
#include "testing/postgres.h"

namespace mamori {
namespace {

using testing::PostgresServer;

std::string Host() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

// The operator's interactive shell: guard functions loaded, then `command`.
ProcessResult OperatorShell(const std::string& command, const std::string& typed) {
  ProcessOptions o;
  o.argv = {"bash", "-c", "eval \"$(\"$MAMORI\" guard shell-init bash)\"; " + command};
  o.env = {{"MAMORI", MAMORI_BINARY}};
  o.stdin_data = typed;
  o.timeout = std::chrono::seconds(30);
  auto r = RunProcess(o);
  return r.ok() ? *r : ProcessResult{};
}

TEST(ScenarioWrongHostWipe, TheWipeOnThePrimaryIsRefused) {
  if (auto m = PostgresServer::MissingBinaries(); !m.empty()) GTEST_SKIP() << m;
  PostgresServer db1;
  PostgresServer::Options o;
  o.standby = true;
  PostgresServer db2(o);
  std::string db2_error;
  std::thread t([&] { db2_error = db2.Start(); });
  const std::string db1_error = db1.Start();
  t.join();
  ASSERT_EQ(db1_error, "");
  ASSERT_EQ(db2_error, "");
  ASSERT_TRUE(
      db1.Sql("CREATE TABLE projects AS SELECT g AS id FROM generate_series(1, 5000) g").ok());

  // 23:00 UTC: "rm -rvf" of the data directory's contents, on the wrong host.
  // Even the standby's name typed back does not help on the primary.
  auto r = OperatorShell("rm -rvf " + db1.data_dir() + "/*", "db2\n");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("PRIMARY (pg_is_in_recovery())"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("REFUSED"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");  // rm -v printed nothing: nothing was removed
  auto rows = db1.Sql("SELECT count(*) FROM projects");
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  EXPECT_EQ(*rows, "5000\n");

  // The wipe meant for db2: it asks, and runs once its name is typed back.
  const std::string pg_version = db2.data_dir() + "/PG_VERSION";
  r = OperatorShell("rm -f " + pg_version, "db1\n");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("standby (pg_is_in_recovery())"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::exists(pg_version));
  r = OperatorShell("rm -f " + pg_version, Host() + "\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(pg_version));
}

}  // namespace
}  // namespace mamori
