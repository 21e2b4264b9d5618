// The Debian package (scripts/package.sh), built from this build's binary:
// its contents and lintian, then installed for real with `dpkg -i` in a
// container booting this machine's systemd as PID 1 (testing/nspawn.h, with
// /usr, /etc and /var writable overlays so dpkg can install while the host
// stays untouched).
//
// The runner installs the package, and checks what an operator would: the
// postinst made the `mamori` user and the service is active and answers on
// 127.0.0.1:8470; a frozen daemon (SIGSTOP) is restarted by systemd's
// watchdog (an operator's drop-in sets WatchdogSec=2s, 30 s in the package);
// a reload with a broken configuration keeps the running daemon; `dpkg -r`
// stops it and keeps the data, `dpkg -P` deletes the data and the user.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include "mamori/util/subprocess.h"
#include "mamori_binary_path.h"
#include "mamori_source_dir.h"
#include "testing/nspawn.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::OutLine;
using testing::Slurp;

// Builds the package into dir/dist; returns its path ("" on failure).
std::string BuildPackage(const testing::TempDir& dir, std::string* log, bool lintian = true) {
  ProcessOptions o;
  o.argv = {std::string(MAMORI_SOURCE_DIR) + "/scripts/package.sh", "--binary", MAMORI_BINARY,
            "--out", dir.path() + "/dist"};
  if (!lintian) o.argv.push_back("--no-lintian");
  o.merge_stderr = true;
  o.timeout = 240s;
  o.max_output = 1 << 20;
  auto r = RunProcess(o);
  if (!r.ok()) {
    *log = r.error().message();
    return "";
  }
  *log = r->out;
  if (r->exit_code != 0) return "";
  std::string deb = r->out.substr(0, r->out.find('\n'));
  return std::filesystem::exists(deb) ? deb : "";
}

std::string Output(std::vector<std::string> argv) {
  ProcessOptions o;
  o.argv = std::move(argv);
  o.timeout = 30s;
  o.max_output = 1 << 20;
  auto r = RunProcess(o);
  return r.ok() ? r->out : "";
}

TEST(Package, BuildsWithEverythingInPlaceAndLintianReportsNoErrorOrWarning) {
  testing::TempDir dir;
  std::string log;
  const std::string deb = BuildPackage(dir, &log);
  ASSERT_NE(deb, "") << "scripts/package.sh failed (lintian runs in it):\n" << log;
  EXPECT_NE(deb.find("/mamori_0."), std::string::npos) << deb;
  const std::string files = Output({"dpkg-deb", "-c", deb});
  for (const char* path :
       {"./usr/bin/mamori", "./etc/mamori/mamori.yaml", "./etc/mamori/rules.d/",
        "./lib/systemd/system/mamori.service", "./usr/share/polkit-1/rules.d/50-mamori.rules",
        "./usr/share/man/man1/mamori.1.gz", "./usr/share/bash-completion/completions/mamori",
        "./usr/share/zsh/vendor-completions/_mamori", "./usr/share/doc/mamori/copyright",
        "./usr/share/doc/mamori/SYSTEMD.md", "./usr/share/doc/mamori/CONFIGURATION.md"})
    EXPECT_NE(files.find(std::string(path) + "\n"), std::string::npos) << path << " missing:\n"
                                                                       << files;
  // The rules are inside the binary, not beside it.
  EXPECT_EQ(files.find("rules/nginx.yaml"), std::string::npos) << files;
  const std::string control = Output({"dpkg-deb", "-f", deb});
  EXPECT_NE(control.find("Depends: "), std::string::npos) << control;
  EXPECT_NE(control.find("libsystemd0"), std::string::npos) << control;
  EXPECT_NE(control.find("adduser"), std::string::npos) << control;
  // The libraries opened on first use (util/lazy_library.h) are not NEEDED;
  // they come from lazy_libraries.txt, each with the minimal version its
  // package declares, as the NEEDED ones have, so dpkg refuses an older one.
  for (const char* lazy : {"libhyperscan5 (>= ", "libarchive13 (>= ", "libpq5 (>= ",
                           "libmariadb3 (>= ", "libcurl4 (>= ", "libssl3 (>= "})
    EXPECT_NE(control.find(lazy), std::string::npos) << lazy << " missing:\n" << control;
  const std::string conffiles = Output({"dpkg-deb", "--info", deb, "conffiles"});
  EXPECT_EQ(conffiles, "/etc/mamori/mamori.yaml\n");
  // Every verb of the binary is in the man page.
  std::string man = Slurp(std::string(MAMORI_SOURCE_DIR) + "/packaging/mamori.1");
  for (size_t at; (at = man.find("\\-")) != std::string::npos;) man.erase(at, 1);
  const std::string help = Output({MAMORI_BINARY, "--help"});
  for (size_t at = help.find("Subcommands:"); at != std::string::npos;) {
    at = help.find("\n  ", at);
    if (at == std::string::npos) break;
    at += 3;
    if (help[at] == ' ') continue;  // a description's continuation line
    const std::string verb = help.substr(at, help.find_first_of(" \n", at) - at);
    EXPECT_NE(man.find(".B " + verb), std::string::npos) << "packaging/mamori.1 lacks " << verb;
  }
}

// The conffile is valid as shipped (the machine's auto-detected checks) and
// so is every example in it once uncommented.
TEST(Package, TheShippedConfigurationAndItsCommentedExamplesAreValid) {
  const std::string conf = std::string(MAMORI_SOURCE_DIR) + "/packaging/mamori.yaml";
  ProcessOptions o;
  o.argv = {MAMORI_BINARY, "config", "validate", "-c", conf};
  auto r = RunProcess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->out << r->err;
  testing::TempDir dir;
  const std::string uncommented = dir.path() + "/examples.yaml";
  o.argv = {"sh",
            "-c",
            "sed -E '/^# defaults:/,$ s/^# ([a-z_]+:|  )/\\1/' \"$0\" > \"$1\" && "
            "! grep -q '^# *- {name' \"$1\" && \"$2\" config validate -c \"$1\"",
            conf,
            uncommented,
            MAMORI_BINARY};
  r = RunProcess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->out << r->err << Slurp(uncommented);
  EXPECT_NE(r->out.find("valid (2 checks"), std::string::npos) << r->out << r->err;
}

// Every wait is a bounded poll.
constexpr const char* kScript = R"sh(set -u
echo booted > /out/booted
show() { systemctl show -p "$1" --value mamori; }
wait_for() { for i in $(seq 100); do eval "$1" && return 0; sleep 0.1; done; return 1; }
# Build images often carry a policy-rc.d that forbids starting services
# (exit 101); a real host does not. Removed in the overlay only.
rm -f /usr/sbin/policy-rc.d
mkdir -p /etc/systemd/system/mamori.service.d
printf '[Service]\nWatchdogSec=2s\n' > /etc/systemd/system/mamori.service.d/watchdog.conf
DEBIAN_FRONTEND=noninteractive dpkg -i /pkg/mamori.deb > /out/dpkg_i 2>&1; echo $? > /out/install_rc
getent passwd mamori | cut -d: -f1,6 > /out/user
wait_for '[ "$(systemctl is-active mamori)" = active ]'
systemctl is-active mamori > /out/active1
wait_for 'curl -s -m 1 -o /dev/null http://127.0.0.1:8470/ip'
curl -s -m 2 -o /dev/null -w '%{http_code}' http://127.0.0.1:8470/ip > /out/http
show MainPID > /out/pid1
systemctl kill -s SIGSTOP mamori
wait_for '[ "$(show NRestarts)" = 1 ] && [ "$(systemctl is-active mamori)" = active ]'
show NRestarts > /out/restarts
show MainPID > /out/pid2
printf 'checks: [\n' > /etc/mamori/mamori.yaml
timeout 10 systemctl reload mamori
sleep 1
systemctl is-active mamori > /out/active2
show MainPID > /out/pid3
ls /var/lib/mamori/ > /out/data_before 2>&1
DEBIAN_FRONTEND=noninteractive dpkg -r mamori > /out/dpkg_r 2>&1; echo $? > /out/remove_rc
systemctl is-active mamori > /out/active3
ls /var/lib/mamori/ > /out/data_after_remove 2>&1
getent passwd mamori | cut -d: -f1 > /out/user_after_remove
DEBIAN_FRONTEND=noninteractive dpkg -P mamori > /out/dpkg_p 2>&1; echo $? > /out/purge_rc
ls -d /var/lib/mamori /var/lib/private/mamori /etc/mamori/mamori.yaml > /out/after_purge 2>&1
getent passwd mamori > /out/user_after_purge
journalctl -u mamori --no-pager -o cat | tail -50 > /out/journal
systemctl poweroff --no-block
)sh";

TEST(Package, InstallsStartsIsWatchedReloadsSafelyRemovesAndPurgesInAContainer) {
  if (auto why = testing::NspawnUnavailable(); !why.empty()) GTEST_SKIP() << why;
  testing::TempDir dir;
  std::string log;
  const std::string deb = BuildPackage(dir, &log, /*lintian=*/false);
  ASSERT_NE(deb, "") << log;
  testing::NspawnBoot boot;
  boot.writable_root = true;
  boot.private_network = true;
  boot.runner = testing::kShellScriptRunner;
  boot.bind_ro.emplace_back(deb, "/pkg/mamori.deb");
  boot.bind_ro.emplace_back(dir.Write("runner.sh", kScript), "/runner.sh");
  boot.timeout = 90s;
  auto out = testing::BootContainer(dir, boot);
  if (!out.skip.empty()) GTEST_SKIP() << out.skip;
  ASSERT_TRUE(out.booted);
  EXPECT_FALSE(out.timed_out) << "the container did not power off in time";
  const std::string why = Slurp(out.out + "/dpkg_i") + Slurp(out.out + "/journal");

  EXPECT_EQ(OutLine(out, "install_rc"), "0") << why;
  EXPECT_EQ(OutLine(out, "user"), "mamori:/var/lib/mamori") << why;
  EXPECT_EQ(OutLine(out, "active1"), "active") << why;
  EXPECT_EQ(OutLine(out, "http"), "200") << why;
  EXPECT_EQ(OutLine(out, "restarts"), "1") << "the watchdog did not restart a frozen daemon\n"
                                           << why;
  EXPECT_NE(OutLine(out, "pid2"), OutLine(out, "pid1"));
  EXPECT_EQ(OutLine(out, "active2"), "active") << why;
  EXPECT_EQ(OutLine(out, "pid3"), OutLine(out, "pid2")) << "a broken reload replaced the daemon\n"
                                                        << why;
  EXPECT_NE(OutLine(out, "data_before").find("mamori.db"), std::string::npos) << why;

  EXPECT_EQ(OutLine(out, "remove_rc"), "0") << Slurp(out.out + "/dpkg_r");
  EXPECT_NE(OutLine(out, "active3"), "active");
  EXPECT_NE(OutLine(out, "data_after_remove").find("mamori.db"), std::string::npos)
      << "removal must keep the data";
  EXPECT_EQ(OutLine(out, "user_after_remove"), "mamori");
  EXPECT_EQ(OutLine(out, "purge_rc"), "0") << Slurp(out.out + "/dpkg_p");
  const std::string after = Slurp(out.out + "/after_purge");
  EXPECT_NE(after.find("cannot access '/var/lib/mamori'"), std::string::npos) << after;
  EXPECT_NE(after.find("cannot access '/var/lib/private/mamori'"), std::string::npos) << after;
  EXPECT_NE(after.find("cannot access '/etc/mamori/mamori.yaml'"), std::string::npos) << after;
  EXPECT_EQ(OutLine(out, "user_after_purge"), "");
}

}  // namespace
}  // namespace mamori
