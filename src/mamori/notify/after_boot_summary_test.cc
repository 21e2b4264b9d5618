// The after-boot summary's own section for what the learned baseline
// expected and is not there: each missing thing on its own line (from the
// baseline check's details), apart from the checks that are not back, and
// no section at all when the baseline is complete.
#include <gtest/gtest.h>

#include "mamori/notify/notification.h"

namespace mamori::notify {
namespace {

Item Make(std::string check, std::string type, CheckStatus to, std::string summary,
          std::string details = "") {
  Item it;
  it.check = std::move(check);
  it.type = std::move(type);
  it.from = CheckStatus::kOk;
  it.to = to;
  it.summary = std::move(summary);
  it.details = std::move(details);
  it.labels = {{"boot", "booted at 06:06 after an unclean shutdown"}};
  return it;
}

Notification AfterBoot() {
  Notification n;
  n.id = "0b5e7c1e-3a8e-4d4b-9d7e-2f7c6b1a9e10";
  n.kind = Kind::kAfterBoot;
  n.time = FromUnixMillis(1767240000000);
  n.host = "home";
  n.items.push_back(Make("time-daemon", "timedaemon", CheckStatus::kCritical,
                         "chrony.service is enabled and stopped: clock not disciplined"));
  n.items.push_back(Make("baseline", "baseline", CheckStatus::kWarning,
                         "8081/tcp (nginx) was listening and is not now; and 1 more",
                         "8081/tcp (nginx) was listening and is not now\n"
                         "/srv/backup (nfs) is not mounted\n"));
  n.items.push_back(Make("memory", "memory", CheckStatus::kOk, "12% used"));
  return n;
}

TEST(AfterBootSummary, MissingFromTheBaselineIsItsOwnSection) {
  const std::string body = TextBody(AfterBoot());
  const size_t missing = body.find(
      "\nMissing from the baseline (2):\n"
      "  8081/tcp (nginx) was listening and is not now\n"
      "  /srv/backup (nfs) is not mounted\n");
  ASSERT_NE(missing, std::string::npos) << body;
  const size_t not_back = body.find("\nNot back (1):\n  time-daemon ");
  ASSERT_NE(not_back, std::string::npos) << body;
  EXPECT_LT(missing, not_back) << body;
  EXPECT_NE(body.find("\nBack (1):\n  memory "), std::string::npos) << body;
  // The baseline check is said once, in its section, not again as a row.
  EXPECT_EQ(body.find("  baseline "), std::string::npos) << body;
  EXPECT_EQ(Title(AfterBoot()), "after boot: 2 not back, 1 back");
}

TEST(AfterBootSummary, ACompleteBaselineHasNoSection) {
  Notification n = AfterBoot();
  n.items[1].to = CheckStatus::kOk;
  n.items[1].summary = "baseline: 12 present (learned 3h ago)";
  n.items[1].details.clear();
  const std::string body = TextBody(n);
  EXPECT_EQ(body.find("Missing from the baseline"), std::string::npos) << body;
  EXPECT_NE(body.find("\nBack (2):\n"), std::string::npos) << body;
}

}  // namespace
}  // namespace mamori::notify
