// Boots this machine's own /usr with a real systemd as PID 1 in a container
// (systemd-nspawn --volatile=yes: the root is a tmpfs, the host untouched),
// with a test's unit files in /etc/systemd/system, the mamori binary at
// /mamori-bin (read-only) and a writable /out. One of the units is the test's
// runner: a oneshot that does the test's work, writes to /out and powers the
// container off. The boot is bounded (timeout, then nspawn's whole process
// group is killed).
//
// Needs root and systemd-nspawn; where the container cannot start at all,
// the result says why in `skip` (the test skips with those words); a boot
// that starts but never finishes is a failure, not a skip.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace mamori::testing {

struct ContainerUnit {
  std::string name;  // "pidtest.service"
  std::string text;  // the unit file; "[Install]\nWantedBy=multi-user.target\n" is appended
  bool enable = true;
  // False: a plain file beside the units (a script the runner runs), written
  // as is.
  bool install = true;
};

struct ContainerBoot {
  bool booted = false;     // the runner wrote /out/booted
  bool timed_out = false;  // nspawn had to be killed
  std::string skip;        // non-empty: nspawn cannot run here, and why
  std::string nspawn_err;  // nspawn's own stderr (head)
  std::string out_dir;     // the host side of /out
};

// Why this host cannot boot a container (not root, no nspawn), or "".
std::string ContainerSkipReason();

// Boots with `units` (the runner among them) from `dir` (a temporary
// directory the caller owns), waiting at most `timeout`.
ContainerBoot BootContainer(const std::string& dir, const std::vector<ContainerUnit>& units,
                            std::chrono::seconds timeout = std::chrono::seconds(60));

}  // namespace mamori::testing
