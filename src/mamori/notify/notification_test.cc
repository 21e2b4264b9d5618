#include "mamori/notify/notification.h"

#include <gtest/gtest.h>

namespace mamori::notify {
namespace {

using namespace std::chrono_literals;

Notification Backup() {
  Notification n;
  n.id = "0b5e7c1e-3a8e-4d4b-9d7e-2f7c6b1a9e10";
  n.kind = Kind::kProblem;
  n.time = FromUnixMillis(1767240000123);  // 2026-01-01T04:00:00.123Z
  n.host = "db1";
  Item it;
  it.check = "backup-db";
  it.type = "file";
  it.from = CheckStatus::kOk;
  it.to = CheckStatus::kCritical;
  it.summary = "/var/backups/db.dump is 12 B (expected at least 1 MB)";
  it.details = "pg_dump: server version: 9.6.1; pg_dump version: 9.2.4";
  it.since = FromUnixMillis(1767236400000);  // 03:00
  it.observations = {{FromUnixMillis(1767240000000), CheckStatus::kCritical, "12 B"},
                     {FromUnixMillis(1767236400000), CheckStatus::kCritical, "12 B"}};
  it.labels = {{"team", "db"}};
  n.items.push_back(it);
  return n;
}

TEST(NotifyNotification, TitleNamesCheckAndState) {
  Notification n = Backup();
  EXPECT_EQ(Title(n), "CRITICAL: backup-db (was OK)");
  n.kind = Kind::kRecovery;
  n.items[0].from = CheckStatus::kCritical;
  n.items[0].to = CheckStatus::kOk;
  n.items[0].previous_since = n.items[0].since - 3h - 5min;
  EXPECT_EQ(Title(n), "RECOVERED: backup-db is OK (was CRITICAL for 3h 5m)");
  Notification g = Backup();
  Item web = g.items[0];
  web.check = "web";
  web.to = CheckStatus::kWarning;
  g.items.push_back(web);
  EXPECT_EQ(Title(g), "2 changes: backup-db CRITICAL, web WARNING");
}

TEST(NotifyNotification, BodySaysWhatSinceWhenAndTheEvidence) {
  const std::string body = TextBody(Backup());
  EXPECT_NE(body.find("backup-db CRITICAL"), std::string::npos) << body;
  EXPECT_NE(body.find("Since:   2026-01-01 03:00:00 UTC (1h 0m ago)"), std::string::npos) << body;
  EXPECT_NE(body.find("What:    /var/backups/db.dump is 12 B"), std::string::npos) << body;
  EXPECT_NE(body.find("pg_dump version: 9.2.4"), std::string::npos) << body;
  EXPECT_NE(body.find("2026-01-01 04:00:00 UTC  CRITICAL  12 B"), std::string::npos) << body;
  EXPECT_NE(body.find("0b5e7c1e-3a8e-4d4b-9d7e-2f7c6b1a9e10"), std::string::npos) << body;
}

TEST(NotifyNotification, JsonRoundTrip) {
  Notification n = Backup();
  n.items[0].previous_since = FromUnixMillis(1767000000000);
  auto back = FromJson(nlohmann::json::parse(ToJson(n).dump()));
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(ToJson(*back), ToJson(n));
  EXPECT_EQ(back->time, n.time);
  EXPECT_EQ(ToJson(n)["time"], "2026-01-01T04:00:00.123Z");
  EXPECT_FALSE(FromJson(nlohmann::json::parse(R"({"id":"x","kind":"nope"})")).ok());
  EXPECT_FALSE(FromJson(nlohmann::json::parse("[1]")).ok());
}

TEST(NotifyNotification, Rfc3339) {
  EXPECT_EQ(ToUnixMillis(*ParseRfc3339("2026-01-01T00:00:01.5Z")), 1767225601500);
  EXPECT_EQ(ToUnixMillis(*ParseRfc3339("1970-01-01T00:00:00Z")), 0);
  EXPECT_FALSE(ParseRfc3339("2026-01-01 00:00:00").ok());
  EXPECT_FALSE(ParseRfc3339("2026-01-01T00:00:00+02:00").ok());
}

TEST(NotifyNotification, ClampBoundsSizes) {
  Notification n = Backup();
  n.items[0].details = std::string(100000, 'x');
  n.items[0].observations.resize(100);
  Clamp(n);
  EXPECT_LE(n.items[0].details.size(), kMaxDetailsBytes);
  EXPECT_EQ(n.items[0].observations.size(), kMaxObservations);
  // UTF-8 is never cut in the middle of a character.
  EXPECT_EQ(CapUtf8("\xC3\xA9\xC3\xA9\xC3\xA9", 5), "\xC3\xA9...");
  EXPECT_EQ(CapUtf8("ab\xC3\xA9"
                    "cdef",
                    6),
            "ab...");
}

TEST(NotifyNotification, IdsAreUuids) {
  const std::string a = NewNotificationId(), b = NewNotificationId();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
}

}  // namespace
}  // namespace mamori::notify
