#include "mamori/faces/report.h"

#include "mamori/faces/store_test_fixture.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <functional>

namespace mamori::faces {
namespace {

using namespace std::chrono_literals;

// A real store in a temp dir, fed through the writer the daemon uses.
class ReportModelTest : public StoreFixture {
 protected:
  void Observe(const std::string& check, WallTime t, CheckStatus s, std::string summary) {
    Observation o;
    o.time = t;
    o.status = s;
    o.duration = 5ms;
    o.summary = std::move(summary);
    store_->Record(check, "file", o);
  }
  // One result a minute for `minutes` from t0; `status(i)` decides each.
  // Returns the counts written, the expected figures' source.
  Counts Feed(const std::string& check, WallTime t0, int minutes,
              const std::function<CheckStatus(int)>& status) {
    Counts written;
    for (int i = 0; i < minutes; ++i) {
      const CheckStatus s = status(i);
      Observe(check, t0 + std::chrono::minutes(i), s,
              s == CheckStatus::kOk ? "ok" : fmt::format("disk full (minute {})", i / 5 * 5));
      written.Add(s, 5ms);
    }
    return written;
  }
};

std::vector<std::string> Kinds(const Incident& i) {
  std::vector<std::string> out;
  for (const auto& t : i.timeline) out.push_back(t.kind);
  return out;
}

TEST_F(ReportModelTest, AvailabilityDowntimeAndTimelineFromARealStore) {
  const WallTime t0 = clock_.Now() - 6h;
  const WallTime fail = t0 + 120min, recover = t0 + 135min;
  const Counts web = Feed("web", t0, 360, [](int i) {
    if (i >= 120 && i < 135) return CheckStatus::kCritical;
    return i == 200 ? CheckStatus::kWarning : CheckStatus::kOk;
  });
  const Counts db = Feed("db", t0, 360, [](int) { return CheckStatus::kOk; });
  Change("web", t0, std::nullopt, CheckStatus::kOk, "fine");
  Change("web", fail, CheckStatus::kOk, CheckStatus::kCritical, "disk full");
  Change("web", recover, CheckStatus::kCritical, CheckStatus::kOk, "fine again");
  ASSERT_TRUE(store_->Flush().ok());

  const std::vector<ReportEntry> entries = {
      {"web", "", fail + 61s, "alert", "problem sent to hook"},
      {"web", "", fail + 5min, "acknowledged", "acknowledged by alice until it recovers"},
      {"", "", fail + 10min, "runbook", "disk.full step 1: ok"},
      {"web", "", recover + 2s, "recovery-sent", "recovery sent to hook"},
      {"web", "", recover + kEntryGrace + 1s, "alert", "too late: another story"},
      {"db", "", fail + 1min, "alert", "db has no incident"},
  };
  ReadModel model(*store_, clock_);
  ReportOptions options{"1d", 24h, {"web", "db"}};
  auto r = BuildReport(model, options, entries, clock_.Now());
  ASSERT_TRUE(r.ok()) << r.error().message();

  ASSERT_EQ(r->checks.size(), 2u);
  EXPECT_EQ(r->checks[0].check, "web");
  EXPECT_EQ(r->checks[0].counts.total(), web.total());
  EXPECT_DOUBLE_EQ(*r->checks[0].counts.uptime(),
                   static_cast<double>(web.ok + web.warning) / static_cast<double>(web.total()));
  EXPECT_EQ(r->checks[0].downtime, recover - fail);
  EXPECT_EQ(r->checks[0].incidents, 1u);
  EXPECT_DOUBLE_EQ(*r->checks[1].counts.uptime(), 1.0);
  EXPECT_EQ(r->checks[1].counts.total(), db.total());
  EXPECT_EQ(r->checks[1].incidents, 0u);

  ASSERT_EQ(r->incidents.size(), 1u);
  const ReportIncident& i = r->incidents[0];
  EXPECT_EQ(i.incident.id, IncidentId("web", fail));
  EXPECT_EQ(Kinds(i.incident), (std::vector<std::string>{"failed", "alert", "acknowledged",
                                                         "runbook", "recovered", "recovery-sent"}));
  EXPECT_EQ(i.first_alert, fail + 61s);
  EXPECT_EQ(i.acknowledged, fail + 5min);
  EXPECT_EQ(i.time_to_recover, recover - fail);
  EXPECT_EQ(i.time_to_acknowledge, 5min);

  const auto j = ReportJson(*r);
  EXPECT_EQ(j["window"], "1d");
  EXPECT_EQ(j["checks"][0]["results"]["total"], web.total());
  EXPECT_EQ(j["checks"][0]["downtime_seconds"], 900.0);
  EXPECT_EQ(j["incidents"][0]["time_to_recover_seconds"], 900.0);
  EXPECT_EQ(j["incidents"][0]["time_to_acknowledge_seconds"], 300.0);
  EXPECT_EQ(j["incidents"][0]["first_alert"], FormatTime(fail + 61s));
  EXPECT_EQ(j["incidents"][0]["timeline"].size(), 6u);

  const std::string text = RenderReport(*r, ReportFormat::kText);
  const std::string expected_web =
      fmt::format("{:.3f}%", 100.0 * static_cast<double>(web.ok + web.warning) /
                                 static_cast<double>(web.total()));
  EXPECT_NE(text.find(expected_web), std::string::npos) << text;
  EXPECT_NE(text.find("time to recover 15m 0s"), std::string::npos) << text;
  EXPECT_LT(text.find("acknowledged by alice"), text.find("fine again")) << text;
}

TEST_F(ReportModelTest, PostMortemHasTheTimelineFindingsAndRunbookOrSaysItIsUnknown) {
  const WallTime t0 = clock_.Now() - 2h;
  const WallTime fail = t0 + 30min, recover = t0 + 50min;
  Feed("log", t0, 120,
       [](int i) { return i >= 30 && i < 50 ? CheckStatus::kCritical : CheckStatus::kOk; });
  Change("log", fail, CheckStatus::kOk, CheckStatus::kCritical, "oom-killer");
  Change("log", recover, CheckStatus::kCritical, CheckStatus::kOk, "quiet");
  ASSERT_TRUE(store_->Flush().ok());
  const std::vector<ReportEntry> entries = {
      {"", "", fail + 3min, "runbook", "kernel.oom step 2: failed - no swap"},
      {"log", "", fail + 4min, "summary", "after-boot summary to hook: log is CRITICAL"},
      {"", IncidentId("log", fail), fail + 30min, "note", "bob: memory leak in the worker"},
  };
  ReadModel model(*store_, clock_);
  auto p = BuildPostMortem(model, *store_, IncidentId("log", fail), {"log"}, entries);
  ASSERT_TRUE(p.ok()) << p.error().message();
  // Minutes 30..49 failed; their summaries name the 5-minute block.
  EXPECT_EQ(p->findings,
            (std::vector<std::string>{"disk full (minute 30)", "disk full (minute 35)",
                                      "disk full (minute 40)", "disk full (minute 45)"}));
  const std::string text = RenderPostMortem(*p, ReportFormat::kText);
  for (const char* want : {"Post-mortem draft: log CRITICAL", "Timeline", "What the check said",
                           "kernel.oom step 2: failed - no swap", "after-boot summary to hook",
                           "bob: memory leak in the worker", "Action items"})
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  EXPECT_EQ(PostMortemJson(*p)["incident"]["time_to_recover_seconds"], 1200.0);

  auto unknown = BuildPostMortem(model, *store_, "0123456789abcdef", {"log"}, entries);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("no incident with id '0123456789abcdef'"),
            std::string::npos);
}

TEST_F(ReportModelTest, HtmlAndMarkdownEscapeEveryName) {
  const std::string evil = "<script>alert(1)</script>";
  const WallTime fail = clock_.Now() - 1h;
  Feed(evil, fail - 10min, 20,
       [](int i) { return i >= 10 ? CheckStatus::kCritical : CheckStatus::kOk; });
  Change(evil, fail, CheckStatus::kOk, CheckStatus::kCritical, "<img src=x onerror=alert(2)>");
  ASSERT_TRUE(store_->Flush().ok());
  const std::vector<ReportEntry> entries = {
      {evil, "", fail + 1min, "acknowledged", "acknowledged by <b>eve</b> | x"}};
  ReadModel model(*store_, clock_);
  auto r = BuildReport(model, {"1d", 24h, {evil}}, entries, clock_.Now());
  ASSERT_TRUE(r.ok()) << r.error().message();
  auto p = BuildPostMortem(model, *store_, IncidentId(evil, fail), {evil}, entries);
  ASSERT_TRUE(p.ok()) << p.error().message();
  for (const std::string& out :
       {RenderReport(*r, ReportFormat::kHtml), RenderPostMortem(*p, ReportFormat::kHtml),
        RenderReport(*r, ReportFormat::kMarkdown), RenderPostMortem(*p, ReportFormat::kMarkdown)}) {
    EXPECT_EQ(out.find("<script"), std::string::npos) << out;
    EXPECT_EQ(out.find("<img"), std::string::npos) << out;
    EXPECT_EQ(out.find("<b>"), std::string::npos) << out;
    EXPECT_NE(out.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos) << out;
  }
  // A '|' in Markdown would split the table cell.
  EXPECT_NE(RenderReport(*r, ReportFormat::kMarkdown).find("eve&lt;/b&gt; \\| x"),
            std::string::npos);
  // The JSON keeps the name as it is (JSON escapes it for its own syntax).
  EXPECT_EQ(ReportJson(*r)["checks"][0]["check"], evil);
}

TEST(ReportFormats, NamesAreParsedAndOthersRefused) {
  EXPECT_EQ(*ParseReportFormat("md"), ReportFormat::kMarkdown);
  EXPECT_EQ(*ParseReportFormat("json"), ReportFormat::kJson);
  auto bad = ParseReportFormat("pdf");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("text, md, html, json"), std::string::npos);
}

TEST(ReportOverlap, CutsToTheWindow) {
  const WallTime w0{std::chrono::hours(100)}, w1 = w0 + 10h;
  EXPECT_EQ(Overlap(w0 - 2h, w0 + 1h, w0, w1), Duration(1h));
  EXPECT_EQ(Overlap(w0 + 9h, w1 + 5h, w0, w1), Duration(1h));
  EXPECT_EQ(Overlap(w0 - 5h, w0 - 1h, w0, w1), Duration::zero());
}

}  // namespace
}  // namespace mamori::faces
