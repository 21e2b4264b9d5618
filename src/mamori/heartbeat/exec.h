// `mamori exec`: wraps a job (a cron line, a backup script) so that it reports
// to a heartbeat check: a /start ping, then the command with its output passed
// through to our own stdout/stderr (and the tail kept), then a ping with the
// exit code and that output tail as the body. Works with mamori's ping API and
// any healthchecks.io-compatible server.
//
// The job never waits for the monitor: it starts at once while the /start
// ping is delivered by a thread of its own. Both pings carry the same random
// run id (?rid=) so the server pairs them into a duration, and they are sent
// in order. A ping that fails for a transient reason (connection refused,
// timeout, 5xx, 429) is retried with back-off for at most `ping_timeout` from
// the moment it is due; so after the job ends mamori waits at most
// `ping_timeout` for its pings. What could not be delivered is said in one
// line on stderr and never changes the exit status: mamori exits with the
// command's own status (128+N when it died of signal N; 124 after
// command_timeout; 127 when it could not be started, after a /fail ping
// saying why).
//
// The command is started through RunProcess (util/subprocess.h): its own
// process group, no descriptors but 0-2, an empty signal mask and default
// dispositions. mamori is done when the command itself exits: a process it
// leaves running (a daemon it forked) keeps running, and its output is read
// for at most half a second more. With pass_through, stdin is mamori's own
// (a wrapper is transparent: `mamori exec -- psql < dump.sql` works);
// without it, /dev/null. SIGINT/SIGTERM/SIGHUP received while the command runs
// are passed on to it. Blocking; call it from the CLI or a worker thread.
#pragma once

#include <string>
#include <vector>

#include "mamori/util/clock.h"

namespace mamori::heartbeat {

struct ExecOptions {
  std::string ping_url;  // the check's base URL: http://host:8470/ping/<uuid>
  std::vector<std::string> argv;
  size_t max_body = 100 * 1024;  // output tail sent with the final ping
  // How long each ping may take, retries included, from when it is due.
  Duration ping_timeout = std::chrono::seconds(10);
  // The CLI passes output (and stdin) through and forwards signals; the
  // daemon, running a catch-up job on its worker pool, does neither.
  bool pass_through = true;
  bool forward_signals = true;
  // Zero: none. Otherwise the command's process group gets SIGTERM at the
  // timeout and SIGKILL 5 s later; the ping reports 124 (as timeout(1) does).
  Duration command_timeout{};
};

// Runs the whole thing; returns the process exit status for mamori.
int RunExec(const ExecOptions& options);

}  // namespace mamori::heartbeat
