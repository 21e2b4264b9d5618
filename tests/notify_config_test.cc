#include "mamori/notify/notify_config.h"

#include <gtest/gtest.h>

#include "mamori/daemon/config_file.h"
#include "testing/notify_servers.h"

namespace mamori::notify {
namespace {

using testing::NotifyFromYaml;

TEST(NotifyConfig, IssueExampleValidatesThroughTheLoader) {
  const std::string yaml = R"(
checks:
  - {name: root, type: disk, path: /}
notify: [{name: ops-mail, type: email, smtp: smtp://127.0.0.1:2525, from: mamori@example.org, to: [ops@example.org]}]
)";
  ConfigLoad load = LoadConfigText(yaml, "/tmp/mamori.yaml");
  ASSERT_TRUE(load.config) << load.diagnostics.ToString();
  ASSERT_EQ(load.config->notify.channels.size(), 1u);
  const Channel* c = load.config->notify.Find("ops-mail");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->type(), "email");
  EXPECT_EQ(c->Describe(), "mail to ops@example.org via smtp://127.0.0.1:2525");
}

TEST(NotifyConfig, AllTypesAndOutboxPolicy) {
  std::string errors;
  auto cfg = NotifyFromYaml(R"(
outbox: {retry_first: 5s, retry_max: 10m, expire_after: 2h}
notify:
  - {name: mail, type: email, smtp: "smtps://mail.example.org:465", from: a@example.org, to: b@example.org, username: u, password: p}
  - name: chat
    type: webhook
    url: https://chat.example.org/hooks/secret
    headers: {Title: "{{title}}"}
    template: {text: "{{emoji}} {{title}}\n{{text}}", chat_id: 12345}
  - {name: am, type: alertmanager, url: "http://127.0.0.1:9093/", labels: {team: ops}}
  - {name: pager, type: command, command: [/bin/cat]}
)",
                            &errors);
  ASSERT_EQ(errors, "");
  ASSERT_EQ(cfg.channels.size(), 4u);
  EXPECT_EQ(cfg.outbox.retry_first, std::chrono::seconds(5));
  EXPECT_EQ(cfg.outbox.expire_after, std::chrono::hours(2));
  // The secret in the webhook path is not shown.
  EXPECT_EQ(cfg.Find("chat")->Describe(), "webhook POST https://chat.example.org/...");
  EXPECT_EQ(cfg.Find("am")->Describe(), "alertmanager http://127.0.0.1:9093");
}

TEST(NotifyConfig, ErrorsPointAtTheKeyWithAHint) {
  struct Case {
    const char* yaml;
    const char* expect;
  };
  const Case cases[] = {
      {"notify: [{name: m, type: emial}]", "did you mean 'email'?"},
      {"notify: [{name: m, type: email, smtp: smtp://h, to: [a@b.c]}]", "missing 'from'"},
      {"notify: [{name: m, type: email, smtp: http://h, from: a@b.c, to: [x@y.z]}]",
       "is not an smtp:// or smtps:// URL"},
      {"notify: [{name: m, type: email, smtp: smtp://h, from: a@b.c, to: [\"x@y.z>\\r\\nRCPT\"]}]",
       "is not a plain e-mail address"},
      {"notify: [{name: m, type: email, smtp: smtp://h, from: a@b.c, to: [x@y.z], tls: implicit}]",
       "tls: implicit goes with smtps://"},
      {"notify: [{name: m, type: email, smtp: smtp://h, from: a@b.c, to: [x@y.z], tos: [q@r.s]}]",
       "unknown key 'tos'"},
      {"notify: [{name: w, type: webhook, url: http://h/, template: {text: \"{{titel}}\"}}]",
       "did you mean {{title}}?"},
      {"notify: [{name: a, type: alertmanager, url: http://h, labels: {severity: x}}]",
       "label 'severity' is set by mamori"},
      {"notify: [{name: c, type: command, command: \"echo hi\"}]",
       "a single string is only run with shell: true"},
      {"notify: [{name: c, type: command, command: [/bin/true]}, {name: c, type: command, "
       "command: [/bin/true]}]",
       "duplicate channel name 'c'"},
      {"outbox: {retry_first: 1m, retry_max: 10s}", "retry_max is shorter than retry_first"},
  };
  for (const auto& c : cases) {
    std::string errors;
    auto cfg = NotifyFromYaml(c.yaml, &errors);
    EXPECT_NE(errors.find(c.expect), std::string::npos) << c.yaml << "\n" << errors;
    EXPECT_NE(errors.find("test.yaml:1:"), std::string::npos) << errors;
    EXPECT_TRUE(cfg.channels.empty());
  }
}

}  // namespace
}  // namespace mamori::notify
