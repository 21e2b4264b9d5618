// The `restart:` key of a check as the loader reads it (host/unit_restart.h),
// with the real check types: defaults, the systemd check's own unit as the
// default unit, and the errors, each at FILE:LINE:COL.
#include <gtest/gtest.h>

#include "mamori/daemon/config_file.h"
#include "mamori/host/unit_restart.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;

const host::RestartPlan* PlanOf(const ConfigLoad& load, size_t i = 0) {
  if (!load.config || load.config->checks.size() <= i) return nullptr;
  return load.config->checks[i].restart.get();
}

TEST(RestartConfig, DefaultsAndTheSystemdChecksUnit) {
  ConfigLoad load = LoadConfigText(R"(checks:
  - {name: web, type: systemd, unit: nginx, restart: {}}
  - {name: fpm, type: socket, path: /run/php/fpm.sock,
     restart: {unit: php8.2-fpm, limit: 2, within: 5m, timeout: 20s}}
  - {name: plain, type: systemd, unit: nginx.service}
)",
                                   "mamori.yaml");
  ASSERT_TRUE(load.config) << load.diagnostics.ToString();
  const auto* web = PlanOf(load, 0);
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->unit, "nginx.service");
  EXPECT_EQ(web->limit, 3);
  EXPECT_EQ(web->within, 10min);
  EXPECT_EQ(web->timeout, 90s);
  const auto* fpm = PlanOf(load, 1);
  ASSERT_NE(fpm, nullptr);
  EXPECT_EQ(fpm->unit, "php8.2-fpm.service");
  EXPECT_EQ(fpm->limit, 2);
  EXPECT_EQ(fpm->within, 5min);
  EXPECT_EQ(fpm->timeout, 20s);
  EXPECT_EQ(PlanOf(load, 2), nullptr) << "no restart: key, no restarts";
}

std::string Errors(const std::string& yaml) {
  ConfigLoad load = LoadConfigText(yaml, "mamori.yaml");
  EXPECT_FALSE(load.config) << yaml;
  return load.diagnostics.ToString();
}

TEST(RestartConfig, ErrorsNameTheirPlace) {
  // Not a systemd check: restart.unit is required.
  EXPECT_NE(Errors("checks:\n  - {name: w, type: tcp, address: '127.0.0.1:80', restart: {limit: "
                   "3}}\n")
                .find("mamori.yaml:2:"),
            std::string::npos);
  EXPECT_NE(Errors("checks:\n  - {name: w, type: tcp, address: '127.0.0.1:80', restart: {limit: "
                   "3}}\n")
                .find("restart: no unit to restart; add unit: to restart:"),
            std::string::npos);
  // A systemd check over a glob or over every unit names no single unit.
  EXPECT_NE(Errors("checks:\n  - {name: u, type: systemd, unit: 'php*', restart: {}}\n")
                .find("this check names no single unit"),
            std::string::npos);
  EXPECT_NE(
      Errors("checks:\n  - {name: u, type: systemd, restart: {}}\n").find("no unit to restart"),
      std::string::npos);
  // A check type that has nothing to restart.
  const std::string disk =
      Errors("checks:\n  - {name: d, type: disk, path: /, restart: {unit: x}}\n");
  EXPECT_NE(disk.find("mamori.yaml:2:"), std::string::npos) << disk;
  EXPECT_NE(disk.find("a disk check cannot restart anything"), std::string::npos) << disk;
  EXPECT_EQ(disk.find("unknown key"), std::string::npos) << "one error, not two: " << disk;
  EXPECT_NE(Errors("checks:\n  - {name: u, type: systemd, unit: a, restart: {limit: 0}}\n")
                .find("0 is out of range"),
            std::string::npos);
  EXPECT_NE(Errors("checks:\n  - {name: u, type: systemd, unit: a, restart: {unit: 'a b'}}\n")
                .find("is not one unit name"),
            std::string::npos);
  EXPECT_NE(
      Errors("checks:\n  - {name: u, type: systemd, unit: a, restart: {limt: 3}}\n").find("limt"),
      std::string::npos);
}

}  // namespace
}  // namespace mamori
