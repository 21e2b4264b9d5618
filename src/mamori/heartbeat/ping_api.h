// PingApi: the heartbeat endpoints of the daemon's HTTP server.
//
//   GET|POST|HEAD /ping/<uuid>[/start|/fail|/log|/<code>][?rid=<uuid>]
//   GET|POST|HEAD /ping/<key>/<slug>[/...]
//   GET /ip          the caller's address as mamori sees it
//   GET /api/v1/heartbeats   last ping, last success, duration, exit code and
//                    output tail per heartbeat (JSON); only for loopback
//                    callers unless Options::read_key is set, then for callers
//                    sending it as X-Api-Key (job output can hold secrets)
//
// A ping is answered 200 only after it is committed to the store, so an
// acknowledged ping survives a crash of the daemon; if the commit fails the
// client gets 503 and retries. Unknown ids get 404 and malformed ones 400,
// without touching the disk. Each source address has a token bucket
// (Options::rate_limit per second, bursts of twice that; 429 beyond). The
// body (job output) is kept up to Options::max_body bytes, announced in the
// Ping-Body-Limit response header as healthchecks.io does. The source address
// is the peer's, or, when the peer is a trusted proxy, the right-most
// untrusted address in X-Forwarded-For.
//
// Threading: every method may be called from any thread (Handle() runs on
// the server's threads, SetRoutes() on the daemon's); one mutex guards the
// routes, options, `on_ping` and rate-limit buckets. Commit callbacks arrive on the
// store's writer thread; they update the (thread-safe) HeartbeatBook, answer
// through the server's thread-safe respond function, and call `on_ping`
// (which must be thread-safe too).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mamori/heartbeat/heartbeat_book.h"
#include "mamori/store/store.h"
#include "mamori/util/mutex.h"
#include "mamori/web/http_server.h"

namespace mamori::heartbeat {

class PingApi {
 public:
  struct Options {
    size_t max_body = 100 * 1024;
    double rate_limit = 100;  // pings per second per source; 0 = unlimited
    std::vector<boost::asio::ip::address> trusted_proxies;
    std::string ping_key;  // for /ping/<key>/<slug>; empty = slug URLs are off
    std::string read_key;  // for /api/v1/...; empty = loopback callers only
  };
  // check name by lower-case uuid, and by slug
  struct Routes {
    std::unordered_map<std::string, std::string> by_uuid, by_slug;
  };

  PingApi(Store& store, HeartbeatBook& book, const Clock& clock, Options options);

  void SetRoutes(Routes routes) {
    MutexLock lock(mu_);
    routes_ = std::move(routes);
  }
  void set_options(Options options) {
    MutexLock lock(mu_);
    options_ = std::move(options);
  }
  // Called after a ping is committed (any thread), with the source address of
  // the check's previous ping ("" if none).
  using OnPing = std::function<void(const Ping&, const std::string& previous_source)>;
  void set_on_ping(OnPing f) {
    MutexLock lock(mu_);
    on_ping_ = std::move(f);
  }

  // A /ping/ URL (the routes Admit and Handle own besides /ip and the history).
  static bool IsPingTarget(std::string_view target) { return target.substr(0, 6) == "/ping/"; }

  void Handle(web::Request request, web::Respond respond);
  // Decides from a request's head, before its body is read: a ping to an
  // unknown check, a malformed ping URL or a wrong method is answered at once;
  // a ping's body is read up to 4 x max_body (at least 1 MiB; past max_body
  // it is cut); other routes take no more than kSmallBody.
  web::Admission Admit(const web::Request& head);
  static constexpr size_t kSmallBody = 16 * 1024;

  // Pings answered 200 since start (for stats and tests).
  uint64_t acknowledged() const { return acknowledged_->load(); }

 private:
  web::Response History(const std::vector<std::string>& checks) const;
  std::string SourceOf(const web::Request& r) const REQUIRES(mu_);
  bool Allow(const std::string& source) REQUIRES(mu_);
  // The check a /ping/ request is for, or nullptr with `refusal` set
  // (405, 400 or 404). `target` receives the parsed URL.
  const std::string* RouteLocked(const web::Request& r, PingTarget& target,
                                 web::Response& refusal) const REQUIRES(mu_);

  Store& store_;
  HeartbeatBook& book_;
  const Clock& clock_;
  Mutex mu_;
  Options options_ GUARDED_BY(mu_);
  Routes routes_ GUARDED_BY(mu_);
  OnPing on_ping_ GUARDED_BY(mu_);
  struct Bucket {
    double tokens = 0;
    MonoTime last{};
  };
  std::unordered_map<std::string, Bucket> buckets_ GUARDED_BY(mu_);
  std::shared_ptr<std::atomic<uint64_t>> acknowledged_ = std::make_shared<std::atomic<uint64_t>>(0);
};

}  // namespace mamori::heartbeat
