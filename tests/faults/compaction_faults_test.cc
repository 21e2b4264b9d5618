// The store's compaction must not stall the scheduler. Compaction (DELETE and
// VACUUM) can take seconds on a slow or busy disk; here it is made to wait
// for real: another connection holds an exclusive lock on mamori.db while
// the daemon's first compaction (a minute after the start) runs, so that
// compaction waits out SQLite's busy timeout (5 s) and fails. The checks keep
// running on time all the while: no scheduler stats window (1 s each) shows
// a lateness above 1 s. Were compaction on the event loop, the window in
// which it ran would show about 5 s.
//
// The real binary, a real SQLite lock from this process. Takes about 70 s
// (the first compaction is due a minute after the start).
#include <signal.h>
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <thread>

#include "testing/cli.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;

// "8ms", "1.2s", "950us" to milliseconds; anything longer ("1m 3s") is huge.
double Millis(const std::string& text) {
  std::smatch m;
  static const std::regex kNumber(R"(^([0-9.]+)(us|ms|s)$)");
  if (!std::regex_match(text, m, kNumber)) return 1e9;
  const double v = std::stod(m[1]);
  return m[2] == "us" ? v / 1000 : m[2] == "ms" ? v : v * 1000;
}

TEST(CompactionFaults, ALockedDatabaseDuringCompactionDoesNotStallTheChecks) {
  testing::TempDir dir;
  std::string checks;
  for (int i = 0; i < 10; ++i)
    checks += "  - {name: f" + std::to_string(i) + ", type: file, path: '" + dir.path() +
              "', interval: 100ms, timeout: 1s}\n";
  const std::string cfg = dir.Write("mamori.yaml", "data_dir: ./data\nchecks:\n" + checks);
  testing::DaemonProcess d({"-c", cfg, "--stats-interval", "1s"}, dir.path() + "/daemon.log");
  ASSERT_TRUE(d.WaitForLog("running 10 checks")) << d.Log();
  const auto started = std::chrono::steady_clock::now();

  // From 50 s to 72 s after the start: the compaction at 60 s meets the lock.
  std::this_thread::sleep_until(started + 50s);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() + "/data/mamori.db").c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  std::this_thread::sleep_until(started + 72s);
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  std::this_thread::sleep_for(3s);
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(), 0);

  const std::string log = d.Log();
  EXPECT_NE(log.find("store compaction failed"), std::string::npos)
      << "compaction did not meet the lock; the test proved nothing:\n"
      << log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
  static const std::regex kWindow(R"(lateness p50 \S+ p99 \S+ max (\S+),)");
  std::istringstream in(log);
  int windows = 0;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, kWindow)) continue;
    ++windows;
    EXPECT_LT(Millis(m[1]), 1000) << "a stats window with the loop stalled:\n" << line;
  }
  EXPECT_GE(windows, 60) << log;
}

}  // namespace
}  // namespace mamori
