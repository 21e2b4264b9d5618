// Boots are events, end to end: `mamori run` started on a data directory whose
// boot record names another kernel boot records one "booted" event in the
// store (with the previous boot's last-seen time); started again on the same
// boot it records none. The real binary, a real store.
#include <signal.h>

#include <gtest/gtest.h>

#include "mamori/daemon/boot_record.h"
#include "mamori/store/store.h"
#include "testing/cli.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::TempDir;

std::vector<Event> HostEvents(const std::string& data_dir) {
  SystemClock clock;
  auto store = Store::Open(data_dir, clock, Store::OpenMode::kReadOnly);
  EXPECT_TRUE(store.ok()) << store.error().message();
  if (!store.ok()) return {};
  auto events = (*store)->Events(std::string(kHostEventCheck), WallTime{}, 100);
  EXPECT_TRUE(events.ok());
  return events.ok() ? *events : std::vector<Event>{};
}

void RunOnce(const std::string& cfg, const std::string& log) {
  DaemonProcess d({"-c", cfg}, log);
  ASSERT_TRUE(d.WaitForLog("running 1 checks")) << d.Log();
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(), 0) << d.Log();
}

TEST(BootEvent, AStartOnANewBootIsRecordedOnce) {
  TempDir dir;
  const std::string cfg =
      dir.Write("mamori.yaml",
                "data_dir: ./data\n"
                "checks:\n"
                "  - {name: root-disk, type: disk, path: /, warning: 99.9%, critical: 100%}\n");
  // The first start of all: a record is written, no event.
  RunOnce(cfg, dir.path() + "/1.log");
  EXPECT_TRUE(HostEvents(dir.path() + "/data").empty());

  // Pretend the last run was on another boot, last seen at a known time.
  dir.Write("data/boot", "0b0b0b0b-previous-boot\n1767225600\n");
  RunOnce(cfg, dir.path() + "/2.log");
  auto events = HostEvents(dir.path() + "/data");
  ASSERT_EQ(events.size(), 1u);
  const std::string me = *ReadBootId();
  EXPECT_EQ(events[0].summary,
            "booted (boot " + me.substr(0, 8) +
                "); previous boot 0b0b0b0b last seen at 2026-01-01 00:00:00 UTC");

  // A restart on the same boot is not another boot.
  RunOnce(cfg, dir.path() + "/3.log");
  EXPECT_EQ(HostEvents(dir.path() + "/data").size(), 1u);
}

}  // namespace
}  // namespace mamori
