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

// An HA pair (two real Alertmanagers, clustering off so neither hears it
// from the other) and one member that is down: both live members get the
// alert, the delivery counts, and the answer names the member that failed.
TEST(NotifyAlertmanager, ClusterUrlsAllGetTheAlertAndOneAcceptingIsEnough) {
  std::string error;
  auto am1 = Alertmanager::Start(&error);
  ASSERT_TRUE(am1) << error;
  auto am2 = Alertmanager::Start(&error);
  ASSERT_TRUE(am2) << error;
  const std::string dead = "http://127.0.0.1:" + std::to_string(testing::PickFreePort());
  std::string errors;
  auto cfg = NotifyFromYaml("notify: [{name: am, type: alertmanager, urls: [" + am1->Url() + ", " +
                                dead + ", " + am2->Url() + "]}]",
                            &errors);
  ASSERT_EQ(errors, "");
  auto& ch = cfg.channels[0];
  EXPECT_NE(ch->Describe().find(am2->Url()), std::string::npos) << ch->Describe();
  const Notification n = testing::SampleProblem(std::chrono::system_clock::now(), "shop", "503");
  auto r = ch->Deliver(n);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_NE(r->find("not accepted by 1 of 3: " + dead), std::string::npos) << *r;
  EXPECT_TRUE(WaitFor([&] { return !Active(am1->Url(), "shop").empty(); }));
  EXPECT_TRUE(WaitFor([&] { return !Active(am2->Url(), "shop").empty(); }));
  // Every member down: not delivered (the outbox retries), each one named.
  am1->Stop();
  am2->Stop();
  auto down = ch->Deliver(n);
  ASSERT_FALSE(down.ok());
  EXPECT_NE(down.error().message().find(am1->Url()), std::string::npos) << down.error().message();
  EXPECT_NE(down.error().message().find(am2->Url()), std::string::npos) << down.error().message();
}

TEST(NotifyAlertmanager, UrlsMustBeHttp) {
  std::string errors;
  NotifyFromYaml("notify: [{name: am, type: alertmanager, urls: [http://a:9093, ftp://b]}]",
                 &errors);
  EXPECT_NE(errors.find("'ftp://b' is not an http:// or https:// URL"), std::string::npos)
      << errors;
}

}  // namespace
}  // namespace mamori::notify
