#include "mamori/daemon/api_server.h"

#include <boost/asio/ip/address.hpp>

namespace mamori {

Result<std::unique_ptr<ApiServer>> ApiServer::Start(const std::string& listen, web::Limits limits,
                                                    web::Admit admit, web::Handler handler,
                                                    size_t threads) {
  std::unique_ptr<ApiServer> api(new ApiServer());
  auto s = web::HttpServer::Start(api->io_, listen, limits, std::move(admit), std::move(handler));
  if (!s.ok()) return s.error();
  api->server_ = std::move(s.value());
  api->listen_ = listen;
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i)
    api->threads_.emplace_back([raw = api.get()] { raw->io_.run(); });
  return api;
}

void ApiServer::Halt() {
  io_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

ApiServer::~ApiServer() {
  Halt();
  server_.reset();
}

heartbeat::PingApi::Options PingApiOptions(const ApiConfig& api) {
  heartbeat::PingApi::Options o;
  o.max_body = api.max_body;
  o.rate_limit = api.rate_limit;
  o.ping_key = api.ping_key;
  o.read_key = api.read_key;
  for (const auto& ip : api.trusted_proxies) {
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address(ip, ec);
    if (!ec) o.trusted_proxies.push_back(a);
  }
  return o;
}

heartbeat::PingApi::Routes PingRoutes(const heartbeat::HeartbeatBook& book) {
  heartbeat::PingApi::Routes r;
  for (const auto& route : book.Routes()) {
    if (!route.uuid.empty()) r.by_uuid[route.uuid] = route.check;
    if (!route.slug.empty()) r.by_slug[route.slug] = route.check;
  }
  return r;
}

std::string LoopbackFor(const std::string& listen) {
  if (listen.rfind("0.0.0.0:", 0) == 0) return "127.0.0.1:" + listen.substr(8);
  if (listen.rfind("[::]:", 0) == 0) return "[::1]:" + listen.substr(5);
  return listen;
}

}  // namespace mamori
