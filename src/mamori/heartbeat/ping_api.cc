#include "mamori/heartbeat/ping_api.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>

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
  auto trusted = [&](const boost::asio::ip::address& a) {
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

void PingApi::Handle(web::Request req, web::Respond respond) {
  std::unique_lock lock(mu_);
  const std::string_view target = req.target;
  if (target == "/ip" || target.substr(0, 4) == "/ip?") {
    std::string ip = SourceOf(req);
    lock.unlock();
    respond(Text(200, ip + "\n"));
    return;
  }
  if (target.substr(0, 6) != "/ping/") {
    respond(Text(404, "not found\n"));
    return;
  }
  if (req.method != "GET" && req.method != "POST" && req.method != "HEAD") {
    web::Response r = Text(405, "use GET, POST or HEAD\n");
    r.headers.emplace_back("Allow", "GET, POST, HEAD");
    respond(std::move(r));
    return;
  }
  auto parsed = ParsePingTarget(target);
  if (!parsed.ok()) {
    respond(Text(400, parsed.error().message() + "\n"));
    return;
  }
  const PingTarget& t = *parsed;
  const std::string* check = nullptr;
  if (!t.uuid.empty()) {
    auto it = routes_.by_uuid.find(t.uuid);
    if (it != routes_.by_uuid.end()) check = &it->second;
  } else if (!options_.ping_key.empty() && t.key == options_.ping_key) {
    auto it = routes_.by_slug.find(t.slug);
    if (it != routes_.by_slug.end()) check = &it->second;
  }
  if (!check) {
    respond(Text(404, "not found\n"));
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
  lock.unlock();
  book_.FillDuration(p);
  auto on_ping = on_ping_;
  auto acknowledged = acknowledged_;
  HeartbeatBook* book = &book_;
  store_.RecordPing(
      p, [p, respond = std::move(respond), limit, on_ping, acknowledged, book](Status s) {
        if (!s.ok()) {
          spdlog::error("ping for {} not stored: {}", p.check, s.error().message());
          respond(Text(503, "could not store the ping; retry\n"));
          return;
        }
        auto before = book->Get(p.check);
        const std::string previous_source =
            before && before->last_ping ? before->last_ping->source : "";
        book->Add(p);
        web::Response r = Text(200, "OK");
        r.headers.emplace_back("Ping-Body-Limit", limit);
        acknowledged->fetch_add(1);
        respond(std::move(r));
        if (on_ping) on_ping(p, previous_source);
      });
}

}  // namespace mamori::heartbeat
