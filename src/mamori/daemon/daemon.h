// Daemon: `mamori run`. Schedules every check at its interval, runs it through
// the Runner, feeds results to each check's state machine and records
// observations, snapshots and hard state changes in the store.
//
// Signals: SIGHUP reloads the configuration file; a new config with errors is
// logged (every error, FILE:LINE:COL) and the old one keeps running. State of
// checks that survive a reload (same name) is kept. SIGTERM/SIGINT stop
// scheduling, flush the store and exit 0.
//
// Ownership: the daemon owns the event loop, worker pool, HTTP client and
// store. Threading: everything here runs on the event loop's thread (the one
// calling Run()); probes answer from other threads and are marshalled back by
// the Runner.
#pragma once

#include <memory>
#include <string>

#include "mamori/daemon/config_file.h"
#include "mamori/util/clock.h"

namespace mamori {

struct DaemonOptions {
  std::string config_file;                             // empty: the embedded default
  std::string data_dir_override;                       // --data-dir
  std::string listen_override;                         // --listen
  Duration stats_interval = std::chrono::seconds(60);  // scheduler figures in the log
  size_t http_concurrency = 2048;                      // capped by the open-file limit
  size_t api_threads = 2;                              // threads serving the ping API
};

class Daemon {
 public:
  Daemon(DaemonOptions options, const Clock& clock);
  ~Daemon();
  // Loads the config, opens the store and runs until SIGTERM/SIGINT. Returns
  // the process exit code (non-zero if it could not start).
  int Run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mamori
