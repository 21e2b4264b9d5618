#include "mamori/faces/api.h"

#include <algorithm>
#include <future>

#include "mamori/web/local_caller.h"

namespace mamori::faces {
namespace {

// Every route, in one place. A path matches the first pattern whose segments
// match ({} is any one segment).
constexpr FacesApi::Access kPublic = FacesApi::Access::kPublic;
constexpr FacesApi::Access kRead = FacesApi::Access::kRead;
constexpr FacesApi::Access kWrite = FacesApi::Access::kWrite;

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') path.remove_prefix(1);
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return out;
}

bool Matches(std::string_view pattern, std::string_view path, std::vector<std::string>* args) {
  auto p = Split(pattern);
  auto s = Split(path);
  if (p.size() != s.size()) return false;
  std::vector<std::string> found;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == "{}") {
      if (s[i].empty()) return false;
      found.emplace_back(s[i]);
    } else if (p[i] != s[i]) {
      return false;
    }
  }
  if (args) *args = std::move(found);
  return true;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() + 0 && Hex(s[i + 1]) >= 0 && Hex(s[i + 2]) >= 0) {
      out += static_cast<char>(Hex(s[i + 1]) * 16 + Hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

const std::vector<FacesApi::Route>& FacesApi::Routes() {
  static const std::vector<Route> routes = {
      {"GET", "/api/v1/checks", kRead, &FacesApi::GetChecks},
      {"GET", "/api/v1/checks/{}", kRead, &FacesApi::GetCheck},
      {"GET", "/api/v1/checks/{}/history", kRead, &FacesApi::GetHistory},
      {"POST", "/api/v1/checks/{}/run", kWrite, &FacesApi::PostRun},
      {"GET", "/api/v1/uptime", kRead, &FacesApi::GetUptime},
      {"GET", "/api/v1/incidents", kRead, &FacesApi::GetIncidents},
      {"POST", "/api/v1/incidents/{}/notes", kWrite, &FacesApi::PostNote},
      {"GET", "/api/v1/maintenance", kRead, &FacesApi::GetWindows},
      {"POST", "/api/v1/maintenance", kWrite, &FacesApi::PostMaintenance},
      {"DELETE", "/api/v1/maintenance/{}", kWrite, &FacesApi::DeleteMaintenance},
      {"GET", "/api/v1/silences", kRead, &FacesApi::GetWindows},
      {"POST", "/api/v1/silences", kWrite, &FacesApi::PostSilence},
      {"DELETE", "/api/v1/silences/{}", kWrite, &FacesApi::DeleteSilence},
      {"GET", "/api/v1/announcements", kRead, &FacesApi::GetAnnouncements},
      {"POST", "/api/v1/announcements", kWrite, &FacesApi::PostAnnouncement},
      {"GET", "/api/v1/openapi.json", kPublic, &FacesApi::GetOpenApi},
      {"GET", "/api/v1/events", kRead, &FacesApi::GetEvents},
      {"GET", "/status", kPublic, &FacesApi::GetStatusPage},
      {"GET", "/status.json", kPublic, &FacesApi::GetStatusJson},
      {"GET", "/status.css", kPublic, &FacesApi::GetStatusCss},
      {"GET", "/badge/{}", kPublic, &FacesApi::GetBadge},
      {"GET", "/badge/{}/{}", kPublic, &FacesApi::GetUptimeBadge},
      {"GET", "/", kPublic, &FacesApi::GetDashboard},
      {"GET", "/assets/{}", kPublic, &FacesApi::GetDashboardAsset},
  };
  return routes;
}

web::Response JsonResponse(int status, const nlohmann::json& body) {
  web::Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

web::Response ErrorResponse(int status, std::string_view error, std::string_view detail) {
  return JsonResponse(status, ErrorJson(error, detail));
}

std::optional<std::string> QueryParam(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (Decode(pair.substr(0, eq)) == key)
      return eq == std::string_view::npos ? "" : Decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

FacesApi::FacesApi(Store& store, OperatorStore& ops, const Clock& clock, Hooks hooks)
    : store_(store), ops_(ops), clock_(clock), hooks_(std::move(hooks)), model_(store, clock) {}

void FacesApi::Configure(FacesConfig config) {
  bool tokens_changed = false;
  {
    MutexLock lock(mu_);
    tokens_changed = config.tokens.size() != config_.tokens.size() ||
                     !std::equal(config.tokens.begin(), config.tokens.end(), config_.tokens.begin(),
                                 [](const ApiToken& a, const ApiToken& b) {
                                   return a.token == b.token && a.scope == b.scope;
                                 });
    config_ = std::move(config);
  }
  // A stream was authorised once, when it opened: with other tokens, every
  // stream reconnects and is judged again (a revoked token loses its stream).
  if (tokens_changed)
    if (web::EventHub* hub = events_.load()) hub->EndAll();
}

FacesConfig FacesApi::config() const {
  MutexLock lock(mu_);
  return config_;
}

bool FacesApi::IsTarget(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  for (const auto& r : Routes())
    if (Matches(r.pattern, path, nullptr)) return true;
  return false;
}

const FacesApi::Route* FacesApi::Find(std::string_view method, std::string_view path,
                                      std::vector<std::string>* args, bool* path_known) const {
  *path_known = false;
  for (const auto& r : Routes()) {
    if (!Matches(r.pattern, path, args)) continue;
    *path_known = true;
    if (r.method == method || (method == "HEAD" && r.method == "GET")) return &r;
  }
  return nullptr;
}

std::optional<web::Response> FacesApi::Refuse(const web::Request& head, Access access) const {
  if (access == Access::kPublic) return std::nullopt;
  const bool local = web::IsLocalCaller(head);
  if (access == Access::kRead && local) return std::nullopt;
  constexpr std::string_view kBearer = "Bearer ";
  std::optional<Scope> scope;
  if (head.authorization.compare(0, kBearer.size(), kBearer) == 0) {
    MutexLock lock(mu_);
    scope = TokenScope(config_.tokens, std::string_view(head.authorization).substr(kBearer.size()));
  }
  if (!scope) {
    auto r = ErrorResponse(401, "unauthorized",
                           access == Access::kWrite
                               ? "writes need Authorization: Bearer <token> of scope write"
                               : "callers not on this host need Authorization: Bearer <token>");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  if (access == Access::kWrite && *scope != Scope::kWrite)
    return ErrorResponse(403, "forbidden", "this token has scope read; writes need scope write");
  return std::nullopt;
}

bool FacesApi::Allow(const std::string& source) {
  const MonoTime now = clock_.Monotonic();
  const double burst = kRatePerSecond * 2;
  MutexLock lock(rate_mu_);
  auto it = buckets_.find(source);
  if (it == buckets_.end()) {
    if (buckets_.size() >= kMaxSources) buckets_.clear();  // bounded; all refill to full
    it = buckets_.emplace(source, Bucket{burst, now}).first;
  }
  Bucket& b = it->second;
  b.tokens = std::min(
      burst, b.tokens + std::chrono::duration<double>(now - b.last).count() * kRatePerSecond);
  b.last = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

web::Admission FacesApi::Admit(const web::Request& head) {
  if (!Allow(head.peer.to_string())) {
    web::Admission a;
    a.answer = ErrorResponse(429, "too many requests", "slow down; see Retry-After");
    a.answer->headers.emplace_back("Retry-After", "1");
    return a;
  }
  return Decide(head);
}

web::Admission FacesApi::Decide(const web::Request& head) const {
  web::Admission a;
  a.max_body_bytes = kMaxReadBody;
  std::string_view path = std::string_view(head.target).substr(0, head.target.find('?'));
  std::vector<std::string> args;
  bool known = false;
  const Route* r = Find(head.method, path, &args, &known);
  if (!r) {
    a.answer = known
                   ? ErrorResponse(405, "method not allowed", head.method + " " + std::string(path))
                   : ErrorResponse(404, "not found", std::string(path));
    return a;
  }
  if (auto refusal = Refuse(head, r->access)) {
    a.answer = std::move(refusal);
    return a;
  }
  if (r->access == Access::kWrite) a.max_body_bytes = kMaxWriteBody;
  return a;
}

void FacesApi::Handle(web::Request req, web::Respond respond) {
  // Admit ran on this request's head (and counted it); decide again here so a handler can
  // never be reached without it (and a reload in between is honoured).
  web::Admission a = Decide(req);
  if (a.answer) return respond(std::move(*a.answer));
  const size_t q = req.target.find('?');
  std::string_view path = std::string_view(req.target).substr(0, q);
  Call call{req, {}, q == std::string::npos ? "" : req.target.substr(q + 1)};
  bool known = false;
  const Route* r = Find(req.method, path, &call.args, &known);
  web::Response res = (this->*(r->fn))(call);
  if (req.method == "HEAD") res.body.clear();
  respond(std::move(res));
}

std::optional<std::vector<LiveCheck>> FacesApi::Live() const {
  auto promise = std::make_shared<std::promise<std::vector<LiveCheck>>>();
  auto future = promise->get_future();
  hooks_.live([promise](std::vector<LiveCheck> live) { promise->set_value(std::move(live)); });
  if (future.wait_for(kLiveDeadline) != std::future_status::ready) return std::nullopt;
  return future.get();
}

}  // namespace mamori::faces
