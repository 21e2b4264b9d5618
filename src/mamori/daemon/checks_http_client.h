// The HTTP client the daemon's checks fetch with, chosen once at start from
// the configuration. Up to kHttpOnLoopMaxPerSecond http checks a second it
// runs on the daemon's event loop (MakeHttpClientOn): a check's fetch and its
// completion stay on one thread, which saves two wake-ups and two context
// switches per check (bench/RESULTS.md, "CPU per check"). Above that the
// loop alone would become the bottleneck (one core for scheduling, state and
// every transfer), so the native client keeps its own I/O thread and the
// work is spread over two cores, as before (bench/RESULTS.md, the probe
// benchmark at 10,000 checks).
//
// Ownership: the caller owns the client; a client on the loop must be
// destroyed after the loop has stopped (net/http_client.h). Pure apart from
// making the client; no failure of its own.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "mamori/check/check_config.h"
#include "mamori/net/http_client.h"

namespace mamori {

inline constexpr double kHttpOnLoopMaxPerSecond = 1000;

// http checks a second that `checks` ask for (each one: 1 / its interval).
double HttpChecksPerSecond(const std::vector<CheckConfig>& checks);

// Whether the checks' HTTP goes on the daemon's loop (see above).
bool HttpOnTheLoop(const std::vector<CheckConfig>& checks);

std::unique_ptr<HttpClient> MakeChecksHttpClient(boost::asio::io_context& io,
                                                 const std::vector<CheckConfig>& checks,
                                                 size_t max_concurrent);

}  // namespace mamori
