#include "mamori/notify/alert_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "mamori/notify/stored_acks.h"
#include "mamori/store/sqlite.h"
#include "mamori/util/mutex.h"
#include "mamori/util/units.h"
#include "mamori/web/local_caller.h"

namespace mamori::notify {

namespace asio = boost::asio;
using sqlite::Db;
using sqlite::Transaction;

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS alert_state (
  check_name TEXT PRIMARY KEY,
  state      TEXT NOT NULL,
  updated_ms INTEGER NOT NULL
);
)sql";
// Every acknowledgement and withdrawal, kept for reports (alert_state holds
// only the one in force, and forgets it at recovery). Trimmed to kMaxAckLog.
constexpr const char* kAckLog = R"sql(
CREATE TABLE ack_log (
  n          INTEGER PRIMARY KEY AUTOINCREMENT,
  check_name TEXT NOT NULL,
  at_ms      INTEGER NOT NULL,
  by         TEXT NOT NULL,
  until_ms   INTEGER,
  withdrawn  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ack_log_at ON ack_log (at_ms);
)sql";
constexpr int64_t kMaxAckLog = 10000;
// One step per schema version (sqlite::OpenVersioned). Releases before
// versioning created alert_state without a user_version.
constexpr std::string_view kMigrations[] = {kSchema, kAckLog};

constexpr std::string_view kApiPrefix = "/api/v1/ack";
constexpr size_t kMaxBy = 100;
constexpr size_t kRowsPerTick = 300;

web::Response Json(int status, const nlohmann::json& j) {
  web::Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return r;
}

web::Response Problem(int status, const std::string& message) {
  return Json(status, {{"error", message}});
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

// Printable ASCII only, bounded: it ends up in logs and notifications.
std::string Sanitize(std::string s) {
  std::string out;
  for (char c : s)
    if (c >= 0x20 && c < 0x7f && out.size() < kMaxBy) out.push_back(c);
  return out;
}

nlohmann::json AckJson(const AckView& a) {
  nlohmann::json j = {{"check", a.check}, {"by", a.by}, {"at", Rfc3339(a.at)}};
  j["until"] = a.until ? nlohmann::json(Rfc3339(*a.until)) : nlohmann::json(nullptr);
  return j;
}

}  // namespace

struct AlertService::Impl : std::enable_shared_from_this<AlertService::Impl> {
  asio::io_context& io;
  const Clock& clock;
  Options options;
  AlertRouter router;
  asio::steady_timer timer;
  std::string db_path;
  bool configured = false;
  bool stopped = false;                                         // event-loop side
  std::vector<std::pair<std::string, std::string>> saved_rows;  // read at Start

  Mutex api_mu;  // the ack API's threads read read_key, Configure writes it
  std::string read_key GUARDED_BY(api_mu);

  struct Job {
    Decisions decisions;  // turned into notifications on the worker
    std::vector<std::pair<std::string, std::string>> rows;
    std::vector<AckRecord> acks;  // for ack_log
  };
  Mutex mu;  // the hand-over from the event loop to the worker: jobs, outbox, stop
  CondVar cv;
  std::deque<Job> jobs GUARDED_BY(mu);
  Outbox* outbox GUARDED_BY(mu) = nullptr;
  bool stop GUARDED_BY(mu) = false;
  std::thread worker;  // started by Start, joined by Stop (event-loop side)
  Db db;               // OpenDb fills it before the worker starts; then worker thread only

  Impl(asio::io_context& i, const Clock& c, Options o)
      : io(i), clock(c), options(o), router(c), timer(i) {}

  Status OpenDb(const std::string& data_dir) {
    std::error_code ec;
    std::filesystem::create_directories(data_dir, ec);
    if (ec) return Error(fmt::format("cannot create {}: {}", data_dir, ec.message()));
    db_path = (std::filesystem::path(data_dir) / "alerts.db").string();
    sqlite::VersionedOptions vo;
    // NORMAL in WAL mode: a power cut may lose the last few state rows, and
    // then at most an alert is sent again; the outbox itself is FULL.
    vo.settings = "PRAGMA synchronous = NORMAL";
    vo.unversioned_tables = {"alert_state"};
    auto d = sqlite::OpenVersioned(db_path, kMigrations, vo);
    if (!d.ok()) return d.error();
    db = std::move(*d);
    auto st = db.Prepare("SELECT check_name, state FROM alert_state");
    if (!st.ok()) return st.error();
    while (true) {
      auto row = st->Step();
      if (!row.ok()) return row.error();
      if (!*row) break;
      saved_rows.emplace_back(st->ColumnText(0), st->ColumnText(1));
    }
    return Status::Ok();
  }

  Status SaveRows(const std::vector<std::pair<std::string, std::string>>& rows) {
    if (rows.empty()) return Status::Ok();
    auto tx = Transaction::Begin(db);
    if (!tx.ok()) return tx.error();
    auto up = db.Prepare(
        "INSERT INTO alert_state (check_name, state, updated_ms) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (check_name) DO UPDATE SET state = excluded.state, updated_ms = "
        "excluded.updated_ms");
    if (!up.ok()) return up.error();
    auto del = db.Prepare("DELETE FROM alert_state WHERE check_name = ?1");
    if (!del.ok()) return del.error();
    const int64_t now = ToUnixMillis(clock.Now());
    for (const auto& [name, state] : rows) {
      Status s = state.empty() ? del->Bind(1, name).Run()
                               : up->Bind(1, name).Bind(2, state).Bind(3, now).Run();
      if (!s.ok()) return s;
    }
    return tx->Commit();
  }

  Status SaveAcks(const std::vector<AckRecord>& acks) {
    if (acks.empty()) return Status::Ok();
    auto tx = Transaction::Begin(db);
    if (!tx.ok()) return tx.error();
    auto ins = db.Prepare(
        "INSERT INTO ack_log (check_name, at_ms, by, until_ms, withdrawn) VALUES (?1, ?2, ?3, ?4, "
        "?5)");
    if (!ins.ok()) return ins.error();
    for (const auto& a : acks) {
      ins->Bind(1, a.check).Bind(2, ToUnixMillis(a.at)).Bind(3, a.by).Bind(5, a.withdrawn ? 1 : 0);
      if (a.until)
        ins->Bind(4, ToUnixMillis(*a.until));
      else
        ins->BindNull(4);
      if (Status s = ins->Run(); !s.ok()) return s;
    }
    auto trim = db.Prepare("DELETE FROM ack_log WHERE n <= (SELECT max(n) FROM ack_log) - ?1");
    if (!trim.ok()) return trim.error();
    if (Status s = trim->Bind(1, kMaxAckLog).Run(); !s.ok()) return s;
    return tx->Commit();
  }

  void Work() {
    MonoTime next_health = clock.Monotonic();
    while (true) {
      std::deque<Job> batch;
      Outbox* ob = nullptr;
      bool poll_health = false;
      {
        MutexLock lock(mu);
        cv.wait_for(lock, options.health_every,
                    [&]() REQUIRES(mu) { return stop || !jobs.empty(); });
        batch.swap(jobs);
        ob = outbox;
        if (batch.empty() && stop) return;
        poll_health = !stop && clock.Monotonic() >= next_health;
      }
      for (auto& job : batch) {
        size_t items = 0, sent = 0;
        const std::vector<Outgoing> out = BuildNotifications(std::move(job.decisions));
        for (const auto& o : out) {
          items += o.notification.items.size();
          if (!ob) continue;
          if (Status s = ob->Enqueue(o.notification, o.channels); !s.ok()) {
            spdlog::error("notification to {} not queued: {}", fmt::join(o.channels, ", "),
                          s.error().message());
            continue;
          }
          ++sent;
          spdlog::info("notify: {} to {}: {}", KindName(o.notification.kind),
                       fmt::join(o.channels, ", "), CapUtf8(Title(o.notification), 200));
        }
        if (out.size() > 1)
          spdlog::info("notify: {} notification(s) with {} item(s) queued", sent, items);
        if (Status s = SaveRows(job.rows); !s.ok())
          spdlog::error("alert state not saved in {}: {}", db_path, s.error().message());
        if (Status s = SaveAcks(job.acks); !s.ok())
          spdlog::error("acknowledgement not logged in {}: {}", db_path, s.error().message());
      }
      if (poll_health && ob) {
        next_health = clock.Monotonic() + options.health_every;
        auto h = ob->Health();
        if (h.ok()) {
          asio::post(io, [weak = weak_from_this(), health = std::move(*h)] {
            if (auto self = weak.lock(); self && !self->stopped)
              self->router.OnChannelHealth(health);
          });
        }
      }
    }
  }

  void Push(Job job) {
    if (job.decisions.empty() && job.rows.empty() && job.acks.empty()) return;
    {
      MutexLock lock(mu);
      jobs.push_back(std::move(job));
    }
    cv.notify_one();
  }

  void LogAck(AckRecord a) {
    Job job;
    job.acks.push_back(std::move(a));
    Push(std::move(job));
  }

  void Tick() {
    if (stopped) return;
    Job job;
    job.decisions = router.Decide();
    // Serialising state is the costly part of a large burst: a slice per
    // tick keeps the event loop free (10,000 rows take a few seconds).
    job.rows = router.TakeDirtyRows(kRowsPerTick);
    Push(std::move(job));
  }

  void Arm() {
    if (stopped) return;
    timer.expires_after(options.tick);
    timer.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->stopped) return;
      self->Tick();
      self->Arm();
    });
  }

  void Stop() {
    if (stopped) return;
    stopped = true;
    timer.cancel();
    Job last;
    last.decisions = router.FinishRound();
    last.rows = router.TakeDirtyRows();
    Push(std::move(last));
    {
      MutexLock lock(mu);
      stop = true;
    }
    cv.notify_one();
    if (worker.joinable()) worker.join();
  }
};

AlertService::AlertService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AlertService::~AlertService() { Stop(); }

Result<std::unique_ptr<AlertService>> AlertService::Start(asio::io_context& io, const Clock& clock,
                                                          const std::string& data_dir,
                                                          Options options) {
  auto impl = std::make_unique<Impl>(io, clock, options);
  if (Status s = impl->OpenDb(data_dir); !s.ok()) return s.error();
  std::unique_ptr<AlertService> svc(new AlertService(std::move(impl)));
  Impl* raw = svc->impl_.get();
  raw->worker = std::thread([raw] { raw->Work(); });
  return svc;
}

void AlertService::Configure(const NotifyConfig& notify,
                             const std::vector<CheckConfig>& config_checks,
                             const std::string& read_key, Outbox* outbox) {
  std::vector<CheckInfo> checks;
  checks.reserve(config_checks.size());
  for (const auto& c : config_checks)
    checks.push_back({c.name, c.type, c.tags, c.notify, c.depends_on});
  Configure(notify, std::move(checks), read_key, outbox);
}

void AlertService::Configure(const NotifyConfig& notify, std::vector<CheckInfo> checks,
                             const std::string& read_key, Outbox* outbox) {
  RouterSetup setup;
  for (const auto& c : notify.channels) setup.channels.push_back(c->name());
  setup.alerts = notify.alerts;
  setup.host = LocalHostName();
  impl_->router.Configure(std::move(setup), std::move(checks));
  if (!impl_->configured) {
    impl_->configured = true;
    impl_->router.Restore(impl_->saved_rows);
    impl_->saved_rows.clear();
    impl_->Arm();
  }
  {
    MutexLock lock(impl_->api_mu);
    impl_->read_key = read_key;
  }
  {
    MutexLock lock(impl_->mu);
    impl_->outbox = outbox;
  }
}

void AlertService::Seed(const CheckSnapshot& s) {
  impl_->router.Seed(s.name, s.hard, s.hard_since, s.summary);
}

void AlertService::OnEvent(const Event& e, const Observation& o,
                           const std::vector<ObservationLine>& recent) {
  impl_->router.OnEvent(e, o, recent);
}

void AlertService::set_in_maintenance(std::function<bool(std::string_view, WallTime)> f) {
  impl_->router.in_maintenance = std::move(f);
}

AlertRouter& AlertService::router() { return impl_->router; }

void AlertService::Stop() { impl_->Stop(); }

bool AlertService::IsApiTarget(std::string_view target) {
  if (target.substr(0, kApiPrefix.size()) != kApiPrefix) return false;
  const std::string_view rest = target.substr(kApiPrefix.size());
  return rest.empty() || rest[0] == '/' || rest[0] == '?';
}

void AlertService::HandleApi(web::Request req, web::Respond respond) {
  {
    MutexLock lock(impl_->api_mu);
    const bool allowed =
        impl_->read_key.empty() ? web::IsLocalCaller(req) : req.api_key == impl_->read_key;
    if (!allowed) {
      respond(Problem(403, impl_->read_key.empty()
                               ? "only for loopback callers unless api.read_key is set"
                               : "send api.read_key as X-Api-Key"));
      return;
    }
  }
  std::string_view target = req.target;
  std::string_view query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    query = target.substr(q + 1);
    target = target.substr(0, q);
  }
  std::string check;
  if (target.size() > kApiPrefix.size() + 1)
    check = PercentDecode(target.substr(kApiPrefix.size() + 1));
  std::optional<Duration> for_;
  std::string by = "api from " + req.peer.to_string();
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = kv.find('=');
    const std::string_view key = kv.substr(0, eq);
    const std::string value = eq == std::string_view::npos ? "" : PercentDecode(kv.substr(eq + 1));
    if (key == "for" && !value.empty()) {
      auto d = ParseDuration(value);
      if (!d.ok() || *d <= Duration(0) || *d > std::chrono::hours(24 * 366)) {
        respond(Problem(400,
                        fmt::format("for={}: {}", Sanitize(value),
                                    d.ok() ? "must be between 1s and 366d" : d.error().message())));
        return;
      }
      for_ = *d;
    } else if (key == "by" && !value.empty()) {
      by = Sanitize(value);
    }
  }
  const std::string method = req.method;
  if (check.empty() && method != "GET") {
    respond(Problem(404, "use /api/v1/ack/<check>"));
    return;
  }
  if (!check.empty() && method != "POST" && method != "DELETE") {
    web::Response r = Problem(405, "use POST to acknowledge, DELETE to withdraw");
    r.headers.emplace_back("Allow", "POST, DELETE");
    respond(std::move(r));
    return;
  }
  asio::post(impl_->io, [weak = std::weak_ptr<Impl>(impl_), check, method, for_, by, respond] {
    auto self = weak.lock();
    if (!self || self->stopped) {
      respond(Problem(503, "mamori is stopping"));
      return;
    }
    AlertRouter& r = self->router;
    if (method == "GET") {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& a : r.Acks()) list.push_back(AckJson(a));
      respond(Json(200, {{"acks", list}}));
      return;
    }
    auto status_for = [&](const std::string& message) {
      return message.rfind("no check named", 0) == 0 ? 404 : 409;
    };
    if (method == "DELETE") {
      if (Status s = r.Unack(check); !s.ok()) {
        respond(Problem(status_for(s.error().message()), s.error().message()));
        return;
      }
      spdlog::info("{}: acknowledgement withdrawn ({})", check, by);
      self->LogAck({check, self->clock.Now(), by, std::nullopt, true});
      respond(Json(200, {{"check", check}, {"acknowledged", false}}));
      return;
    }
    auto a = r.Ack(check, for_, by);
    if (!a.ok()) {
      respond(Problem(status_for(a.error().message()), a.error().message()));
      return;
    }
    spdlog::info("{}: acknowledged by {}{}", check, a->by,
                 a->until ? " until " + FormatWhen(*a->until) : " until it recovers");
    self->LogAck({a->check, a->at, a->by, a->until, false});
    nlohmann::json j = AckJson(*a);
    j["acknowledged"] = true;
    respond(Json(200, j));
  });
}

}  // namespace mamori::notify
