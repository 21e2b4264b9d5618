// HttpClient: asynchronous HTTP(S) requests for probes, so thousands of
// checks run concurrently on one thread instead of one after another. Two
// implementations: libcurl's multi interface (MakeCurlHttpClient) and the
// native Asio/Beast client for plain http:// (native_http_client.h);
// MakeHttpClient routes between them and is what callers use.
//
// Ownership: the runner owns one client and keeps it alive while any request is
// in flight; destroying it cancels outstanding requests (their callbacks run
// with an error). Threading: Fetch() may be called from any thread; `done` is
// called exactly once, on the client's own thread (MakeHttpClientOn: on the
// caller's loop for plain http://), and must not block. A Fetch() made while
// the client is being destroyed (a `done` that retries, or another thread) is
// cancelled too, its `done` possibly on the caller's thread.
// Failure: transport problems (DNS, refused, TLS, timeout) arrive as an Error
// naming the stage; any HTTP status is a successful fetch.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace boost::asio {
class io_context;
}

namespace mamori {

struct HttpRequest {
  std::string url;
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  Duration timeout = std::chrono::seconds(10);
  bool follow_redirects = false;
  int max_redirects = 5;
  bool verify_tls = true;
  std::string ca_file;              // extra CA bundle (tests use a self-signed CA)
  size_t max_body_bytes = 1 << 20;  // the rest is read and discarded
  bool want_certificate = false;    // fill cert_not_after for https
};

struct HttpResponse {
  int status = 0;
  std::string body;  // at most max_body_bytes
  bool body_truncated = false;
  std::vector<std::pair<std::string, std::string>> headers;  // of the final response
  std::string effective_url;
  int redirects = 0;
  // Timing breakdown, milliseconds from the start of the request.
  double dns_ms = 0, connect_ms = 0, tls_ms = 0, first_byte_ms = 0, total_ms = 0;
  std::optional<WallTime> cert_not_after;  // leaf certificate expiry (https)
};

using HttpDone = std::function<void(Result<HttpResponse>)>;

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual void Fetch(HttpRequest request, HttpDone done) = 0;
};

// A libcurl-multi client with its own I/O thread. At most `max_concurrent`
// transfers run at once; more wait in a queue. libcurl is opened and the
// thread started by the first Fetch() (net/deferred_http_client.h); when
// libcurl cannot be opened, each Fetch() fails at once with an error naming it.
std::unique_ptr<HttpClient> MakeCurlHttpClient(size_t max_concurrent = 512);

// The client callers use: plain http:// goes to the native Asio/Beast client
// (native_http_client.h); https:// and whatever it does not handle (see
// NativeHttpCanFetch, and any request while a proxy variable is set) go to a
// libcurl client made on the first such request, so curl_global_init never
// runs for a configuration with only plain-HTTP checks. Each of the two has
// its own I/O thread and its own `max_concurrent`; `done` runs on the thread
// of the one that answered. `make_fallback` makes that second client (tests
// count it); the default is MakeCurlHttpClient.
using HttpClientFactory = std::function<std::unique_ptr<HttpClient>(size_t max_concurrent)>;
std::unique_ptr<HttpClient> MakeHttpClient(size_t max_concurrent = 512,
                                           HttpClientFactory make_fallback = nullptr);

// The same, for callers that run on `io`'s thread (the daemon's checks): the
// native client works on `io` itself (MakeNativeHttpClientOn), so a plain
// http:// fetch and its `done` stay on that thread; the libcurl client keeps
// its own. Destroy it on `io`'s thread or while `io` does not run.
std::unique_ptr<HttpClient> MakeHttpClientOn(boost::asio::io_context& io,
                                             size_t max_concurrent = 512,
                                             HttpClientFactory make_fallback = nullptr);

}  // namespace mamori
