#include "mamori/daemon/metrics_exposition.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "testing/cli.h"
#include "testing/ports.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;

// Runs `command` with /bin/sh; its output in `out`, its exit code returned.
int Shell(const std::string& command, std::string& out) {
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Observation Result(CheckStatus s, std::vector<Metric> m, double at = 1765000000.5) {
  Observation o = Observation::Make(s, "x");
  o.metrics = std::move(m);
  o.time =
      WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(at)));
  o.duration = 250ms;
  return o;
}

TEST(MetricsExposition, ProbeMetricNamesCarryBaseUnitsAndAvoidReservedSuffixes) {
  EXPECT_EQ(metrics::ProbeFamily("total_ms").name, "mamori_probe_total_seconds");
  EXPECT_DOUBLE_EQ(metrics::ProbeFamily("total_ms").divisor, 1000);
  EXPECT_EQ(metrics::ProbeFamily("age_s").name, "mamori_probe_age_seconds");
  EXPECT_EQ(metrics::ProbeFamily("cert_days_left").name, "mamori_probe_cert_seconds_left");
  EXPECT_DOUBLE_EQ(3 / metrics::ProbeFamily("cert_days_left").divisor, 3 * 86400);
  EXPECT_EQ(metrics::ProbeFamily("free_bytes").name, "mamori_probe_free_bytes");
  EXPECT_EQ(metrics::ProbeFamily("count").name, "mamori_probe_items");
  EXPECT_EQ(metrics::ProbeFamily("rows_total").name, "mamori_probe_rows_total_value");
  EXPECT_EQ(metrics::ProbeFamily("disk:/var used-%").name, "mamori_probe_disk__var_used__");
}

TEST(MetricsExposition, LabelValuesAndSpecialValuesAreEscaped) {
  EXPECT_EQ(metrics::EscapeLabel("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  std::string out;
  metrics::AppendValue(out, NAN);
  out += ' ';
  metrics::AppendValue(out, -INFINITY);
  out += ' ';
  metrics::AppendValue(out, 3);
  out += ' ';
  metrics::AppendValue(out, 0.25);
  EXPECT_EQ(out, "NaN -Inf 3 0.25");
}

TEST(MetricsExposition, SelfStatIsParsedFromAfterTheCommandName) {
  // A command name with spaces and ')' must not shift the fields.
  std::string stat = "42 (a) b) S";
  for (int field = 4; field <= 30; ++field) stat += " " + std::to_string(field * 10);
  auto p = metrics::ParseSelfStat(stat, 1000, 100, 4096);
  ASSERT_TRUE(p);
  EXPECT_DOUBLE_EQ(p->cpu_seconds, (140 + 150) / 100.0);
  EXPECT_DOUBLE_EQ(p->start_time_seconds, 1000 + 220 / 100.0);
  EXPECT_DOUBLE_EQ(p->resident_bytes, 240.0 * 4096);
  EXPECT_FALSE(metrics::ParseSelfStat("garbage", 0, 100, 4096));
  EXPECT_FALSE(metrics::ParseSelfStat("1 (x) S 2 3", 0, 100, 4096));
}

TEST(MetricsExposition, BearerTokenMustMatchExactly) {
  const std::string token = "0123456789abcdef0123";
  EXPECT_TRUE(metrics::BearerMatches("Bearer " + token, token));
  EXPECT_FALSE(metrics::BearerMatches("Bearer " + token + "x", token));
  EXPECT_FALSE(metrics::BearerMatches("Bearer " + token.substr(1), token));
  EXPECT_FALSE(metrics::BearerMatches("Basic " + token, token));
  EXPECT_FALSE(metrics::BearerMatches("", token));
  EXPECT_FALSE(metrics::BearerMatches("Bearer ", ""));
}

TEST(MetricsExposition, RendersChecksGroupedByFamily) {
  MetricsBoard board;
  board.SetChecks({{"web \"front\"", "http"}, {"db", "tcp"}, {"never", "disk"}});
  board.Record("web \"front\"", CheckStatus::kCritical,
               Result(CheckStatus::kCritical, {{"total_ms", 1500}, {"status_code", 503}}));
  board.Record("db", CheckStatus::kOk, Result(CheckStatus::kOk, {{"total_ms", 20}}, 1765000100));
  board.SetFlags("db", true, false);
  const std::string text = board.Render();
  const std::string web = "{check=\"web \\\"front\\\"\",type=\"http\"}";
  EXPECT_NE(text.find("mamori_check_status" + web + " 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("mamori_check_up" + web + " 0\n"), std::string::npos);
  EXPECT_NE(text.find("mamori_check_duration_seconds" + web + " 0.25\n"), std::string::npos);
  EXPECT_NE(text.find("mamori_probe_total_seconds" + web + " 1.5\n"), std::string::npos);
  EXPECT_NE(text.find("mamori_probe_total_seconds{check=\"db\",type=\"tcp\"} 0.02\n"
                      "# HELP mamori_probe_status_code"),
            std::string::npos)
      << "both checks' samples of one family stand together:\n"
      << text;
  EXPECT_NE(text.find("mamori_check_acknowledged{check=\"db\",type=\"tcp\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(text.find("mamori_check_acknowledged" + web), std::string::npos);
  EXPECT_EQ(text.find("check=\"never\""), std::string::npos) << "not run yet: no series";
  EXPECT_NE(text.find("mamori_last_observation_timestamp_seconds 1765000100\n"), std::string::npos);
  EXPECT_NE(text.find("process_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(text.find("mamori_build_info{version=\""), std::string::npos);
}

TEST(MetricsExposition, TokenGuardsTheEndpoint) {
  MetricsBoard board;
  board.SetToken("0123456789abcdef0123");
  web::Request r;
  r.method = "GET";
  r.target = "/metrics";
  EXPECT_EQ(board.Handle(r).status, 401);
  r.authorization = "Bearer 0123456789abcdef0123";
  const auto ok = board.Handle(r);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.content_type, "text/plain; version=0.0.4; charset=utf-8");
}

TEST(MetricsExposition, PromtoolFindsTheExpositionClean) {
  if (::access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "promtool is not installed";
  MetricsBoard board;
  board.SetChecks({{"a", "http"}, {"b\nc", "disk"}});
  board.Record(
      "a", CheckStatus::kOk,
      Result(
          CheckStatus::kOk,
          {{"total_ms", 1}, {"count", 2}, {"age_s", 3}, {"age_seconds", 4}, {"weird name!", NAN}}));
  board.Record("b\nc", std::nullopt, Result(CheckStatus::kWarning, {{"used_percent", 91}}));
  testing::TempDir dir;
  const std::string file = dir.Write("metrics.txt", board.Render());
  std::string out;
  const int code = Shell("promtool check metrics < " + file + " 2>&1", out);
  EXPECT_EQ(code, 0) << out << "\n" << testing::ReadFile(file);
  EXPECT_EQ(out, "") << "promtool's lint findings:\n" << out;
}

}  // namespace
}  // namespace mamori
