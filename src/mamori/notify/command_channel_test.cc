// The command channel runs real programs (/bin/sh scripts in a temp dir).
#include <gtest/gtest.h>

#include "mamori/notify/channel.h"
#include "testing/notify_servers.h"

namespace mamori::notify {
namespace {

using testing::NotifyFromYaml;
using testing::ReadFile;
using testing::TempDir;

std::shared_ptr<Channel> Command(const std::string& command) {
  std::string errors;
  auto cfg = NotifyFromYaml(
      "notify: [{name: pager, type: command, shell: true, timeout: 5s, "
      "command: \"" +
          command + "\"}]",
      &errors);
  EXPECT_EQ(errors, "");
  return cfg.channels.empty() ? nullptr : cfg.channels[0];
}

Notification Problem() {
  Notification n;
  n.id = "11111111-2222-4333-8444-555555555555";
  n.time = std::chrono::system_clock::now();
  n.host = "web1";
  Item it;
  it.check = "ntp";
  it.to = CheckStatus::kWarning;
  it.summary = "clock 3h off";
  it.since = n.time;
  n.items.push_back(it);
  return n;
}

TEST(NotifyCommand, GetsTheAlertAsJsonOnStdin) {
  TempDir dir;
  auto ch =
      Command("cat > " + (dir.path() + "/in.json") + "; echo $MAMORI_CHECK $MAMORI_STATUS > " +
              (dir.path() + "/env") + "; echo sent");
  ASSERT_TRUE(ch);
  auto r = ch->Deliver(Problem());
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, "exit 0: sent");
  auto j = nlohmann::json::parse(ReadFile(dir.path() + "/in.json"));
  EXPECT_EQ(j["id"], "11111111-2222-4333-8444-555555555555");
  EXPECT_EQ(j["title"], "WARNING: ntp (was OK)");
  EXPECT_EQ(j["items"][0]["summary"], "clock 3h off");
  EXPECT_EQ(ReadFile(dir.path() + "/env"), "ntp warning\n");
}

TEST(NotifyCommand, FailureCarriesExitCodeAndStderr) {
  auto ch = Command("echo 'gateway said 403 quota exceeded' >&2; exit 4");
  ASSERT_TRUE(ch);
  auto r = ch->Deliver(Problem());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("failed with exit 4: gateway said 403 quota exceeded"),
            std::string::npos)
      << r.error().message();
}

TEST(NotifyCommand, Timeout) {
  std::string errors;
  auto cfg = NotifyFromYaml(
      "notify: [{name: slow, type: command, timeout: 1s, command: [/bin/sleep, '30']}]", &errors);
  ASSERT_EQ(errors, "");
  auto r = cfg.channels[0]->Deliver(Problem());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("timed out after 1"), std::string::npos)
      << r.error().message();
}

}  // namespace
}  // namespace mamori::notify
