// The baseline end to end through the real binary: `mamori baseline
// accept|show|forget`, the `baseline` check run by `mamori check`, and the
// daemon learning while healthy; the host is this machine, with a real nginx
// on 127.0.0.1 that goes away.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "testing/cli.h"
#include "testing/nginx.h"

namespace mamori {
namespace {

using testing::RunMamori;
using testing::TempDir;

std::string Config(const TempDir& dir, const std::string& check) {
  return dir.Write("mamori.yaml",
                   fmt::format("data_dir: {}\nchecks:\n  - {}\n", dir.path(), check));
}

nlohmann::json Show(const std::string& config) {
  auto r = RunMamori({"baseline", "show", "--json", "-c", config});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

// Forgets every item but `keep`, so what other tests start and stop on this
// machine meanwhile cannot crowd the summary.
void ForgetAllBut(const std::string& config, const std::string& keep) {
  const nlohmann::json shown = Show(config);
  for (const auto& item : shown["items"]) {
    const std::string name = item["name"];
    if (name == keep) continue;
    auto r = RunMamori({"baseline", "forget", name, "-c", config});
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
  }
}

TEST(BaselineCli, AcceptThenNginxStopsAndTheCheckNamesItsPort) {
  std::string error;
  auto nginx = testing::NginxServer::Start({}, &error);
  ASSERT_TRUE(nginx) << error;
  TempDir dir;
  const std::string config = Config(dir, "{name: baseline, type: baseline, include: [listeners]}");
  const std::string port = fmt::format("{}/tcp", nginx->port());

  auto accept = RunMamori({"baseline", "accept", "-c", config});
  ASSERT_EQ(accept.exit_code, 0) << accept.err;
  EXPECT_NE(accept.out.find("baseline accepted"), std::string::npos) << accept.out;
  ForgetAllBut(config, port);
  auto shown = Show(config)["items"];
  ASSERT_EQ(shown.size(), 1u) << shown.dump();
  EXPECT_EQ(shown[0]["kind"], "listener");
  EXPECT_EQ(shown[0]["detail"], "nginx");
  EXPECT_EQ(shown[0]["present"], true);

  auto ok = RunMamori({"check", "-c", config});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("baseline: 1 listeners"), std::string::npos) << ok.out;

  nginx.reset();  // stopped: the port is gone
  auto missing = RunMamori({"check", "-c", config});
  EXPECT_EQ(missing.exit_code, 1) << missing.out << missing.err;
  EXPECT_NE(missing.out.find(port + " (nginx) was listening and is not now"), std::string::npos)
      << missing.out;
  auto table = RunMamori({"baseline", "show", "-c", config});
  EXPECT_NE(table.out.find("MISSING"), std::string::npos) << table.out;

  // Forgotten, it is no longer expected.
  auto forget = RunMamori({"baseline", "forget", port, "-c", config});
  EXPECT_EQ(forget.exit_code, 0) << forget.err;
  auto again = RunMamori({"baseline", "forget", port, "-c", config});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("no item named"), std::string::npos) << again.err;
}

TEST(BaselineCli, CorruptFileIsReportedByEveryVerb) {
  TempDir dir;
  const std::string config = Config(dir, "{name: baseline, type: baseline, include: [mounts]}");
  dir.Write("baseline.json", "{\"version\": 1, \"items\": 42}");
  auto show = RunMamori({"baseline", "show", "-c", config});
  EXPECT_EQ(show.exit_code, 3);
  EXPECT_NE(show.err.find("baseline.json"), std::string::npos) << show.err;
  auto forget = RunMamori({"baseline", "forget", "/", "-c", config});
  EXPECT_EQ(forget.exit_code, 3) << forget.err;
  auto check = RunMamori({"check", "-c", config});
  EXPECT_EQ(check.exit_code, 3) << check.out;
  EXPECT_NE(check.out.find("baseline.json: \"items\" is missing"), std::string::npos) << check.out;
  // --data-dir points elsewhere: a fresh, empty baseline there.
  TempDir other;
  auto elsewhere = RunMamori({"baseline", "show", "-c", config, "--data-dir", other.path()});
  EXPECT_EQ(elsewhere.exit_code, 0) << elsewhere.err;
  EXPECT_NE(elsewhere.out.find("nothing learned yet"), std::string::npos) << elsewhere.out;
}

TEST(BaselineCli, TheDaemonLearnsWhileHealthyAndReportsTheStoppedNginx) {
  std::string error;
  auto nginx = testing::NginxServer::Start({}, &error);
  ASSERT_TRUE(nginx) << error;
  TempDir dir;
  const std::string port = fmt::format("{}/tcp", nginx->port());
  const std::string config =
      Config(dir,
             "{name: baseline, type: baseline, include: [listeners], learn_after: 1s, interval: "
             "500ms, failures_before_alert: 1}");
  testing::DaemonProcess daemon({"-c", config}, dir.path() + "/daemon.log");
  const std::string path = dir.path() + "/baseline.json";
  auto learned = [&] {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.find("\"" + port + "\"") != std::string::npos;
  };
  ASSERT_TRUE(testing::Eventually(learned, std::chrono::seconds(20))) << daemon.Log();
  nginx.reset();
  EXPECT_TRUE(daemon.WaitForLog(port + " (nginx) was listening and is not now")) << daemon.Log();
}

// While another check fails nothing is learned; once it recovers, learning
// starts. The file check fails (CRITICAL) until the test creates its file.
TEST(BaselineCli, TheDaemonDoesNotLearnWhileACheckFails) {
  std::string error;
  auto nginx = testing::NginxServer::Start({}, &error);
  ASSERT_TRUE(nginx) << error;
  TempDir dir;
  const std::string flag = dir.path() + "/flag";
  const std::string port = fmt::format("{}/tcp", nginx->port());
  const std::string config = dir.Write(
      "mamori.yaml",
      fmt::format("data_dir: {}\nchecks:\n"
                  "  - {{name: baseline, type: baseline, include: [listeners], learn_after: 1s, "
                  "interval: 500ms}}\n"
                  "  - {{name: flag, type: file, path: {}, interval: 500ms, "
                  "failures_before_alert: 1}}\n",
                  dir.path(), flag));
  testing::DaemonProcess daemon({"-c", config}, dir.path() + "/daemon.log");
  ASSERT_TRUE(daemon.WaitForLog("flag: PENDING -> CRITICAL")) << daemon.Log();
  const std::string path = dir.path() + "/baseline.json";
  // Three times learn_after, at two runs a second: it would have learned.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_FALSE(std::filesystem::exists(path)) << daemon.Log();
  std::ofstream(flag) << "here\n";
  auto learned = [&] {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.find("\"" + port + "\"") != std::string::npos;
  };
  EXPECT_TRUE(testing::Eventually(learned, std::chrono::seconds(20))) << daemon.Log();
}

}  // namespace
}  // namespace mamori
