// Alert routing keys (notify:, routes:, alerting:, depends_on:) through the
// real configuration loader.
#include <gtest/gtest.h>

#include "mamori/daemon/config_file.h"
#include "mamori/notify/alert_config.h"

namespace mamori::notify {
namespace {

using namespace std::chrono_literals;

// The config keys, through the real loader.
std::string LoadErrors(const std::string& yaml) {
  ConfigLoad load = LoadConfigText(yaml, "t.yaml");
  return load.config ? "" : load.diagnostics.ToString();
}

TEST(AlertConfigTest, KeysAreReadAndNamesChecked) {
  const std::string head =
      "notify:\n"
      "  - {name: ops-mail, type: command, command: [/bin/true], min_severity: critical,\n"
      "     reminder_every: 4h, escalate_after: 30m, escalate_to: [boss],\n"
      "     quiet_hours: {from: '22:00', to: '07:00', tz: Europe/Berlin, bypass: critical}}\n"
      "  - {name: boss, type: command, command: [/bin/true]}\n"
      "routes:\n  - {tags: [db], notify: [boss]}\n"
      "alerting: {group_wait: 5s, channel_failing_after: 2}\n";
  ConfigLoad ok = LoadConfigText(head +
                                     "checks:\n"
                                     "  - {name: router, type: file, path: /etc/hostname}\n"
                                     "  - {name: web, type: file, path: /etc/hostname, notify: "
                                     "[ops-mail], depends_on: [router]}\n",
                                 "t.yaml");
  ASSERT_TRUE(ok.config) << ok.diagnostics.ToString();
  const AlertConfig& a = ok.config->notify.alerts;
  EXPECT_EQ(a.group_wait, 5s);
  EXPECT_EQ(a.channel_failing_after, 2);
  const ChannelPolicy& p = a.Policy("ops-mail");
  EXPECT_EQ(p.min_severity, CheckStatus::kCritical);
  EXPECT_EQ(p.reminder_every, 4h);
  EXPECT_EQ(p.escalate_to, std::vector<std::string>{"boss"});
  ASSERT_TRUE(p.quiet_hours);
  EXPECT_TRUE(p.quiet_hours->bypass_critical);
  EXPECT_EQ(p.quiet_hours->from_minute, 22 * 60);
  ASSERT_EQ(a.routes.size(), 1u);
  EXPECT_EQ(ok.config->checks[1].depends_on, std::vector<std::string>{"router"});
  EXPECT_EQ(ok.config->checks[1].notify, std::vector<std::string>{"ops-mail"});

  std::string e =
      LoadErrors(head +
                 "checks:\n"
                 "  - {name: router, type: file, path: /etc/hostname, notify: [ops-mial]}\n"
                 "  - {name: web, type: file, path: /etc/hostname, depends_on: [ruoter]}\n");
  EXPECT_NE(e.find("t.yaml:10:61: "), std::string::npos) << e;
  EXPECT_NE(e.find("no channel named 'ops-mial'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'ops-mail'?"), std::string::npos) << e;
  EXPECT_NE(e.find("t.yaml:11:62: "), std::string::npos) << e;
  EXPECT_NE(e.find("no check named 'ruoter'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'router'?"), std::string::npos) << e;

  e = LoadErrors(head +
                 "checks:\n"
                 "  - {name: a, type: file, path: /etc/hostname, depends_on: [b]}\n"
                 "  - {name: b, type: file, path: /etc/hostname, depends_on: [c]}\n"
                 "  - {name: c, type: file, path: /etc/hostname, depends_on: [a]}\n");
  EXPECT_NE(e.find("dependency cycle a -> b -> c -> a"), std::string::npos) << e;

  e = LoadErrors(
      "notify:\n  - {name: m, type: command, command: [/bin/true], escalate_after: 1m, "
      "escalate_to: [bsos], min_severity: loud, quiet_hours: {from: '22:00', to: '7', tz: "
      "Mars/Olympus}}\n"
      "routes:\n  - {tags: [db], notify: [nope]}\n"
      "checks:\n  - {name: a, type: file, path: /etc/hostname}\n");
  EXPECT_NE(e.find("no channel named 'bsos'"), std::string::npos) << e;
  EXPECT_NE(e.find("'loud' is not a severity"), std::string::npos) << e;
  EXPECT_NE(e.find("'7' is not a time of day"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown time zone 'Mars/Olympus'"), std::string::npos) << e;
  EXPECT_NE(e.find("no channel named 'nope'"), std::string::npos) << e;
}

}  // namespace
}  // namespace mamori::notify
