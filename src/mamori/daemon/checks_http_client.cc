#include "mamori/daemon/checks_http_client.h"

#include <chrono>

namespace mamori {

double HttpChecksPerSecond(const std::vector<CheckConfig>& checks) {
  double rate = 0;
  for (const auto& c : checks)
    if (c.type == "http" && c.interval > Duration::zero())
      rate += 1.0 / std::chrono::duration<double>(c.interval).count();
  return rate;
}

bool HttpOnTheLoop(const std::vector<CheckConfig>& checks) {
  return HttpChecksPerSecond(checks) <= kHttpOnLoopMaxPerSecond;
}

std::unique_ptr<HttpClient> MakeChecksHttpClient(boost::asio::io_context& io,
                                                 const std::vector<CheckConfig>& checks,
                                                 size_t max_concurrent) {
  if (HttpOnTheLoop(checks)) return MakeHttpClientOn(io, max_concurrent);
  return MakeHttpClient(max_concurrent);
}

}  // namespace mamori
