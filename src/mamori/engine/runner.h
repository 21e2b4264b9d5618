// Runner: starts probes with a deadline and delivers exactly one Observation
// per run, on the event loop's thread, with time and duration filled in.
//
// The runner enforces timeouts itself as a backstop: a probe should honour its
// deadline, but if it has not answered `kGrace` after it, the run is reported
// UNKNOWN ("did not finish within 10s") and a late answer is dropped. So one
// misbehaving probe can never stall scheduling. One timer sweeps every
// in-flight run (every kSweep) instead of one timer per run: arming and
// cancelling a timer per check was a measurable share of a busy daemon's CPU.
//
// Ownership: the runner borrows the io_context, pool and HTTP client; they must
// outlive every run. Threading: Run() must be called on the io_context's
// thread; callbacks arrive there too.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>

#include "mamori/check/check_config.h"
#include "mamori/check/probe.h"

namespace mamori {

class Runner {
 public:
  static constexpr Duration kGrace = std::chrono::seconds(1);
  static constexpr Duration kSweep = std::chrono::milliseconds(100);

  Runner(const Clock& clock, boost::asio::io_context& io, boost::asio::thread_pool& pool,
         HttpClient* http);
  ~Runner();

  // `done` gets the observation, or UNKNOWN "did not finish" at the deadline
  // plus kGrace. `returned` (optional) runs when the probe really answers,
  // even after it was reported as timed out: until then the probe is still
  // running and must not be started again.
  void Run(std::shared_ptr<Probe> probe, Duration timeout, std::function<void(Observation)> done,
           std::function<void()> returned = {});

  ProbeEnv& env() { return env_; }

 private:
  struct InFlight;
  void ArmSweep();
  void Sweep();

  ProbeEnv env_;
  // Runs in flight by backstop deadline; io thread only.
  std::multimap<MonoTime, std::shared_ptr<InFlight>> inflight_;
  std::unique_ptr<boost::asio::steady_timer> sweep_;
  bool sweep_armed_ = false;
};

// Runs every check of `config` once, concurrently, and returns the
// observations in config order. Owns its own event loop and worker pool; `http`
// (may be null if no check uses HTTP) is borrowed. Used by `mamori check` and
// `mamori doctor`.
std::vector<Observation> RunChecksOnce(const std::vector<CheckConfig>& checks,
                                       const std::string& data_dir, const Clock& clock,
                                       HttpClient* http, ProbeServices services = {});

}  // namespace mamori
