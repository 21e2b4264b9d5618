// StoredDeliveries against a real Outbox: notifications enqueued and
// delivered by real `command` processes (one succeeds, one exits 1), read
// back while the Outbox still holds outbox.db.
#include "mamori/notify/stored_deliveries.h"

#include <gtest/gtest.h>

#include "mamori/notify/outbox.h"
#include "mamori/notify/stored_acks.h"
#include "testing/notify_servers.h"

namespace mamori::notify {
namespace {

using namespace std::chrono_literals;

TEST(NotifyStoredDeliveries, NameTheChecksAndTheOutcomeWhileTheOutboxRuns) {
  testing::TempDir dir;
  FakeClock clock;
  auto outbox = Outbox::Open(dir.path(), clock);
  ASSERT_TRUE(outbox.ok()) << outbox.error().message();
  std::string errors;
  auto cfg = testing::NotifyFromYaml(
      "notify: [{name: ok, type: command, command: [/bin/true]},"
      " {name: broken, type: command, command: [/bin/false]}]",
      &errors);
  ASSERT_EQ(errors, "");
  (*outbox)->SetChannels(cfg.channels);
  Notification n = testing::SampleProblem(clock.Now(), "backup-db", "pg_dump wrote 12 B");
  Item second = n.items.front();
  second.check = "web";
  second.summary = "502";
  n.items.push_back(second);
  ASSERT_TRUE((*outbox)->Enqueue(n, {"ok", "broken"}).ok());
  ASSERT_TRUE(testing::WaitFor([&] {
    auto a = (*outbox)->Attempts(n.id);
    return a.ok() && a->size() >= 2;
  }));

  auto read = StoredDeliveries(dir.path(), clock.Now() - 1min, 100);
  ASSERT_TRUE(read.ok()) << read.error().message();
  ASSERT_EQ(read->size(), 2u);
  for (const auto& d : *read) {
    EXPECT_EQ(d.id, n.id);
    EXPECT_EQ(d.kind, Kind::kProblem);
    EXPECT_TRUE(d.Names("backup-db") && d.Names("web") && !d.Names("db"));
    EXPECT_EQ(d.attempts, 1);
    if (d.channel == "ok") {
      EXPECT_EQ(d.state, "delivered");
      EXPECT_TRUE(d.done.has_value());
    } else {
      EXPECT_EQ(d.channel, "broken");
      EXPECT_EQ(d.state, "pending");  // retried later
      EXPECT_FALSE(d.done.has_value());
    }
  }
  // `since` and `limit` bound what is read.
  auto later = StoredDeliveries(dir.path(), clock.Now() + 1s, 100);
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later->empty());
  // The limit keeps the newest.
  clock.Advance(1s);
  Notification newer = testing::SampleProblem(clock.Now(), "db", "down");
  ASSERT_TRUE((*outbox)->Enqueue(newer, {"broken"}).ok());
  auto one = StoredDeliveries(dir.path(), clock.Now() - 1min, 1);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->front().id, newer.id);
}

TEST(NotifyStoredDeliveries, NoFilesMeanNothingToShow) {
  testing::TempDir dir;
  auto d = StoredDeliveries(dir.path(), WallTime{}, 10);
  ASSERT_TRUE(d.ok()) << d.error().message();
  EXPECT_TRUE(d->empty());
  auto a = StoredAckLog(dir.path(), WallTime{}, 10);
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_TRUE(a->empty());
}

}  // namespace
}  // namespace mamori::notify
