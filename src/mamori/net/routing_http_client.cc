// MakeHttpClient (declared in http_client.h): the native client for plain
// http://, a lazily made libcurl client for the rest.
#include <cstdlib>
#include <mutex>
#include <shared_mutex>

#include "mamori/net/http_client.h"
#include "mamori/net/native_http_client.h"

namespace mamori {
namespace {

class RoutingHttpClient final : public HttpClient {
 public:
  // `io` null: the native client runs on a thread of its own.
  RoutingHttpClient(size_t max_concurrent, HttpClientFactory make_fallback,
                    boost::asio::io_context* io)
      : max_concurrent_(max_concurrent),
        make_fallback_(std::move(make_fallback)),
        proxy_(HttpProxyConfigured()),
        native_(io ? MakeNativeHttpClientOn(*io, max_concurrent,
                                            [this]() -> HttpClient& { return Fallback(); })
                   : MakeNativeHttpClient(max_concurrent,
                                          [this]() -> HttpClient& { return Fallback(); })) {}

  // The native client first: its redirects hand over to the fallback, which
  // must still exist; the fallback then cancels what it holds. Fetches from
  // here on (a `done` retrying while its client is torn down, another thread)
  // are cancelled at once: they never reach a client being destroyed.
  ~RoutingHttpClient() override {
    {
      std::unique_lock lock(closing_mu_);
      closing_ = true;
    }
    native_.reset();
    fallback_.reset();
  }

  void Fetch(HttpRequest request, HttpDone done) override {
    {
      std::shared_lock lock(closing_mu_);
      if (!closing_) {
        if (!proxy_ && NativeHttpCanFetch(request))
          native_->Fetch(std::move(request), std::move(done));
        else
          Fallback().Fetch(std::move(request), std::move(done));
        return;
      }
    }
    // On the caller's thread: the clients' threads may be gone already.
    done(Error("cancelled: the HTTP client is shutting down"));
  }

 private:
  HttpClient& Fallback() {
    std::call_once(fallback_once_, [this] {
      fallback_ =
          make_fallback_ ? make_fallback_(max_concurrent_) : MakeCurlHttpClient(max_concurrent_);
    });
    return *fallback_;
  }

  const size_t max_concurrent_;
  const HttpClientFactory make_fallback_;
  const bool proxy_;
  std::once_flag fallback_once_;
  std::unique_ptr<HttpClient> fallback_;  // set once under fallback_once_
  std::unique_ptr<HttpClient> native_;
  // Shared by Fetch calls (no wait between them), taken alone once, to close.
  std::shared_mutex closing_mu_;
  bool closing_ = false;  // guarded by closing_mu_
};

}  // namespace

// libcurl sends http:// through a proxy named by http_proxy (lower case only,
// against httpoxy), all_proxy or ALL_PROXY, minus the hosts in no_proxy. The
// curl clients leave that on, so while any of them is set every request goes
// to curl and behaves as it always did (curl applies no_proxy itself).
bool HttpProxyConfigured() {
  for (const char* name : {"http_proxy", "all_proxy", "ALL_PROXY"})
    if (const char* v = std::getenv(name); v && *v) return true;
  return false;
}

std::unique_ptr<HttpClient> MakeHttpClient(size_t max_concurrent, HttpClientFactory make_fallback) {
  return std::make_unique<RoutingHttpClient>(max_concurrent, std::move(make_fallback), nullptr);
}

std::unique_ptr<HttpClient> MakeHttpClientOn(boost::asio::io_context& io, size_t max_concurrent,
                                             HttpClientFactory make_fallback) {
  return std::make_unique<RoutingHttpClient>(max_concurrent, std::move(make_fallback), &io);
}

}  // namespace mamori
