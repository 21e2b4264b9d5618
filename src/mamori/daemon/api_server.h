// ApiServer: the daemon's HTTP face behind `listen:` (the ping API, the
// acknowledgement API), on an event loop and threads of its own so a burst of
// requests never delays check scheduling. Also the small translations from
// the configuration to what the ping API needs.
//
// Ownership: Start returns the sole owner; destroying it stops accepting and
// answering and joins its threads (pings being committed are still stored:
// the store owns them). Threading: Start and the destructor on one thread; the
// handler runs on the server's threads.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "mamori/daemon/config_file.h"
#include "mamori/heartbeat/heartbeat_book.h"
#include "mamori/heartbeat/ping_api.h"
#include "mamori/util/result.h"
#include "mamori/web/http_server.h"

namespace mamori {

class ApiServer {
 public:
  static Result<std::unique_ptr<ApiServer>> Start(const std::string& listen, web::Limits limits,
                                                  web::Admit admit, web::Handler handler,
                                                  size_t threads);
  ~ApiServer();
  // Stops answering and joins the server's threads; the event loop itself
  // stays until destruction, so an answer handed to it after this (a ping
  // the store commits later) is dropped with it instead of reaching freed
  // memory. Idempotent; the destructor calls it.
  void Halt();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  const std::string& listen() const { return listen_; }

 private:
  ApiServer() = default;
  std::string listen_;
  boost::asio::io_context io_;
  std::unique_ptr<web::HttpServer> server_;
  std::vector<std::thread> threads_;
};

// The ping API's options from `api:`.
heartbeat::PingApi::Options PingApiOptions(const ApiConfig& api);
// uuid/slug -> check, from the routes the heartbeat probes filed.
heartbeat::PingApi::Routes PingRoutes(const heartbeat::HeartbeatBook& book);
// The ping API's address as a client on this machine reaches it
// ("0.0.0.0:8470" -> "127.0.0.1:8470").
std::string LoopbackFor(const std::string& listen);

}  // namespace mamori
