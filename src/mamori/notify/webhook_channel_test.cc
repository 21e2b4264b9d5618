// The webhook channel against a real HTTP receiver on 127.0.0.1 (python3's
// http.server, tests/testing/webhook_sink.py) recording what it was sent.
#include "mamori/notify/webhook_channel.h"

#include <gtest/gtest.h>

#include "testing/notify_servers.h"

namespace mamori::notify {
namespace {

using nlohmann::json;
using testing::NotifyFromYaml;
using testing::WebhookSink;

std::shared_ptr<Channel> Hook(const std::string& yaml_body) {
  std::string errors;
  auto cfg = NotifyFromYaml("notify:\n  - name: hook\n    type: webhook\n" + yaml_body, &errors);
  EXPECT_EQ(errors, "");
  return cfg.channels.empty() ? nullptr : cfg.channels[0];
}

Notification Problem() {
  Notification n;
  n.id = "6f1c1d3e-0c55-4b8e-a9a3-6f2f4f7b2c11";
  n.time = std::chrono::system_clock::now();
  n.host = "web1";
  Item it;
  it.check = "blog";
  it.to = CheckStatus::kCritical;
  it.summary = "HTTP 200 but the page says \"Error establishing a database connection\"";
  it.since = n.time;
  n.items.push_back(it);
  return n;
}

TEST(NotifyWebhook, SlackShapedTemplateIsValidJsonWhateverTheSummarySays) {
  std::string error;
  auto sink = WebhookSink::Start(&error);
  ASSERT_TRUE(sink) << error;
  auto ch = Hook("    url: " + sink->Url("/services/T0/B0/secret") +
                 "\n    template: {text: \"{{emoji}} *{{title}}*\\n{{summary}}\", "
                 "username: mamori}\n");
  ASSERT_TRUE(ch);
  auto r = ch->Deliver(Problem());
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, "HTTP 200: ok");
  auto reqs = sink->Requests();
  ASSERT_EQ(reqs.size(), 1u);
  json req = json::parse(reqs[0]);
  EXPECT_EQ(req["path"], "/services/T0/B0/secret");
  EXPECT_EQ(req["headers"]["Content-Type"], "application/json");
  EXPECT_EQ(req["headers"]["X-Mamori-Notification"], "6f1c1d3e-0c55-4b8e-a9a3-6f2f4f7b2c11");
  json body = json::parse(req["body"].get<std::string>());
  EXPECT_EQ(body["username"], "mamori");
  EXPECT_EQ(body["text"],
            "\xF0\x9F\x94\xB4 *CRITICAL: blog (was OK)*\nHTTP 200 but the page says \"Error "
            "establishing a database connection\"");
}

TEST(NotifyWebhook, DefaultBodyIsTheNotificationJson) {
  std::string error;
  auto sink = WebhookSink::Start(&error);
  ASSERT_TRUE(sink) << error;
  auto ch = Hook("    url: " + sink->Url() + "\n");
  ASSERT_TRUE(ch);
  ASSERT_TRUE(ch->Deliver(Problem()).ok());
  auto reqs = sink->Requests();
  ASSERT_EQ(reqs.size(), 1u);
  json body = json::parse(json::parse(reqs[0])["body"].get<std::string>());
  EXPECT_EQ(body["id"], "6f1c1d3e-0c55-4b8e-a9a3-6f2f4f7b2c11");
  EXPECT_EQ(body["title"], "CRITICAL: blog (was OK)");
  EXPECT_EQ(body["items"][0]["check"], "blog");
  EXPECT_EQ(body["items"][0]["to"], "critical");
  auto back = FromJson(body);
  ASSERT_TRUE(back.ok()) << back.error().message();
}

TEST(NotifyWebhook, NtfyShapedTextBodyWithHeaders) {
  std::string error;
  auto sink = WebhookSink::Start(&error);
  ASSERT_TRUE(sink) << error;
  auto ch = Hook("    url: " + sink->Url("/mamori-alerts") +
                 "\n    headers: {Title: \"{{title}}\", Priority: high, Tags: \"{{status}}\"}"
                 "\n    template: \"{{summary}} (on {{host}})\"\n");
  ASSERT_TRUE(ch);
  ASSERT_TRUE(ch->Deliver(Problem()).ok());
  auto reqs = sink->Requests();
  ASSERT_EQ(reqs.size(), 1u);
  json req = json::parse(reqs[0]);
  EXPECT_EQ(req["headers"]["Title"], "CRITICAL: blog (was OK)");
  EXPECT_EQ(req["headers"]["Priority"], "high");
  EXPECT_EQ(req["headers"]["Tags"], "critical");
  EXPECT_EQ(req["headers"]["Content-Type"], "text/plain; charset=utf-8");
  EXPECT_EQ(req["body"],
            "HTTP 200 but the page says \"Error establishing a database connection\" (on web1)");
}

TEST(NotifyWebhook, Non2xxAndDownAreFailuresWithTheAnswer) {
  std::string error;
  auto sink = WebhookSink::Start(&error);
  ASSERT_TRUE(sink) << error;
  auto ch = Hook("    url: " + sink->Url("/hook/secret-token") + "\n    timeout: 5s\n");
  ASSERT_TRUE(ch);
  sink->AnswerStatus(503);
  auto r = ch->Deliver(Problem());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "webhook POST " + sink->Url("/...") +
                                     " answered HTTP 503: hook is down for maintenance");
  EXPECT_EQ(r.error().message().find("secret-token"), std::string::npos);
  sink->Stop();
  auto down = ch->Deliver(Problem());
  ASSERT_FALSE(down.ok());
  EXPECT_NE(down.error().message().find("failed: "), std::string::npos) << down.error().message();
}

}  // namespace
}  // namespace mamori::notify
