// Tests for the "memory" check type: the real /proc/meminfo, plus a crafted
// meminfo in a temporary directory (a fake proc root) for the threshold edges
// and old-kernel layouts a live machine does not show.
#include "mamori/probes/memory_probe.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "testing/probe_harness.h"

namespace mamori::probes::memory {
namespace {

using mamori::testing::ProbeHarness;
namespace fs = std::filesystem;

double Metric(const Observation& o, const std::string& name) {
  for (const auto& m : o.metrics)
    if (m.name == name) return m.value;
  ADD_FAILURE() << "no metric " << name << " in: " << o.summary;
  return NAN;
}
bool HasMetric(const Observation& o, const std::string& name) {
  for (const auto& m : o.metrics)
    if (m.name == name) return true;
  return false;
}

class FakeProc {
 public:
  FakeProc() {
    char tmpl[] = "/tmp/mamori-proc-XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  ~FakeProc() { fs::remove_all(root_); }
  void Meminfo(const std::string& text) { std::ofstream(root_ + "/meminfo") << text; }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

TEST(MemoryProbe, RealProcMatchesMeminfo) {
  ProbeHarness h;
  auto o = h.RunYaml("{name: mem, type: memory}");
  ASSERT_NE(o.status, CheckStatus::kUnknown) << o.summary;
  std::ifstream in("/proc/meminfo");
  std::map<std::string, double> kb;
  std::string key;
  double v;
  std::string unit;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    if (ls >> key >> v) kb[key.substr(0, key.size() - 1)] = v;
  }
  ASSERT_GT(kb["MemTotal"], 0);
  double used = (kb["MemTotal"] - kb["MemAvailable"]) * 100 / kb["MemTotal"];
  EXPECT_NEAR(Metric(o, "mem_used_percent"), used, 2.0);  // memory moves meanwhile
  EXPECT_NEAR(Metric(o, "mem_available_bytes"), kb["MemAvailable"] * 1024,
              0.02 * kb["MemTotal"] * 1024);
  CheckStatus want = used >= 95   ? CheckStatus::kCritical
                     : used >= 90 ? CheckStatus::kWarning
                                  : CheckStatus::kOk;
  if (kb["SwapTotal"] == 0) {
    EXPECT_FALSE(HasMetric(o, "swap_used_percent"));
    EXPECT_NE(o.summary.find("; no swap"), std::string::npos) << o.summary;
    if (std::abs(used - 90) > 2 && std::abs(used - 95) > 2) {
      EXPECT_EQ(o.status, want);
    }
  } else {
    double swap = (kb["SwapTotal"] - kb["SwapFree"]) * 100 / kb["SwapTotal"];
    EXPECT_NEAR(Metric(o, "swap_used_percent"), swap, 2.0);
  }
  EXPECT_EQ(o.summary.rfind("memory ", 0), 0u) << o.summary;
}

TEST(MemoryProbe, ThresholdEdgesWithCraftedMeminfo) {
  FakeProc proc;
  ProbeHarness h;
  // Exactly 90% used: the default warning triggers at the threshold.
  proc.Meminfo(
      "MemTotal:        1000000 kB\nMemFree:          50000 kB\nMemAvailable:     100000 kB\n"
      "SwapTotal:              0 kB\nSwapFree:               0 kB\n");
  MemoryProbe p(Options{}, proc.root());
  auto o = h.Run(p);
  EXPECT_EQ(o.status, CheckStatus::kWarning);
  EXPECT_EQ(o.summary,
            "memory 90.0% used (warning at 90%), 97.7 MiB of 976.6 MiB available; no swap");
  EXPECT_DOUBLE_EQ(Metric(o, "mem_used_percent"), 90.0);
  EXPECT_DOUBLE_EQ(Metric(o, "mem_available_bytes"), 100000.0 * 1024);
  EXPECT_FALSE(HasMetric(o, "swap_used_percent"));

  // RAM fine, swap 80% used: critical at the default swap_critical.
  proc.Meminfo(
      "MemTotal: 1000000 kB\nMemAvailable: 600000 kB\nSwapTotal: 1000 kB\nSwapFree: 200 kB\n");
  o = h.Run(p);
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_EQ(o.summary,
            "memory 40.0% used, 585.9 MiB of 976.6 MiB available; swap 80.0% used (critical at "
            "80%) of 1000.0 KiB");
  EXPECT_DOUBLE_EQ(Metric(o, "swap_used_percent"), 80.0);

  // Custom thresholds through the options.
  MemoryProbe strict(Options{30, 39.9, 50, 80}, proc.root());
  EXPECT_EQ(h.Run(strict).status, CheckStatus::kCritical);
  MemoryProbe lax(Options{41, 50, 90, 95}, proc.root());
  EXPECT_EQ(h.Run(lax).status, CheckStatus::kOk);
}

TEST(MemoryProbe, OldKernelWithoutMemAvailable) {
  FakeProc proc;
  ProbeHarness h;
  proc.Meminfo(
      "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 150 kB\nSwapTotal: 0 kB\n");
  MemoryProbe p(Options{}, proc.root());
  auto o = h.Run(p);
  EXPECT_EQ(o.status, CheckStatus::kOk);
  EXPECT_DOUBLE_EQ(Metric(o, "mem_used_percent"), 70.0);
}

TEST(MemoryProbe, BrokenMeminfoIsUnknown) {
  FakeProc proc;
  ProbeHarness h;
  MemoryProbe p(Options{}, proc.root());
  auto o = h.Run(p);  // no meminfo at all
  EXPECT_EQ(o.status, CheckStatus::kUnknown);
  EXPECT_EQ(o.summary, "cannot read " + proc.root() + "/meminfo: No such file or directory");
  proc.Meminfo("garbage\n\x01\x02 kB\nMemFree: x kB\n");
  o = h.Run(p);
  EXPECT_EQ(o.status, CheckStatus::kUnknown);
  EXPECT_EQ(o.summary, proc.root() + "/meminfo has no MemTotal");
}

TEST(MemoryProbeConfig, Errors) {
  ProbeHarness h;
  std::string errors;
  EXPECT_EQ(h.Build("{name: m, type: memory, warning: 96%}", &errors), nullptr);
  EXPECT_EQ(errors,
            "test.yaml:2:38: check 'm': 'warning': 96% is above critical (95%); warning must be "
            "lower than or equal to critical\n");
  EXPECT_NE(h.Build("{name: m, type: memory, warning: 70%, critical: 80%, swap_warning: 10%, "
                    "swap_critical: 20%}",
                    &errors),
            nullptr)
      << errors;
}

}  // namespace
}  // namespace mamori::probes::memory
