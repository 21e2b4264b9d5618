#include "mamori/net/deferred_http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace mamori {
namespace {

// Answers every request at once with status 200 and its URL as the body.
class EchoClient final : public HttpClient {
 public:
  void Fetch(HttpRequest request, HttpDone done) override {
    HttpResponse r;
    r.status = 200;
    r.body = request.url;
    done(std::move(r));
  }
};

HttpRequest To(const std::string& url) {
  HttpRequest r;
  r.url = url;
  return r;
}

TEST(DeferredHttpClient, MakesTheClientOnTheFirstFetchOnly) {
  std::atomic<int> made{0};
  auto client = MakeDeferredHttpClient([&]() -> Result<std::unique_ptr<HttpClient>> {
    ++made;
    return std::unique_ptr<HttpClient>(std::make_unique<EchoClient>());
  });
  EXPECT_EQ(made, 0);
  std::atomic<int> answered{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (int j = 0; j < 50; ++j)
        client->Fetch(To("http://127.0.0.1/"), [&](Result<HttpResponse> r) {
          if (r.ok() && r.value().body == "http://127.0.0.1/") ++answered;
        });
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(made, 1);
  EXPECT_EQ(answered, 200);
}

TEST(DeferredHttpClient, AFailureIsTheFetchsErrorAndIsTriedAgain) {
  int tries = 0;
  auto client = MakeDeferredHttpClient([&]() -> Result<std::unique_ptr<HttpClient>> {
    if (++tries == 1) return Error("libcurl.so.4 cannot be loaded: no such file");
    return std::unique_ptr<HttpClient>(std::make_unique<EchoClient>());
  });
  std::string first;
  client->Fetch(To("http://127.0.0.1/a"),
                [&](Result<HttpResponse> r) { first = r.ok() ? "ok" : r.error().message(); });
  EXPECT_EQ(first, "libcurl.so.4 cannot be loaded: no such file");
  std::string second;
  client->Fetch(To("http://127.0.0.1/b"),
                [&](Result<HttpResponse> r) { second = r.ok() ? r.value().body : "failed"; });
  EXPECT_EQ(second, "http://127.0.0.1/b");
  EXPECT_EQ(tries, 2);
}

}  // namespace
}  // namespace mamori
