// `mamori ask` end to end: the real binary against a stub chat-completions
// server (tests/testing/chat_stub.py, python3's http.server on 127.0.0.1).
// No language model can run in CI, so the stub records each request and
// returns canned answers; these tests judge what mamori sends (redacted, the
// findings, what was tried) and how it shows an answer (risk marks, repeats
// of failed steps, the loop guard, the time limit), not the advice itself.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "mamori_source_dir.h"
#include "testing/cli.h"
#include "testing/notify_servers.h"

namespace mamori::testing {
namespace {

namespace fs = std::filesystem;
const std::string kRules = std::string(MAMORI_SOURCE_DIR) + "/rules";
const std::string kId = "mariadb.innodb-page-corrupted";
// Planted secrets: none of them may reach the stub.
const std::vector<std::string> kPlanted = {"LogLinePw1x", "NovelTok2x", "NoteSecret3x",
                                           "sk-QuestionKey4xxxxxxxxxxx", "HeaderKey5x"};

class AskCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const int port = PickFreePort();
    stub_ = new ServerProcess(
        {"/usr/bin/python3", std::string(MAMORI_SOURCE_DIR) + "/tests/testing/chat_stub.py",
         std::to_string(port), dir_->path()},
        port, dir_->path() + "/stub.log");
    std::string error;
    ASSERT_TRUE(stub_->Start(&error)) << error;
  }
  static void TearDownTestSuite() {
    delete stub_;
    delete dir_;
  }
  void SetUp() override {
    for (const auto& f : Requests()) fs::remove(f);
    fs::remove(dir_->path() + "/hang");
  }

  static std::vector<std::string> Requests() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_->path()))
      if (e.path().extension() == ".json" && e.path().filename() != "answers.json")
        out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  static void Answers(const std::vector<std::string>& answers) {
    std::ofstream(dir_->path() + "/answers.json") << nlohmann::json(answers).dump();
  }
  // A config for `work`, the logs of incident 1 with secrets in them.
  std::string Setup(const TempDir& work, const std::string& timeout = "20s", bool with_url = true) {
    fs::create_directories(work.path() + "/logs");
    const std::string page =
        "[ERROR] InnoDB: Failed to read page 27258 from file './wordpress/wp_options.ibd': Page "
        "read from tablespace is corrupted. (client dsn mysql://wp:" +
        kPlanted[0] + "@localhost/wordpress)\n";
    work.Write("logs/error.log", "2026-03-02 10:11:12 0 " + page + "2026-03-02 10:11:13 0 " + page);
    work.Write("logs/app.log",
               "2026-03-02 10:11:14 app[12]: ERROR upstream refused: "
               "Authorization: Bearer " +
                   kPlanted[1] + "\n");
    work.Write("api_key", kPlanted[4] + "\n");
    return work.Write("mamori.yaml",
                      "data_dir: " + work.path() + "/data\nchecks: []\nassistant:\n" +
                          (with_url ? "  url: http://127.0.0.1:" + std::to_string(stub_->port()) +
                                          "/v1/chat/completions\n"
                                    : "") +
                          "  model: stub-model\n  api_key_file: " + work.path() +
                          "/api_key\n  timeout: " + timeout + "\n  max_rounds: 3\n");
  }
  CliResult Ask(const std::string& config, const TempDir& work, const std::string& question,
                const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {
        "ask", "-c", config, "--rules", kRules, "--log", work.path() + "/logs", question};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunMamori(args);
  }
  // Step `n` of the finding as diagnose shows it (the rules may change).
  std::string StepCommand(const TempDir& work, int n) {
    auto r = RunMamori({"diagnose", "--json", work.path() + "/logs", "--rules", kRules});
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    for (const auto& f : j["findings"])
      if (f["signature"] == kId) return f["runbook"][n - 1]["command"].get<std::string>();
    ADD_FAILURE() << r.out << r.err;
    return "";
  }

  static TempDir* dir_;
  static ServerProcess* stub_;
};
TempDir* AskCliTest::dir_ = nullptr;
ServerProcess* AskCliTest::stub_ = nullptr;

TEST_F(AskCliTest, SendsARedactedBundleAndMarksEveryCommandOfTheAnswer) {
  TempDir work;
  const std::string config = Setup(work);
  const std::string data = work.path() + "/data";
  ASSERT_EQ(
      RunMamori({"runbook", "done", kId, "1", "--result", "failed", "--note",
                 "nothing found, PGPASSWORD=" + kPlanted[2], "--data-dir", data, "--rules", kRules})
          .exit_code,
      0);
  const std::string failed_cmd = StepCommand(work, 1);
  ASSERT_FALSE(failed_cmd.empty());
  Answers({"The table is damaged. First:\n```sh\ntail -n 50 /var/log/mysql/error.log\n" +
           failed_cmd + "\nrm -rf /var/lib/mysql/ib_logfile0\n```\n"});
  auto r = Ask(config, work, "why is the blog down? my key is " + kPlanted[3]);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto reqs = Requests();
  ASSERT_EQ(reqs.size(), 1u);
  auto req = nlohmann::json::parse(ReadFile(reqs[0]));
  EXPECT_EQ(req["path"], "/v1/chat/completions");
  EXPECT_EQ(req["headers"]["Authorization"], "Bearer " + kPlanted[4]);
  const std::string body = req["body"];
  for (const auto& s : kPlanted) EXPECT_EQ(body.find(s), std::string::npos) << "leaked " << s;
  auto j = nlohmann::json::parse(body);
  EXPECT_EQ(j["model"], "stub-model");
  const std::string bundle = j["messages"][1]["content"];
  for (const std::string& want :
       std::vector<std::string>{"why is the blog down?", "## Host", kId, "wp_options.ibd",
                                "mysql://wp:[REDACTED]@localhost", "(TRIED, FAILED)",
                                "FAILED - nothing found, PGPASSWORD=[REDACTED]", "upstream refused",
                                "Authorization: [REDACTED]"})
    EXPECT_NE(bundle.find(want), std::string::npos) << want << "\n" << bundle;
  // The answer, each command marked; the repeat of step 1 flagged.
  EXPECT_NE(r.out.find("[read-only] tail -n 50 /var/log/mysql/error.log"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("[DESTRUCTIVE] rm -rf /var/lib/mysql/ib_logfile0"), std::string::npos);
  EXPECT_NE(r.out.find("<- REPEATS a step that already FAILED (" + kId + " step 1"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Commands in this answer (nothing was run"), std::string::npos);
  EXPECT_NE(r.out.find("request: " + std::to_string(body.size()) + " bytes (~"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("completion = "), std::string::npos) << r.out;  // the stub's usage

  // The same request again is refused, and nothing is sent.
  auto again = Ask(config, work, "why is the blog down? my key is " + kPlanted[3]);
  EXPECT_EQ(again.exit_code, 1) << again.out << again.err;
  EXPECT_NE(again.err.find("refused: the same request"), std::string::npos) << again.err;
  EXPECT_EQ(Requests().size(), 1u);
}

TEST_F(AskCliTest, AfterThreeRoundsWithoutProgressItEscalatesInsteadOfAsking) {
  TempDir work;
  const std::string config = Setup(work);
  Answers({"Restart it:\n```sh\nsystemctl restart mariadb\n```\n"});
  for (int round = 1; round <= 3; ++round) {
    auto r = Ask(config, work, "still down, round " + std::to_string(round));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    if (round > 1) {
      EXPECT_NE(r.out.find("round " + std::to_string(round) + " of 3 without progress"),
                std::string::npos)
          << r.out;
    }
  }
  auto stuck = Ask(config, work, "still down, round 4");
  EXPECT_EQ(stuck.exit_code, 1) << stuck.out << stuck.err;
  EXPECT_NE(stuck.out.find("3 rounds with the assistant without progress"), std::string::npos)
      << stuck.out;
  EXPECT_NE(stuck.out.find("the runbook of " + kId + " ends with"), std::string::npos) << stuck.out;
  EXPECT_EQ(Requests().size(), 3u);
  // Something new tried is progress: asking works again.
  ASSERT_EQ(RunMamori({"runbook", "done", kId, "2", "--result", "ok", "--data-dir",
                       work.path() + "/data", "--rules", kRules})
                .exit_code,
            0);
  auto after = Ask(config, work, "still down, round 5");
  EXPECT_EQ(after.exit_code, 0) << after.out << after.err;
  EXPECT_EQ(Requests().size(), 4u);
}

TEST_F(AskCliTest, AServerThatAcceptsAndNeverAnswersIsCutOffAtTheTimeout) {
  TempDir work;
  const std::string config = Setup(work, "1s");
  std::ofstream(dir_->path() + "/hang") << "1";
  const auto start = std::chrono::steady_clock::now();
  auto r = Ask(config, work, "hello?");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_TRUE(Eventually([] { return Requests().size() == 1; }, std::chrono::seconds(2)));
  // Start-up and diagnosis take well under a second; the wait is the 1s limit.
  EXPECT_LT(took, std::chrono::seconds(6));
  EXPECT_NE(r.err.find("127.0.0.1"), std::string::npos) << r.err;
}

TEST_F(AskCliTest, ShowBundlePrintsTheRequestAndWithoutAnEndpointItIsWrittenToAFile) {
  TempDir work;
  const std::string config = Setup(work, "20s", false);
  auto shown = Ask(config, work, "what now?", {"--show-bundle"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  auto j = nlohmann::json::parse(shown.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << shown.out;
  EXPECT_EQ(j["messages"][1]["content"].get<std::string>().rfind("## Question\nwhat now?", 0), 0u);
  for (const auto& s : kPlanted) EXPECT_EQ(shown.out.find(s), std::string::npos) << s;
  auto r = Ask(config, work, "what now?");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("nothing was sent"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("curl -sS"), std::string::npos);
  std::string file;
  for (const auto& e : fs::directory_iterator(work.path() + "/data"))
    if (e.path().filename().string().rfind("ask-request-", 0) == 0) file = e.path().string();
  ASSERT_FALSE(file.empty());
  auto written = nlohmann::json::parse(ReadFile(file), nullptr, false);
  ASSERT_FALSE(written.is_discarded());
  EXPECT_EQ(written["model"], "stub-model");
  EXPECT_EQ(Requests().size(), 0u);
}

}  // namespace
}  // namespace mamori::testing
