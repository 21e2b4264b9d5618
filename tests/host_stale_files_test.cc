// The stale_files check against a real systemd as PID 1 (testing/nspawn.h:
// this machine's /usr booted in a container, the host untouched), with units
// that own stale files the way they are left after a crash:
//   - pidtest.service (PIDFile=/run/pidtest.pid) failed, and its pid file
//     holds the pid of a process that is gone;
//   - fpmtest.service (RuntimeDirectory=fpmtest, kept after it stops) bound
//     /run/fpmtest/fpm.sock and took /run/fpmtest/fpm.lock, then exited: the
//     socket file has nobody behind it, the lock nobody holding it;
//   - healthy.service (PIDFile=/run/healthy.pid, RuntimeDirectory=healthy)
//     runs, listens on /run/healthy/h.sock and holds /run/healthy/app.lock.
// The runner backdates everything under /run past the check's grace (so the
// stock boot's own files are judged too, not left alone as too new), then
// runs `mamori doctor --json` with no configuration at all.
//
// What it proves: the zero-config doctor's stale-files row names the stale
// pid file, socket and lock with their units, and nothing healthy, nothing of
// the stock boot (systemd's own sockets, journald's, dbus's).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "testing/cli.h"
#include "testing/nspawn.h"

namespace mamori {
namespace {

const char* kPidTest = "[Service]\nType=simple\nPIDFile=/run/pidtest.pid\nExecStart=/bin/false\n";

const char* kFpmTest =
    "[Service]\nType=simple\nRuntimeDirectory=fpmtest\nRuntimeDirectoryPreserve=yes\n"
    "ExecStart=/usr/bin/python3 -c \"import socket; s = socket.socket(socket.AF_UNIX); "
    "s.bind('/run/fpmtest/fpm.sock'); open('/run/fpmtest/fpm.lock', 'w')\"\n";

const char* kHealthy =
    "[Service]\nType=simple\nPIDFile=/run/healthy.pid\nRuntimeDirectory=healthy\n"
    "ExecStart=/usr/bin/python3 -c \"import os, socket, time; s = socket.socket(socket.AF_UNIX); "
    "s.bind('/run/healthy/h.sock'); s.listen(); lock = open('/run/healthy/app.lock', 'w'); "
    "open('/run/healthy.pid', 'w').write(str(os.getpid())); time.sleep(1000)\"\n";

// The runner's script: waits (bounded) for the planted units to settle,
// plants the stale pid file (the pid of a process that has exited and been
// reaped), backdates every file under /run by ten minutes and runs mamori;
// the runner powers off whatever happened.
const char* kRunner = R"([Unit]
After=multi-user.target pidtest.service fpmtest.service healthy.service
[Service]
Type=oneshot
ExecStart=/bin/sh -c '/bin/sh -x /runner.sh 2> /out/trace; systemctl poweroff --no-block'
)";

const char* kScript = R"(echo booted > /out/booted
settled=no
for i in $(seq 100); do
  if systemctl is-failed -q pidtest.service && test -S /run/fpmtest/fpm.sock &&
     ! systemctl is-active -q fpmtest.service && test -s /run/healthy.pid; then
    settled=yes; break
  fi
  sleep 0.1
done
test $settled = yes || echo not settled > /out/settle
/bin/true & gone=$!; wait
echo $gone > /run/pidtest.pid
find /run -xdev ! -path '/run/systemd/inaccessible*' -exec touch -h -d '-10 min' {} +
/mamori-bin doctor --json > /out/doctor.json 2> /out/stderr.txt
)";

TEST(HostStaleFiles, DoctorNamesThePlantedStaleFilesWithTheirUnitsAndNothingHealthy) {
  if (auto why = testing::NspawnUnavailable(); !why.empty()) GTEST_SKIP() << why;
  testing::TempDir dir;
  testing::NspawnBoot spec;
  spec.units = {
      {"pidtest.service", kPidTest}, {"fpmtest.service", kFpmTest}, {"healthy.service", kHealthy}};
  spec.runner = kRunner;
  spec.bind_ro = {{dir.Write("runner.sh", kScript), "/runner.sh"}};
  auto boot = testing::BootContainer(dir, spec);
  if (!boot.skip.empty()) GTEST_SKIP() << boot.skip;
  ASSERT_TRUE(boot.booted) << "the container did not reach multi-user.target:\n" << boot.err;
  EXPECT_FALSE(boot.timed_out) << "the container did not power off in time:\n" << boot.err;
  EXPECT_EQ(testing::Slurp(boot.out + "/settle"), "") << "the planted units did not settle";

  const std::string text = testing::Slurp(boot.out + "/doctor.json");
  auto rows = nlohmann::json::parse(text, nullptr, false);
  ASSERT_TRUE(rows.is_array()) << text << "\nstderr: " << testing::Slurp(boot.out + "/stderr.txt")
                               << "\ntrace: " << testing::Slurp(boot.out + "/trace");
  const nlohmann::json* row = nullptr;
  for (const auto& r : rows)
    if (r["type"] == "stale_files") row = &r;
  ASSERT_NE(row, nullptr) << "the zero-config doctor carries the check: " << rows.dump(2);
  const std::string summary = (*row)["summary"];
  EXPECT_EQ((*row)["status"], "warning") << row->dump(2);
  EXPECT_NE(summary.find("stale pid file /run/pidtest.pid (pidtest.service, pid "),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("socket /run/fpmtest/fpm.sock: nobody listening (fpmtest.service "
                         "inactive)"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("stale lock file /run/fpmtest/fpm.lock (fpmtest.service inactive, not "
                         "held by any process)"),
            std::string::npos)
      << summary;
  EXPECT_EQ(summary.find("healthy"), std::string::npos) << summary;
  // Exactly those three among every file of the stock boot.
  EXPECT_EQ((*row)["metrics"]["stale_files"], 3) << row->dump(2);
  EXPECT_GE((*row)["metrics"]["sockets"].get<double>(), 3) << "the boot's own sockets were judged";
  EXPECT_GE((*row)["metrics"]["pid_files"].get<double>(), 2);
}

}  // namespace
}  // namespace mamori
