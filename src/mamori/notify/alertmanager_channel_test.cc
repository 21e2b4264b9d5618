// The alertmanager channel against the real prometheus-alertmanager started
// on 127.0.0.1 (clustering off): alerts are posted, then read back through
// Alertmanager's own API.
#include <gtest/gtest.h>

#include "mamori/notify/channel.h"
#include "mamori/notify/http_post.h"
#include "testing/notify_servers.h"

namespace mamori::notify {
namespace {

using nlohmann::json;
using testing::Alertmanager;
using testing::NotifyFromYaml;
using testing::WaitFor;

// The active alerts Alertmanager lists for `check`.
std::vector<json> Active(const std::string& base, const std::string& check) {
  PostRequest get;
  get.method = "GET";
  get.url = base + "/api/v2/alerts";
  auto r = HttpPost(get);
  std::vector<json> out;
  if (!r.ok() || r->status != 200) return out;
  json all = json::parse(r->body, nullptr, false);
  if (!all.is_array()) return out;
  for (const auto& a : all)
    if (a["labels"].value("check", "") == check) out.push_back(a);
  return out;
}

TEST(NotifyAlertmanager, FiresAndResolvesInARealAlertmanager) {
  std::string error;
  auto am = Alertmanager::Start(&error);
  ASSERT_TRUE(am) << error;
  std::string errors;
  auto cfg = NotifyFromYaml(
      "notify: [{name: am, type: alertmanager, url: " + am->Url() + ", labels: {team: ops}}]",
      &errors);
  ASSERT_EQ(errors, "");
  auto ch = cfg.channels[0];

  Notification n;
  n.id = NewNotificationId();
  n.kind = Kind::kProblem;
  n.time = std::chrono::system_clock::now();
  n.host = "db1";
  Item it;
  it.check = "backup-db";
  it.from = CheckStatus::kOk;
  it.to = CheckStatus::kCritical;
  it.summary = "pg_dump wrote 12 B";
  it.since = n.time - std::chrono::minutes(10);
  it.labels = {{"tier", "database"}};
  n.items.push_back(it);
  auto r = ch->Deliver(n);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, "HTTP 200");

  std::vector<json> active;
  ASSERT_TRUE(WaitFor([&] { return !(active = Active(am->Url(), "backup-db")).empty(); }))
      << testing::ReadFile(am->log_file());
  ASSERT_EQ(active.size(), 1u);  // the other severities went in resolved
  const json& a = active[0];
  EXPECT_EQ(a["labels"]["alertname"], "MamoriCheck");
  EXPECT_EQ(a["labels"]["severity"], "critical");
  EXPECT_EQ(a["labels"]["instance"], "db1");
  EXPECT_EQ(a["labels"]["team"], "ops");
  EXPECT_EQ(a["labels"]["tier"], "database");
  EXPECT_EQ(a["annotations"]["summary"], "pg_dump wrote 12 B");
  EXPECT_EQ(a["status"]["state"], "active");
  auto starts = ParseRfc3339(a["startsAt"].get<std::string>().substr(0, 23) + "Z");
  ASSERT_TRUE(starts.ok());
  EXPECT_LE(std::chrono::abs(*starts - it.since), std::chrono::seconds(1));

  // Recovery: the alert is resolved and no longer listed.
  Notification rec = n;
  rec.id = NewNotificationId();
  rec.kind = Kind::kRecovery;
  rec.time = std::chrono::system_clock::now();
  rec.items[0].from = CheckStatus::kCritical;
  rec.items[0].to = CheckStatus::kOk;
  rec.items[0].previous_since = it.since;
  rec.items[0].since = rec.time;
  rec.items[0].summary = "dump is 2.1 GB";
  auto rr = ch->Deliver(rec);
  ASSERT_TRUE(rr.ok()) << rr.error().message();
  EXPECT_TRUE(WaitFor([&] { return Active(am->Url(), "backup-db").empty(); }));
}

TEST(NotifyAlertmanager, ErrorAnswersAreReported) {
  std::string error;
  auto am = Alertmanager::Start(&error);
  ASSERT_TRUE(am) << error;
  std::string errors;
  // A wrong base path: Alertmanager itself answers with an error status.
  auto cfg = NotifyFromYaml(
      "notify: [{name: am, type: alertmanager, url: " + am->Url() + "/wrong/prefix}]", &errors);
  ASSERT_EQ(errors, "");
  Notification n;
  n.id = NewNotificationId();
  n.time = std::chrono::system_clock::now();
  auto r = cfg.channels[0]->Deliver(n);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("alertmanager " + am->Url() + "/... answered HTTP 4"),
            std::string::npos)
      << r.error().message();
}

}  // namespace
}  // namespace mamori::notify
