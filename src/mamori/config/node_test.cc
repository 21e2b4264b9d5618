#include "mamori/config/node.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "mamori/util/units.h"

namespace mamori::config {
namespace {

class ConfigNodeTest : public ::testing::Test {
 protected:
  ConfigNode Parse(const std::string& yaml) {
    return ConfigNode(std::get<Yaml>(Yaml::Parse(yaml)), "check 'x'", "m.yaml", &diag_);
  }
  Diagnostics diag_;
};

std::string Percent(double v) { return fmt::format("{:g}%", v); }

// Nodes of one file share each zone they name: 10,000 heartbeats in one zone
// hold one table. UTC needs no file; an unknown name is an error, not cached.
TEST_F(ConfigNodeTest, ZonesAreLoadedOncePerFile) {
  ConfigNode root = Parse("a: {tz: Europe/Berlin}\nb: {tz: Europe/Berlin}\n");
  auto a = root.GetMap("a"), b = root.GetMap("b");
  ASSERT_TRUE(a && b);
  auto za = a->Zone("Europe/Berlin"), zb = b->Zone("Europe/Berlin");
  ASSERT_TRUE(za.ok()) << za.error().message();
  ASSERT_TRUE(zb.ok()) << zb.error().message();
  ASSERT_NE(*za, nullptr);
  EXPECT_EQ(za->get(), zb->get());
  EXPECT_EQ((*za)->name(), "Europe/Berlin");
  auto utc = a->Zone("UTC");
  ASSERT_TRUE(utc.ok());
  EXPECT_EQ(*utc, nullptr);
  EXPECT_FALSE(b->Zone("Mars/Olympus").ok());
  // Another file loads its own.
  auto other = Parse("c: 1\n").Zone("Europe/Berlin");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->get(), za->get());
}

TEST_F(ConfigNodeTest, GetThresholdsKeepsDefaultsAndRefusesWarningAboveCritical) {
  {
    auto n = Parse("{warning: 70%}");
    double warning = 80, critical = 90;
    EXPECT_TRUE(n.GetThresholds("warning", "critical", warning, critical, &ConfigNode::GetPercent,
                                Percent));
    EXPECT_EQ(warning, 70);
    EXPECT_EQ(critical, 90);  // the default, kept
    EXPECT_TRUE(diag_.empty());
  }
  {
    auto n = Parse("{warning: 95%}");  // above the default critical
    double warning = 80, critical = 90;
    EXPECT_FALSE(n.GetThresholds("warning", "critical", warning, critical, &ConfigNode::GetPercent,
                                 Percent));
    ASSERT_EQ(diag_.size(), 1u);
    EXPECT_EQ(diag_.items()[0].message, "check 'x': 'warning': 95% is above critical (90%)");
    EXPECT_EQ(diag_.items()[0].hint, "warning must be lower than or equal to critical");
  }
  {
    // Optional limits: only both set are compared.
    auto n = Parse("{rss_warning: 2GB}");
    std::optional<uint64_t> w, c;
    EXPECT_TRUE(
        n.GetThresholds("rss_warning", "rss_critical", w, c, &ConfigNode::GetSize, FormatBytes));
    EXPECT_TRUE(w.has_value());
    EXPECT_FALSE(c.has_value());
    EXPECT_EQ(diag_.size(), 1u);
  }
}

TEST_F(ConfigNodeTest, GetOrderedReportsAtTheNamedKeyWithBothValues) {
  auto n = Parse("{min: 5, max: 2}");
  int64_t min = 0;
  std::optional<int64_t> max;
  auto get = [](ConfigNode& node, std::string_view key) { return node.GetInt(key, 0, 100); };
  auto show = [](int64_t v) { return std::to_string(v); };
  EXPECT_FALSE(n.GetOrdered("min", "max", min, max, get, show,
                            {"max", "{1} is below min ({0})", "max must be at least min"}));
  EXPECT_EQ(min, 5);
  EXPECT_EQ(max, 2);
  ASSERT_EQ(diag_.size(), 1u);
  EXPECT_EQ(diag_.items()[0].message, "check 'x': 'max': 2 is below min (5)");
  EXPECT_EQ(diag_.items()[0].where.line, 1);

  auto fine = Parse("{min: 2, max: 2}");
  min = 0;
  max.reset();
  EXPECT_TRUE(fine.GetOrdered("min", "max", min, max, get, show, {"max", "x", "y"}));
  EXPECT_EQ(diag_.size(), 1u);
}

TEST_F(ConfigNodeTest, GetMaxAndCriticalWantsTheCriticalLatencyAtLeastTheMax) {
  std::optional<Duration> max, critical;
  auto ok = Parse("{max_latency: 1s, critical_latency: 3s}");
  EXPECT_TRUE(ok.GetMaxAndCritical("max_latency", "critical_latency", max, critical));
  EXPECT_EQ(max, std::chrono::seconds(1));
  EXPECT_EQ(critical, std::chrono::seconds(3));
  EXPECT_TRUE(diag_.empty());

  max.reset();
  critical.reset();
  auto bad = Parse("{max_latency: 2s, critical_latency: 500ms}");
  EXPECT_FALSE(bad.GetMaxAndCritical("max_latency", "critical_latency", max, critical));
  ASSERT_EQ(diag_.size(), 1u);
  EXPECT_EQ(diag_.items()[0].message,
            "check 'x': 'critical_latency': is lower than max_latency (2.0s)");
  EXPECT_EQ(diag_.items()[0].hint,
            "critical_latency is the worse threshold: make it at least max_latency");
}

}  // namespace
}  // namespace mamori::config
