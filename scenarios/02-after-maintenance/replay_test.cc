// Replay of incident 2 ("The VPS after scheduled maintenance"): after the
// hosting company's window the site looked fine, but the clock was about 3
// hours off (ntpd stopped while the VM stood still) and the nightly backup
// scheduled inside the window never ran.
//   - the clock: a timesync check that compares with an NTP server says
//     CRITICAL "clock is 3h 0m behind ...", whatever the local flags say.
//     A real chronyd serves time 3 hours ahead of ours (libfaketime): the
//     same offset as a local clock 3 hours behind.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/chronyd.h"
#include "testing/cli.h"

namespace mamori {
namespace {

using testing::RunMamori;

TEST(ScenarioAfterMaintenance, ClockThreeHoursOffIsCritical) {
  std::string error;
  auto ntp = testing::ChronydServer::Start("+3h", &error);
  ASSERT_TRUE(ntp) << error;
  testing::TempDir dir;
  const std::string config = dir.Write(
      "mamori.yaml", "checks:\n  - {name: clock, type: timesync, allow_unsynced: true, server: \"" +
                         ntp->address() + "\"}\n");
  auto r = RunMamori({"check", "-c", config, "--json"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_array() && j.size() == 1) << r.out;
  EXPECT_EQ(j[0]["status"], "critical");
  EXPECT_EQ(j[0]["summary"].get<std::string>().rfind("clock is 3h 0m behind " + ntp->address(), 0),
            0u)
      << j[0].dump();
}

}  // namespace
}  // namespace mamori
