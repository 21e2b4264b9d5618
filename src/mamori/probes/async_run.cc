#include "mamori/probes/async_run.h"

#include <fmt/format.h>

#include <utility>

#include "mamori/util/units.h"

namespace mamori::probes {

AsyncRun::AsyncRun(boost::asio::io_context& io, ProbeDone done)
    : strand_(boost::asio::make_strand(io)), deadline_timer_(strand_), done_(std::move(done)) {}

void AsyncRun::ArmDeadline(SteadyTime deadline, Duration budget,
                           std::function<void()> on_deadline) {
  start_ = std::chrono::steady_clock::now();
  // Shown in summaries: the runner's deadline minus the few microseconds
  // spent before Start(), so "timed out after 300ms" matches the config.
  budget_ = std::chrono::round<std::chrono::milliseconds>(budget);
  deadline_timer_.expires_at(deadline);
  deadline_timer_.async_wait(
      [this, f = std::move(on_deadline)](const boost::system::error_code& ec) {
        if (!ec && !finished_) f();
      });
}

void AsyncRun::Complete(Observation o) {
  finished_ = true;
  deadline_timer_.cancel();
  ProbeDone done = std::move(done_);
  done(std::move(o));
}

CheckStatus JudgeLatency(Duration took, const std::optional<Duration>& max,
                         const std::optional<Duration>& critical, std::string& summary) {
  if (critical && took > *critical) {
    summary = fmt::format("slow: {} (critical above {}); {}", FormatDuration(took),
                          FormatDuration(*critical), summary);
    return CheckStatus::kCritical;
  }
  if (max && took > *max) {
    summary = fmt::format("slow: {} (warning above {}); {}", FormatDuration(took),
                          FormatDuration(*max), summary);
    return CheckStatus::kWarning;
  }
  return CheckStatus::kOk;
}

double Millis(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace mamori::probes
