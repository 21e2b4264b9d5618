// Compaction under load, against the real daemon on loopback: a store holding
// millions of observations past retention (written straight into the real
// SQLite file before the daemon starts), `retention: {raw: 1h,
// compact_every: 2s}`, and a client pinging a heartbeat every 20 ms while the
// daemon deletes them. Every ping is durable before its answer, so a
// compaction that held the writer for its whole length would hold every ping
// that long.
//
// What it proves: the compaction really took seconds (the daemon's own
// "store compacted: N old rows deleted in M ms" line, checked to be long
// enough that the test can fail), the old rows are gone, and no ping waited
// more than a second meanwhile.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <thread>

#include "mamori/store/sqlite.h"
#include "mamori/store/store.h"
#include "testing/cli.h"
#include "testing/loopback_client.h"
#include "testing/ports.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;

constexpr const char* kUuid = "0b3f5a2e-7c41-4d8e-a1f6-93c2d7e4b518";
constexpr int64_t kOldRows = 4'000'000;

// The schema (through Store::Open), then the check and kOldRows observations
// from 30 days ago, in one transaction.
void PlantOldHistory(const std::string& data_dir) {
  SystemClock clock;
  {
    auto store = Store::Open(data_dir, clock, Store::OpenMode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.error().message();
  }
  auto db = sqlite::Db::Open(data_dir + "/mamori.db", sqlite::Db::Mode::kReadWrite);
  ASSERT_TRUE(db.ok()) << db.error().message();
  const int64_t old_ms = ToUnixMillis(clock.Now() - std::chrono::hours(24 * 30));
  ASSERT_TRUE(db->Exec("INSERT INTO checks(name, type) VALUES ('job', 'heartbeat')").ok());
  auto insert = db->Prepare(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) "
      "INSERT INTO observations(check_id, ts_ms, status, duration_us, summary) "
      "SELECT (SELECT id FROM checks WHERE name = 'job'), ?2 + i, 0, 1000, 'ok' FROM n");
  ASSERT_TRUE(insert.ok()) << insert.error().message();
  insert->Bind(1, kOldRows).Bind(2, old_ms);
  ASSERT_TRUE(db->Exec("BEGIN").ok());
  ASSERT_TRUE(insert->Run().ok());
  ASSERT_TRUE(db->Exec("COMMIT").ok());
}

TEST(CompactionFaults, PingsAreAnsweredWithinASecondWhileMillionsOfOldRowsAreDeleted) {
  testing::TempDir dir;
  const std::string data = dir.path() + "/data";
  PlantOldHistory(data);
  if (::testing::Test::HasFatalFailure()) return;
  const int port = testing::PickFreePort();
  const std::string config =
      dir.Write("mamori.yaml", "data_dir: " + data + "\nlisten: 127.0.0.1:" + std::to_string(port) +
                                   "\nretention: {raw: 1h, compact_every: 2s}\n"
                                   "checks:\n  - {name: job, type: heartbeat, uuid: " +
                                   kUuid + ", period: 1d, grace: 1h}\n");
  testing::DaemonProcess daemon({"-c", config}, dir.path() + "/daemon.log");
  ASSERT_TRUE(daemon.WaitForLog("ping API listening")) << daemon.Log();

  std::chrono::milliseconds worst{0};
  int pings = 0, answered = 0;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline &&
         daemon.Log().find("store compacted:") == std::string::npos) {
    const auto start = std::chrono::steady_clock::now();
    const int code = testing::Request(port, testing::PingRequest(kUuid, "p"), 5000ms);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    worst = std::max(worst, took);
    ++pings;
    if (code == 200) ++answered;
    std::this_thread::sleep_for(20ms);
  }
  const std::string log = daemon.Log();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      log, m, std::regex("store compacted: (\\d+) old rows deleted in (\\d+) ms")))
      << "no compaction within 60 s:\n"
      << log;
  const int64_t deleted = std::stoll(m[1]);
  const int64_t compaction_ms = std::stoll(m[2]);
  std::cout << "compaction: " << deleted << " rows in " << compaction_ms << " ms; " << pings
            << " pings meanwhile, slowest answer " << worst.count() << " ms\n";
  EXPECT_EQ(deleted, kOldRows);
  // Shorter than this and a stalled writer could not be told from a fast one.
  ASSERT_GE(compaction_ms, 1500) << "the compaction was too quick for this test to mean anything";
  EXPECT_EQ(answered, pings);
  EXPECT_LT(worst, 1000ms) << "a ping waited for the compaction";
}

}  // namespace
}  // namespace mamori
