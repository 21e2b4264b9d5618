// Small helpers shared by the test fixtures that start real servers (nginx,
// dnsmasq, aiosmtpd, Alertmanager): a free loopback port, a readiness probe,
// and reading a log file into an error message. Stateless; thread-safe.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <string>

namespace mamori::testing {

// A port on 127.0.0.1 that was free a moment ago (bound to 0, then closed).
int PickFreePort();
// True when something accepts TCP connections on 127.0.0.1:port.
bool AcceptsOnLoopback(int port);
// Stops a server the test started: `sig` to it (and its process group when
// `group`), up to `grace` for it to exit, then SIGKILL; once it has exited,
// whatever is left of its group is killed too (nginx workers of a killed
// master). Reaps it, takes it off the reaper's list (testing/spawn.h) and
// sets `pid` to -1. Database servers get their orderly-shutdown signal on the
// main process only (it stops its own children).
void StopProcess(pid_t& pid, int sig = SIGTERM,
                 std::chrono::milliseconds grace = std::chrono::seconds(3), bool group = true);
// The whole file, or "" if it cannot be read.
std::string ReadFile(const std::string& path);

}  // namespace mamori::testing
