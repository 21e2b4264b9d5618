// Boots a real systemd as PID 1 in a container: this machine's own /usr with
// systemd-nspawn --volatile=yes (the root is a tmpfs, the host untouched),
// the test's units in /etc/systemd/system, the mamori binary at /mamori-bin
// (read-only) and DIR/out at /out. The test's oneshot "runner" unit does the
// work, writes to /out and powers the container off; the boot is bounded
// (then the whole nspawn process group is killed).
//
// Needs root and systemd-nspawn (package systemd-container). `skip` says,
// in nspawn's own words, why a container could not start at all; a boot
// that started and did not finish is a test failure (ADD_FAILURE), not a
// skip. Blocking; one boot per call, and one boot at a time on this machine
// (an exclusive lock on /tmp/mamori-test-nspawn.lock for the boot).
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "testing/cli.h"

namespace mamori::testing {

struct NspawnUnit {
  std::string name;  // "crash.service"
  std::string text;  // without [Install]: WantedBy=multi-user.target is added
  bool enable = true;
};

struct NspawnBoot {
  std::vector<NspawnUnit> units;
  // The runner unit's text; it is enabled. Its first step should write
  // /out/booted (the helper tells "could not boot" from "booted" by it).
  std::string runner;
  std::vector<std::pair<std::string, std::string>> bind_ro;  // host path, container path
  // Read-write binds (a persistent /var/log/journal kept across two boots),
  // and further nspawn arguments (--uuid=..., so both boots are one machine).
  std::vector<std::pair<std::string, std::string>> bind;
  std::vector<std::string> extra_args;
  std::chrono::seconds timeout{60};
  // Boot this machine's own configuration (its enabled units, its packages'
  // state): /etc and /var overlaid (writes go to a tmpfs, the host is
  // untouched), the test's units in /etc/systemd/system.control.
  bool host_config = false;
  // /usr, /etc and /var writable overlays of this machine's (writes go to a
  // tmpfs, the host is untouched): what `dpkg -i` needs. Implies
  // host_config; the test's units go to /etc/systemd/system.control.
  bool writable_root = false;
  // Its own network namespace (only loopback): a listener of the test's
  // cannot collide with the host's.
  bool private_network = false;
  // Where under the test's directory this boot's unit files go; several boots
  // of one test (sharing DIR/out) each name their own.
  std::string units_dir = "units";
};

struct NspawnOutcome {
  std::string skip;     // non-empty: the container could not start here
  bool booted = false;  // /out/booted was written
  bool timed_out = false;
  std::string out;  // DIR/out on the host
  std::string err;  // nspawn's stderr
};

// Empty when not root or systemd-nspawn is missing; else the reason to skip.
std::string NspawnUnavailable();

NspawnOutcome BootContainer(const TempDir& dir, const NspawnBoot& boot);

std::string Slurp(const std::string& path);

// The runner unit of a test whose steps are a shell script bound at
// /runner.sh (it writes /out/booted first and powers off last).
inline constexpr const char* kShellScriptRunner = R"([Unit]
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/sh /runner.sh
)";

// DIR/out/NAME without its final newline: one value the runner wrote.
std::string OutLine(const NspawnOutcome& out, const std::string& name);

}  // namespace mamori::testing
