// ApiConfig: the `listen:` and `api:` keys of the configuration, which the
// HTTP server (its limits) and the services on it (ping API, acknowledgement
// API) read. A plain value; web::ReadServerLimits fills the server's part.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "mamori/util/clock.h"

namespace mamori {

// The daemon's HTTP server (ping API, /ip). Off unless `listen:` is set.
struct ApiConfig {
  std::string listen;                    // "127.0.0.1:8470"; empty = no server
  uint64_t max_body = 100 * 1024;        // ping bodies kept up to this
  double rate_limit = 100;               // pings/s per source address; 0 = off
  std::vector<std::string> trusted_proxies;  // IP addresses whose X-Forwarded-For is believed
  std::string ping_key;                  // enables /ping/<ping_key>/<slug>
  std::string read_key;                  // X-Api-Key for /api/v1/...; empty = loopback only
  // Read by web::ReadServerLimits:
  size_t max_connections = 1024;                         // open connections in all
  size_t max_connections_per_address = 64;               // from one source address
  Duration response_timeout = std::chrono::seconds(10);  // unanswered by then: 503
};

}  // namespace mamori
