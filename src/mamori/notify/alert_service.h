// AlertService: the daemon's side of alerting. It holds the AlertRouter
// (router.h), ticks it on the daemon's event loop, and hands what the router
// decides to the durable Outbox on a thread of its own, so committing
// notifications (synchronous=FULL) never delays check scheduling. It also
// keeps the router's state in <data_dir>/alerts.db (acknowledgements,
// what each channel was told), polls the outbox's channel health for the
// failing-channel alarm, and answers the acknowledgement API:
//
//   GET    /api/v1/ack                  acknowledged checks (JSON)
//   POST   /api/v1/ack/<check>[?for=2h][&by=who]   acknowledge a failing check
//   DELETE /api/v1/ack/<check>          withdraw the acknowledgement
//
// Like /api/v1/heartbeats: loopback callers only (and no X-Forwarded-For)
// unless api.read_key is set, then only callers sending it as X-Api-Key.
//
// Threading: Configure, Seed, OnEvent, router() and Stop() on the event loop's
// thread; HandleApi on any thread (it posts the work to the event loop). The
// worker thread only talks to the outbox and alerts.db. Failure: a storage or
// outbox error is logged and the notification retried from state at the next
// start (the router decides again what was not recorded as told).
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "mamori/check/check_config.h"
#include "mamori/core/event.h"
#include "mamori/notify/notify_config.h"
#include "mamori/notify/outbox.h"
#include "mamori/notify/router.h"
#include "mamori/util/clock.h"
#include "mamori/util/result.h"
#include "mamori/web/http_server.h"

namespace mamori::notify {

class AlertService {
 public:
  struct Options {
    Duration tick = std::chrono::milliseconds(200);   // router ticks this often
    Duration health_every = std::chrono::seconds(2);  // outbox health polled this often
  };
  // Opens (creating) <data_dir>/alerts.db and starts the worker and the tick
  // timer on `io`. Nothing is sent before Configure.
  static Result<std::unique_ptr<AlertService>> Start(boost::asio::io_context& io,
                                                     const Clock& clock,
                                                     const std::string& data_dir, Options options);
  static Result<std::unique_ptr<AlertService>> Start(boost::asio::io_context& io,
                                                     const Clock& clock,
                                                     const std::string& data_dir) {
    return Start(io, clock, data_dir, Options{});
  }
  ~AlertService();
  AlertService(const AlertService&) = delete;
  AlertService& operator=(const AlertService&) = delete;

  // Start and every reload. `outbox` may be null (no channels): nothing is
  // sent then. The first call also restores the router's saved state.
  void Configure(const NotifyConfig& notify, const std::vector<CheckConfig>& checks,
                 const std::string& read_key, Outbox* outbox);
  // The same from what the router needs of each check, for an owner that
  // keeps its checks elsewhere than in a vector of CheckConfig (the daemon).
  void Configure(const NotifyConfig& notify, std::vector<CheckInfo> checks,
                 const std::string& read_key, Outbox* outbox);
  // The engine's restored hard state of a check (call once per check at start).
  void Seed(const CheckSnapshot& snapshot);
  void OnEvent(const Event& e, const Observation& o,
               const std::vector<ObservationLine>& recent = {});
  // Suppresses sending for a check while it returns true (maintenance).
  void set_in_maintenance(std::function<bool(std::string_view check, WallTime)> f);
  AlertRouter& router();

  static bool IsApiTarget(std::string_view target);
  void HandleApi(web::Request request, web::Respond respond);

  // Saves the router's state, hands everything decided to the outbox and
  // stops the worker. Idempotent; also done by the destructor.
  void Stop();

 private:
  struct Impl;
  explicit AlertService(std::unique_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace mamori::notify
