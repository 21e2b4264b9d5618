#include "mamori/notify/http_post.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <future>
#include <memory>
#include <mutex>

#include "mamori/net/http_client.h"
#include "mamori/net/native_http_client.h"
#include "mamori/notify/notification.h"
#include "mamori/util/lazy_libraries.h"
#include "mamori/util/units.h"

namespace mamori::notify {
namespace {

constexpr size_t kMaxAnswer = 64 * 1024;

size_t Collect(char* data, size_t size, size_t nmemb, void* user) {
  auto* out = static_cast<std::string*>(user);
  const size_t n = size * nmemb;
  if (out->size() < kMaxAnswer) out->append(data, std::min(n, kMaxAnswer - out->size()));
  return n;
}

// Plain http:// (a hook on the LAN, ntfy on the host) needs no libcurl: one
// routing client for the process, made on first use and never destroyed, so
// a delivery thread that outlives main's objects still finds it. Its own
// timeout ends the request; the wait here is only the backstop. The outbox
// delivers each channel on its own thread so that a receiver that never
// answers delays no other channel: the client gets room for far more requests
// at once than there are channels, so none waits behind another's hang.
Result<PostResponse> NativeHttpPost(HttpRequest request) {
  static HttpClient* const client = MakeHttpClient(256).release();
  const Duration backstop = request.timeout + std::chrono::seconds(5);
  auto promise = std::make_shared<std::promise<Result<HttpResponse>>>();
  auto answer = promise->get_future();
  client->Fetch(std::move(request),
                [promise](Result<HttpResponse> r) { promise->set_value(std::move(r)); });
  if (answer.wait_for(backstop) != std::future_status::ready)
    return Error(fmt::format("no answer within {}", FormatDuration(backstop)));
  Result<HttpResponse> r = answer.get();
  if (!r.ok()) return r.error();
  return PostResponse{r->status, std::move(r->body)};
}

}  // namespace

void EnsureCurlInitialised() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Result<PostResponse> HttpPost(const PostRequest& req) {
  HttpRequest native;
  native.method = req.method;
  native.url = req.url;
  native.headers = req.headers;
  if (req.method != "GET") native.body = req.body;
  native.timeout = std::max<Duration>(std::chrono::milliseconds(1), req.timeout);
  native.max_body_bytes = kMaxAnswer;
  if (!HttpProxyConfigured() && NativeHttpCanFetch(native))
    return NativeHttpPost(std::move(native));
  EnsureCurlInitialised();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Error(util::Unavailable(util::LazyLibCurl(), "cannot create a curl handle"));
  CURL* h = curl.get();
  struct curl_slist* hdrs = nullptr;
  for (const auto& [k, v] : req.headers)
    hdrs = curl_slist_append(hdrs, fmt::format("{}: {}", k, v).c_str());
  // An empty Expect: avoids curl's one-second wait for "100 Continue".
  hdrs = curl_slist_append(hdrs, "Expect:");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> hdr_guard(hdrs, curl_slist_free_all);
  PostResponse resp;
  char errbuf[CURL_ERROR_SIZE] = {0};
  const long timeout_ms = static_cast<long>(
      std::max<int64_t>(1, std::chrono::duration_cast<Millis>(req.timeout).count()));
  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  if (req.method != "GET") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "mamori/" MAMORI_VERSION);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp.body);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, req.verify_tls ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, req.verify_tls ? 2L : 0L);
  if (!req.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, req.ca_file.c_str());
  CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK)
    return Error(errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc)));
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
  return resp;
}

std::string DescribeHttpAnswer(const PostResponse& r) {
  std::string body;
  for (char c : r.body) {
    if (body.size() >= 300) break;
    body.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  }
  while (!body.empty() && body.back() == ' ') body.pop_back();
  body = CapUtf8(std::move(body), 200);
  return body.empty() ? fmt::format("HTTP {}", r.status)
                      : fmt::format("HTTP {}: {}", r.status, body);
}

}  // namespace mamori::notify
