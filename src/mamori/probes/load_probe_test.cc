// Tests for the "load" check type: the real /proc/loadavg, plus a crafted
// loadavg in a temporary directory (a fake proc root) for exact edges.
#include "mamori/probes/load_probe.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "testing/probe_harness.h"

namespace mamori::probes::load {
namespace {

using mamori::testing::ProbeHarness;
namespace fs = std::filesystem;

double Metric(const Observation& o, const std::string& name) {
  for (const auto& m : o.metrics)
    if (m.name == name) return m.value;
  ADD_FAILURE() << "no metric " << name << " in: " << o.summary;
  return NAN;
}

class FakeProc {
 public:
  FakeProc() {
    char tmpl[] = "/tmp/mamori-proc-XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  ~FakeProc() { fs::remove_all(root_); }
  void Loadavg(const std::string& text) { std::ofstream(root_ + "/loadavg") << text; }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

TEST(LoadProbe, RealProcLoadavg) {
  ProbeHarness h;
  auto o = h.RunYaml("{name: load, type: load}");
  ASSERT_NE(o.status, CheckStatus::kUnknown) << o.summary;
  double l1, l5, l15;
  std::ifstream("/proc/loadavg") >> l1 >> l5 >> l15;
  EXPECT_NEAR(Metric(o, "load1"), l1, 1.0);  // updated every 5 s
  EXPECT_NEAR(Metric(o, "load15"), l15, 0.2);
  EXPECT_EQ(Metric(o, "cpus"), ::sysconf(_SC_NPROCESSORS_ONLN));
  EXPECT_EQ(o.summary.rfind("load ", 0), 0u) << o.summary;

  // Thresholds of 0 are always reached; huge ones never.
  auto crit = h.RunYaml("{name: load, type: load, warning: 0, critical: 0}");
  EXPECT_EQ(crit.status, CheckStatus::kCritical) << crit.summary;
  EXPECT_NE(crit.summary.find("1m load"), std::string::npos) << crit.summary;
  auto ok = h.RunYaml(
      "{name: load, type: load, warning: \"1000,1000,1000\", critical: [2000, 2000, 2000]}");
  EXPECT_EQ(ok.status, CheckStatus::kOk) << ok.summary;
}

TEST(LoadProbe, PerCpuEdgesWithCraftedLoadavg) {
  FakeProc proc;
  ProbeHarness h;
  proc.Loadavg("3.00 2.00 1.00 1/100 12345\n");
  // Defaults on 2 CPUs: warning 4, 3, 2.4; critical 8, 6, 4.
  LoadProbe p(Options{}, proc.root(), 2);
  auto o = h.Run(p);
  EXPECT_EQ(o.status, CheckStatus::kOk);
  EXPECT_EQ(o.summary, "load 3.00 2.00 1.00 on 2 CPUs");
  EXPECT_EQ(Metric(o, "load1"), 3.0);
  EXPECT_EQ(Metric(o, "load5"), 2.0);
  EXPECT_EQ(Metric(o, "load15"), 1.0);
  EXPECT_EQ(Metric(o, "cpus"), 2);

  proc.Loadavg("4.00 3.00 1.00 1/100 12345\n");  // exactly at the 1m and 5m warnings
  o = h.Run(p);
  EXPECT_EQ(o.status, CheckStatus::kWarning);
  EXPECT_EQ(o.summary,
            "load 4.00 3.00 1.00 on 2 CPUs: 1m load 4.00 at or above warning 4 (2 per CPU), 5m "
            "load 3.00 at or above warning 3 (1.5 per CPU)");

  proc.Loadavg("9.50 3.00 4.10 7/300 999\n");
  o = h.Run(p);
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_EQ(o.summary,
            "load 9.50 3.00 4.10 on 2 CPUs: 1m load 9.50 at or above critical 8 (4 per CPU), 15m "
            "load 4.10 at or above critical 4 (2 per CPU)");

  Options absolute;
  absolute.per_cpu = false;
  absolute.warning = {9, 9, 9};
  absolute.critical = {10, 10, 10};
  LoadProbe abs_probe(absolute, proc.root(), 2);
  o = h.Run(abs_probe);
  EXPECT_EQ(o.status, CheckStatus::kWarning);
  EXPECT_EQ(o.summary, "load 9.50 3.00 4.10 on 2 CPUs: 1m load 9.50 at or above warning 9");

  LoadProbe one_cpu(Options{}, proc.root(), 1);
  EXPECT_EQ(h.Run(one_cpu).summary.rfind("load 9.50 3.00 4.10 on 1 CPU:", 0), 0u);
}

TEST(LoadProbe, MalformedLoadavgIsUnknown) {
  FakeProc proc;
  ProbeHarness h;
  LoadProbe p(Options{}, proc.root(), 2);
  EXPECT_EQ(h.Run(p).summary, "cannot read " + proc.root() + "/loadavg: No such file or directory");
  proc.Loadavg("1.0 nan\n");
  auto o = h.Run(p);
  EXPECT_EQ(o.status, CheckStatus::kUnknown);
  EXPECT_EQ(o.summary, proc.root() + "/loadavg is malformed: '1.0 nan?'");
}

TEST(LoadProbeConfig, Errors) {
  ProbeHarness h;
  std::string errors;
  EXPECT_EQ(h.Build("{name: l, type: load, warning: \"5,4\"}", &errors), nullptr);
  EXPECT_EQ(errors,
            "test.yaml:2:36: check 'l': 'warning': expected 1 or 3 numbers, found 2; write three "
            "loads for 1m,5m,15m such as \"4,3,2\", or one number\n");
  EXPECT_EQ(h.Build("{name: l, type: load, warning: \"5,4,3\", critical: \"6,3,9\"}", &errors),
            nullptr);
  EXPECT_EQ(errors,
            "test.yaml:2:36: check 'l': 'warning': 5m warning 4 is above critical 3; each warning "
            "load must be lower than or equal to its critical load\n");
  EXPECT_EQ(h.Build("{name: l, type: load, critical: abc}", &errors), nullptr);
  EXPECT_NE(errors.find("'abc' is not a non-negative number"), std::string::npos) << errors;
  EXPECT_NE(
      h.Build("{name: l, type: load, warning: 5, critical: \"6,6,6\", per_cpu: false}", &errors),
      nullptr)
      << errors;
}

}  // namespace
}  // namespace mamori::probes::load
