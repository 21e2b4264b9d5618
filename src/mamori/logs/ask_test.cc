// The bundle of `mamori ask`: a secret planted in every field it carries
// (question, host facts, check states from a real store, every string of a
// finding, novel lines, runbook notes) never reaches the request; the
// sections keep their shares; answers are parsed, and their commands marked,
// with repeats of failed steps flagged.
#include "mamori/logs/ask.h"

#include <gtest/gtest.h>

#include "mamori/store/store.h"
#include "testing/cli.h"

namespace mamori::logs {
namespace {

// One distinct secret per field, each in a shape Redact knows.
std::vector<std::string> Secrets() {
  std::vector<std::string> s;
  for (int i = 0; i < 24; ++i) s.push_back("Zq" + std::to_string(100 + i) + "SecretValue");
  return s;
}

// Secret number i in one of the carrying forms, in turn.
std::string Plant(const std::vector<std::string>& s, int i) {
  switch (i % 6) {
    case 0:
      return "password=" + s[i];
    case 1:
      return "mysql://wp:" + s[i] + "@db.local/wp";
    case 2:
      return "Authorization: Bearer " + s[i];
    case 3:
      return "\"api_key\": \"" + s[i] + "\"";
    case 4:
      return "token: " + s[i];
    default:
      return "client_secret=" + s[i];
  }
}

TEST(AskBundle, NoPlantedSecretLeavesInTheRequest) {
  const auto s = Secrets();
  int k = 0;
  auto p = [&](const std::string& around) { return around + " " + Plant(s, k++); };
  testing::TempDir dir;
  {
    SystemClock clock;
    auto store = Store::Open(dir.path(), clock, Store::OpenMode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.error().message();
    CheckSnapshot snap;
    snap.name = p("blog");
    snap.type = p("http");
    snap.last = CheckStatus::kCritical;
    snap.hard = CheckStatus::kCritical;
    snap.summary = p("HTTP 500 from");
    (*store)->SaveSnapshot(snap);
  }
  DiagnoseReport r;
  Finding f;
  f.signature = p("mariadb.innodb-page-corrupted");
  f.severity = Severity::kCritical;
  f.summary = p("page 27258 of");
  f.count = 3;
  f.evidence = {{p("/var/log/mysql/error.log"), 7, p("[ERROR] InnoDB: connect"), std::nullopt}};
  f.explanation = p("the table is damaged");
  f.suspects = {{p("php-fpm"), {"/var/log/x", 1, "y", std::nullopt}}};
  f.runbook = {{p("Check the table"), p("mysqlcheck"), StepRisk::kReadOnly, p("see")},
               {p("Restart"), p("systemctl restart mariadb"), StepRisk::kReversible, ""}};
  r.findings.push_back(f);
  NovelFinding n;
  n.template_text = p("novel <*> line");
  n.count = 2;
  n.evidence = {{p("/var/log/app.log"), 3, p("novel 1 line"), std::nullopt}};
  r.novel.push_back(n);
  std::vector<StepAttempt> attempts = {{f.signature, 2, false, p("did not help"), WallTime{}}};
  size_t redacted = 0;
  BundleInputs in = CollectBundleInputs(p("why is the blog down?"), r, attempts, dir.path(),
                                        p("host: web1"), &redacted);
  ASSERT_EQ(in.checks.size(), 1u);  // the store was read
  const Bundle b = BuildBundle(in, 64 * 1024);
  const std::string body = ChatRequestBody("m", b.text);
  EXPECT_EQ(b.cut_bytes, 0u);
  for (int i = 0; i < k; ++i) EXPECT_EQ(body.find(s[i]), std::string::npos) << "leaked: " << s[i];
  EXPECT_GE(redacted, static_cast<size_t>(k) - 4);  // the suspect's and check's fields not sent
  // And the bundle still says what matters.
  for (std::string want :
       {"## Question", "why is the blog down?", "## Host", "host: web1", "## Recent check states",
        "CRITICAL", "## Findings from the logs", "mariadb.innodb-page-corrupted", "page 27258 of",
        "error.log client_secret=[REDACTED]:7", "(TRIED, FAILED)", "## Already tried",
        "FAILED - did not help", "## Error lines no rule knows", "2x novel <*> line"})
    EXPECT_NE(b.text.find(want), std::string::npos) << want << "\n" << b.text;
}

TEST(AskBundle, EachSectionKeepsToItsShare) {
  BundleInputs in;
  in.question = "q";
  in.host = "h";
  for (int i = 0; i < 2000; ++i) in.novel.push_back("novel line number " + std::to_string(i));
  for (int i = 0; i < 500; ++i) in.findings.push_back("finding " + std::to_string(i));
  const Bundle b = BuildBundle(in, 8192);
  EXPECT_LE(b.text.size(), 8192u);
  EXPECT_GT(b.cut_bytes, 0u);
  EXPECT_NE(b.text.find("bytes cut: this section's share of the bundle is 1228"), std::string::npos)
      << b.text;
  // The novel lines did not push out the findings: each has its own share.
  EXPECT_NE(b.text.find("finding 100"), std::string::npos);
  // The identity ignores the host facts (they drift between rounds).
  BundleInputs other = in;
  other.host = "h, 5 minutes later";
  EXPECT_EQ(BuildBundle(other, 8192).identity, b.identity);
  other.question = "another question";
  EXPECT_NE(BuildBundle(other, 8192).identity, b.identity);
}

TEST(AskAnswer, ParsesContentAndUsageAndRefusesErrors) {
  auto a =
      ParseChatResponse(R"({"choices":[{"message":{"role":"assistant","content":"hi"}}],)"
                        R"("usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}})");
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a->content, "hi");
  EXPECT_EQ(a->total_tokens, 15);
  auto no_usage = ParseChatResponse(R"({"choices":[{"message":{"content":"x"}}]})");
  ASSERT_TRUE(no_usage.ok());
  EXPECT_FALSE(no_usage->prompt_tokens);
  EXPECT_FALSE(ParseChatResponse("<html>").ok());
  EXPECT_FALSE(ParseChatResponse(R"({"choices":[]})").ok());
  auto err = ParseChatResponse(R"({"error":{"message":"model not found"}})");
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().message().find("model not found"), std::string::npos);
}

TEST(AskAnswer, MarksEveryCommandAndFlagsRepeatsOfFailedSteps) {
  std::vector<FailedStep> failed = {
      {"php.stale-socket", 1, "Restart PHP-FPM", "systemctl restart php8.2-fpm", WallTime{}}};
  const std::string answer =
      "Try:\n```sh\nsystemctl status php8.2-fpm\nsudo systemctl restart php8.2-fpm\n"
      "rm -f /run/php/php8.2-fpm.sock\n```\n";
  ShownAnswer s = ShowAnswer(answer, failed);
  EXPECT_EQ(s.repeats, 1);
  ASSERT_EQ(s.command_lines.size(), 3u);
  EXPECT_EQ(s.command_lines[0], "[read-only] systemctl status php8.2-fpm");
  EXPECT_EQ(s.command_lines[1].rfind("[reversible] sudo systemctl restart php8.2-fpm  <- REPEATS "
                                     "a step that already FAILED (php.stale-socket step 1",
                                     0),
            0u)
      << s.command_lines[1];
  EXPECT_EQ(s.command_lines[2], "[DESTRUCTIVE] rm -f /run/php/php8.2-fpm.sock");
  EXPECT_NE(s.text.find("[DESTRUCTIVE] rm -f /run/php/php8.2-fpm.sock\n"), std::string::npos);
  EXPECT_NE(s.text.find("Try:\n```sh\n[read-only] systemctl status"), std::string::npos) << s.text;
}

}  // namespace
}  // namespace mamori::logs
