// RunProcess: runs one program to completion, safely and within bounded time
// and memory, for check plugins, remedies and `mamori exec`.
//
// The program is started directly from an argv vector (no shell involved) in
// a process group of its own, with stdin from a given string or /dev/null and
// stdout/stderr captured through pipes. Each captured stream keeps its first
// `max_output` bytes; the rest is read and dropped, so a chatty child never
// blocks on a full pipe. At the timeout the whole process group gets SIGTERM,
// then SIGKILL after a grace period, so a shell script's children die with
// it. When the program exits, whatever is left of its group is killed too
// (unless kill_group_on_exit is false): a check must not leave processes
// behind. The child is always reaped.
//
// A caller that streams the output (`mamori exec` tees it) gets every chunk
// through on_output as it is read. Waiting ends when the program itself exits,
// not when its pipes close: a descendant left running that still holds them
// (a job that forks a daemon) costs at most half a second of draining.
//
// Threading: RunProcess blocks the calling thread (call it from a worker pool,
// never from an event loop); concurrent calls from different threads are
// fine. All descriptors are close-on-exec, so a child spawned by another
// thread at the same moment inherits none of them, and the child itself gets
// only stdin, stdout and stderr (everything from 3 up is closed).
//
// Failure: a program that cannot be started (no such file, permission denied,
// bad working directory, NUL byte in an argument) is an Error whose message
// reads "cannot run PROGRAM: REASON". Everything the program does once
// started (exit codes, signals, timeouts) is reported in ProcessResult.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori {

struct ProcessOptions {
  // argv[0] is the program: a path, or a bare name looked up in PATH.
  std::vector<std::string> argv;
  // Added to (or replacing same-named entries of) this process's environment.
  std::vector<std::pair<std::string, std::string>> env;
  std::string working_dir;                // empty: inherit
  std::optional<std::string> stdin_data;  // nullopt: /dev/null (see inherit_stdin)
  // With no stdin_data: the child reads this process's own stdin instead of
  // /dev/null (a wrapper such as `mamori exec` passes it through).
  bool inherit_stdin = false;
  // When true, stderr goes into the stdout pipe (one stream, in write order)
  // and ProcessResult::err stays empty.
  bool merge_stderr = false;
  size_t max_output = 64 * 1024;  // per stream; the head is kept
  // Duration::max(): no deadline at all (the program may run for months).
  Duration timeout = std::chrono::seconds(10);
  Duration kill_grace = std::chrono::seconds(1);  // SIGTERM -> SIGKILL
  bool kill_group_on_exit = true;
  // Called on the calling thread once the program runs (before any output),
  // e.g. to forward signals to it. Must not block.
  std::function<void(pid_t)> on_spawn;
  // Called on the calling thread with every chunk read, in read order, before
  // max_output applies; `fd` is STDOUT_FILENO or STDERR_FILENO. Must not
  // block for long: the child's pipes are not read meanwhile.
  std::function<void(int fd, std::string_view data)> on_output;
};

struct ProcessResult {
  pid_t pid = -1;
  std::string out;  // stdout (and stderr when merged), at most max_output bytes
  std::string err;  // stderr
  bool out_truncated = false;
  bool err_truncated = false;
  // Exactly one of: exited normally (exit_code >= 0) or killed by a signal
  // (term_signal > 0).
  int exit_code = -1;
  int term_signal = 0;
  bool timed_out = false;  // the deadline passed and the group was killed
  Duration elapsed{};

  bool exited() const { return exit_code >= 0; }
};

Result<ProcessResult> RunProcess(const ProcessOptions& options);

}  // namespace mamori
