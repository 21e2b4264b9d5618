#include "mamori/check/probe.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace mamori {

void BlockingProbe::Start(ProbeEnv& env, MonoTime deadline, ProbeDone done) {
  Bind(env);
  const Clock* clock = &env.clock;
  boost::asio::post(
      env.pool, [this, clock, deadline, done = std::move(done)]() { done(Run(*clock, deadline)); });
}

}  // namespace mamori
