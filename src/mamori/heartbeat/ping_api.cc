#include "mamori/heartbeat/ping_api.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <nlohmann/json.hpp>

#include "mamori/web/local_caller.h"

namespace mamori::heartbeat {
namespace {

constexpr size_t kMaxBuckets = 100'000;  // distinct sources remembered for rate limiting

web::Response Text(int status, std::string body) {
  web::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

PingApi::PingApi(Store& store, HeartbeatBook& book, const Clock& clock, Options options)
    : store_(store), book_(book), clock_(clock), options_(std::move(options)) {}

std::string PingApi::SourceOf(const web::Request& r) const {
  auto trusted = [&](const boost::asio::ip::address& a) REQUIRES(mu_) {
    for (const auto& t : options_.trusted_proxies)
      if (t == a) return true;
    return false;
  };
  if (r.forwarded_for.empty() || !trusted(r.peer)) return r.peer.to_string();
  // Walk from the right: the last hop was added by our proxy; the first
  // address not belonging to a trusted proxy is the client.
  std::string_view xff = r.forwarded_for;
  std::string client = r.peer.to_string();
  while (!xff.empty()) {
    size_t comma = xff.rfind(',');
    std::string item = Trim(comma == std::string_view::npos ? xff : xff.substr(comma + 1));
    xff = comma == std::string_view::npos ? std::string_view() : xff.substr(0, comma);
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address(item, ec);
    if (ec) break;  // garbage: stop at the last address we could trust
    client = a.to_string();
    if (!trusted(a)) break;
  }
  return client;
}

bool PingApi::Allow(const std::string& source) {
  if (options_.rate_limit <= 0) return true;
  const MonoTime now = clock_.Monotonic();
  const double burst = options_.rate_limit * 2;
  auto it = buckets_.find(source);
  if (it == buckets_.end()) {
    if (buckets_.size() >= kMaxBuckets) buckets_.clear();  // crude but bounded; all refill to full
    it = buckets_.emplace(source, Bucket{burst, now}).first;
  }
  Bucket& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(burst, b.tokens + elapsed * options_.rate_limit);
  b.last = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

const std::string* PingApi::RouteLocked(const web::Request& req, PingTarget& t,
                                        web::Response& refusal) const {
  if (req.method != "GET" && req.method != "POST" && req.method != "HEAD") {
    refusal = Text(405, "use GET, POST or HEAD\n");
    refusal.headers.emplace_back("Allow", "GET, POST, HEAD");
    return nullptr;
  }
  auto parsed = ParsePingTarget(req.target);
  if (!parsed.ok()) {
    refusal = Text(400, parsed.error().message() + "\n");
    return nullptr;
  }
  t = std::move(parsed).value();
  const std::string* check = nullptr;
  if (!t.uuid.empty()) {
    auto it = routes_.by_uuid.find(t.uuid);
    if (it != routes_.by_uuid.end()) check = &it->second;
  } else if (!options_.ping_key.empty() && t.key == options_.ping_key) {
    auto it = routes_.by_slug.find(t.slug);
    if (it != routes_.by_slug.end()) check = &it->second;
  }
  if (!check) refusal = Text(404, "not found\n");
  return check;
}

web::Admission PingApi::Admit(const web::Request& head) {
  web::Admission a;
  a.max_body_bytes = kSmallBody;
  if (!IsPingTarget(head.target)) return a;
  MutexLock lock(mu_);
  PingTarget t;
  web::Response refusal;
  if (!RouteLocked(head, t, refusal)) {
    a.answer = std::move(refusal);
    return a;
  }
  // Bodies past max_body are cut, not refused (as healthchecks.io does), up
  // to this much; beyond it the client gets 413 before sending it all.
  a.max_body_bytes = std::max<size_t>(options_.max_body * 4, 1 << 20);
  return a;
}

void PingApi::Handle(web::Request req, web::Respond respond) {
  MutexLock lock(mu_);
  const std::string_view target = req.target;
  if (target == "/ip" || target.substr(0, 4) == "/ip?") {
    std::string ip = SourceOf(req);
    lock.Unlock();
    respond(Text(200, ip + "\n"));
    return;
  }
  if (target == "/api/v1/heartbeats") {
    // The client's address after trusted-proxy handling: a proxy on this host
    // must not make every remote caller "loopback".
    boost::system::error_code ec;
    const auto client = boost::asio::ip::make_address(SourceOf(req), ec);
    const bool allowed = options_.read_key.empty()
                             ? (!ec && client.is_loopback() && web::IsLocalCaller(req))
                             : req.api_key == options_.read_key;
    if (!allowed) {
      // Read under the lock: a reload may replace options_ meanwhile.
      const bool keyless = options_.read_key.empty();
      lock.Unlock();
      respond(Text(403, keyless ? "only for loopback callers unless api.read_key is set\n"
                                : "send api.read_key as X-Api-Key\n"));
      return;
    }
    std::vector<std::string> names;
    for (const auto& [k, v] : routes_.by_uuid) names.push_back(v);
    for (const auto& [k, v] : routes_.by_slug) names.push_back(v);
    lock.Unlock();
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    respond(History(names));
    return;
  }
  if (!IsPingTarget(target)) {
    respond(Text(404, "not found\n"));
    return;
  }
  PingTarget t;
  web::Response refusal;
  const std::string* check = RouteLocked(req, t, refusal);
  if (!check) {
    respond(std::move(refusal));
    return;
  }
  const std::string source = SourceOf(req);
  if (!Allow(source)) {
    web::Response r = Text(429, "too many pings from this address; slow down\n");
    r.headers.emplace_back("Retry-After", "1");
    respond(std::move(r));
    return;
  }

  Ping p;
  p.check = *check;
  p.time = clock_.Now();
  p.kind = t.kind;
  p.exit_code = t.exit_code;
  p.rid = t.rid;
  p.source = source;
  p.user_agent = std::move(req.user_agent);
  p.body = std::move(req.body);
  if (p.body.size() > options_.max_body) {
    p.body.resize(options_.max_body);
    p.body_truncated = true;
  }
  const std::string limit = std::to_string(options_.max_body);
  auto on_ping = on_ping_;
  lock.Unlock();
  book_.FillDuration(p);
  auto acknowledged = acknowledged_;
  HeartbeatBook* book = &book_;
  store_.RecordPing(
      p, [p, respond = std::move(respond), limit, on_ping, acknowledged, book](Status s) {
        if (!s.ok()) {
          spdlog::error("ping for {} not stored: {}", p.check, s.error().message());
          web::Response r = Text(503, "could not store the ping; retry\n");
          r.headers.emplace_back("Retry-After", "1");
          respond(std::move(r));
          return;
        }
        const std::string previous_source = book->Add(p);
        web::Response r = Text(200, "OK");
        r.headers.emplace_back("Ping-Body-Limit", limit);
        acknowledged->fetch_add(1);
        respond(std::move(r));
        if (on_ping) on_ping(p, previous_source);
      });
}

web::Response PingApi::History(const std::vector<std::string>& checks) const {
  constexpr size_t kTail = 1024;
  auto when = [](WallTime t) {
    const auto secs =
        std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
    const std::time_t tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  };
  auto ping_json = [&](const Ping& p) {
    nlohmann::json j = {
        {"time", when(p.time)}, {"kind", PingKindName(p.kind)}, {"source", p.source}};
    if (p.exit_code >= 0) j["exit_code"] = p.exit_code;
    if (p.duration) j["duration_s"] = std::chrono::duration<double>(*p.duration).count();
    if (!p.user_agent.empty()) j["user_agent"] = p.user_agent;
    if (!p.body.empty()) {
      std::string tail = p.body.size() > kTail ? p.body.substr(p.body.size() - kTail) : p.body;
      j["output_tail"] = tail;
    }
    return j;
  };
  nlohmann::json out = nlohmann::json::array();
  for (const auto& name : checks) {
    nlohmann::json j = {{"name", name}};
    if (auto r = book_.Get(name)) {
      if (r->first_seen != WallTime{}) j["watching_since"] = when(r->first_seen);
      if (r->last_ping) j["last_ping"] = ping_json(*r->last_ping);
      if (r->last_end) j["last_run"] = ping_json(*r->last_end);
      if (r->last_success) j["last_success"] = ping_json(*r->last_success);
      if (!r->open_runs.empty()) j["running_since"] = when(r->open_runs.begin()->second);
    }
    out.push_back(std::move(j));
  }
  web::Response r;
  r.content_type = "application/json";
  // Invalid UTF-8 in job output is replaced, not a reason to fail the answer.
  r.body = out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return r;
}

}  // namespace mamori::heartbeat
