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
    : env_{clock, io, pool, http}, sweep_(std::make_unique<boost::asio::steady_timer>(io)) {}

Runner::~Runner() = default;

struct Runner::InFlight {
  std::atomic<bool> finished{false};
  std::function<void(Observation)> done;
  MonoTime started;
  WallTime started_wall;
  Duration timeout{};
  std::multimap<MonoTime, std::shared_ptr<InFlight>>::iterator where;
  bool tracked = false;
};

void Runner::Run(std::shared_ptr<Probe> probe, Duration timeout,
                 std::function<void(Observation)> done, std::function<void()> returned) {
  auto st = std::make_shared<InFlight>();
  st->done = std::move(done);
  st->started = env_.clock.Monotonic();
  st->started_wall = env_.clock.Now();
  st->timeout = timeout;
  const MonoTime deadline = st->started + timeout;
  st->where = inflight_.emplace(deadline + kGrace, st);
  st->tracked = true;
  ArmSweep();
  const Clock& clock = env_.clock;
  auto& io = env_.io;

  // The probe may answer on any thread, even before Start returns; hop to the
  // loop so state is only touched there.
  probe->Start(env_, deadline, [this, st, &io, &clock, probe, returned](Observation o) {
    const MonoTime end = clock.Monotonic();
    boost::asio::post(io, [this, st, end, returned, o = std::move(o)]() mutable {
      if (st->finished.exchange(true)) {  // already reported as timed out
        if (returned) returned();
        return;
      }
      if (st->tracked) {
        inflight_.erase(st->where);
        st->tracked = false;
      }
      if (inflight_.empty() && sweep_armed_) sweep_->cancel();  // lets a one-shot io.run() return
      o.time = st->started_wall;
      o.duration = end - st->started;
      st->done(std::move(o));
      if (returned) returned();
    });
  });
}

void Runner::ArmSweep() {
  if (sweep_armed_) return;
  sweep_armed_ = true;
  sweep_->expires_after(kSweep);
  sweep_->async_wait([this](const boost::system::error_code&) {
    sweep_armed_ = false;
    Sweep();
  });
}

void Runner::Sweep() {
  const MonoTime now = env_.clock.Monotonic();
  while (!inflight_.empty() && inflight_.begin()->first <= now) {
    std::shared_ptr<InFlight> st = std::move(inflight_.begin()->second);
    inflight_.erase(inflight_.begin());
    st->tracked = false;
    if (st->finished.exchange(true)) continue;
    Observation o = Observation::Make(
        CheckStatus::kUnknown,
        fmt::format("check did not finish within its timeout ({})", FormatDuration(st->timeout)));
    o.time = st->started_wall;
    o.duration = now - st->started;
    st->done(std::move(o));
  }
  if (!inflight_.empty()) ArmSweep();
}

std::vector<Observation> RunChecksOnce(const std::vector<CheckConfig>& checks,
                                       const std::string& data_dir, const Clock& clock,
                                       HttpClient* http, ProbeServices services) {
  boost::asio::io_context io;
  boost::asio::thread_pool pool(
      std::max(2u, std::min(16u, std::thread::hardware_concurrency() * 2)));
  Runner runner(clock, io, pool, http);
  runner.env().services = std::move(services);
  runner.env().data_dir = data_dir;
  for (const auto& c : checks)
    if (c.probe) c.probe->Attach(runner.env());
  std::vector<Observation> out(checks.size());
  for (size_t i = 0; i < checks.size(); ++i) {
    const auto& c = checks[i];
    runner.Run(c.probe, c.timeout, [&out, i](Observation o) { out[i] = std::move(o); });
  }
  io.run();
  pool.join();
  return out;
}

}  // namespace mamori
