#include "mamori/store/store.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "testing/cli.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int64_t PragmaInt(const std::string& db_path, const std::string& pragma) {
  auto db = sqlite::Db::Open(db_path, sqlite::Db::Mode::kReadOnly);
  EXPECT_TRUE(db.ok());
  auto st = db->Prepare("PRAGMA " + pragma);
  EXPECT_TRUE(st.ok());
  auto r = st->Step();
  EXPECT_TRUE(r.ok() && *r);
  return st->ColumnInt(0);
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mamori-store-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    dir_ = tmp_ + "/data";
  }
  void TearDown() override { fs::remove_all(tmp_); }

  std::unique_ptr<Store> OpenRw(Store::Options opts = {}) {
    auto s = Store::Open(dir_, clock_, Store::OpenMode::kReadWrite, opts);
    EXPECT_TRUE(s.ok()) << s.error().message();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::unique_ptr<Store> OpenRo() {
    auto s = Store::Open(dir_, clock_, Store::OpenMode::kReadOnly);
    EXPECT_TRUE(s.ok()) << s.error().message();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  Observation Obs(CheckStatus st, std::string summary, Duration d = 12ms) {
    Observation o = Observation::Make(st, std::move(summary));
    o.time = clock_.Now();
    o.duration = d;
    return o;
  }

  std::string tmp_, dir_;
  FakeClock clock_;
};

TEST_F(StoreTest, CreatesPrivateDataDirAndWalSchema) {
  dir_ = tmp_ + "/nested/deeper/data";
  auto store = OpenRw();
  ASSERT_TRUE(store);
  struct stat st {};
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(store->path(), dir_ + "/mamori.db");
  EXPECT_EQ(PragmaInt(store->path(), "user_version"), Store::kSchemaVersion);
  EXPECT_EQ(PragmaInt(store->path(), "auto_vacuum"), 2);  // INCREMENTAL
  auto db = sqlite::Db::Open(store->path(), sqlite::Db::Mode::kReadOnly);
  ASSERT_TRUE(db.ok());
  auto jm = db->Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(jm.ok());
  ASSERT_TRUE(*jm->Step());
  EXPECT_EQ(jm->ColumnText(0), "wal");
}

TEST_F(StoreTest, ReadOnlyWithoutDataSaysStartRun) {
  auto s = Store::Open(dir_, clock_, Store::OpenMode::kReadOnly);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "no data yet in " + dir_ + ": start `mamori run` first");
  EXPECT_FALSE(fs::exists(dir_));  // read-only never creates anything
  fs::create_directory(dir_);
  s = Store::Open(dir_, clock_, Store::OpenMode::kReadOnly);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "no data yet in " + dir_ + ": start `mamori run` first");
  EXPECT_FALSE(fs::exists(dir_ + "/mamori.db"));
}

TEST_F(StoreTest, ObservationsRoundTripNewestFirst) {
  auto store = OpenRw();
  ASSERT_TRUE(store);
  for (int i = 0; i < 5; ++i) {
    Observation o =
        Obs(i == 3 ? CheckStatus::kCritical : CheckStatus::kOk,
            "GET / 200 in " + std::to_string(i) + " ms", std::chrono::microseconds(1500 + i));
    o.details = "not stored";
    o.AddMetric("total_ms", 1.5 + i);
    o.AddMetric("weird", std::nan(""));
    store->Record("web", "http", o);
    clock_.Advance(10s);
  }
  store->Record("other", "tcp", Obs(CheckStatus::kOk, "open"));
  ASSERT_TRUE(store->Flush().ok());

  auto all = store->Observations("web", WallTime{}, 100);
  ASSERT_TRUE(all.ok()) << all.error().message();
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ((*all)[0].summary, "GET / 200 in 4 ms");  // newest first
  EXPECT_EQ((*all)[1].status, CheckStatus::kCritical);
  EXPECT_EQ((*all)[4].duration, std::chrono::microseconds(1500));
  ASSERT_EQ((*all)[0].metrics.size(), 2u);
  EXPECT_EQ((*all)[0].metrics[0].name, "total_ms");
  EXPECT_EQ((*all)[0].metrics[0].value, 5.5);
  EXPECT_TRUE(std::isnan((*all)[0].metrics[1].value));
  EXPECT_EQ((*all)[0].time, clock_.Now() - 10s);

  auto limited = store->Observations("web", WallTime{}, 2);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->size(), 2u);
  auto since = store->Observations("web", clock_.Now() - 30s, 100);
  ASSERT_TRUE(since.ok());
  EXPECT_EQ(since->size(), 3u);  // -30 s (inclusive), -20 s, -10 s
  auto none = store->Observations("nope", WallTime{}, 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(StoreTest, SummaryAndMetricsAreCapped) {
  auto store = OpenRw();
  ASSERT_TRUE(store);
  // A multi-byte character straddles the cap: the cut must not split it.
  std::string big = std::string(1020, 'a') + "\xc3\xa9\xc3\xa9\xc3\xa9" + std::string(5000, 'b');
  Observation o = Obs(CheckStatus::kWarning, big);
  for (int i = 0; i < 200; ++i) o.AddMetric("m" + std::to_string(i), i);
  o.AddMetric(std::string(1000, 'n'), 1);
  store->Record("c", "exec", o);
  ASSERT_TRUE(store->Flush().ok());
  auto got = store->Observations("c", WallTime{}, 1);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  const auto& s = (*got)[0].summary;
  EXPECT_LE(s.size(), Store::kMaxSummaryBytes);
  EXPECT_EQ(s.substr(s.size() - 3), "...");
  EXPECT_EQ(s.substr(0, 1020), std::string(1020, 'a'));
  EXPECT_EQ(s.size(), 1023u);  // the character that would straddle the cap is dropped whole
  EXPECT_EQ((*got)[0].metrics.size(), Store::kMaxMetrics);
}

TEST_F(StoreTest, RollupsSumPerHourAcrossBatches) {
  auto store = OpenRw();
  ASSERT_TRUE(store);
  // Align to an hour boundary (the fake clock starts at midnight UTC).
  const WallTime h0 = clock_.Now();
  const CheckStatus statuses[] = {CheckStatus::kOk, CheckStatus::kOk, CheckStatus::kWarning,
                                  CheckStatus::kCritical, CheckStatus::kUnknown};
  for (int i = 0; i < 5; ++i) {
    store->Record("db", "postgres", Obs(statuses[i], "x", std::chrono::milliseconds(10 * (i + 1))));
    clock_.Advance(10min);
    if (i == 2) {
      ASSERT_TRUE(store->Flush().ok());  // later rows upsert into the same hour
    }
  }
  clock_.Advance(30min);  // now in the second hour
  store->Record("db", "postgres", Obs(CheckStatus::kOk, "x", 7ms));
  ASSERT_TRUE(store->Flush().ok());

  auto r = store->Rollups("db", WallTime{});
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->size(), 2u);
  const Rollup& a = (*r)[0];
  EXPECT_EQ(a.hour, h0);
  EXPECT_EQ(a.n_ok, 2);
  EXPECT_EQ(a.n_warning, 1);
  EXPECT_EQ(a.n_critical, 1);
  EXPECT_EQ(a.n_unknown, 1);
  EXPECT_EQ(a.total(), 5);
  EXPECT_EQ(a.duration_sum, 150ms);
  EXPECT_EQ(a.duration_max, 50ms);
  EXPECT_EQ((*r)[1].hour, h0 + 1h);
  EXPECT_EQ((*r)[1].n_ok, 1);
  auto later = store->Rollups("db", h0 + 1h);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->size(), 1u);
}

Event MakeEvent(WallTime t, std::string check, EventKind kind, std::optional<CheckStatus> from,
                CheckStatus to, std::string summary) {
  Event e;
  e.time = t;
  e.check = std::move(check);
  e.kind = kind;
  e.from = from;
  e.to = to;
  e.summary = std::move(summary);
  return e;
}

CheckSnapshot MakeSnapshot(const std::string& name, WallTime t) {
  CheckSnapshot s;
  s.name = name;
  s.type = "http";
  s.hard = CheckStatus::kCritical;
  s.last = CheckStatus::kWarning;
  s.soft_failing = true;
  s.attempts = 2;
  s.flapping = true;
  s.last_time = t;
  s.hard_since = t - 5min;
  s.summary = "HTTP 503 from https://example.test/";
  s.duration = std::chrono::microseconds(123456);
  s.metrics = {{"total_ms", 123.456}, {"status_code", 503}};
  return s;
}

void ExpectSnapshotEq(const CheckSnapshot& a, const CheckSnapshot& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.hard, b.hard);
  EXPECT_EQ(a.last, b.last);
  EXPECT_EQ(a.soft_failing, b.soft_failing);
  EXPECT_EQ(a.attempts, b.attempts);
  EXPECT_EQ(a.flapping, b.flapping);
  EXPECT_EQ(a.last_time, b.last_time);
  EXPECT_EQ(a.hard_since, b.hard_since);
  EXPECT_EQ(a.summary, b.summary);
  EXPECT_EQ(a.duration, b.duration);
  ASSERT_EQ(a.metrics.size(), b.metrics.size());
  for (size_t i = 0; i < a.metrics.size(); ++i) {
    EXPECT_EQ(a.metrics[i].name, b.metrics[i].name);
    EXPECT_EQ(a.metrics[i].value, b.metrics[i].value);
  }
}

TEST_F(StoreTest, SnapshotsAndEventsSurviveRestart) {
  const WallTime t = clock_.Now();
  CheckSnapshot web = MakeSnapshot("web", t);
  CheckSnapshot pending = MakeSnapshot("backup", t);
  pending.hard = std::nullopt;
  pending.soft_failing = false;
  pending.flapping = false;
  pending.metrics.clear();
  pending.type = "backup";
  std::vector<Event> events = {
      MakeEvent(t - 10min, "web", EventKind::kStateChange, std::nullopt, CheckStatus::kOk,
                "web is OK"),
      MakeEvent(t - 5min, "web", EventKind::kStateChange, CheckStatus::kOk, CheckStatus::kCritical,
                "HTTP 503"),
      MakeEvent(t, "web", EventKind::kFlappingStarted, CheckStatus::kCritical,
                CheckStatus::kWarning, "flapping (62% state change)"),
      MakeEvent(t, "backup", EventKind::kFlappingStopped, CheckStatus::kOk, CheckStatus::kOk,
                "stable again"),
  };
  {
    auto store = OpenRw();
    ASSERT_TRUE(store);
    store->SaveSnapshot(web);
    store->SaveSnapshot(pending);
    for (const Event& e : events) store->RecordEvent(e);
    // No Flush: the destructor must commit what is queued.
  }
  ASSERT_FALSE(fs::exists(dir_ + "/mamori.db-wal"));  // clean close checkpoints the WAL
  auto store = OpenRw();
  ASSERT_TRUE(store);
  auto snaps = store->LoadSnapshots();
  ASSERT_TRUE(snaps.ok()) << snaps.error().message();
  ASSERT_EQ(snaps->size(), 2u);
  ExpectSnapshotEq((*snaps)[0], pending);  // ordered by name
  ExpectSnapshotEq((*snaps)[1], web);

  auto got = store->Events(std::nullopt, WallTime{}, 100);
  ASSERT_TRUE(got.ok()) << got.error().message();
  ASSERT_EQ(got->size(), 4u);
  // Newest first; equal times keep reverse insertion order.
  std::vector<Event> expect = {events[3], events[2], events[1], events[0]};
  for (size_t i = 0; i < expect.size(); ++i) {
    EXPECT_EQ((*got)[i].time, expect[i].time) << i;
    EXPECT_EQ((*got)[i].check, expect[i].check) << i;
    EXPECT_EQ((*got)[i].kind, expect[i].kind) << i;
    EXPECT_EQ((*got)[i].from, expect[i].from) << i;
    EXPECT_EQ((*got)[i].to, expect[i].to) << i;
    EXPECT_EQ((*got)[i].summary, expect[i].summary) << i;
  }
}

TEST_F(StoreTest, EventsFilterByCheckSinceAndLimit) {
  auto store = OpenRw();
  ASSERT_TRUE(store);
  const WallTime t0 = clock_.Now();
  for (int i = 0; i < 10; ++i)
    store->RecordEvent(MakeEvent(t0 + std::chrono::minutes(i), i % 2 ? "a" : "b",
                                 EventKind::kStateChange, CheckStatus::kOk, CheckStatus::kCritical,
                                 "e" + std::to_string(i)));
  ASSERT_TRUE(store->Flush().ok());
  auto a = store->Events("a", WallTime{}, 100);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 5u);
  EXPECT_EQ((*a)[0].summary, "e9");
  auto since = store->Events(std::nullopt, t0 + 7min, 100);
  ASSERT_TRUE(since.ok());
  EXPECT_EQ(since->size(), 3u);  // 7, 8, 9: `since` is inclusive
  auto lim = store->Events("b", t0 + 1min, 2);
  ASSERT_TRUE(lim.ok());
  ASSERT_EQ(lim->size(), 2u);
  EXPECT_EQ((*lim)[0].summary, "e8");
  EXPECT_EQ((*lim)[1].summary, "e6");
  auto none = store->Events("zzz", WallTime{}, 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(StoreTest, SnapshotsAreCoalescedToTheLatest) {
  auto store = OpenRw();
  ASSERT_TRUE(store);
  for (int i = 0; i < 50; ++i) {
    CheckSnapshot s = MakeSnapshot("web", clock_.Now());
    s.attempts = i;
    store->SaveSnapshot(s);
    if (i == 20) {
      ASSERT_TRUE(store->Flush().ok());
    }
  }
  ASSERT_TRUE(store->Flush().ok());
  auto snaps = store->LoadSnapshots();
  ASSERT_TRUE(snaps.ok());
  ASSERT_EQ(snaps->size(), 1u);
  EXPECT_EQ((*snaps)[0].attempts, 49);
}

TEST_F(StoreTest, ThroughputOfFiftyThousandObservations) {
  auto store = OpenRw();
  ASSERT_TRUE(store);
  constexpr int kN = 50'000;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kN; ++i) {
    Observation o = Obs(i % 17 ? CheckStatus::kOk : CheckStatus::kWarning,
                        "disk / 71.2% used (warning at 80%), 4.1 GiB free");
    o.AddMetric("used_percent", 71.2);
    o.AddMetric("free_bytes", 4.1e9);
    o.AddMetric("total_ms", 0.25 * i);
    store->Record("check" + std::to_string(i % 20), "disk", o);
    clock_.Advance(1s);
  }
  ASSERT_TRUE(store->Flush().ok());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double rate = kN / secs;
  std::printf("[ store ] %d observations recorded and committed in %.3f s: %.0f/s\n", kN, secs,
              rate);
  EXPECT_EQ(store->dropped_observations(), 0u);
  EXPECT_GE(rate, 5000.0);
  auto one = store->Observations("check7", WallTime{}, kN);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), static_cast<size_t>(kN / 20));
}

TEST_F(StoreTest, FullQueueDropsObservationsButNeverEvents) {
  Store::Options opts;
  opts.queue_capacity = 10;
  opts.batch_size = 1000;
  opts.flush_interval = 30s;  // nothing is committed until Flush
  opts.event_block = 20ms;
  auto store = OpenRw(opts);
  ASSERT_TRUE(store);
  for (int i = 0; i < 25; ++i) store->Record("c", "t", Obs(CheckStatus::kOk, "ok"));
  EXPECT_EQ(store->dropped_observations(), 15u);
  auto start = std::chrono::steady_clock::now();
  store->RecordEvent(MakeEvent(clock_.Now(), "c", EventKind::kStateChange, std::nullopt,
                               CheckStatus::kOk, "kept"));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 15ms);  // it waited for room first
  store->SaveSnapshot(MakeSnapshot("c", clock_.Now()));
  ASSERT_TRUE(store->Flush().ok());
  auto obs = store->Observations("c", WallTime{}, 100);
  ASSERT_TRUE(obs.ok());
  EXPECT_EQ(obs->size(), 10u);
  auto ev = store->Events("c", WallTime{}, 100);
  ASSERT_TRUE(ev.ok());
  ASSERT_EQ(ev->size(), 1u);
  EXPECT_EQ((*ev)[0].summary, "kept");
  auto snaps = store->LoadSnapshots();
  ASSERT_TRUE(snaps.ok());
  EXPECT_EQ(snaps->size(), 1u);
  // Room again: observations are accepted.
  store->Record("c", "t", Obs(CheckStatus::kOk, "ok"));
  EXPECT_EQ(store->dropped_observations(), 15u);
}

// Captures what the store logs (the real spdlog output, through a sink on the
// default logger) for as long as it lives.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  size_t Count(const std::string& text) {
    spdlog::default_logger()->flush();
    const std::string all = out_.str();
    size_t n = 0;
    for (size_t at = all.find(text); at != std::string::npos; at = all.find(text, at + 1)) ++n;
    return n;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(StoreTest, EveryOverflowOfTheQueueIsLogged) {
  LogCapture log;
  Store::Options opts;
  opts.queue_capacity = 10;
  opts.batch_size = 1000;
  opts.flush_interval = 30s;  // nothing is committed until Flush
  auto store = OpenRw(opts);
  ASSERT_TRUE(store);
  for (int i = 0; i < 15; ++i) store->Record("c", "t", Obs(CheckStatus::kOk, "ok"));
  EXPECT_EQ(log.Count("write queue full"), 1u);
  ASSERT_TRUE(store->Flush().ok());  // drained: the episode is over
  for (int i = 0; i < 15; ++i) store->Record("c", "t", Obs(CheckStatus::kOk, "ok"));
  EXPECT_EQ(store->dropped_observations(), 10u);
  // The second overflow is a new episode and is logged again, once.
  EXPECT_EQ(log.Count("write queue full"), 2u);
}

// While commits fail (here: another connection holds the write lock longer than
// the busy timeout), a ping's client must be told at once, not wait behind the
// failing batch; observations keep queueing, and everything is written once the
// cause is gone.
TEST_F(StoreTest, PingsFailFastWhileCommitsFailAndWritingResumes) {
  Store::Options opts;
  opts.busy_timeout = 50ms;
  auto store = OpenRw(opts);
  ASSERT_TRUE(store);
  auto other = sqlite::Db::Open(store->path(), sqlite::Db::Mode::kReadWrite);
  ASSERT_TRUE(other.ok());
  auto tx = sqlite::Transaction::Begin(*other);
  ASSERT_TRUE(tx.ok());
  store->Record("c", "t", Obs(CheckStatus::kCritical, "down"));
  ASSERT_FALSE(store->Flush().ok());  // the batch failed and is being retried
  auto ping = [&](const std::string& body) {
    auto done = std::make_shared<std::promise<Status>>();
    heartbeat::Ping p;
    p.check = "job";
    p.kind = heartbeat::PingKind::kSuccess;
    p.body = body;
    store->RecordPing(p, [done](Status s) { done->set_value(std::move(s)); });
    return done->get_future();
  };
  for (int i = 0; i < 8; ++i) {
    store->Record("c", "t", Obs(CheckStatus::kCritical, "still down"));
    const auto start = std::chrono::steady_clock::now();
    auto answer = ping("while locked");
    ASSERT_EQ(answer.wait_for(2s), std::future_status::ready) << "ping " << i << " hangs";
    EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
    EXPECT_FALSE(answer.get().ok());
  }
  ASSERT_TRUE(tx->Commit().ok());  // the cause is gone
  Status last = Error("no answer");
  ASSERT_TRUE(mamori::testing::Eventually(
      [&] {
        auto answer = ping("after");
        if (answer.wait_for(10s) != std::future_status::ready) return false;
        last = answer.get();
        return last.ok();
      },
      20s))
      << last.error().message();
  auto pings = store->Pings("job", 100);
  ASSERT_TRUE(pings.ok());
  ASSERT_EQ(pings->size(), 1u);  // only the acknowledged one
  EXPECT_EQ((*pings)[0].body, "after");
  ASSERT_TRUE(store->Flush().ok());
  auto obs = store->Observations("c", WallTime{}, 100);
  ASSERT_TRUE(obs.ok());
  EXPECT_EQ(obs->size(), 9u);  // nothing queued meanwhile was lost
}

// The first failure a ping meets: its client, answered with an error,
// retries at once (here from inside the answer), and that ping must be
// refused at once as well, not queued behind the failed batch's retries.
TEST_F(StoreTest, APingSentRightAfterAFailedOneIsRefusedAtOnce) {
  Store::Options opts;
  opts.busy_timeout = 50ms;
  auto store = OpenRw(opts);
  ASSERT_TRUE(store);
  auto other = sqlite::Db::Open(store->path(), sqlite::Db::Mode::kReadWrite);
  ASSERT_TRUE(other.ok());
  auto tx = sqlite::Transaction::Begin(*other);
  ASSERT_TRUE(tx.ok());
  heartbeat::Ping p;
  p.check = "job";
  p.kind = heartbeat::PingKind::kSuccess;
  auto first = std::make_shared<std::promise<Status>>();
  auto retry = std::make_shared<std::promise<Status>>();
  Store* s = store.get();
  s->RecordPing(p, [s, p, first, retry](Status st) {
    first->set_value(std::move(st));
    s->RecordPing(p, [retry](Status again) { retry->set_value(std::move(again)); });
  });
  auto first_answer = first->get_future();
  auto retry_answer = retry->get_future();
  ASSERT_EQ(first_answer.wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(first_answer.get().ok());
  ASSERT_EQ(retry_answer.wait_for(1s), std::future_status::ready)
      << "the retried ping waits behind the failed batch";
  EXPECT_FALSE(retry_answer.get().ok());
  ASSERT_TRUE(tx->Commit().ok());
}

// Group commit: pings that wait at once share one transaction, and none is
// answered before the transaction holding it is committed. The first ping's
// callback (on the writer thread) holds the writer until the others are queued.
TEST_F(StoreTest, PingsWaitingTogetherShareOneCommit) {
  auto store = OpenRw();
  ASSERT_TRUE(store);
  Store* s = store.get();
  constexpr int kWaiting = 50;
  heartbeat::Ping p;
  p.check = "job";
  p.kind = heartbeat::PingKind::kSuccess;
  std::promise<void> queued;
  auto all_queued = queued.get_future().share();
  std::atomic<int> answered{0}, answered_uncommitted{0};
  auto stored = [s](int64_t want) {
    auto n = s->PingCount();
    return n.ok() && *n >= want;
  };
  s->RecordPing(p, [&, all_queued](Status st) {
    EXPECT_TRUE(st.ok());
    all_queued.wait_for(5s);
    answered.fetch_add(1);
  });
  const uint64_t before = s->commits();
  for (int i = 0; i < kWaiting; ++i)
    s->RecordPing(p, [&, i](Status st) {
      EXPECT_TRUE(st.ok());
      // Read through the store's own reader: the ping is there already.
      if (!stored(2 + i)) answered_uncommitted.fetch_add(1);
      answered.fetch_add(1);
    });
  queued.set_value();
  ASSERT_TRUE(mamori::testing::Eventually([&] { return answered.load() == kWaiting + 1; }, 5s));
  EXPECT_EQ(answered_uncommitted.load(), 0);
  // The first commit may have been under way when counting began.
  EXPECT_LE(s->commits() - before, 2u) << "waiting pings were committed one by one";
  auto n = s->PingCount();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, kWaiting + 1);
  // After that full commit the writer waits for as many pings to come
  // together, but only briefly: a lone ping is not held back.
  std::promise<Status> lone;
  const auto start = std::chrono::steady_clock::now();
  s->RecordPing(p, [&lone](Status st) { lone.set_value(std::move(st)); });
  auto lone_answer = lone.get_future();
  ASSERT_EQ(lone_answer.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(lone_answer.get().ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
}

TEST_F(StoreTest, CommitFailureIsReportedAndRetriedWithoutLoss) {
  Store::Options opts;
  opts.busy_timeout = 50ms;
  auto store = OpenRw(opts);
  ASSERT_TRUE(store);
  // Another writer holds the write lock longer than the busy timeout.
  auto other = sqlite::Db::Open(store->path(), sqlite::Db::Mode::kReadWrite);
  ASSERT_TRUE(other.ok());
  auto tx = sqlite::Transaction::Begin(*other);
  ASSERT_TRUE(tx.ok());
  store->Record("c", "t", Obs(CheckStatus::kCritical, "down"));
  store->RecordEvent(MakeEvent(clock_.Now(), "c", EventKind::kStateChange, std::nullopt,
                               CheckStatus::kCritical, "down"));
  Status s = store->Flush();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("database is locked"), std::string::npos)
      << s.error().message();
  EXPECT_NE(s.error().message().find(store->path()), std::string::npos);
  ASSERT_TRUE(tx->Commit().ok());  // releases the lock
  ASSERT_TRUE(store->Flush().ok());
  auto obs = store->Observations("c", WallTime{}, 10);
  ASSERT_TRUE(obs.ok());
  EXPECT_EQ(obs->size(), 1u);
  auto ev = store->Events("c", WallTime{}, 10);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->size(), 1u);
}

TEST_F(StoreTest, CompactAppliesRetention) {
  auto store = OpenRw();
  ASSERT_TRUE(store);
  const WallTime start = clock_.Now();
  for (int day = 0; day < 10; ++day) {
    for (int h = 0; h < 24; ++h) {
      store->Record("web", "http", Obs(CheckStatus::kOk, "ok"));
      clock_.Advance(1h);
    }
    store->RecordEvent(MakeEvent(clock_.Now(), "web", EventKind::kStateChange, CheckStatus::kOk,
                                 CheckStatus::kCritical, "day " + std::to_string(day)));
  }
  // now = start + 10 d
  RetentionConfig r;
  r.raw = 3 * 24h;
  r.rollups = 5 * 24h;
  r.events = 2 * 24h - 1min;
  ASSERT_TRUE(store->Compact(r).ok());
  auto obs = store->Observations("web", WallTime{}, 1000);
  ASSERT_TRUE(obs.ok());
  EXPECT_EQ(obs->size(), 72u);
  EXPECT_GE(obs->back().time, clock_.Now() - 72h);
  auto roll = store->Rollups("web", WallTime{});
  ASSERT_TRUE(roll.ok());
  EXPECT_EQ(roll->size(), 120u);
  EXPECT_EQ(roll->front().hour, start + 5 * 24h);
  auto ev = store->Events(std::nullopt, WallTime{}, 100);
  ASSERT_TRUE(ev.ok());
  ASSERT_EQ(ev->size(), 2u);  // day 9 (now) and day 8 (now - 24 h)
  EXPECT_EQ((*ev)[1].summary, "day 8");

  // A zero retention keeps everything rather than deleting it all.
  RetentionConfig keep{Duration::zero(), Duration::zero(), Duration::zero()};
  ASSERT_TRUE(store->Compact(keep).ok());
  obs = store->Observations("web", WallTime{}, 1000);
  ASSERT_TRUE(obs.ok());
  EXPECT_EQ(obs->size(), 72u);
}

// The promise: a year of one 60 s check stays within a few MB, because raw rows
// are kept 7 days and only hourly rollups beyond that.
TEST_F(StoreTest, YearOfOneCheckStaysWithinAFewMegabytes) {
  Store::Options opts;
  opts.batch_size = 5000;
  auto store = OpenRw(opts);
  ASSERT_TRUE(store);
  const RetentionConfig retention;  // defaults: raw 7 d, rollups 400 d
  auto start = std::chrono::steady_clock::now();
  int64_t n = 0;
  for (int day = 0; day < 365; ++day) {
    for (int m = 0; m < 1440; ++m, ++n) {
      Observation o = Obs(n % 997 ? CheckStatus::kOk : CheckStatus::kCritical,
                          "HTTP 200 OK in 84 ms, 14.2 KiB, certificate valid for 61 days",
                          std::chrono::microseconds(84000 + n % 1000));
      o.AddMetric("total_ms", 84.0 + (n % 1000) / 10.0);
      o.AddMetric("connect_ms", 1.2 + (n % 7) / 10.0);
      o.AddMetric("tls_ms", 9.8 + (n % 13) / 10.0);
      o.AddMetric("size_bytes", 14540 + n % 31);
      o.AddMetric("cert_days_left", 61 - (day % 61));
      store->Record("website", "http", o);
      clock_.Advance(60s);
    }
    ASSERT_TRUE(store->Compact(retention).ok()) << "day " << day;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(store->dropped_observations(), 0u);

  const std::string db = store->path();
  auto size_of = [](const std::string& p) -> uintmax_t {
    std::error_code ec;
    auto s = fs::file_size(p, ec);
    return ec ? 0 : s;
  };
  uintmax_t total = size_of(db) + size_of(db + "-wal");
  std::printf(
      "[ store ] one year of a 60 s check (%lld observations) in %.1f s: %s %.2f MB "
      "(db %ju + wal %ju bytes)\n",
      static_cast<long long>(n), secs, db.c_str(), total / 1e6, size_of(db), size_of(db + "-wal"));
  EXPECT_LT(total, 4u * 1000 * 1000);

  auto raw = store->Observations("website", WallTime{}, Store::kMaxReadRows);
  ASSERT_TRUE(raw.ok());
  EXPECT_GE(raw->size(), 7u * 1440);
  EXPECT_LE(raw->size(), 8u * 1440);
  auto roll = store->Rollups("website", WallTime{});
  ASSERT_TRUE(roll.ok());
  EXPECT_EQ(roll->size(), 365u * 24);  // nothing older than 400 days yet
  int64_t total_count = 0;
  for (const Rollup& r : *roll) total_count += r.total();
  EXPECT_EQ(total_count, n);
}

TEST_F(StoreTest, ReaderAndWriterWorkConcurrently) {
  Store::Options opts;
  opts.flush_interval = 5ms;
  opts.batch_size = 50;
  auto writer = OpenRw(opts);
  ASSERT_TRUE(writer);
  writer->SaveSnapshot(MakeSnapshot("c0", clock_.Now()));
  ASSERT_TRUE(writer->Flush().ok());
  auto reader = OpenRo();
  ASSERT_TRUE(reader);

  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, errors{0};
  std::string first_error;
  std::thread t([&] {
    while (!done.load()) {
      auto s = reader->LoadSnapshots();
      auto o = reader->Observations("c1", WallTime{}, 50);
      if (!s.ok() || !o.ok()) {
        if (errors++ == 0) first_error = s.ok() ? o.error().message() : s.error().message();
      }
      reads++;
    }
  });
  for (int i = 0; i < 3000; ++i) {
    CheckSnapshot s = MakeSnapshot("c" + std::to_string(i % 10), clock_.Now());
    s.attempts = i;
    writer->SaveSnapshot(s);
    writer->Record("c" + std::to_string(i % 10), "http", Obs(CheckStatus::kOk, "ok"));
    if (i % 300 == 0) {
      ASSERT_TRUE(writer->Flush().ok());
      ASSERT_TRUE(writer->Compact(RetentionConfig{}).ok());  // checkpoints under readers
    }
  }
  ASSERT_TRUE(writer->Flush().ok());
  // Keep reading until the reader has seen the final state at least once.
  for (int i = 0; i < 1000; ++i) {
    auto s = reader->LoadSnapshots();
    ASSERT_TRUE(s.ok());
    if (s->size() == 10 && (*s)[9].attempts == 2999) break;
    std::this_thread::sleep_for(1ms);
  }
  done = true;
  t.join();
  EXPECT_EQ(errors.load(), 0) << first_error;
  EXPECT_GT(reads.load(), 0);
  auto s = reader->LoadSnapshots();
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->size(), 10u);
  EXPECT_EQ((*s)[9].attempts, 2999);
  // Writes to a read-only store are refused, not performed.
  reader->Record("c1", "http", Obs(CheckStatus::kOk, "ignored"));
  EXPECT_FALSE(reader->Flush().ok());
  EXPECT_FALSE(reader->Compact(RetentionConfig{}).ok());
}

TEST_F(StoreTest, DataDirThatIsAFileIsNamedInTheError) {
  { std::ofstream(dir_) << "i am a file\n"; }
  for (auto mode : {Store::OpenMode::kReadWrite, Store::OpenMode::kReadOnly}) {
    auto s = Store::Open(dir_, clock_, mode);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().message(), "data directory " + dir_ +
                                       " exists but is not a directory; point data_dir at a "
                                       "directory");
  }
  EXPECT_EQ(ReadFile(dir_), "i am a file\n");
  // A parent that is a file cannot be created through either.
  auto s = Store::Open(dir_ + "/sub", clock_, Store::OpenMode::kReadWrite);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find(dir_ + "/sub"), std::string::npos) << s.error().message();
}

TEST_F(StoreTest, GarbageFileIsNotAMamoriDatabaseAndIsKept) {
  fs::create_directory(dir_);
  const std::string db = dir_ + "/mamori.db";
  std::string garbage;
  for (int i = 0; i < 300; ++i)
    garbage += "this is not sqlite, just some text " + std::to_string(i);
  { std::ofstream(db, std::ios::binary) << garbage; }
  for (auto mode : {Store::OpenMode::kReadWrite, Store::OpenMode::kReadOnly}) {
    auto s = Store::Open(dir_, clock_, mode);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(
        s.error().message().rfind(db + " is not a mamori database (file is not a database)", 0), 0u)
        << s.error().message();
  }
  EXPECT_EQ(ReadFile(db), garbage);
  EXPECT_FALSE(fs::exists(db + "-wal"));
}

TEST_F(StoreTest, ForeignOrNewerDatabasesAreRefusedAndKept) {
  fs::create_directory(dir_);
  const std::string db = dir_ + "/mamori.db";
  {
    auto d = sqlite::Db::Open(db, sqlite::Db::Mode::kReadWriteCreate);
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE(d->Exec("CREATE TABLE invoices(id INTEGER); INSERT INTO invoices VALUES(42)").ok());
  }
  const std::string before = ReadFile(db);
  for (auto mode : {Store::OpenMode::kReadWrite, Store::OpenMode::kReadOnly}) {
    auto s = Store::Open(dir_, clock_, mode);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message().find(db + " is not a mamori database (it holds other tables)"),
              std::string::npos)
        << s.error().message();
  }
  EXPECT_EQ(ReadFile(db), before);

  fs::remove(db);
  { auto st = OpenRw(); }
  {
    auto d = sqlite::Db::Open(db, sqlite::Db::Mode::kReadWrite);
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE(d->Exec("PRAGMA user_version = 99").ok());
  }
  auto s = Store::Open(dir_, clock_, Store::OpenMode::kReadWrite);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("written by a newer mamori (schema 99"), std::string::npos)
      << s.error().message();
}

TEST_F(StoreTest, DatabasePathThatIsADirectoryIsRefused) {
  fs::create_directories(dir_ + "/mamori.db");
  auto s = Store::Open(dir_, clock_, Store::OpenMode::kReadWrite);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(),
            dir_ + "/mamori.db is not a regular file; move it aside or set another data_dir");
}

}  // namespace
}  // namespace mamori
