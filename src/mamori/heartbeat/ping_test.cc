// Ping URL parsing: every healthchecks.io shape, and everything else refused.
#include "mamori/heartbeat/ping.h"

#include <gtest/gtest.h>

#include <set>

namespace mamori::heartbeat {
namespace {

constexpr const char* kUuid = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";

TEST(PingTarget, SuccessStartFailLogAndExitCodes) {
  auto ok = ParsePingTarget(std::string("/ping/") + kUuid);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->uuid, kUuid);
  EXPECT_EQ(ok->kind, PingKind::kSuccess);
  EXPECT_EQ(ok->exit_code, 0);

  EXPECT_EQ(ParsePingTarget(std::string("/ping/") + kUuid + "/start")->kind, PingKind::kStart);
  EXPECT_EQ(ParsePingTarget(std::string("/ping/") + kUuid + "/start")->exit_code, -1);
  EXPECT_EQ(ParsePingTarget(std::string("/ping/") + kUuid + "/fail")->kind, PingKind::kFail);
  EXPECT_EQ(ParsePingTarget(std::string("/ping/") + kUuid + "/log")->kind, PingKind::kLog);
  auto zero = ParsePingTarget(std::string("/ping/") + kUuid + "/0");
  EXPECT_EQ(zero->kind, PingKind::kSuccess);
  auto code = ParsePingTarget(std::string("/ping/") + kUuid + "/255");
  EXPECT_EQ(code->kind, PingKind::kExitCode);
  EXPECT_EQ(code->exit_code, 255);
  // Trailing slash and upper case are tolerated; the id is normalised.
  auto upper = ParsePingTarget("/ping/1B4E28BA-2FA1-41D2-883F-0016D3CCA427/");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(upper->uuid, kUuid);
}

TEST(PingTarget, RunIdsAndOtherParameters) {
  auto t = ParsePingTarget(std::string("/ping/") + kUuid +
                           "/start?create=1&rid=6A1B28BA-2FA1-41D2-883F-0016D3CCA427");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->rid, "6a1b28ba-2fa1-41d2-883f-0016d3cca427");
  EXPECT_FALSE(ParsePingTarget(std::string("/ping/") + kUuid + "?rid=nope").ok());
}

TEST(PingTarget, SlugUrls) {
  auto t = ParsePingTarget("/ping/Ab3_x-Key/nightly-backup/fail");
  ASSERT_TRUE(t.ok()) << t.error().message();
  EXPECT_TRUE(t->uuid.empty());
  EXPECT_EQ(t->key, "Ab3_x-Key");
  EXPECT_EQ(t->slug, "nightly-backup");
  EXPECT_EQ(t->kind, PingKind::kFail);
}

TEST(PingTarget, MalformedIsRefused) {
  for (const char* bad :
       {"/ping/", "/ping", "/pong/1b4e28ba-2fa1-41d2-883f-0016d3cca427", "/ping/not-a-uuid",
        "/ping/1b4e28ba-2fa1-41d2-883f-0016d3cca427/256",
        "/ping/1b4e28ba-2fa1-41d2-883f-0016d3cca427/-1",
        "/ping/1b4e28ba-2fa1-41d2-883f-0016d3cca427/restart",
        "/ping/1b4e28ba-2fa1-41d2-883f-0016d3cca427/start/extra", "/ping/key/../../etc/passwd",
        "/ping/key/UPPER", "/ping/a/b/c/d/e", "/ping/1b4e28ba-2fa1-41d2-883f-0016d3cca42g"}) {
    EXPECT_FALSE(ParsePingTarget(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParsePingTarget("/ping/" + std::string(600, 'a')).ok());
}

TEST(PingTarget, NewUuidsAreValidVersion4AndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string u = NewUuid();
    EXPECT_TRUE(IsUuid(u)) << u;
    EXPECT_EQ(u[14], '4') << u;
    EXPECT_TRUE(seen.insert(u).second);
  }
}

}  // namespace
}  // namespace mamori::heartbeat
