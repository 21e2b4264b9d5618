// The `http` check type: fetches a URL through the shared HTTP client
// and judges status, body, latency and TLS certificate lifetime. An HTTP 200
// page whose body says "Error establishing a database connection" is a broken
// site, not a healthy one: body rules are first-class.
#include <re2/re2.h>

#include <fmt/format.h>
#include <memory>
#include <set>

#include "mamori/check/registry.h"
#include "mamori/net/http_client.h"
#include "mamori/util/units.h"

namespace mamori::probes::http {
namespace {

struct Options {
  HttpRequest request;
  std::vector<std::pair<int, int>> status_ranges;  // inclusive; default 200-299
  std::vector<std::string> body_contains;
  std::vector<std::string> body_not_contains;
  std::shared_ptr<RE2> body_regex;
  std::optional<Duration> max_latency;       // WARNING above
  std::optional<Duration> critical_latency;  // CRITICAL above
  std::optional<int64_t> tls_min_days;       // WARNING below
  std::optional<int64_t> tls_critical_days;  // CRITICAL below
  bool known_errors = true;                  // the built-in fatal-page phrases below
};

// Phrases that only a broken application puts in a page it serves with a
// success status. An operator expects these caught without writing rules
// (incident 1: WordPress answered 200 "Error establishing a database
// connection"). Each is specific enough not to appear in normal content;
// `expect: {known_errors: false}` turns them off for a site that quotes them.
struct KnownError {
  std::string_view phrase;
  std::string_view what;
};
constexpr KnownError kKnownErrors[] = {
    {"Error establishing a database connection", "WordPress cannot reach its database"},
    {"There has been a critical error on this website", "WordPress hit a fatal PHP error"},
    {"<b>Fatal error</b>:", "PHP fatal error printed into the page"},
    {"<b>Parse error</b>:", "PHP parse error printed into the page"},
    {"Whoops, looks like something went wrong.", "Laravel error page"},
    {"Briefly unavailable for scheduled maintenance.",
     "WordPress stuck in maintenance mode (a failed update left .maintenance behind)"},
};

std::string Excerpt(std::string_view s, size_t max = 80) {
  std::string out;
  for (char c : s.substr(0, max)) out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  if (s.size() > max) out += "...";
  return out;
}

std::string StatusList(const std::vector<std::pair<int, int>>& ranges) {
  std::vector<std::string> parts;
  for (auto [lo, hi] : ranges)
    parts.push_back(lo == hi ? std::to_string(lo) : fmt::format("{}-{}", lo, hi));
  return fmt::format("{}", fmt::join(parts, ", "));
}

class HttpProbe final : public Probe {
 public:
  explicit HttpProbe(Options o) : o_(std::move(o)) {}

  void Start(ProbeEnv& env, MonoTime deadline, ProbeDone done) override {
    if (!env.http) {
      done(Observation::Make(CheckStatus::kUnknown, "no HTTP client available"));
      return;
    }
    HttpRequest req = o_.request;
    const Duration left = deadline - env.clock.Monotonic();
    // The check's own timeout (the runner's deadline) bounds the transfer.
    req.timeout = std::max(Duration(std::chrono::milliseconds(1)), left);
    auto self = this;  // the probe outlives the run (held by shared_ptr in the runner)
    env.http->Fetch(std::move(req), [self, done = std::move(done)](Result<HttpResponse> r) {
      done(self->Judge(r));
    });
  }

  Observation Judge(const Result<HttpResponse>& r) const {
    if (!r.ok()) return Observation::Make(CheckStatus::kCritical, r.error().message());
    const HttpResponse& resp = *r;
    Observation o;
    o.status = CheckStatus::kOk;
    o.AddMetric("status_code", resp.status);
    o.AddMetric("dns_ms", resp.dns_ms);
    o.AddMetric("connect_ms", resp.connect_ms);
    if (resp.tls_ms > 0) o.AddMetric("tls_ms", resp.tls_ms);
    o.AddMetric("first_byte_ms", resp.first_byte_ms);
    o.AddMetric("total_ms", resp.total_ms);
    o.AddMetric("body_bytes", static_cast<double>(resp.body.size()));

    std::vector<std::string> problems;
    auto fail = [&](CheckStatus s, std::string why) {
      o.status = Worst(o.status, s);
      problems.push_back(std::move(why));
    };

    bool status_ok = false;
    for (auto [lo, hi] : o_.status_ranges)
      if (resp.status >= lo && resp.status <= hi) status_ok = true;
    if (!status_ok) {
      std::string why =
          fmt::format("HTTP {} (expected {})", resp.status, StatusList(o_.status_ranges));
      if (!resp.body.empty()) why += ": " + Excerpt(resp.body);
      fail(CheckStatus::kCritical, why);
    }
    for (const auto& needle : o_.body_not_contains)
      if (resp.body.find(needle) != std::string::npos)
        fail(CheckStatus::kCritical, fmt::format("body contains '{}'", needle));
    if (o_.known_errors && status_ok) {
      for (const auto& k : kKnownErrors) {
        if (resp.body.find(k.phrase) == std::string::npos) continue;
        // A user's own body_not_contains rule for the same phrase already said it.
        bool said = false;
        for (const auto& needle : o_.body_not_contains) said |= needle == k.phrase;
        if (!said)
          fail(CheckStatus::kCritical,
               fmt::format("HTTP {} but the page says '{}' ({})", resp.status, k.phrase, k.what));
      }
    }
    for (const auto& needle : o_.body_contains)
      if (resp.body.find(needle) == std::string::npos)
        fail(CheckStatus::kCritical, fmt::format("body lacks '{}'", needle));
    if (o_.body_regex && !RE2::PartialMatch(resp.body, *o_.body_regex))
      fail(CheckStatus::kCritical,
           fmt::format("body does not match /{}/", o_.body_regex->pattern()));

    const auto total = std::chrono::duration_cast<Duration>(
        std::chrono::duration<double, std::milli>(resp.total_ms));
    if (o_.critical_latency && total > *o_.critical_latency)
      fail(CheckStatus::kCritical,
           fmt::format("slow: {} (critical above {})", FormatDuration(total),
                       FormatDuration(*o_.critical_latency)));
    else if (o_.max_latency && total > *o_.max_latency)
      fail(CheckStatus::kWarning, fmt::format("slow: {} (warning above {})", FormatDuration(total),
                                              FormatDuration(*o_.max_latency)));

    if (resp.cert_not_after) {
      const auto left = *resp.cert_not_after - std::chrono::system_clock::now();
      const double days = std::chrono::duration<double>(left).count() / 86400.0;
      o.AddMetric("tls_days_left", days);
      if (days < 0) {
        fail(CheckStatus::kCritical, fmt::format("TLS certificate expired {:.0f} days ago", -days));
      } else if (o_.tls_critical_days && days < static_cast<double>(*o_.tls_critical_days)) {
        fail(CheckStatus::kCritical,
             fmt::format("TLS certificate expires in {:.0f} days (critical below {})", days,
                         *o_.tls_critical_days));
      } else if (o_.tls_min_days && days < static_cast<double>(*o_.tls_min_days)) {
        fail(CheckStatus::kWarning,
             fmt::format("TLS certificate expires in {:.0f} days (warning below {})", days,
                         *o_.tls_min_days));
      }
    } else if (o_.tls_min_days && o_.request.url.rfind("https:", 0) == 0) {
      fail(CheckStatus::kUnknown, "could not read the TLS certificate's expiry date");
    }

    if (problems.empty()) {
      o.summary = fmt::format("HTTP {} in {}", resp.status, FormatDuration(total));
      if (resp.redirects > 0)
        o.summary += fmt::format(" after {} redirect(s) to {}", resp.redirects, resp.effective_url);
    } else {
      o.summary = fmt::format("{}", fmt::join(problems, "; "));
      if (status_ok)
        o.summary += fmt::format(" (HTTP {} in {})", resp.status, FormatDuration(total));
    }
    if (resp.body_truncated)
      o.details = fmt::format("body truncated at {}", FormatBytes(o_.request.max_body_bytes));
    return o;
  }

 private:
  Options o_;
};

// "200", "2xx", "200-299".
bool ParseStatusItem(const std::string& s, std::pair<int, int>& out) {
  auto num = [](std::string_view v, int& n) {
    if (v.size() != 3) return false;
    n = 0;
    for (char c : v) {
      if (c < '0' || c > '9') return false;
      n = n * 10 + (c - '0');
    }
    return n >= 100 && n <= 599;
  };
  int a, b;
  if (s.size() == 3 && s[1] == 'x' && s[2] == 'x' && s[0] >= '1' && s[0] <= '5') {
    out = {(s[0] - '0') * 100, (s[0] - '0') * 100 + 99};
    return true;
  }
  if (auto dash = s.find('-'); dash != std::string::npos) {
    if (!num(std::string_view(s).substr(0, dash), a) ||
        !num(std::string_view(s).substr(dash + 1), b) || a > b)
      return false;
    out = {a, b};
    return true;
  }
  if (!num(s, a)) return false;
  out = {a, a};
  return true;
}

std::unique_ptr<Probe> Make(config::ConfigNode& n) {
  Options o;
  bool ok = true;
  auto url = n.GetString("url");
  if (!url) {
    n.Error("missing 'url'", "set url: to the page to fetch, e.g. https://example.org/");
    ok = false;
  } else if (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0) {
    n.ErrorAt("url", fmt::format("'{}' is not an http:// or https:// URL", *url),
              "write the full URL with its scheme");
    ok = false;
  } else {
    o.request.url = *url;
  }
  if (auto m = n.GetString("method")) {
    static const std::set<std::string> kMethods = {"GET",   "HEAD",   "POST",   "PUT",
                                                   "PATCH", "DELETE", "OPTIONS"};
    if (!kMethods.count(*m)) {
      n.ErrorAt("method", fmt::format("unsupported method '{}'", *m),
                "use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS");
      ok = false;
    } else {
      o.request.method = *m;
    }
  }
  if (auto h = n.GetMap("headers")) {
    const config::Yaml y = h->yaml();
    for (const auto& kv : y) {
      std::string k = kv.first.Scalar();
      h->Known(k);
      if (!kv.second.IsScalar() || k.empty() || k.find_first_of(": \r\n") != std::string::npos ||
          kv.second.Scalar().find_first_of("\r\n") != std::string::npos) {
        n.ErrorAt("headers", fmt::format("invalid header '{}'", k),
                  "write headers as 'Name: value' pairs without line breaks");
        ok = false;
        continue;
      }
      o.request.headers.emplace_back(k, kv.second.Scalar());
    }
  }
  if (auto b = n.GetString("body")) o.request.body = *b;
  if (auto f = n.GetBool("follow_redirects")) o.request.follow_redirects = *f;
  if (auto m = n.GetInt("max_redirects", 0, 50)) o.request.max_redirects = static_cast<int>(*m);
  if (auto v = n.GetBool("tls_verify")) o.request.verify_tls = *v;
  if (auto ca = n.GetString("ca_file")) o.request.ca_file = *ca;
  o.status_ranges = {{200, 299}};
  if (auto e = n.GetMap("expect")) {
    if (auto st = e->GetStringList("status")) {
      o.status_ranges.clear();
      for (const auto& item : *st) {
        std::pair<int, int> r;
        if (!ParseStatusItem(item, r)) {
          e->ErrorAt("status", fmt::format("'{}' is not an HTTP status", item),
                     "write codes such as 200, ranges such as 200-299, or classes such as 2xx");
          ok = false;
        } else {
          o.status_ranges.push_back(r);
        }
      }
    }
    if (auto k = e->GetBool("known_errors")) o.known_errors = *k;
    o.body_contains = e->GetStringList("body_contains").value_or(std::vector<std::string>{});
    o.body_not_contains =
        e->GetStringList("body_not_contains").value_or(std::vector<std::string>{});
    if (auto re = e->GetString("body_regex")) {
      RE2::Options ro;
      ro.set_log_errors(false);
      auto compiled = std::make_shared<RE2>(*re, ro);
      if (!compiled->ok()) {
        e->ErrorAt("body_regex", fmt::format("invalid regular expression: {}", compiled->error()),
                   "RE2 syntax; escape special characters with a backslash");
        ok = false;
      } else {
        o.body_regex = compiled;
      }
    }
    o.max_latency = e->GetDuration("max_latency");
    o.critical_latency = e->GetDuration("critical_latency");
    o.tls_min_days = e->GetInt("tls_min_days", 0, 3650);
    o.tls_critical_days = e->GetInt("tls_critical_days", 0, 3650);
    if (auto mb = e->GetSize("max_body"))
      o.request.max_body_bytes = static_cast<size_t>(std::min<uint64_t>(*mb, 64u << 20));
  }
  o.request.want_certificate = o.request.url.rfind("https:", 0) == 0;
  if (!ok) return nullptr;
  return std::make_unique<HttpProbe>(std::move(o));
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("http", "fetch a URL; judge status, body, latency and TLS certificate lifetime", Make);
}

}  // namespace mamori::probes::http
