#include "mamori/daemon/config_file.h"

#include <gtest/gtest.h>

namespace mamori {
namespace {

using namespace std::chrono_literals;

// A registry with one made-up check type, so these tests pin down the loader's
// own behaviour (messages, defaults, unknown keys) independently of the real
// check types, which test their keys in their own files.
class DemoProbe : public Probe {
 public:
  void Start(ProbeEnv&, MonoTime, ProbeDone done) override {
    done(Observation::Make(CheckStatus::kOk, "demo"));
  }
};

ProbeRegistry DemoRegistry() {
  ProbeRegistry r;
  r.Add("demo", "a made-up check type for loader tests",
        [](config::ConfigNode& n) -> std::unique_ptr<Probe> {
          auto target = n.GetString("target");
          n.GetPercent("warning");
          if (auto e = n.GetMap("expect")) {
            e->GetInt("status", 100, 599);
            e->GetDuration("max_latency");
          }
          if (!target) {
            n.Error("missing 'target'", "set target: to what this check watches");
            return nullptr;
          }
          return std::make_unique<DemoProbe>();
        });
  r.Add("http", "second type, for did-you-mean",
        [](config::ConfigNode&) { return std::make_unique<DemoProbe>(); });
  return r;
}

std::string Errors(const std::string& yaml) {
  ConfigLoad load = LoadConfigText(yaml, "mamori.yaml", DemoRegistry());
  EXPECT_FALSE(load.config) << "expected errors for:\n" << yaml;
  return load.diagnostics.ToString();
}

TEST(Config, DefaultsApplyAndCheckOverridesWin) {
  ConfigLoad load = LoadConfigText(R"(
data_dir: /var/lib/mamori-test
defaults: {interval: 30s, timeout: 5s, failures_before_alert: 4, successes_before_recovery: 3}
checks:
  - {name: a, type: demo, target: x}
  - {name: b, type: demo, target: y, interval: 2m, timeout: 1m, failures_before_alert: 1, tags: [db, prod]}
)",
                                   "mamori.yaml", DemoRegistry());
  ASSERT_TRUE(load.config) << load.diagnostics.ToString();
  const Config& c = *load.config;
  EXPECT_EQ(c.data_dir, "/var/lib/mamori-test");
  ASSERT_EQ(c.checks.size(), 2u);
  EXPECT_EQ(c.checks[0].interval, Duration(30s));
  EXPECT_EQ(c.checks[0].timeout, Duration(5s));
  EXPECT_EQ(c.checks[0].thresholds.failures_before_alert, 4);
  EXPECT_EQ(c.checks[0].thresholds.successes_before_recovery, 3);
  EXPECT_EQ(c.checks[1].interval, Duration(2min));
  EXPECT_EQ(c.checks[1].thresholds.failures_before_alert, 1);
  EXPECT_EQ(c.checks[1].tags, (std::vector<std::string>{"db", "prod"}));
  EXPECT_EQ(c.checks[1].where.line, 6);
  EXPECT_NE(c.checks[0].probe, nullptr);
}

TEST(Config, RelativeDataDirIsAnchoredAtTheConfigFile) {
  ConfigLoad load =
      LoadConfigText("data_dir: ./mamori-data\nchecks:\n  - {name: a, type: demo, target: x}\n",
                     "/etc/mamori/mamori.yaml", DemoRegistry());
  ASSERT_TRUE(load.config) << load.diagnostics.ToString();
  EXPECT_EQ(load.config->data_dir, "/etc/mamori/mamori-data");
}

TEST(Config, UnknownTopLevelKeyWithSuggestion) {
  EXPECT_EQ(Errors("data_dri: /x\nchecks: []\n"),
            "mamori.yaml:1:1: config: unknown key 'data_dri'; did you mean 'data_dir'?\n");
}

TEST(Config, UnknownCheckKeyWithSuggestion) {
  EXPECT_EQ(Errors("checks:\n  - name: a\n    type: demo\n    target: x\n    intervall: 5s\n"),
            "mamori.yaml:5:5: check 'a': unknown key 'intervall'; did you mean 'interval'?\n");
}

TEST(Config, UnknownNestedKeyNamesItsParent) {
  EXPECT_EQ(
      Errors(
          "checks:\n  - name: a\n    type: demo\n    target: x\n    expect:\n      stauts: 200\n"),
      "mamori.yaml:6:7: check 'a': expect: unknown key 'stauts'; did you mean 'status'?\n");
}

TEST(Config, UnknownTypeSuggestsTheClosest) {
  EXPECT_EQ(
      Errors("checks:\n  - {name: a, type: htp, url: x}\n"),
      "mamori.yaml:2:21: check 'a': 'type': unknown check type 'htp'; did you mean 'http'?\n");
}

TEST(Config, BadDurationSaysWhatIsAccepted) {
  EXPECT_EQ(Errors("checks:\n  - {name: a, type: demo, target: x, interval: 5}\n"),
            "mamori.yaml:2:48: check 'a': 'interval': duration '5' has no unit; write a number "
            "with a unit: "
            "500ms, 90s, 5m, 26h, 7d, 1h30m\n");
}

TEST(Config, BadPercentAndIntegerRange) {
  EXPECT_EQ(
      Errors(
          "checks:\n  - {name: a, type: demo, target: x, warning: 80, failures_before_alert: 0}\n"),
      "mamori.yaml:2:47: check 'a': 'warning': invalid percentage '80'; write a percentage such as "
      "80% or "
      "92.5%\n"
      "mamori.yaml:2:74: check 'a': 'failures_before_alert': 0 is out of range; use a value from 1 "
      "to 1000\n");
}

TEST(Config, AllErrorsAreReportedNotJustTheFirst) {
  std::string e = Errors(R"(checks:
  - {name: a, type: demo}
  - {name: a, type: demo, target: x}
  - {name: "bad name!", type: demo, target: x}
  - {type: demo, target: x}
  - {name: t, type: demo, target: x, interval: 10s, timeout: 30s}
)");
  EXPECT_NE(
      e.find(
          "mamori.yaml:2:5: check 'a': missing 'target'; set target: to what this check watches"),
      std::string::npos)
      << e;
  EXPECT_NE(e.find("mamori.yaml:3:12: check 'a': 'name': duplicate check name 'a'; check names "
                   "must be unique"),
            std::string::npos)
      << e;
  EXPECT_NE(
      e.find("mamori.yaml:4:12: checks item 3: 'name': 'bad name!' is not a valid check name"),
      std::string::npos)
      << e;
  EXPECT_NE(e.find("mamori.yaml:5:5: checks item 4: missing 'name'"), std::string::npos) << e;
  // A timeout longer than the interval is allowed (its runs skip slots).
  EXPECT_EQ(e.find("check 't'"), std::string::npos) << e;
}

TEST(Config, TimeoutMayOutlastTheIntervalButADefaultOneNever) {
  ConfigLoad load = LoadConfigText(
      "defaults: {timeout: 10s}\n"
      "checks:\n"
      "  - {name: slow, type: file, path: /etc/hostname, interval: 5s, timeout: 30s}\n"
      "  - {name: quick, type: file, path: /etc/hostname, interval: 2s}\n",
      "mamori.yaml");
  ASSERT_TRUE(load.config) << load.diagnostics.ToString();
  EXPECT_EQ(load.config->checks[0].timeout, std::chrono::seconds(30));
  EXPECT_EQ(load.config->checks[1].timeout, std::chrono::seconds(2));
}

TEST(Config, YamlSyntaxErrorHasALocation) {
  std::string e = Errors("checks:\n  - {name: a, type: demo\n");
  EXPECT_EQ(e.rfind("mamori.yaml:3:1: YAML syntax error: ", 0), 0u) << e;
}

TEST(Config, WrongShapes) {
  EXPECT_EQ(Errors("- a\n- b\n"),
            "mamori.yaml:1:1: the top level must be a mapping; start with keys such as 'data_dir:' "
            "and 'checks:'\n");
  EXPECT_EQ(Errors("checks: {name: a}\n"),
            "mamori.yaml:1:9: config: 'checks': expected a list; write each item on its own line "
            "starting with '- '\n");
  EXPECT_EQ(
      Errors(""),
      "mamori.yaml:1:1: the configuration is empty; add a 'checks:' list; see docs/GUIDE.md\n");
}

TEST(Config, DisabledChecksAreSkippedButStillValidated) {
  ConfigLoad load = LoadConfigText(
      "checks:\n  - {name: a, type: demo, target: x, enabled: false}\n"
      "  - {name: b, type: demo, target: x}\n",
      "mamori.yaml", DemoRegistry());
  ASSERT_TRUE(load.config) << load.diagnostics.ToString();
  ASSERT_EQ(load.config->checks.size(), 1u);
  EXPECT_EQ(load.config->checks[0].name, "b");
}

TEST(Config, MissingFileIsAClearError) {
  ConfigLoad load = LoadConfigFile("/nonexistent/mamori.yaml", DemoRegistry());
  ASSERT_FALSE(load.config);
  EXPECT_EQ(load.diagnostics.ToString(),
            "/nonexistent/mamori.yaml: cannot read the configuration: No such file or directory; "
            "check the path "
            "given with -c\n");
}

}  // namespace
}  // namespace mamori
