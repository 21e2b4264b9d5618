#include "mamori/probes/perfdata.h"

#include <gtest/gtest.h>

namespace mamori::probes {
namespace {

// The test vectors below were captured from Debian 12's monitoring-plugins
// (2.3.3) on a build machine, verbatim, including trailing spaces.

const PerfDatum* Find(const PluginOutput& o, std::string_view label) {
  for (const auto& d : o.perfdata)
    if (d.label == label) return &d;
  return nullptr;
}

TEST(PerfData, CheckLoad) {
  auto o = ParsePluginOutput(
      "LOAD OK - total load average: 0.18, 0.29, 0.17|load1=0.180;5.000;10.000;0; "
      "load5=0.290;4.000;8.000;0; load15=0.170;3.000;6.000;0; \n");
  EXPECT_EQ(o.summary, "LOAD OK - total load average: 0.18, 0.29, 0.17");
  EXPECT_EQ(o.long_text, "");
  EXPECT_EQ(o.skipped, 0u);
  ASSERT_EQ(o.perfdata.size(), 3u);
  EXPECT_EQ(o.perfdata[0].label, "load1");
  EXPECT_DOUBLE_EQ(*o.perfdata[0].value, 0.18);
  EXPECT_EQ(o.perfdata[0].uom, "");
  EXPECT_EQ(o.perfdata[0].warn, "5.000");
  EXPECT_EQ(o.perfdata[0].crit, "10.000");
  EXPECT_EQ(o.perfdata[0].min, "0");
  EXPECT_EQ(o.perfdata[0].max, "");
  EXPECT_EQ(o.perfdata[1].label, "load5");
  EXPECT_DOUBLE_EQ(*o.perfdata[1].value, 0.29);
  EXPECT_EQ(o.perfdata[2].label, "load15");
  EXPECT_DOUBLE_EQ(*o.perfdata[2].value, 0.17);
  EXPECT_EQ(o.perfdata[2].crit, "6.000");
}

TEST(PerfData, CheckLoadScaled) {
  auto o = ParsePluginOutput(
      "LOAD OK - scaled load average: 0.09, 0.14, 0.09 - total load average: 0.18, 0.29, "
      "0.17|load1=0.180;;;0; scaled_load1=0.090;5.000;10.000;0; load5=0.290;;;0; "
      "scaled_load5=0.145;4.000;8.000;0; load15=0.170;;;0; scaled_load15=0.085;3.000;6.000;0; \n");
  ASSERT_EQ(o.perfdata.size(), 6u);
  EXPECT_EQ(o.perfdata[0].warn, "");
  EXPECT_EQ(o.perfdata[0].crit, "");
  EXPECT_DOUBLE_EQ(*Find(o, "scaled_load5")->value, 0.145);
}

TEST(PerfData, CheckDisk) {
  auto o = ParsePluginOutput(
      "DISK OK - free space: / 81463MiB (83% inode=97%);| "
      "/=17323524096B;216442024755;243497277849;0;270552530944\n");
  EXPECT_EQ(o.summary, "DISK OK - free space: / 81463MiB (83% inode=97%);");
  ASSERT_EQ(o.perfdata.size(), 1u);
  const auto& d = o.perfdata[0];
  EXPECT_EQ(d.label, "/");
  EXPECT_DOUBLE_EQ(*d.value, 17323524096.0);
  EXPECT_EQ(d.uom, "B");
  EXPECT_EQ(d.warn, "216442024755");
  EXPECT_EQ(d.crit, "243497277849");
  EXPECT_EQ(d.min, "0");
  EXPECT_EQ(d.max, "270552530944");
}

TEST(PerfData, CheckProcsWithRanges) {
  auto o = ParsePluginOutput("PROCS CRITICAL: 76 processes | procs=76;5;10;0;\n");
  EXPECT_EQ(o.summary, "PROCS CRITICAL: 76 processes");
  ASSERT_EQ(o.perfdata.size(), 1u);
  EXPECT_DOUBLE_EQ(*o.perfdata[0].value, 76);
  o = ParsePluginOutput("PROCS WARNING: 0 processes with command name 'sh' | procs=0;1:;;0;\n");
  EXPECT_EQ(o.summary, "PROCS WARNING: 0 processes with command name 'sh'");
  ASSERT_EQ(o.perfdata.size(), 1u);
  EXPECT_EQ(o.perfdata[0].warn, "1:");
  EXPECT_EQ(o.perfdata[0].crit, "");
}

TEST(PerfData, CheckUsersSwapFileAgeDummyTcp) {
  auto o = ParsePluginOutput("USERS OK - 0 users currently logged in |users=0;5;10;0\n");
  EXPECT_EQ(o.summary, "USERS OK - 0 users currently logged in");
  ASSERT_EQ(o.perfdata.size(), 1u);
  EXPECT_EQ(o.perfdata[0].min, "0");

  o = ParsePluginOutput(
      "SWAP CRITICAL - 0% free (0MB out of 0MB) - Swap is either disabled, not present, or of "
      "zero size. |swap=0B;0;0;0;0\n");
  ASSERT_EQ(o.perfdata.size(), 1u);
  EXPECT_EQ(o.perfdata[0].uom, "B");

  o = ParsePluginOutput(
      "FILE_AGE CRITICAL: /etc/hostname is 6881 seconds old and 3 bytes | age=6881s;10;20 "
      "size=3B;0;0;0\n");
  ASSERT_EQ(o.perfdata.size(), 2u);
  EXPECT_EQ(o.perfdata[0].uom, "s");
  EXPECT_EQ(o.perfdata[1].uom, "B");

  o = ParsePluginOutput("WARNING: hello\n");
  EXPECT_EQ(o.summary, "WARNING: hello");
  EXPECT_TRUE(o.perfdata.empty());

  o = ParsePluginOutput("connect to address 127.0.0.1 and port 1: Connection refused\n");
  EXPECT_EQ(o.summary, "connect to address 127.0.0.1 and port 1: Connection refused");
  EXPECT_TRUE(o.perfdata.empty());
  EXPECT_EQ(o.skipped, 0u);
}

// The multi-line example of the Nagios plugin guidelines.
TEST(PerfData, LongOutputWithPerfDataOnLaterLines) {
  auto o = ParsePluginOutput(
      "DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968\n"
      "/ 15272 MB (77%);\n"
      "/boot 68 MB (69%);\n"
      "/home 69357 MB (27%);\n"
      "/var/log 819 MB (84%); | /boot=68MB;88;93;0;98\n"
      "/home=69357MB;253404;253409;0;253414 \n"
      "/var/log=818MB;970;975;0;980\n");
  EXPECT_EQ(o.summary, "DISK OK - free space: / 3326 MB (56%);");
  EXPECT_EQ(o.long_text,
            "/ 15272 MB (77%);\n/boot 68 MB (69%);\n/home 69357 MB (27%);\n/var/log 819 MB (84%);");
  ASSERT_EQ(o.perfdata.size(), 4u);
  EXPECT_EQ(o.perfdata[0].label, "/");
  EXPECT_EQ(o.perfdata[1].label, "/boot");
  EXPECT_EQ(o.perfdata[2].label, "/home");
  EXPECT_EQ(o.perfdata[3].label, "/var/log");
  EXPECT_EQ(o.perfdata[3].uom, "MB");
  EXPECT_DOUBLE_EQ(*o.perfdata[3].value, 818);
  EXPECT_EQ(o.skipped, 0u);
}

TEST(PerfData, LongTextWithoutPerfData) {
  auto o = ParsePluginOutput("OK - all fine\n\n  indented detail\nsecond\r\n\n");
  EXPECT_EQ(o.summary, "OK - all fine");
  EXPECT_EQ(o.long_text, "  indented detail\nsecond");
}

TEST(PerfData, QuotedLabels) {
  auto o = ParsePluginOutput("OK | 'C:\\ Label with spaces'=5;;; 'it''s'=1 'a=b'=2 ''''=3 'x'=U");
  ASSERT_EQ(o.perfdata.size(), 5u) << o.skipped;
  EXPECT_EQ(o.perfdata[0].label, "C:\\ Label with spaces");
  EXPECT_EQ(o.perfdata[1].label, "it's");
  EXPECT_EQ(o.perfdata[2].label, "a=b");
  EXPECT_EQ(o.perfdata[3].label, "'");
  EXPECT_EQ(o.perfdata[4].label, "x");
  EXPECT_FALSE(o.perfdata[4].value.has_value());
  EXPECT_EQ(o.skipped, 0u);
}

TEST(PerfData, UnitsAndNumbers) {
  auto o = ParsePluginOutput(
      "OK | time=0.012s rt=12ms us=5us pct=99.5% b=1B kb=2KB mb=3MB gb=4GB tb=5TB cnt=123c "
      "neg=-1.5 plus=+2 exp=1.5e3 comma=0,25 warnrange=1;@10:20;~:5;-1;1e9");
  EXPECT_EQ(o.skipped, 0u);
  ASSERT_EQ(o.perfdata.size(), 15u);
  const char* uoms[] = {"s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c"};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(o.perfdata[i].uom, uoms[i]) << i;
  EXPECT_DOUBLE_EQ(*Find(o, "neg")->value, -1.5);
  EXPECT_DOUBLE_EQ(*Find(o, "plus")->value, 2);
  EXPECT_DOUBLE_EQ(*Find(o, "exp")->value, 1500);
  EXPECT_DOUBLE_EQ(*Find(o, "comma")->value, 0.25);
  const auto* w = Find(o, "warnrange");
  EXPECT_EQ(w->warn, "@10:20");
  EXPECT_EQ(w->crit, "~:5");
  EXPECT_EQ(w->min, "-1");
  EXPECT_EQ(w->max, "1e9");
}

TEST(PerfData, InvalidItemsAreSkippedAndCounted) {
  auto o = ParsePluginOutput(
      "OK | good=1 novalue= =5 noequals word=abc nan=nan inf=inf 1,2,3=1,2,3 unit=5m/s "
      "x=1.2.3 long=5;" +
      std::string(70, '1') + " last=9");
  ASSERT_EQ(o.perfdata.size(), 2u);
  EXPECT_EQ(o.perfdata[0].label, "good");
  EXPECT_EQ(o.perfdata[1].label, "last");
  EXPECT_EQ(o.skipped, 10u);
}

TEST(PerfData, UnterminatedQuoteStopsParsing) {
  auto o = ParsePluginOutput("OK | a=1 'broken=2 b=3");
  ASSERT_EQ(o.perfdata.size(), 1u);
  EXPECT_EQ(o.skipped, 1u);
}

TEST(PerfData, Bounds) {
  std::string many = "OK |";
  for (int i = 0; i < 300; ++i) many += " m" + std::to_string(i) + "=" + std::to_string(i);
  auto o = ParsePluginOutput(many);
  EXPECT_EQ(o.perfdata.size(), kMaxPerfData);
  EXPECT_EQ(o.skipped, 300 - kMaxPerfData);

  o = ParsePluginOutput("OK | " + std::string(kMaxLabel, 'a') + "=1 " +
                        std::string(kMaxLabel + 1, 'b') + "=2 '" + std::string(kMaxLabel + 1, 'c') +
                        "'=3");
  ASSERT_EQ(o.perfdata.size(), 1u);
  EXPECT_EQ(o.perfdata[0].label.size(), kMaxLabel);
  EXPECT_EQ(o.skipped, 2u);
}

TEST(PerfData, EdgeCases) {
  auto o = ParsePluginOutput("");
  EXPECT_EQ(o.summary, "");
  EXPECT_EQ(o.long_text, "");
  EXPECT_TRUE(o.perfdata.empty());

  o = ParsePluginOutput("|a=1");
  EXPECT_EQ(o.summary, "");
  ASSERT_EQ(o.perfdata.size(), 1u);

  o = ParsePluginOutput("  OK: spaces around  \r\n");
  EXPECT_EQ(o.summary, "OK: spaces around");

  // A second '|' on the first line: more perfdata, not text.
  o = ParsePluginOutput("OK | a=1 | b=2");
  EXPECT_EQ(o.perfdata.size(), 2u);
  EXPECT_EQ(o.skipped, 0u);

  // Extra fields beyond max are ignored, tabs separate items.
  o = ParsePluginOutput("OK |a=1;2;3;4;5;6;7\tb=2");
  ASSERT_EQ(o.perfdata.size(), 2u);
  EXPECT_EQ(o.perfdata[0].max, "5");

  const char raw[] = "OK \0\xff\xfe | a=1\n\0";
  std::string binary(raw, sizeof raw - 1);
  o = ParsePluginOutput(binary);
  EXPECT_EQ(o.perfdata.size(), 1u);
}

}  // namespace
}  // namespace mamori::probes
