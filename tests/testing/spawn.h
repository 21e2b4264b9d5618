// Starting the servers tests run (nginx, chronyd, dnsmasq, PostgreSQL,
// MariaDB, the notify receivers) so that none of them outlives its test, also
// when the test fails or the test process is killed:
//   - each server leads a process group of its own, so stopping it stops
//     whatever it started (nginx workers, postgres backends);
//   - it gets PR_SET_PDEATHSIG(SIGKILL). That fires when the *thread* that
//     forked exits, so every fork happens on one thread that lives as long as
//     the test process, never on the fixture's (possibly short-lived) thread;
//   - a reaper process, forked once per test process, holds the read end of a
//     pipe and a list of the live servers' groups. When the test process dies
//     the pipe reaches end of file and the reaper SIGKILLs every group still
//     listed (PDEATHSIG kills only the group leader);
//   - the server's environment carries MAMORI_TEST_CHILD (the value CTest set
//     for the test, or "1"), which the suite's last test looks for
//     (tests/testing/leftover_processes.sh).
//
// Ownership: the caller owns the pid and stops it with StopProcess
// (testing/ports.h), or notices an early exit with ServerExited; both take it
// off the reaper's list before the pid can be reused. Threading: all
// functions are thread-safe. Failure: SpawnServer returns -1 with errno set.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace mamori::testing {

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] is an absolute path (no PATH lookup)
  std::string output;             // stdout and stderr appended here; empty: /dev/null
  std::vector<std::string> env;   // extra "NAME=value" entries
  std::optional<uid_t> uid;       // run as this user (and gid), e.g. postgres
  gid_t gid = 0;
};

pid_t SpawnServer(const SpawnSpec& spec);

// True (and `pid` set to -1, the process reaped, its group killed) when the
// server has exited; false while it runs. `status` gets the wait status
// (0 when someone else reaped it).
bool ServerExited(pid_t& pid, int* status = nullptr);

// Takes a group off the reaper's list. For StopProcess and ServerExited,
// which call it while the leader is still an unreaped zombie.
void ForgetServer(pid_t pgid);

// libfaketime, preloaded into a server, creates /dev/shm/faketime_shm_PID and
// sem.faketime_sem_PID and removes them only on a clean exit; this removes
// them for a server that was killed. The reaper does the same for every
// group it kills.
void RemoveFaketimeFiles(pid_t pid);

// The path of libfaketime.so.1 (Debian package libfaketime), or "" if it is
// not installed.
std::string FaketimeLibrary();

}  // namespace mamori::testing
