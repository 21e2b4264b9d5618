#include "mamori/engine/runner.h"

#include <fmt/format.h>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <thread>

#include "mamori/util/units.h"

namespace mamori {

Runner::Runner(const Clock& clock, boost::asio::io_context& io, boost::asio::thread_pool& pool,
               HttpClient* http)
    : env_{clock, io, pool, http, nullptr} {}

namespace {
struct RunState {
  std::atomic<bool> finished{false};
  std::function<void(Observation)> done;
  MonoTime started;
  WallTime started_wall;
  std::unique_ptr<boost::asio::steady_timer> timer;
};
}  // namespace

void Runner::Run(std::shared_ptr<Probe> probe, Duration timeout,
                 std::function<void(Observation)> done) {
  auto st = std::make_shared<RunState>();
  st->done = std::move(done);
  st->started = env_.clock.Monotonic();
  st->started_wall = env_.clock.Now();
  const MonoTime deadline = st->started + timeout;
  const Clock& clock = env_.clock;
  auto& io = env_.io;

  st->timer = std::make_unique<boost::asio::steady_timer>(io);
  st->timer->expires_after(timeout + kGrace);
  st->timer->async_wait([st, timeout, &clock](const boost::system::error_code& ec) {
    if (ec || st->finished.exchange(true)) return;
    Observation o = Observation::Make(
        CheckStatus::kUnknown,
        fmt::format("check did not finish within its timeout ({})", FormatDuration(timeout)));
    o.time = st->started_wall;
    o.duration = clock.Monotonic() - st->started;
    st->done(std::move(o));
  });

  // The probe may answer on any thread, even before Start returns; hop to the
  // loop so state is only touched there.
  probe->Start(env_, deadline, [st, &io, &clock, probe](Observation o) {
    const MonoTime end = clock.Monotonic();
    boost::asio::post(io, [st, end, o = std::move(o)]() mutable {
      if (st->finished.exchange(true)) return;  // already reported as timed out
      st->timer->cancel();
      o.time = st->started_wall;
      o.duration = end - st->started;
      st->done(std::move(o));
    });
  });
}

std::vector<Observation> RunChecksOnce(const Config& config, const Clock& clock, HttpClient* http,
                                       heartbeat::HeartbeatBook* heartbeats) {
  boost::asio::io_context io;
  boost::asio::thread_pool pool(
      std::max(2u, std::min(16u, std::thread::hardware_concurrency() * 2)));
  Runner runner(clock, io, pool, http);
  runner.env().heartbeats = heartbeats;
  std::vector<Observation> out(config.checks.size());
  for (size_t i = 0; i < config.checks.size(); ++i) {
    const auto& c = config.checks[i];
    runner.Run(c.probe, c.timeout, [&out, i](Observation o) { out[i] = std::move(o); });
  }
  io.run();
  pool.join();
  return out;
}

}  // namespace mamori
