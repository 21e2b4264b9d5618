// AsyncRun: the skeleton shared by the network probes that run as asio
// operations (tcp, dns): one run lives on a strand of the env's io_context,
// arms its own deadline timer (so it never relies on the runner's backstop),
// and ends exactly once, cancelling the deadline and handing its observation
// to the runner. StartOnStrand() is the matching Probe::Start(); JudgeLatency()
// the shared "slow: ..." verdict of max_latency / critical_latency.
//
// Ownership: a run derives from AsyncRun and from
// std::enable_shared_from_this; every pending handler holds a shared_ptr to it,
// so it lives until the last one has run. Threading: everything but the
// constructor and strand() runs on the strand. Failure: none of its own; the
// deriving run turns errors into observations.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "mamori/check/probe.h"

namespace mamori::probes {

class AsyncRun {
 public:
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
  using SteadyTime = std::chrono::steady_clock::time_point;

  AsyncRun(boost::asio::io_context& io, ProbeDone done);
  AsyncRun(const AsyncRun&) = delete;
  AsyncRun& operator=(const AsyncRun&) = delete;

  Strand& strand() { return strand_; }

 protected:
  ~AsyncRun() = default;

  // Starts the clock and arms the deadline: at `deadline`, unless the run has
  // finished, `on_deadline` runs on the strand (it should hold the run alive).
  // `budget` is what summaries show ("timed out after 300ms"), rounded to ms.
  void ArmDeadline(SteadyTime deadline, Duration budget, std::function<void()> on_deadline);
  // Ends the run: cancels the deadline and hands `o` to the runner. Call once,
  // after closing whatever the run still has open.
  void Complete(Observation o);

  bool finished() const { return finished_; }
  SteadyTime start() const { return start_; }
  Duration budget() const { return budget_; }
  Duration Elapsed() const { return std::chrono::steady_clock::now() - start_; }

  Strand strand_;  // first: the run's sockets and timers are made on it

 private:
  boost::asio::steady_timer deadline_timer_;
  ProbeDone done_;
  bool finished_ = false;
  SteadyTime start_{};
  Duration budget_{};
};

// Probe::Start() of an AsyncRun probe: turns the runner's deadline into a
// steady deadline and a budget (at least 1 ms) and calls
// run->Begin(deadline, budget) on the run's strand (Start() may be called
// from any thread; everything else happens on the strand).
template <typename Run>
void StartOnStrand(ProbeEnv& env, MonoTime deadline, std::shared_ptr<Run> run) {
  const Duration budget =
      std::max<Duration>(std::chrono::milliseconds(1), deadline - env.clock.Monotonic());
  const AsyncRun::SteadyTime steady_deadline = std::chrono::steady_clock::now() + budget;
  auto& strand = run->strand();
  boost::asio::post(strand, [run = std::move(run), steady_deadline, budget] {
    run->Begin(steady_deadline, budget);
  });
}

// The latency verdict: when `took` is above `critical` (or else `max`),
// prefixes `summary` with "slow: 2.1s (critical above 2s); " and returns
// kCritical (kWarning); otherwise returns kOk and leaves `summary` alone.
CheckStatus JudgeLatency(Duration took, const std::optional<Duration>& max,
                         const std::optional<Duration>& critical, std::string& summary);

// A duration in milliseconds, for metrics.
double Millis(Duration d);

}  // namespace mamori::probes
