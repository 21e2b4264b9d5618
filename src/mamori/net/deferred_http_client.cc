#include "mamori/net/deferred_http_client.h"

#include <atomic>
#include <utility>

#include "mamori/util/mutex.h"

namespace mamori {
namespace {

class DeferredHttpClient final : public HttpClient {
 public:
  explicit DeferredHttpClient(MakeClientOnce make) : make_(std::move(make)) {}

  // In the body, not among the members: a Fetch while the client goes (a
  // `done` retrying) still finds this object whole and reaches the client,
  // which cancels it.
  ~DeferredHttpClient() override { client_.reset(); }

  void Fetch(HttpRequest request, HttpDone done) override {
    HttpClient* client = made_.load(std::memory_order_acquire);
    if (client == nullptr) {
      auto made = Make();
      if (!made.ok()) {
        done(made.error());
        return;
      }
      client = made.value();
    }
    client->Fetch(std::move(request), std::move(done));
  }

 private:
  Result<HttpClient*> Make() {
    MutexLock lock(mu_);
    if (!client_) {
      auto made = make_();
      if (!made.ok()) return made.error();
      client_ = std::move(made.value());
      made_.store(client_.get(), std::memory_order_release);
    }
    return client_.get();
  }

  const MakeClientOnce make_;
  Mutex mu_;  // serialises making the client
  std::unique_ptr<HttpClient> client_ GUARDED_BY(mu_);
  std::atomic<HttpClient*> made_{nullptr};  // client_ once made, read without the lock
};

}  // namespace

std::unique_ptr<HttpClient> MakeDeferredHttpClient(MakeClientOnce make) {
  return std::make_unique<DeferredHttpClient>(std::move(make));
}

}  // namespace mamori
