// `mamori exec`: wraps a job (a cron line, a backup script) so that it reports
// to a heartbeat check: a /start ping, then the command with its output passed
// through to our own stdout/stderr (and the tail kept), then a ping with the
// exit code and that output tail as the body. Works with mamori's ping API and
// any healthchecks.io-compatible server.
//
// Both pings carry the same random run id (?rid=) so the server pairs them
// into a duration. A ping that fails for a transient reason (connection
// refused, timeout, 5xx, 429) is retried with back-off for up to
// `ping_retry_for`; a ping that still fails is reported on stderr and never
// changes the exit status: mamori exits with the command's own status (128+N
// when it died of signal N; 127 when it could not be started, after a /fail
// ping saying why). SIGINT/SIGTERM/SIGHUP received by mamori are passed on to
// the command. Blocking; for the CLI only.
#pragma once

#include <string>
#include <vector>

#include "mamori/util/clock.h"

namespace mamori::heartbeat {

struct ExecOptions {
  std::string ping_url;  // the check's base URL: http://host:8470/ping/<uuid>
  std::vector<std::string> argv;
  size_t max_body = 100 * 1024;  // output tail sent with the final ping
  Duration ping_timeout = std::chrono::seconds(10);
  Duration ping_retry_for = std::chrono::seconds(60);
  // The CLI passes output through and forwards signals; the daemon, running a
  // catch-up job on its worker pool, does neither.
  bool pass_through = true;
  bool forward_signals = true;
  // Zero: none. Otherwise the command's process group gets SIGTERM at the
  // timeout and SIGKILL 5 s later; the ping reports 124 (as timeout(1) does).
  Duration command_timeout{};
};

// Runs the whole thing; returns the process exit status for mamori.
int RunExec(const ExecOptions& options);

}  // namespace mamori::heartbeat
