// `mamori report` end to end: the real daemon watches a `file` check and
// alerts a real webhook receiver (python http.server on loopback); the test
// makes the check fail, acknowledges it with `mamori ack`, lets it recover,
// stops the daemon and reads the report. The expected figures come from the
// store's raw rows and the acknowledgement log, read here on their own.
#include <signal.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "mamori/faces/api.h"
#include "mamori/notify/stored_acks.h"
#include "mamori/store/store.h"
#include "testing/cli.h"
#include "testing/http_call.h"
#include "testing/notify_servers.h"
#include "testing/openapi_check.h"
#include "testing/ports.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;

bool AnyRequestHas(const testing::WebhookSink& hook, const std::string& what) {
  for (const auto& r : hook.Requests())
    if (r.find(what) != std::string::npos) return true;
  return false;
}

// Index of the first timeline entry of `kind`, or -1.
int IndexOf(const nlohmann::json& timeline, const std::string& kind) {
  for (size_t i = 0; i < timeline.size(); ++i)
    if (timeline[i]["kind"] == kind) return static_cast<int>(i);
  return -1;
}

double Seconds(Duration d) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) /
         1000.0;
}

class ReportCli : public ::testing::Test {
 protected:
  // One failure, alerted, acknowledged and recovered, shared by the tests.
  static void SetUpTestSuite() {
    std::string error;
    hook_ = testing::WebhookSink::Start(&error).release();
    ASSERT_TRUE(hook_) << error;
    dir_ = new testing::TempDir;
    const std::string flag = dir_->Write("flag", "x");
    const int port = testing::PickFreePort();
    cfg_ = dir_->Write("mamori.yaml",
                       "data_dir: ./data\n"
                       "defaults: {interval: 200ms, timeout: 150ms, failures_before_alert: 2, "
                       "successes_before_recovery: 1}\n"
                       "listen: 127.0.0.1:" +
                           std::to_string(port) +
                           "\nalerting: {group_wait: 200ms}\n"
                           "notify:\n  - {name: hook, type: webhook, url: '" +
                           hook_->Url() + "'}\n" +
                           "checks:\n  - {name: backup, type: file, path: '" + flag + "'}\n");
    testing::DaemonProcess d({"-c", cfg_}, dir_->path() + "/daemon.log");
    ASSERT_TRUE(d.WaitForLog("backup: PENDING -> OK")) << d.Log();
    std::remove(flag.c_str());
    ASSERT_TRUE(testing::WaitFor([] { return AnyRequestHas(*hook_, "problem"); }, 10)) << d.Log();
    // The alert's time is when the outbox recorded it delivered, a moment
    // after the receiver saw it: acknowledge only after that.
    const auto incidents = [port] { return testing::HttpCall(port, "GET", "/api/v1/incidents"); };
    ASSERT_TRUE(testing::WaitFor(
        [&] { return incidents().body.find("\"kind\":\"alert\"") != std::string::npos; }, 10))
        << incidents().body;
    auto ack = testing::RunMamori({"ack", "-c", cfg_, "backup", "--by", "alice"});
    ASSERT_EQ(ack.exit_code, 0) << ack.out << ack.err;
    dir_->Write("flag", "x");
    ASSERT_TRUE(testing::WaitFor([] { return AnyRequestHas(*hook_, "recovery"); }, 10)) << d.Log();
    // The dashboard's incident list, while the daemon runs, once the store
    // has committed the recovery (results are committed in batches).
    testing::HttpReply api;
    ASSERT_TRUE(testing::WaitFor(
        [&] {
          api = incidents();
          return api.body.find("\"kind\":\"recovered\"") != std::string::npos;
        },
        10))
        << api.body;
    api_status_ = api.status;
    api_content_type_ = api.header("content-type");
    api_body_ = api.body;
    d.Signal(SIGTERM);
    ASSERT_EQ(d.Wait(), 0) << d.Log();
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete hook_;
  }
  static std::string DataDir() { return dir_->path() + "/data"; }

  static inline testing::WebhookSink* hook_ = nullptr;
  static inline testing::TempDir* dir_ = nullptr;
  static inline std::string cfg_;
  static inline int api_status_ = 0;
  static inline std::string api_content_type_, api_body_;
};

TEST_F(ReportCli, JsonHasTheAvailabilityAndTheIncidentTimelineInOrder) {
  auto r = testing::RunMamori({"report", "-c", cfg_, "--since", "1d", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;

  // The expected figures, from the store's raw rows.
  SystemClock clock;
  auto store = Store::Open(DataDir(), clock, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto obs = (*store)->Observations("backup", WallTime{}, 100'000);
  ASSERT_TRUE(obs.ok());
  int64_t up = 0;
  for (const auto& o : *obs)
    up += o.status == CheckStatus::kOk || o.status == CheckStatus::kWarning;
  ASSERT_GT(static_cast<int64_t>(obs->size()), up);  // some failed
  const auto& check = j["checks"][0];
  EXPECT_EQ(check["check"], "backup");
  EXPECT_EQ(check["results"]["total"], obs->size());
  EXPECT_DOUBLE_EQ(check["availability"].get<double>(),
                   static_cast<double>(up) / static_cast<double>(obs->size()));
  EXPECT_EQ(check["incidents"], 1);

  auto events = (*store)->Events("backup", WallTime{}, 100);
  ASSERT_TRUE(events.ok());
  std::optional<WallTime> failed, recovered;
  for (const auto& e : *events) {  // newest first
    if (e.kind != EventKind::kStateChange) continue;
    if (e.to == CheckStatus::kOk && e.from && *e.from != CheckStatus::kOk) recovered = e.time;
    if (e.to != CheckStatus::kOk) failed = e.time;
  }
  ASSERT_TRUE(failed && recovered);
  auto acks = notify::StoredAckLog(DataDir(), WallTime{}, 10);
  ASSERT_TRUE(acks.ok()) << acks.error().message();
  ASSERT_EQ(acks->size(), 1u);
  EXPECT_EQ((*acks)[0].by, "alice");

  ASSERT_EQ(j["incidents"].size(), 1u);
  const auto& inc = j["incidents"][0];
  EXPECT_EQ(inc["check"], "backup");
  EXPECT_DOUBLE_EQ(inc["time_to_recover_seconds"].get<double>(), Seconds(*recovered - *failed));
  EXPECT_DOUBLE_EQ(inc["time_to_acknowledge_seconds"].get<double>(),
                   Seconds((*acks)[0].at - *failed));
  EXPECT_FALSE(inc["first_alert"].is_null()) << inc.dump(2);
  const auto& tl = inc["timeline"];
  const int f = IndexOf(tl, "failed"), a = IndexOf(tl, "alert"), k = IndexOf(tl, "acknowledged"),
            rec = IndexOf(tl, "recovered"), sent = IndexOf(tl, "recovery-sent");
  EXPECT_EQ(f, 0) << tl.dump(2);
  EXPECT_TRUE(f < a && a < k && k < rec && rec < sent) << tl.dump(2);
  EXPECT_NE(tl[a]["text"].get<std::string>().find("sent to hook"), std::string::npos);
  EXPECT_NE(tl[k]["text"].get<std::string>().find("acknowledged by alice"), std::string::npos);
  for (size_t i = 1; i < tl.size(); ++i) EXPECT_LE(tl[i - 1]["time"], tl[i]["time"]) << tl.dump(2);
}

TEST_F(ReportCli, IncidentIdPrintsAPostMortemDraftAndUnknownIdsAreUsageErrors) {
  auto r = testing::RunMamori({"report", "-c", cfg_, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id = nlohmann::json::parse(r.out)["incidents"][0]["id"];
  auto pm = testing::RunMamori({"report", "-c", cfg_, "incident", id});
  ASSERT_EQ(pm.exit_code, 0) << pm.out << pm.err;
  for (const char* want :
       {"Post-mortem draft: backup CRITICAL", "Timeline", "acknowledged by alice",
        "What the check said", "Runbook steps taken", "Action items"})
    EXPECT_NE(pm.out.find(want), std::string::npos) << want << "\n" << pm.out;
  auto md = testing::RunMamori({"report", "-c", cfg_, "--format", "md", "incident", id});
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_NE(md.out.find("## Timeline"), std::string::npos) << md.out;

  auto unknown = testing::RunMamori({"report", "-c", cfg_, "incident", "0123456789abcdef"});
  EXPECT_EQ(unknown.exit_code, 64);
  EXPECT_NE(unknown.err.find("no incident with id '0123456789abcdef'"), std::string::npos)
      << unknown.err;
  auto since = testing::RunMamori({"report", "-c", cfg_, "--since", "5 parsecs"});
  EXPECT_EQ(since.exit_code, 64);
  EXPECT_NE(since.err.find("--since '5 parsecs'"), std::string::npos) << since.err;
  auto check = testing::RunMamori({"report", "-c", cfg_, "--check", "bakcup"});
  EXPECT_EQ(check.exit_code, 64);
  EXPECT_NE(check.err.find("did you mean 'backup'"), std::string::npos) << check.err;
}

TEST_F(ReportCli, TheApiIncidentListShowsTheAlertAndTheAcknowledgement) {
  ASSERT_EQ(api_status_, 200) << api_body_;
  const testing::OpenApiCheck openapi(faces::OpenApiDocument());
  EXPECT_EQ(openapi.Check("GET", "/api/v1/incidents", api_status_, api_content_type_, api_body_),
            "");
  const auto j = nlohmann::json::parse(api_body_, nullptr, false);
  ASSERT_EQ(j["incidents"].size(), 1u) << api_body_;
  const auto& tl = j["incidents"][0]["timeline"];
  const int f = IndexOf(tl, "failed"), a = IndexOf(tl, "alert"), k = IndexOf(tl, "acknowledged"),
            rec = IndexOf(tl, "recovered");
  EXPECT_TRUE(f == 0 && f < a && a < k && k < rec) << tl.dump(2);
}

}  // namespace
}  // namespace mamori
